// `fluxburst server` (foreground and --detach, --codec-endpoint), `worker --detach` configured only
// by the environment (FLUXBURST_METRICS, FLUXBURST_LOG_FORMAT, OTEL_EXPORTER_OTLP_ENDPOINT alone,
// FLUXBURST_CODEC_KEYS/FLUXBURST_CODEC_KEY_ID) with a valid --max-activities, and `fluxburst stop`
// — all through bin/fluxburst.js, on a dev server of this file's own in a state dir of its own.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, cliAsync, leftovers, uid, waitFor, workdir } from '../support/harness.js';
import { freePort } from '../support/ports.js';

const state = mkdtempSync(join(tmpdir(), 'fb-cov-server-'));
const nodes = workdir('cov-server');
const keys = join(state, 'codec-keys');
writeFileSync(keys, `k1:${randomBytes(32).toString('base64')}\nk2:${randomBytes(32).toString('base64')}\n`);
const TQ = uid('tq-cov-server');
const env: Record<string, string> = { FLUXBURST_STATE_DIR: state, FLUXBURST_CODEC_KEYS: keys };
const cli = (args: string[], more: Record<string, string> = {}) => cliAsync(args, { ...env, ...more });
const pids: number[] = []; // everything this file started, killed in afterAll if still there
let port = 0;
let uiPort = 0;
let addr = '';
let otlp: Server;
let otlpPort = 0;
let spans = 0;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  [port, uiPort, otlpPort] = [await freePort(), await freePort(), await freePort()];
  addr = `127.0.0.1:${port}`;
  otlp = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      spans += (body.match(/"spanId"/g) ?? []).length;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => otlp.listen(otlpPort, '127.0.0.1', r));
});

afterAll(async () => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await new Promise((r) => otlp?.close(r));
  rmSync(state, { recursive: true, force: true });
  rmSync(nodes, { recursive: true, force: true });
});

