// Connection settings no other test drove: --namespace, --api-key, TEMPORAL_GRPC_META_* — for the
// CLI's client and `fluxburst worker` alike. Both talk through a plaintext HTTP/2 proxy in front of
// the suite's dev server that records each gRPC request's headers (start-dev checks none itself).
import { execFileSync } from 'node:child_process';
import http2 from 'node:http2';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../src/core/search-attributes.js';
import { temporalCliPath } from '../../src/temporal/paths.js';
import { address, cliAsync as cli, leftovers, spawnWorker, uid, workdir } from '../support/harness.js';

const NS = uid('fbns');
const TQ = uid('tq-cov-conn');
const KEY = 'test-api-key-123';
const SA_TYPES: Record<string, string> = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList' };
const seen: Array<Record<string, string>> = [];
let server: http2.Http2Server;
let session: http2.ClientHttp2Session;
let proxy = '';
let worker: ReturnType<typeof spawnWorker>;
let dir: string;
let nodes: string;

/** Forward every gRPC stream to the dev server, keeping its headers. */
async function startHeaderProxy(upstream: string): Promise<string> {
  session = http2.connect(`http://${upstream}`);
  session.on('error', () => undefined);
  server = http2.createServer();
  server.on('stream', (down, headers) => {
    seen.push(Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])));
    const fwd: http2.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) if (k !== ':authority' && k !== ':scheme') fwd[k] = v;
    const up = session.request(fwd);
    let trailers: http2.OutgoingHttpHeaders = {};
    up.on('response', (h) => {
      if (h['grpc-status'] !== undefined) {
        down.respond({ ...h }, { endStream: true });
        up.close();
        return;
      }
      down.respond({ ...h }, { waitForTrailers: true });
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
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address() as { port: number };
  return `127.0.0.1:${a.port}`;
}

beforeAll(async () => {
  const temporal = temporalCliPath();
  execFileSync(temporal, ['operator', 'namespace', 'create', '--namespace', NS, '--address', address()], { stdio: 'pipe' });
  for (const sa of SEARCH_ATTRIBUTES) {
    execFileSync(temporal, ['operator', 'search-attribute', 'create', '--namespace', NS, '--address', address(), '--name', sa.name, '--type', SA_TYPES[sa.type] ?? 'Keyword'], { stdio: 'pipe' });
  }
  proxy = await startHeaderProxy(address());
  dir = mkdtempSync(join(tmpdir(), 'fb-cov-conn-'));
  nodes = workdir('cov-conn');
  writeFileSync(join(dir, 'jobs.yaml'), '- {id: n1, command: [echo, ns], burstable: true}\n');
  writeFileSync(join(dir, 'fb.yaml'), `name: covconn\njobs: jobs.yaml\ntargets:\n  - {plugin: local, params: {workdir: ${nodes}}}\n`);
  // TLS off: an API key alone would turn it on (README), and the proxy is plaintext.
  worker = spawnWorker(['--address', proxy, '--namespace', NS, '--task-queue', TQ, '--api-key', KEY], { TEMPORAL_TLS: 'false', TEMPORAL_GRPC_META_X_FB_WHO: 'worker' });
  await worker.ready;
});

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
  }
  session?.destroy();
  await new Promise((r) => (server ? server.close(() => r(undefined)) : r(undefined)));
  rmSync(dir, { recursive: true, force: true });
  rmSync(nodes, { recursive: true, force: true });
});

it('--namespace, --api-key and TEMPORAL_GRPC_META_* reach the server from the CLI and the worker; the burst lives in that namespace', async () => {
  const r = await cli(['burst', '--wait', '--json', '--address', proxy, '--namespace', NS, '--task-queue', TQ, '--api-key', KEY, '--config', join(dir, 'fb.yaml')], {
    TEMPORAL_TLS: 'false',
    TEMPORAL_GRPC_META_X_FB_WHO: 'cli',
  });
  expect(r.code, r.stderr).toBe(0);
  const b = JSON.parse(r.stdout).bursts[0];
  expect(b.outcome).toBe('completed');
  expect(b.url).toContain(`/namespaces/${NS}/workflows/`);
  expect(leftovers(nodes)).toEqual({ processes: [], dirs: [] });

  // Every call carried the key and its caller's metadata.
  for (const who of ['cli', 'worker']) {
    const calls = seen.filter((h) => h['x-fb-who'] === who);
    expect(calls.length, who).toBeGreaterThan(0);
    expect(new Set(calls.map((h) => h.authorization)), who).toEqual(new Set([`Bearer ${KEY}`]));
  }
  expect(seen.every((h) => h['x-fb-who'] === 'cli' || h['x-fb-who'] === 'worker')).toBe(true);

  // The burst is in the namespace, not in default.
  const connection = await Connection.connect({ address: address() });
  try {
    const inNs = await new Client({ connection, namespace: NS }).workflow.getHandle(b.burstId).describe();
    expect(inNs.status.name).toBe('COMPLETED');
    await expect(new Client({ connection }).workflow.getHandle(b.burstId).describe()).rejects.toThrow(/not found/i);
  } finally {
    await connection.close();
  }
});
