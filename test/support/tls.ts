// A TLS-serving Temporal for tests. `temporal server start-dev` (CLI 1.9) has no TLS flags and no
// config file option (only --dynamic-config-value, which cannot turn on frontend TLS), so TLS is
// terminated in front of a plain dev server: the proxies here speak real TLS 1.3 with ALPN h2,
// which is all a gRPC client (grpc-js for the CLI, tonic/rustls for the worker) can see of a
// server, and can demand a client certificate (mTLS) the way a production frontend does.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { freePort } from './ports.js';

export interface Pki {
  dir: string;
  /** CA that signed both the server and the client certificate. */
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** The server certificate's DNS name (its other SAN is IP 127.0.0.1). */
  serverName: string;
}

/** A throwaway CA, a server certificate (SAN DNS:temporal.test, IP:127.0.0.1) and a client certificate. */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'fb-pki-'));
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  // P-256 keys: generated in milliseconds, accepted by both rustls and OpenSSL.
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=fluxburst test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const leaf = (name: string, cn: string, ext: string) => {
    writeFileSync(f(`${name}.ext`), ext);
    ssl('req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.ext`));
  };
  leaf('server', 'temporal.test', 'subjectAltName=DNS:temporal.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n');
  leaf('client', 'fluxburst-client', 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  return { dir, ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key'), serverName: 'temporal.test' };
}

export interface Proxy {
  address: string;
  close(): Promise<void>;
}

function serverTls(pki: Pki, mtls: boolean) {
  return {
    key: readFileSync(pki.serverKey),
    cert: readFileSync(pki.serverCert),
    ca: readFileSync(pki.ca),
    requestCert: mtls,
    rejectUnauthorized: mtls,
    ALPNProtocols: ['h2'],
    minVersion: 'TLSv1.2' as const,
  };
}

/**
 * TLS in front of the plain gRPC port, forwarding the decrypted bytes unchanged (the dev server
 * speaks HTTP/2 without TLS on the same port). With `mtls`, a client without a certificate
 * signed by the test CA is refused in the handshake.
 */
export async function startTlsProxy(pki: Pki, upstream: string, o: { mtls?: boolean } = {}): Promise<Proxy> {
  const [uhost, uport] = [upstream.slice(0, upstream.lastIndexOf(':')), Number(upstream.slice(upstream.lastIndexOf(':') + 1))];
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(serverTls(pki, !!o.mtls), (down) => {
    const up = net.connect(uport, uhost);
    sockets.add(down).add(up);
    const end = () => {
      down.destroy();
      up.destroy();
      sockets.delete(down);
      sockets.delete(up);
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    down.pipe(up);
    up.pipe(down);
  });
  // A refused handshake is the point of some tests, not an error of the proxy.
  server.on('tlsClientError', () => undefined);
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * A TLS HTTP/2 proxy that reads each gRPC request's headers: it records `authorization`, refuses
 * a wrong API key with UNAUTHENTICATED (what Temporal Cloud answers) and forwards the rest to the
 * plain dev server. The dev server itself has no API-key check to test against.
 */
export async function startApiKeyProxy(pki: Pki, upstream: string, apiKey: string): Promise<Proxy & { authorizations: string[] }> {
  const authorizations: string[] = [];
  const session = http2.connect(`http://${upstream}`);
  session.on('error', () => undefined);
  const server = http2.createSecureServer({ ...serverTls(pki, false), allowHTTP1: false });
  server.on('stream', (down, headers) => {
    const auth = String(headers.authorization ?? '');
    authorizations.push(auth);
    if (auth !== `Bearer ${apiKey}`) {
      down.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'invalid API key' }, { endStream: true });
      return;
    }
    const fwd: http2.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) if (k !== ':authority' && k !== ':scheme') fwd[k] = v;
    const up = session.request(fwd);
    let trailers: http2.OutgoingHttpHeaders = {};
    up.on('response', (h) => {
      const out: http2.OutgoingHttpHeaders = { ...h };
      // Trailers-only (an error status with no body) must stay one header block.
      if (h['grpc-status'] !== undefined) {
        down.respond(out, { endStream: true });
        up.close();
        return;
      }
      down.respond(out, { waitForTrailers: true });
      up.pipe(down);
    });
    up.on('trailers', (t) => (trailers = { ...t }));
    down.on('wantTrailers', () => down.sendTrailers(trailers));
    down.pipe(up);
    up.on('error', () => down.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    down.on('error', () => up.close(http2.constants.NGHTTP2_CANCEL));
    down.on('close', () => {
      if (!up.closed) up.close(http2.constants.NGHTTP2_CANCEL);
    });
  });
  server.on('tlsClientError', () => undefined);
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${port}`,
    authorizations,
    close: () =>
      new Promise<void>((r) => {
        session.destroy();
        server.close(() => r());
        // Open client sessions would keep close() waiting.
        setTimeout(r, 500).unref();
      }),
  };
}
