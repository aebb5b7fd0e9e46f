import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusQuery, interruptionSignal } from '../../workflows/messages.js';
import { address, client, input, job, result, spawnWorker, start, uid, waitFor, workdir } from '../support/harness.js';
import { freePort } from '../support/ports.js';

// The worker is a CLI child process: the SDK runtime (and so the metrics endpoint) is
// process-wide, and this test process may already have one installed by another helper.
const TQ = uid('tq-obs');
let metricsUrl = '';
let w: ReturnType<typeof spawnWorker>;
let c: Awaited<ReturnType<typeof client>>;
let stdout = '';
let otlp: Server;
const spans: Array<{ name: string; attributes: Record<string, unknown> }> = [];

/** OTLP/HTTP JSON attribute list → plain object. */
function attrs(list: Array<{ key: string; value: Record<string, unknown> }> = []): Record<string, unknown> {
  return Object.fromEntries(list.map((a) => [a.key, Object.values(a.value)[0]]));
}

beforeAll(async () => {
  const [metricsPort, otlpPort] = [await freePort(), await freePort()];
  // A stand-in trace collector: takes the worker's OTLP/HTTP JSON exports.
  otlp = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      try {
        const doc = JSON.parse(body) as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<{ name: string; attributes?: [] }> }> }> };
        for (const rs of doc.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ name: s.name, attributes: attrs(s.attributes) });
      } catch {
        /* not JSON: ignored, the assertions below will say what is missing */
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => otlp.listen(otlpPort, '127.0.0.1', r));
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  c = await client();
  w = spawnWorker(['--address', address(), '--task-queue', TQ, '--metrics', `127.0.0.1:${metricsPort}`, '--log-format', 'json', '--otel'], {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
  });
  w.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  await w.ready;
});

afterAll(async () => {
  if (w && w.exitCode === null) {
    w.kill('SIGTERM');
    await new Promise((r) => w.once('exit', r));
  }
  await new Promise((r) => otlp?.close(r));
});

async function scrape(): Promise<string> {
  const r = await fetch(metricsUrl);
  expect(r.status).toBe(200);
  return r.text();
}

