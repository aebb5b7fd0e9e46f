// TLS, mTLS and API keys end to end: the real CLI and `fluxburst worker` (separate processes)
// against a TLS-serving Temporal. The dev server cannot serve TLS itself (start-dev has no TLS
// flags or config file), so test/support/tls.ts terminates TLS (ALPN h2, optional client-cert
// check) in front of the suite's plain dev server; see the comment there.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/temporal/connection.js';
import { type CliResult, address, cliAsync, spawnWorker, uid, workdir } from '../support/harness.js';
import { type Pki, type Proxy, makePki, startApiKeyProxy, startTlsProxy } from '../support/tls.js';

// Connection settings come only from what each case passes, never from the developer's shell.
for (const k of Object.keys(process.env)) if (k.startsWith('TEMPORAL_')) delete process.env[k];

let pki: Pki;
let tlsProxy: Proxy; // server-authenticated TLS
let mtlsProxy: Proxy; // client certificate required
let keyProxy: Awaited<ReturnType<typeof startApiKeyProxy>>;
let dir: string;
const API_KEY = `fbkey-${Math.random().toString(36).slice(2)}`;
const workers: ReturnType<typeof spawnWorker>[] = [];
const cleanup: string[] = [];

beforeAll(async () => {
  pki = makePki();
  cleanup.push(pki.dir);
  [tlsProxy, mtlsProxy, keyProxy] = await Promise.all([
    startTlsProxy(pki, address()),
    startTlsProxy(pki, address(), { mtls: true }),
    startApiKeyProxy(pki, address(), API_KEY),
  ]);
  dir = workdir('tls');
  cleanup.push(dir);
  writeFileSync(join(dir, 'jobs.yaml'), '- {id: t1, command: [echo, over-tls], burstable: true}\n');
  writeFileSync(join(dir, 'fb.yaml'), `name: tls\njobs: jobs.yaml\ntargets:\n  - plugin: local\n    params: {workdir: ${join(dir, 'nodes')}}\n`);
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await Promise.all([tlsProxy?.close(), mtlsProxy?.close(), keyProxy?.close()]);
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
});

const caFlags = () => ['--tls-ca', pki.ca];
const certFlags = () => ['--tls-cert', pki.clientCert, '--tls-key', pki.clientKey];

async function worker(args: string[], env: Record<string, string> = {}) {
  const w = spawnWorker(args, env);
  workers.push(w);
  await w.ready;
  return w;
}

async function burst(tq: string, args: string[], env: Record<string, string> = {}): Promise<CliResult & { outcome?: string; output?: string }> {
  const r = await cliAsync(['burst', '--wait', '--json', '--owner', uid('tls'), '--config', join(dir, 'fb.yaml'), '--task-queue', tq, ...args], env);
  if (r.code !== 0) return r;
  const b = JSON.parse(r.stdout).bursts[0];
  return { ...r, outcome: b.outcome, output: JSON.stringify(b) };
}

const list = (args: string[], env: Record<string, string> = {}) => cliAsync(['list', '--limit', '1', '--json', ...args], env);

it('(a) worker and burst --wait with TLS flags complete a local burst', async () => {
  const tq = uid('tq-tls');
  const w = await worker(['--address', tlsProxy.address, ...caFlags(), '--task-queue', tq]);
  const r = await burst(tq, ['--address', tlsProxy.address, ...caFlags()]);
  expect(r.stderr).toBe('');
  expect(r.outcome).toBe('completed');
  expect(r.output).toContain('over-tls');
  w.kill('SIGTERM');
});

it('(b) the same through a TOML profile (TEMPORAL_CONFIG_FILE + TEMPORAL_PROFILE), mTLS, no connection flags', async () => {
  const toml = join(dir, 'temporal.toml');
  writeFileSync(
    toml,
    [
      '[profile.default]',
      'address = "127.0.0.1:1"', // proves the named profile, not the default one, is used
      '[profile.tlstest]',
      `address = "${mtlsProxy.address}"`,
      'namespace = "default"',
      '[profile.tlstest.tls]',
      `server_ca_cert_path = "${pki.ca}"`,
      `client_cert_path = "${pki.clientCert}"`,
      `client_key_path = "${pki.clientKey}"`,
      `server_name = "${pki.serverName}"`,
      '',
    ].join('\n'),
  );
  const env = { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'tlstest' };
  const tq = uid('tq-prof');
  const w = await worker(['--task-queue', tq], env);
  const r = await burst(tq, [], env);
  expect(r.stderr).toBe('');
  expect(r.outcome).toBe('completed');
  w.kill('SIGTERM');
});

