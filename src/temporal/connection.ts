import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { type ClientConfigProfile, loadClientConfigProfile } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { InputError } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import { DEFAULT_TASK_QUEUE } from '../config/schema.js';

/** Connection flags, named as the Temporal CLI names them. */
export interface ConnectionFlags {
  address?: string;
  namespace?: string;
  apiKey?: string;
  /** Name of an env var holding the API key (keeps the key out of `ps` and shell history). */
  apiKeyEnv?: string;
  tls?: boolean;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsCaPath?: string;
  tlsServerName?: string;
  profile?: string;
  taskQueue?: string;
}

export interface ResolvedConnection {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  /** `false` is explicit (TEMPORAL_TLS=false): it stops the SDK turning TLS on because of an API key. */
  tls?: TLSConfig | boolean;
  /** Extra gRPC headers from the profile's `grpc_meta` / TEMPORAL_GRPC_META_*. */
  metadata?: Record<string, string>;
}

export const DEFAULT_ADDRESS = 'localhost:7233';

const ORIGIN = 'connection settings';
const bad = (path: string, message: string) => new InputError(ORIGIN, [{ path, message }]);

function readPem(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw bad(field, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

type Source = { path: string } | { data: string | Uint8Array };

/** A value and the name a user would recognise it by, so an error can point at the right knob. */
interface Found<T> {
  value: T;
  field: string;
}

/**
 * Where to connect, by precedence: flags, then Temporal's own env vars and profile file
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE,
 * TEMPORAL_CONFIG_FILE, through @temporalio/envconfig), then the config file's `temporal` section,
 * then the local dev server. Every file named is read here, so bad input fails before any dial.
 */
export function resolveConnection(flags: ConnectionFlags, section?: Config['temporal'], env: NodeJS.ProcessEnv = process.env): ResolvedConnection {
  const profileName = flags.profile ?? env.TEMPORAL_PROFILE;
  const profileField = flags.profile ? '--profile' : 'TEMPORAL_PROFILE';
  // envconfig treats a missing file as "no file"; a file the user named explicitly must exist.
  if (env.TEMPORAL_CONFIG_FILE && !existsSync(env.TEMPORAL_CONFIG_FILE)) {
    throw bad('TEMPORAL_CONFIG_FILE', `cannot read ${env.TEMPORAL_CONFIG_FILE}: ENOENT`);
  }
  let profile: ClientConfigProfile = {};
  try {
    profile = loadClientConfigProfile({ profile: profileName, overrideEnvVars: env as Record<string, string> });
  } catch (e) {
    const msg = (e as Error).message;
    throw bad(/Profile '.*' not found/.test(msg) ? profileField : 'TEMPORAL_CONFIG_FILE', msg);
  }
  const p = `profile "${profileName ?? 'default'}"`;
  const fromProfile = <T>(v: T | undefined, envVar: string, key: string): Found<T> | undefined =>
    v === undefined ? undefined : { value: v, field: env[envVar] !== undefined ? envVar : `${p} ${key}` };
  const pick = <T>(...c: (Found<T> | undefined)[]): Found<T> | undefined => c.find((x) => x !== undefined);
  const flag = <T>(v: T | undefined, name: string): Found<T> | undefined => (v === undefined ? undefined : { value: v, field: name });

  const address = pick(flag(flags.address, '--address'), fromProfile(profile.address, 'TEMPORAL_ADDRESS', 'address'), flag(section?.address, 'temporal.address')) ?? {
    value: DEFAULT_ADDRESS,
    field: '--address',
  };
  // host:port, or [IPv6]:port (gRPC's own form for an IPv6 literal).
  if (!/^(\[[0-9A-Fa-f:.]+(%[\w.-]+)?\]|[^\s:[\]]+):\d{1,5}$/.test(address.value) || Number(address.value.split(':').pop()) > 65535) {
    throw bad(address.field, `"${address.value}" is not host:port`);
  }
  const ns = pick(flag(flags.namespace, '--namespace'), fromProfile(profile.namespace, 'TEMPORAL_NAMESPACE', 'namespace'), flag(section?.namespace, 'temporal.namespace'));
  const namespace = ns?.value ?? 'default';

  const keyFromEnv = (name: string | undefined, field: string): Found<string> | undefined => {
    if (!name) return undefined;
    const v = env[name];
    if (!v) throw bad(field, `environment variable ${name} is not set`);
    return { value: v, field };
  };
  const apiKey =
    flag(flags.apiKey, '--api-key') ??
    keyFromEnv(flags.apiKeyEnv, '--api-key-env') ??
    fromProfile(profile.apiKey, 'TEMPORAL_API_KEY', 'api_key') ??
    keyFromEnv(section?.apiKeyEnv, 'temporal.apiKeyEnv');

  if (!namespace.trim()) throw bad(ns?.field ?? '--namespace', 'must not be empty');
  const taskQueue = flags.taskQueue ?? section?.taskQueue ?? DEFAULT_TASK_QUEUE;
  if (!taskQueue.trim() || /[\u0000-\u001f]/.test(taskQueue)) throw bad('--task-queue', 'must be a non-empty name without control characters');
  const out: ResolvedConnection = { address: address.value, namespace, taskQueue };
  if (apiKey) out.apiKey = apiKey.value;
  if (profile.grpcMeta && Object.keys(profile.grpcMeta).length) out.metadata = profile.grpcMeta;
  const tlsOption = resolveTls(flags, profile.tls, section?.tls, env, p, !!apiKey);
  if (tlsOption !== undefined) out.tls = tlsOption;
  return out;
}

/** One level's client certificate pair; a certificate without its key (or the reverse) is refused there. */
interface Pair {
  crt?: Found<Source>;
  key?: Found<Source>;
  missing: string;
}

function resolveTls(
  flags: ConnectionFlags,
  prof: ClientConfigProfile['tls'],
  sec: NonNullable<Config['temporal']>['tls'],
  env: NodeJS.ProcessEnv,
  p: string,
  hasApiKey: boolean,
): TLSConfig | boolean | undefined {
  const pf = (envVar: string, key: string) => (env[envVar] !== undefined || env[envVar.replace('_PATH', '_DATA')] !== undefined ? envVar : `${p} tls.${key}`);
  const path = (v: string | undefined, field: string): Found<Source> | undefined => (v ? { value: { path: v }, field } : undefined);
  const src = (v: Source | undefined, field: string): Found<Source> | undefined => (v ? { value: v, field } : undefined);

  const flagPair: Pair = {
    crt: path(flags.tlsCertPath, '--tls-cert-path'),
    key: path(flags.tlsKeyPath, '--tls-key-path'),
    missing: flags.tlsCertPath ? '--tls-key-path' : '--tls-cert-path',
  };
  const profPair: Pair = {
    crt: src(prof?.clientCert, pf('TEMPORAL_TLS_CLIENT_CERT_PATH', 'client_cert_path')),
    key: src(prof?.clientKey, pf('TEMPORAL_TLS_CLIENT_KEY_PATH', 'client_key_path')),
    // Name the missing half the way the given half was given (env var or profile key).
    missing: prof?.clientCert
      ? pf('TEMPORAL_TLS_CLIENT_CERT_PATH', 'client_cert_path').startsWith('TEMPORAL_') ? 'TEMPORAL_TLS_CLIENT_KEY_PATH' : `${p} tls.client_key_path`
      : pf('TEMPORAL_TLS_CLIENT_KEY_PATH', 'client_key_path').startsWith('TEMPORAL_') ? 'TEMPORAL_TLS_CLIENT_CERT_PATH' : `${p} tls.client_cert_path`,
  };
  const secPair: Pair = {
    crt: path(sec?.certFile, 'temporal.tls.certFile'),
    key: path(sec?.keyFile, 'temporal.tls.keyFile'),
    missing: sec?.certFile ? 'temporal.tls.keyFile' : 'temporal.tls.certFile',
  };
  // The pair comes whole from the highest level that names either half: mixing one level's
  // certificate with another's key is never what anyone meant.
  const pair = [flagPair, profPair, secPair].find((x) => x.crt || x.key);
  if (pair && !(pair.crt && pair.key)) {
    const given = (pair.crt ?? pair.key)!.field;
    const alias = pair.missing.startsWith('--') ? ` (or ${pair.missing.replace(/-path$/, '')})` : '';
    throw bad(pair.missing, `a client certificate and its key go together: ${given} was given without ${pair.missing}${alias}`);
  }
  const ca = path(flags.tlsCaPath, '--tls-ca-path') ?? src(prof?.serverCACert, pf('TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'server_ca_cert_path')) ?? path(sec?.caFile, 'temporal.tls.caFile');
  const serverName = flags.tlsServerName ?? prof?.serverName ?? sec?.serverName;

  const flagAsks = !!(flags.tls || flags.tlsCertPath || flags.tlsKeyPath || flags.tlsCaPath || flags.tlsServerName);
  let on: boolean | undefined;
  if (flagAsks) on = true;
  else if (prof) on = !prof.disabled; // TEMPORAL_TLS=false or `disabled = true` beats the config file
  else if (sec) on = true;
  if (on === false) return false;
  if (on === undefined) return hasApiKey ? true : undefined; // API keys only ever travel over TLS unless TLS is switched off explicitly

  const load = (f: Found<Source>): Buffer => ('path' in f.value ? readPem(f.value.path, f.field) : Buffer.from(f.value.data));
  const t: TLSConfig = {};
  if (pair?.crt && pair.key) t.clientCertPair = { crt: load(pair.crt), key: load(pair.key) };
  if (ca) t.serverRootCACertificate = load(ca);
  if (serverName) t.serverNameOverride = serverName;
  return t;
}

let ipServerNameWarningMuted = false;

/** Options shared by Connection.connect (client) and NativeConnection.connect (worker). */
export function connectionOptions(c: ResolvedConnection) {
  // grpc-js passes the address's host as the TLS servername even when it is an IP, and Node then
  // prints a DEP0123 warning on every such run; it is the library's doing, not the user's.
  if (c.tls && !ipServerNameWarningMuted && /^[\d.]+$|^\[?[0-9a-f:]+\]?$/i.test(c.address.slice(0, c.address.lastIndexOf(':')))) {
    ipServerNameWarningMuted = true;
    const emit = process.emitWarning.bind(process) as (...a: unknown[]) => void;
    process.emitWarning = ((...a: unknown[]) => {
      if (a[2] === 'DEP0123' || (a[1] as { code?: string } | undefined)?.code === 'DEP0123') return;
      emit(...a);
    }) as typeof process.emitWarning;
  }
  return { address: c.address, tls: c.tls, apiKey: c.apiKey, ...(c.metadata ? { metadata: c.metadata } : {}), connectTimeout: '10s' } as const;
}

/**
 * Why a TLS dial fails, found by a plain TLS handshake with the same settings. The SDKs report a
 * TLS failure only as "Failed to connect before the deadline" or "transport error"; this turns it
 * into OpenSSL's reason (wrong name, untrusted CA, certificate required). Run only after a dial
 * failed, so a network path the SDK handles and this probe does not (a proxy) never blocks anyone.
 */
export function probeTls(c: ResolvedConnection, timeoutMs = 3000): Promise<string | undefined> {
  if (!c.tls) return Promise.resolve(undefined);
  const t = typeof c.tls === 'object' ? c.tls : {};
  const i = c.address.lastIndexOf(':');
  const host = c.address.slice(0, i).replace(/^\[|\]$/g, '');
  const servername = t.serverNameOverride ?? host;
  return new Promise((resolve) => {
    let done = false;
    const finish = (why?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(why);
    };
    const sock = tls.connect({
      host,
      port: Number(c.address.slice(i + 1)),
      ALPNProtocols: ['h2'],
      ...(isIP(servername) ? {} : { servername }),
      ...(t.serverRootCACertificate ? { ca: Buffer.from(t.serverRootCACertificate) } : {}),
      ...(t.clientCertPair ? { cert: Buffer.from(t.clientCertPair.crt), key: Buffer.from(t.clientCertPair.key) } : {}),
    });
    sock.on('secureConnect', () => {
      if (sock.alpnProtocol !== 'h2') return finish('TLS: the server did not agree to HTTP/2 (ALPN h2), so it does not serve gRPC over TLS there');
      // Under TLS 1.3 a server refuses a missing or bad client certificate only after the
      // client's side of the handshake is done: give its alert a moment to arrive.
      sock.resume();
      setTimeout(() => finish(), 500);
    });
    sock.on('error', (e: NodeJS.ErrnoException) => finish(`TLS: ${e.message}${e.code && !e.message.includes(e.code) ? ` (${e.code})` : ''}`));
    sock.on('close', () => finish(done ? undefined : 'TLS: the server closed the connection right after the handshake (does it want a client certificate?)'));
    const timer = setTimeout(() => finish(), timeoutMs);
  });
}

/** Words for a failed dial: what was tried, OpenSSL's reason when TLS is the cause, which settings to look at. */
export async function describeConnectFailure(c: ResolvedConnection, e: unknown): Promise<string> {
  const err = e as Error & { cause?: { message?: string; details?: string } };
  const raw = [err.message, err.cause?.details ?? err.cause?.message].filter(Boolean).join(': ');
  if (!c.tls) return `cannot reach Temporal at ${c.address}: ${raw}. Start one with \`fluxburst server\` or pass --address.`;
  const t = typeof c.tls === 'object' ? c.tls : {};
  const what = [
    t.serverRootCACertificate ? 'server CA from file' : 'system CAs',
    t.clientCertPair ? 'client certificate given' : 'no client certificate',
    `server name ${t.serverNameOverride ?? c.address.slice(0, c.address.lastIndexOf(':'))}`,
    ...(c.apiKey ? ['API key'] : []),
  ].join(', ');
  const why = await probeTls(c).catch(() => undefined);
  return (
    `cannot reach Temporal at ${c.address} over TLS (${what}): ${why ? `${why}; ` : ''}${raw}. ` +
    'If the server wants a client certificate, pass --tls-cert-path/--tls-key-path; if its certificate is not trusted or is for another name, check --tls-ca-path and --tls-server-name'
  );
}