describe('server --detach, worker --detach, stop', () => {
  let serverPid = 0;
  let workerPid = 0;

  it('server --detach returns once the server answers, leaves it running with the UI pointed at --codec-endpoint; a second server says it is running', async () => {
    const r = await cli(['server', '--detach', '--port', String(port), '--ui-port', String(uiPort), '--codec-endpoint', 'http://127.0.0.1:18899', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as { pid: number; address: string; uiUrl: string };
    serverPid = info.pid;
    pids.push(serverPid);
    expect(info.address).toBe(addr);
    expect(alive(serverPid)).toBe(true);
    expect(JSON.parse(readFileSync(join(state, 'server.json'), 'utf8')).pid).toBe(serverPid);
    const settings = (await (await fetch(`${info.uiUrl}/api/v1/settings`)).json()) as { Codec?: { Endpoint?: string } };
    expect(settings.Codec?.Endpoint).toBe('http://127.0.0.1:18899');
    const again = await cli(['server', '--port', String(port)]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`already running (pid ${serverPid})`);
  });

  it('worker --detach (with --max-activities 7, metrics/log format/tracing from the environment) runs a burst; --codec key id from FLUXBURST_CODEC_KEY_ID', async () => {
    const metricsPort = await freePort();
    const r = await cli(['worker', '--detach', '--address', addr, '--task-queue', TQ, '--max-activities', '7'], {
      FLUXBURST_METRICS: `127.0.0.1:${metricsPort}`,
      FLUXBURST_LOG_FORMAT: 'json',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
    });
    expect(r.code, r.stderr).toBe(0);
    workerPid = Number(/pid (\d+)/.exec(r.stdout)![1]);
    pids.push(workerPid);
    expect(alive(workerPid)).toBe(true);

    // The metrics endpoint is up (FLUXBURST_METRICS) and shows 7 activity slots (--max-activities).
    const metrics = await waitFor(async () => {
      const t = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((x) => x.text()).catch(() => undefined);
      return t && /temporal_worker_task_slots_available\{[^}]*worker_type="ActivityWorker"/.test(t) ? t : undefined;
    }, 30_000, 'activity slot gauge');
    const slots = metrics.split('\n').filter((l) => l.startsWith('temporal_worker_task_slots_available{') && l.includes('worker_type="ActivityWorker"') && l.includes(`task_queue="${TQ}"`));
    expect(slots.map((l) => Number(l.split(' ').pop()))).toEqual([7]);

    writeFileSync(join(state, 'jobs.yaml'), '- {id: d1, command: [echo, detached], burstable: true}\n');
    writeFileSync(join(state, 'fb.yaml'), `name: covserver\njobs: jobs.yaml\ntargets:\n  - {plugin: local, params: {workdir: ${nodes}}}\n`);
    const b = await cli(['burst', '--wait', '--json', '--address', addr, '--task-queue', TQ, '--config', join(state, 'fb.yaml')], { FLUXBURST_CODEC_KEY_ID: 'k2' });
    expect(b.code, b.stderr).toBe(0);
    const burstId = JSON.parse(b.stdout).bursts[0].burstId as string;
    expect(JSON.parse(b.stdout).bursts[0].outcome).toBe('completed');
    expect(leftovers(nodes)).toEqual({ processes: [], dirs: [] });

    // The CLI encrypted the burst's input with k2 (FLUXBURST_CODEC_KEY_ID), not the first key.
    const connection = await Connection.connect({ address: addr });
    try {
      const raw = new Client({ connection });
      const history = await raw.workflow.getHandle(burstId).fetchHistory();
      const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
      const keyId = new TextDecoder().decode(started.input!.payloads![0]!.metadata!['encryption-key-id']!);
      expect(keyId).toBe('k2');
    } finally {
      await connection.close();
    }

    // FLUXBURST_LOG_FORMAT=json: every worker line in its log is one JSON object; the burst's carry its id.
    const lines = readFileSync(join(state, 'worker.log'), 'utf8').split('\n').filter(Boolean);
    const parsed = lines.map((l) => {
      try {
        return JSON.parse(l) as { msg?: string; burstId?: string };
      } catch {
        throw new Error(`not JSON: ${l}`);
      }
    });
    expect(parsed.some((l) => l.burstId === burstId)).toBe(true);
    // OTEL_EXPORTER_OTLP_ENDPOINT alone (no --otel) turns tracing on: spans arrive.
    await waitFor(() => (spans > 0 ? true : undefined), 30_000, 'spans at the OTLP receiver');
  });

  it('stop ends the detached worker and server and removes their records', async () => {
    const r = await cli(['stop']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/worker: stopped/);
    expect(r.stdout).toMatch(/server: stopped/);
    expect(alive(workerPid)).toBe(false);
    expect(alive(serverPid)).toBe(false);
    expect(existsSync(join(state, 'server.json'))).toBe(false);
    const again = await cli(['stop']);
    expect(again.stdout).toMatch(/worker: not running/);
    expect(again.stdout).toMatch(/server: not running/);
  });
});

it('server in the foreground: prints its address when ready, serves, and SIGTERM ends it and its record', async () => {
  const p = await freePort();
  const child = spawn(process.execPath, [CLI, 'server', '--headless', '--port', String(p)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  pids.push(child.pid!);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await waitFor(() => (out.includes('ready') ? true : undefined), 90_000, 'server ready');
  expect(out).toContain(`gRPC: 127.0.0.1:${p}`);
  const serverPid = JSON.parse(readFileSync(join(state, 'server.json'), 'utf8')).pid as number;
  pids.push(serverPid);
  const connection = await Connection.connect({ address: `127.0.0.1:${p}` });
  try {
    expect((await connection.workflowService.getSystemInfo({})).serverVersion).toBeTruthy();
  } finally {
    await connection.close();
  }
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(alive(serverPid)).toBe(false);
  expect(existsSync(join(state, 'server.json'))).toBe(false);
});