// The refusals wait out the SDK's connect timeout (10 s): run them side by side.
describe.concurrent('refused dials', () => {
  it('(c) mTLS without a client certificate: the CLI and the worker are refused, naming TLS and the certificate', async () => {
    const [c, w] = await Promise.all([
      list(['--address', mtlsProxy.address, ...caFlags()]),
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawnWorker(['--address', mtlsProxy.address, ...caFlags(), '--task-queue', uid('tq-nocert')]);
        workers.push(child);
        let out = '';
        child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', (code) => resolve({ code, out }));
      }),
    ]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/over TLS \(server CA from file, no client certificate.*TLS: .*certificate required/);
    expect(c.stderr).toMatch(/--tls-cert-path/);
    expect(w.code).toBe(1);
    expect(w.out).toMatch(/over TLS \(server CA from file, no client certificate.*TLS: .*certificate required/);
  });
  it('(d) a server name the certificate does not carry fails; --tls-server-name with its name works; an untrusted CA fails', async () => {
    const [wrong, right, untrusted] = await Promise.all([
      list(['--address', tlsProxy.address, ...caFlags(), '--tls-server-name', 'wrong.test']),
      list(['--address', tlsProxy.address, ...caFlags(), '--tls-server-name', pki.serverName]),
      list(['--address', tlsProxy.address, '--tls']),
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/over TLS \(.*server name wrong\.test\): TLS: .*wrong\.test.* is not in the cert's altnames: DNS:temporal\.test/);
    expect(right.stderr).toBe('');
    expect(right.code).toBe(0);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/over TLS \(system CAs.*TLS: .*(self-signed|unable to (get|verify))/);
  });
});

describe('(c) mTLS', () => {
  it('with the client certificate (flags, or TEMPORAL_TLS_* env) it connects', async () => {
    const [flags, env] = await Promise.all([
      list(['--address', mtlsProxy.address, ...caFlags(), ...certFlags()]),
      list([], {
        TEMPORAL_ADDRESS: mtlsProxy.address,
        TEMPORAL_TLS: 'true',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.ca,
        TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
      }),
    ]);
    expect(flags.stderr).toBe('');
    expect(flags.code).toBe(0);
    expect(env.stderr).toBe('');
    expect(env.code).toBe(0);
  });
});

describe('(e) bad TLS input is refused with exit 2 before any dial', () => {
  const bad = (args: string[], env: Record<string, string> = {}) => cliAsync(['burst', '--config', join(dir, 'fb.yaml'), '--address', '127.0.0.1:1', ...args], env);
  it('--tls-cert without --tls-key', async () => {
    const r = await bad(['--tls-cert', pki.clientCert]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--tls-key-path: a client certificate and its key go together');
    expect(r.stderr).toContain('(or --tls-key)');
  });
  it('an unreadable CA file names the flag', async () => {
    const r = await bad(['--tls-ca', join(dir, 'missing.pem')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--tls-ca-path: cannot read ${join(dir, 'missing.pem')}: ENOENT`);
  });
  it('TEMPORAL_TLS_CLIENT_CERT_PATH without its key names the env var', async () => {
    const r = await bad([], { TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('TEMPORAL_TLS_CLIENT_KEY_PATH: a client certificate and its key go together');
  });
  it('a TEMPORAL_CONFIG_FILE that does not exist, or a profile it lacks', async () => {
    const toml = join(dir, 'other.toml');
    writeFileSync(toml, '[profile.default]\naddress = "127.0.0.1:1"\n');
    const [missing, noProfile, apiEnv] = await Promise.all([
      bad([], { TEMPORAL_CONFIG_FILE: join(dir, 'nope.toml') }),
      bad(['--profile', 'prod'], { TEMPORAL_CONFIG_FILE: toml }),
      bad(['--api-key-env', 'FB_TLS_TEST_UNSET_KEY']),
    ]);
    expect([missing.code, noProfile.code, apiEnv.code]).toEqual([2, 2, 2]);
    expect(missing.stderr).toContain('TEMPORAL_CONFIG_FILE: cannot read');
    expect(noProfile.stderr).toContain("--profile: Profile 'prod' not found");
    expect(apiEnv.stderr).toContain('--api-key-env: environment variable FB_TLS_TEST_UNSET_KEY is not set');
  });
});

it('API key: sent as `authorization: Bearer <key>` over TLS; a server checking it refuses a wrong one', async () => {
  const good = await list(['--address', keyProxy.address, ...caFlags(), '--api-key-env', 'FB_TLS_TEST_KEY'], { FB_TLS_TEST_KEY: API_KEY });
  expect(good.stderr).toBe('');
  expect(good.code).toBe(0);
  expect(keyProxy.authorizations).toContain(`Bearer ${API_KEY}`);
  const wrong = await list(['--address', keyProxy.address, ...caFlags()], { TEMPORAL_API_KEY: 'not-the-key' });
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toMatch(/invalid API key/);
  expect(keyProxy.authorizations).toContain('Bearer not-the-key');
});

it('precedence: flags > TEMPORAL_* env > profile file > config file', () => {
  const toml = join(dir, 'prec.toml');
  writeFileSync(toml, `[profile.default]\naddress = "profile:1"\nnamespace = "ns-profile"\n[profile.default.tls]\nserver_name = "profile.test"\n`);
  const section = { address: 'config:1', namespace: 'ns-config', taskQueue: 'q', tls: { serverName: 'config.test', caFile: pki.ca } };
  const env = { TEMPORAL_CONFIG_FILE: toml };
  const r = resolveConnection({}, section, env);
  expect([r.address, r.namespace]).toEqual(['profile:1', 'ns-profile']);
  expect(r.tls).toMatchObject({ serverNameOverride: 'profile.test', serverRootCACertificate: expect.anything() });
  const e = resolveConnection({}, section, { ...env, TEMPORAL_ADDRESS: 'env:1', TEMPORAL_TLS_SERVER_NAME: 'env.test' });
  expect(e.address).toBe('env:1');
  expect(e.tls).toMatchObject({ serverNameOverride: 'env.test' });
  const f = resolveConnection({ address: 'flag:1', namespace: 'ns-flag', tlsServerName: 'flag.test' }, section, { ...env, TEMPORAL_ADDRESS: 'env:1' });
  expect([f.address, f.namespace]).toEqual(['flag:1', 'ns-flag']);
  expect(f.tls).toMatchObject({ serverNameOverride: 'flag.test' });
  // TLS switched off in the env beats the config file's tls section, even with an API key.
  expect(resolveConnection({}, section, { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' }).tls).toBe(false);
  expect(resolveConnection({}, { taskQueue: 'q' }, { TEMPORAL_API_KEY: 'k', HOME: dir }).tls).toBe(true);
});
