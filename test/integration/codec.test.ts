import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { AesGcmCodec, loadCodecKeys } from '../../src/temporal/codec.js';
import { freePort } from '../../src/temporal/ports.js';
import { CLI, ROOT, address, historyText, input, job, leftovers, result, start, startWorker, uid, waitFor, workdir } from '../support/harness.js';

const dir = workdir('codec');
const key = () => randomBytes(32).toString('base64');
const keyA = key();
const keyB = key();
const fileA = join(dir, 'keys-a');
const fileBA = join(dir, 'keys-ba'); // rotated: B encrypts, A still decrypts
writeFileSync(fileA, `# test keys\nk1:${keyA}\n`);
writeFileSync(fileBA, `k2:${keyB}\nk1:${keyA}\n`);
const payload = (s: string) => ({ metadata: { encoding: new TextEncoder().encode('json/plain') }, data: new TextEncoder().encode(JSON.stringify(s)) });

describe('AES-GCM payload codec', () => {
  it('round-trips, hides the plaintext and names the key it used', async () => {
    const codec = new AesGcmCodec(loadCodecKeys(fileA));
    const [enc] = await codec.encode([payload('top-secret-value')]);
    expect(Buffer.from(enc!.data!).toString('latin1')).not.toContain('top-secret-value');
    expect(new TextDecoder().decode(enc!.metadata!['encryption-key-id'])).toBe('k1');
    const [dec] = await codec.decode([enc!]);
    expect(new TextDecoder().decode(dec!.data!)).toBe('"top-secret-value"');
    // Unencrypted payloads pass through.
    const [plain] = await codec.decode([payload('x')]);
    expect(new TextDecoder().decode(plain!.data!)).toBe('"x"');
  });

  it('rotation: a new current key encrypts, the old one still decrypts; a missing key is a clear error', async () => {
    const old = await new AesGcmCodec(loadCodecKeys(fileA)).encode([payload('before rotation')]);
    const rotated = new AesGcmCodec(loadCodecKeys(fileBA));
    const [fresh] = await rotated.encode([payload('after')]);
    expect(new TextDecoder().decode(fresh!.metadata!['encryption-key-id'])).toBe('k2');
    expect(new TextDecoder().decode((await rotated.decode(old))[0]!.data!)).toBe('"before rotation"');
    await expect(new AesGcmCodec(loadCodecKeys(fileA)).decode([fresh!])).rejects.toThrow(/key "k2", which this process does not have/);
  });

  it('a tampered payload fails authentication', async () => {
    const codec = new AesGcmCodec(loadCodecKeys(fileA));
    const [enc] = await codec.encode([payload('integrity')]);
    const data = Buffer.from(enc!.data!);
    data[20] = data[20]! ^ 1;
    await expect(codec.decode([{ ...enc!, data }])).rejects.toThrow();
  });

  it('bad key files are input errors naming the line', () => {
    const bad = join(dir, 'bad');
    writeFileSync(bad, 'k1:c2hvcnQ=\n');
    expect(() => loadCodecKeys(bad)).toThrow(InputError);
    expect(() => loadCodecKeys(bad)).toThrow(`${bad}:1: expected \`id:base64\` of a 32-byte key`);
    expect(() => loadCodecKeys(fileA, 'nope')).toThrow(/no key "nope"/);
    expect(() => loadCodecKeys(join(dir, 'missing'))).toThrow(/cannot read: ENOENT/);
  });
});

describe('secrets never in histories', () => {
  const TQ = uid('tq-codec');
  let w: Awaited<ReturnType<typeof startWorker>>;
  let codecClient: Client;
  let rawClient: Client;
  beforeAll(async () => {
    process.env.FLUXBURST_CODEC_KEYS = fileA; // this process hosts the worker
    w = await startWorker(TQ);
    const connection = await Connection.connect({ address: address() });
    codecClient = new Client({ connection, dataConverter: { payloadCodecs: [new AesGcmCodec(loadCodecKeys(fileA))] } });
    rawClient = new Client({ connection });
  });
  afterAll(async () => {
    await w?.stop();
    delete process.env.FLUXBURST_CODEC_KEYS;
  });

  it('a planted secret in a job command and result is not in the raw history; the codec server shows it', async () => {
    const secret = `planted-${uid('secret')}`;
    const nodes = workdir('codec');
    const h = await start(codecClient, TQ, uid('codec'), input([job('s', { command: ['echo', secret] })], { workdir: nodes }));
    const r = await result(h);
    expect(r.status.jobs[0]!.result!.tasks[0]!.stdout.trim()).toBe(secret); // readable with the key
    expect(leftovers(nodes)).toEqual({ processes: [], dirs: [] });

    const raw = await rawClient.workflow.getHandle(h.workflowId).fetchHistory();
    const textual = historyText(raw);
    expect(textual).toContain('binary/encrypted');
    expect(textual).not.toContain(secret);
    expect(textual).not.toContain('"echo"');

    // The codec server decodes the same raw payload for the UI.
    const port = await freePort();
    const server = spawn(process.execPath, [CLI, 'codec-server', '--port', String(port), '--origin', 'http://ui.example'], {
      cwd: ROOT,
      env: { ...process.env, FLUXBURST_CODEC_KEYS: fileA },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(() => out.includes('codec server on') || undefined, 20_000, 'codec server');
      const started = raw.events!.find((e) => e.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes!.input!.payloads!;
      const wire = started.map((p) => ({
        metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
        data: Buffer.from(p.data!).toString('base64'),
      }));
      const pre = await fetch(`http://127.0.0.1:${port}/decode`, { method: 'OPTIONS' });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe('http://ui.example');
      const res = await fetch(`http://127.0.0.1:${port}/decode`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default' }, body: JSON.stringify({ payloads: wire }) });
      expect(res.status).toBe(200);
      const decoded = (await res.json()) as { payloads: { data: string }[] };
      expect(Buffer.from(decoded.payloads[0]!.data, 'base64').toString('utf8')).toContain(secret);
    } finally {
      server.kill('SIGTERM');
    }
  });
});