/** Sum of every series of `name` whose labels include `labels`. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

const local = { plugin: 'local' };

describe('worker observability (--metrics, --log-format json, --otel)', () => {
  it('metrics move during and after a burst; logs are JSON lines with the burst id; spans carry it', async () => {
    const before = await scrape();
    const dir = workdir('obs');
    const id = uid('obs');
    const h = await start(c, TQ, id, input([job('sleeper', { command: ['sleep', '4'] })], { workdir: dir, nodes: 2 }));

    // During: the job sleeps on one node; take the other node away to drive an interruption.
    const st = await waitFor(async () => {
      const s = await h.query(statusQuery).catch(() => undefined);
      return s?.jobs[0]?.state === 'running' ? s : undefined;
    }, 60_000, 'job running');
    const idle = ['node-0', 'node-1'].find((n) => !st.jobs[0]!.assigned.includes(n))!;
    await h.signal(interruptionSignal, { node: idle, kind: 'spot-interruption', reason: 'test' });
    const during = await waitFor(async () => {
      const t = await scrape();
      return value(t, 'fluxburst_interruptions_total', { ...local, kind: 'spot-interruption' }) > value(before, 'fluxburst_interruptions_total', { ...local, kind: 'spot-interruption' }) ? t : undefined;
    }, 30_000, 'interruption counted');
    expect(value(during, 'fluxburst_bursts_started_total', local)).toBe(value(before, 'fluxburst_bursts_started_total', local) + 1);
    for (const phase of ['select', 'plan', 'provision', 'join']) {
      expect(value(during, 'fluxburst_burst_phase_seconds_count', { phase }), phase).toBeGreaterThan(value(before, 'fluxburst_burst_phase_seconds_count', { phase }));
    }
    // Two nodes, then the replacement of the interrupted one.
    await waitFor(async () => value(await scrape(), 'fluxburst_nodes_provisioned_total', local) === value(before, 'fluxburst_nodes_provisioned_total', local) + 3 || undefined, 30_000, 'replacement node counted');
    expect(value(during, 'fluxburst_bursts_finished_total', local)).toBe(value(before, 'fluxburst_bursts_finished_total', local));

    const r = await result(h);
    expect(r.outcome).toBe('completed');
    const after = await waitFor(async () => {
      const t = await scrape();
      return value(t, 'fluxburst_bursts_finished_total', { ...local, outcome: 'completed' }) === value(before, 'fluxburst_bursts_finished_total', { ...local, outcome: 'completed' }) + 1 ? t : undefined;
    }, 30_000, 'finished counted');
    for (const phase of ['run', 'teardown']) {
      expect(value(after, 'fluxburst_burst_phase_seconds_count', { ...local, phase }), phase).toBe(value(before, 'fluxburst_burst_phase_seconds_count', { ...local, phase }) + 1);
    }
    // The run phase slept ~4s: the histogram's sum moved by at least that.
    expect(value(after, 'fluxburst_burst_phase_seconds_sum', { ...local, phase: 'run' }) - value(before, 'fluxburst_burst_phase_seconds_sum', { ...local, phase: 'run' })).toBeGreaterThanOrEqual(3.5);
    expect(value(after, 'fluxburst_jobs_finished_total', { ...local, state: 'completed' })).toBe(value(before, 'fluxburst_jobs_finished_total', { ...local, state: 'completed' }) + 1);
    expect(value(after, 'fluxburst_estimated_spend_usd_count', local)).toBe(value(before, 'fluxburst_estimated_spend_usd_count', local) + 1);
    expect(value(after, 'fluxburst_plugin_call_seconds_count', { ...local, call: 'provisionStep', result: 'ok' })).toBeGreaterThanOrEqual(3);
    // The SDK runtime's own metrics come out of the same endpoint.
    expect(after).toMatch(/^temporal_workflow_completed\{/m);
    expect(after).toMatch(/^temporal_activity_execution_latency\w*_count\{/m);

    // Logs: every stdout line is a JSON object; the burst's own lines carry its id.
    const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const l of lines) expect(l).toMatchObject({ ts: expect.any(String), level: expect.any(String), msg: expect.any(String) });
    const mine = lines.filter((l) => l.burstId === id);
    expect(mine.map((l) => l.msg)).toEqual(expect.arrayContaining(['burst phase select', 'burst phase run', 'burst phase completed']));
    expect(lines.filter((l) => l.workflowId === id && l.burstId !== id)).toEqual([]);

    // Tracing: the workflow run and its activities, each span tagged with the burst id.
    const named = await waitFor(() => {
      const mineSpans = spans.filter((s) => s.attributes['fluxburst.burst_id'] === id);
      const names = new Set(mineSpans.map((s) => s.name));
      return ['RunWorkflow:burstWorkflow', 'StartActivity:provisionStep', 'RunActivity:provisionStep', 'RunActivity:runJobBatch'].every((n) => names.has(n)) ? names : undefined;
    }, 30_000, 'spans exported');
    expect(named.has('RunActivity:teardownStep')).toBe(true);
  });

  it('a failed burst counts a rollback at the failed step and a failed outcome', async () => {
    const before = await scrape();
    const dir = workdir('obs');
    const h = await start(c, TQ, uid('obs-fail'), input([job('a')], { workdir: dir, nodes: 2, fault: { step: 'join' } }));
    await expect(h.result()).rejects.toThrow();
    const after = await waitFor(async () => {
      const t = await scrape();
      return value(t, 'fluxburst_bursts_finished_total', { ...local, outcome: 'failed' }) > value(before, 'fluxburst_bursts_finished_total', { ...local, outcome: 'failed' }) ? t : undefined;
    }, 30_000, 'failure counted');
    expect(value(after, 'fluxburst_rollbacks_total', { ...local, step: 'join' })).toBe(value(before, 'fluxburst_rollbacks_total', { ...local, step: 'join' }) + 1);
    expect(value(after, 'fluxburst_plugin_call_seconds_count', { ...local, call: 'joinNodes', result: 'error' })).toBeGreaterThan(0);
  });
});
