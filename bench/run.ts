// Latency benchmark: a 1-job, 1-node burst on the `local` plugin against a bare workflow that
// runs the same six activities as no-ops (the Temporal floor). Starts its own dev server and
// workers, prints p50/p95, the ratio, the targets, and a per-segment breakdown of where the time
// goes, read from each run's event history. A benchmark, not a test: exits 0 whether or not the
// targets are met (non-zero only if it could not run at all).
//
//   npx tsc -p tsconfig.json && node dist/workers/bundle.js && node dist/bench/run.js
//
// Env: BENCH_RUNS (50), BENCH_WARMUP (5), BENCH_ORDER (interleaved | blocks),
//      BENCH_SERVER_ARGS (extra `temporal server start-dev` args, space separated),
//      BENCH_BREAKDOWN=0 to skip the history breakdown.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';

import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { SA_OWNER } from '../src/core/search-attributes.js';
import type { BurstInput, BurstResult, Job } from '../src/core/types.js';
import { NODE_DIR_ENV, processesWithEnv } from '../src/plugins/local/layout.js';
import { loadRegistry } from '../src/plugins/registry.js';
import { noopPlugin } from './noop-plugin.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { createBurstWorker } from '../workers/worker.js';
import type { BaselineInput, NoopActivities } from './baseline-workflows.js';
import { freePort } from '../src/temporal/ports.js';
import { burstWorkflow } from '../workflows/burst.js';

const here = dirname(fileURLToPath(import.meta.url));
const RUNS = intEnv('BENCH_RUNS', 50);
const WARMUP = intEnv('BENCH_WARMUP', 5);
const ORDER = process.env.BENCH_ORDER === 'blocks' ? 'blocks' : 'interleaved';
const BREAKDOWN = process.env.BENCH_BREAKDOWN !== '0';
const SERVER_ARGS = (process.env.BENCH_SERVER_ARGS ?? '').split(/\s+/).filter(Boolean);
const TARGET_P50_MS = 300;
const TARGET_RATIO = 1.3;
const TIMEOUTS = { stepSeconds: 60, heartbeatSeconds: 5, jobSeconds: 120 };

function intEnv(name: string, dflt: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : dflt;
}


const uid = (p: string) => `${p}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

// ---------------------------------------------------------------------------------------------
// Statistics

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  // Nearest rank.
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)}` : '-');

interface Summary {
  n: number;
  p50: number;
  p95: number;
  mean: number;
  min: number;
  max: number;
}
function summary(xs: number[]): Summary {
  return { n: xs.length, p50: pct(xs, 50), p95: pct(xs, 95), mean: mean(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

// ---------------------------------------------------------------------------------------------
// History breakdown: tile client start → client result with the gaps between history events.

type Ev = Record<string, unknown> & { eventTime?: { seconds?: unknown; nanos?: number | null } | null };

function evMs(e: Ev): number {
  const t = e.eventTime;
  if (!t) return NaN;
  const s = t.seconds as number | { toNumber(): number } | string | null | undefined;
  const sec = typeof s === 'number' ? s : typeof s === 'string' ? Number(s) : s ? s.toNumber() : 0;
  return sec * 1000 + (t.nanos ?? 0) / 1e6;
}

const KINDS = [
  ['workflowExecutionStartedEventAttributes', 'WfStarted'],
  ['workflowTaskScheduledEventAttributes', 'WftScheduled'],
  ['workflowTaskStartedEventAttributes', 'WftStarted'],
  ['workflowTaskCompletedEventAttributes', 'WftCompleted'],
  ['workflowTaskTimedOutEventAttributes', 'WftTimedOut'],
  ['workflowTaskFailedEventAttributes', 'WftFailed'],
  ['activityTaskScheduledEventAttributes', 'ActScheduled'],
  ['activityTaskStartedEventAttributes', 'ActStarted'],
  ['activityTaskCompletedEventAttributes', 'ActCompleted'],
  ['activityTaskFailedEventAttributes', 'ActFailed'],
  ['upsertWorkflowSearchAttributesEventAttributes', 'Upsert'],
  ['workflowExecutionCompletedEventAttributes', 'WfCompleted'],
] as const;

function kindOf(e: Ev): string {
  for (const [attr, k] of KINDS) if (e[attr]) return k;
  return 'Other';
}

/** Segment label → milliseconds, for one run; the segments add up to the run's end-to-end time. */
function segments(events: Ev[], tStart: number, tResult: number): { seg: Map<string, number>; wfts: number } {
  const actType = new Map<string, string>();
  const points: { kind: string; at: number; act?: string }[] = [{ kind: 'ClientStart', at: tStart }];
  let wft = 0;
  for (const e of events) {
    const kind = kindOf(e);
    let act: string | undefined;
    if (kind === 'ActScheduled') {
      const a = e.activityTaskScheduledEventAttributes as { activityType?: { name?: string } };
      act = a.activityType?.name ?? '?';
      actType.set(String(e.eventId), act);
    } else if (kind.startsWith('Act')) {
      const a = e[kind === 'ActStarted' ? 'activityTaskStartedEventAttributes' : kind === 'ActCompleted' ? 'activityTaskCompletedEventAttributes' : 'activityTaskFailedEventAttributes'] as { scheduledEventId?: unknown };
      act = actType.get(String(a.scheduledEventId)) ?? '?';
    }
    if (kind === 'WftScheduled') wft++;
    points.push({ kind, at: evMs(e), act: act ?? (kind.startsWith('Wft') ? (wft === 1 ? 'first' : 'sticky') : undefined) });
  }
  points.push({ kind: 'ClientResult', at: tResult });

  const out = new Map<string, number>();
  const add = (k: string, v: number) => out.set(k, (out.get(k) ?? 0) + v);
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    const d = b.at - a.at;
    let label: string;
    if (a.kind === 'ClientStart') label = 'client: start() → WorkflowExecutionStarted';
    else if (b.kind === 'ClientResult') label = 'client: WorkflowExecutionCompleted → result()';
    else if (a.kind === 'WftScheduled' && b.kind === 'WftStarted') label = `WFT queue (${b.act})`;
    else if (a.kind === 'WftStarted' && b.kind === 'WftCompleted') label = `WFT exec (${b.act})`;
    else if (a.kind === 'ActScheduled' && b.kind === 'ActStarted') label = `activity dispatch: ${b.act}`;
    else if (a.kind === 'ActStarted' && (b.kind === 'ActCompleted' || b.kind === 'ActFailed')) label = `activity exec: ${b.act}`;
    else {
      if (Math.abs(d) < 0.5) continue; // same-batch events
      label = `gap ${a.kind} → ${b.kind}`;
    }
    add(label, d);
  }
  return { seg: out, wfts: wft };
}

// ---------------------------------------------------------------------------------------------

interface Sample {
  ms: number;
  seg?: Map<string, number>;
  /** Workflow tasks in the run's history. */
  wfts?: number;
  phases?: Record<string, number>;
}

async function main() {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    /* installed already */
  }
  const stateDir = mkdtempSync(join(tmpdir(), 'fluxburst-bench-'));
  const workdir = join(stateDir, 'local');
  const cleanups: Array<[string, () => Promise<unknown> | unknown]> = [];
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const [what, fn] of cleanups.reverse()) {
      try {
        await fn();
      } catch (e) {
        process.stderr.write(`cleanup (${what}) failed: ${(e as Error).message}\n`);
      }
    }
    const left = processesWithEnv(NODE_DIR_ENV, `${workdir}/`, true);
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (left.length) process.stderr.write(`cleanup: killed ${left.length} leftover local node process(es)\n`);
    rmSync(stateDir, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`\n${sig}: cleaning up\n`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // 1. Server.
    const port = await freePort();
    const t0 = Date.now();
    const { child: server, info } = await startDevServer({ stateDir, port, headless: true, extraArgs: SERVER_ARGS });
    cleanups.push(['dev server', () => stopChild(server)]);
    log(`dev server ${info.address} up in ${Date.now() - t0} ms (state ${stateDir})`);

    const connection = await Connection.connect({ address: info.address });
    cleanups.push(['client connection', () => connection.close()]);
    const client = new Client({ connection });

    // 2. Workers: the product's burst worker, and a baseline worker with its own bundle.
    const burstQueue = uid('bench-burst');
    const { worker: burstWorker, connection: bwConn } = await createBurstWorker({
      connection: { address: info.address, namespace: 'default', taskQueue: burstQueue },
      registry: await (async () => {
        const reg = await loadRegistry();
        reg.register(noopPlugin);
        return reg;
      })(),
    });
    const burstRunning = burstWorker.run();
    cleanups.push(['burst worker', () => stopWorker(burstWorker, burstRunning, bwConn)]);

    const baselineQueue = uid('bench-baseline');
    const tb = Date.now();
    const js = join(here, 'baseline-workflows.js');
    const bundle = await bundleWorkflowCode({
      workflowsPath: existsSync(js) ? js : join(here, 'baseline-workflows.ts'),
      webpackConfigHook: (config) => {
        config.resolve = { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } };
        return config;
      },
      logger: new DefaultLogger('WARN'),
    });
    const noop = async () => undefined;
    const noops: NoopActivities = { selectJobs: noop, planBurst: noop, provisionStep: noop, joinNodes: noop, runJob: noop, teardownStep: noop };
    const blConn = await NativeConnection.connect({ address: info.address });
    const baselineWorker = await Worker.create({
      connection: blConn,
      namespace: 'default',
      taskQueue: baselineQueue,
      workflowBundle: bundle,
      activities: noops,
      maxConcurrentActivityTaskExecutions: 200,
    });
    const baselineRunning = baselineWorker.run();
    cleanups.push(['baseline worker', () => stopWorker(baselineWorker, baselineRunning, blConn)]);
    log(`workers up (baseline bundle ${Date.now() - tb} ms); ${WARMUP} warm-ups + ${RUNS} runs each, ${ORDER}`);

    // 3. One run of each kind.
    const history = async (id: string) => {
      const h = await client.workflow.getHandle(id).fetchHistory();
      return (h.events ?? []) as unknown as Ev[];
    };
    const baselineOnce = async (): Promise<Sample> => {
      const id = uid('bench-baseline');
      const arg: BaselineInput = { upserts: true, timeouts: TIMEOUTS };
      const t = performance.now();
      const wall = Date.now();
      const h = await client.workflow.start('baselineWorkflow', {
        workflowId: id,
        taskQueue: baselineQueue,
        args: [arg],
        typedSearchAttributes: [{ key: SA_OWNER, value: 'bench' }],
      });
      await h.result();
      const took = performance.now() - t;
      const s: Sample = { ms: took };
      if (BREAKDOWN) Object.assign(s, segments(await history(id), wall, wall + took));
      return s;
    };
    const burstOnce = async (plugin: 'local' | 'noop' = 'local'): Promise<Sample> => {
      const id = uid('bench-burst');
      const job: Job = { id: 'j1', name: 'j1', nodes: 1, tasks: 1, command: ['echo', 'hi'], attributes: { system: { burstable: 1 } } };
      const inp: BurstInput = {
        owner: 'bench',
        source: { kind: 'inline', jobs: [job] },
        selector: { kind: 'burstable' },
        targets: plugin === 'local' ? [{ name: 'local', plugin: 'local', params: { workdir, latencyMs: 0 } }] : [{ name: 'noop', plugin: 'noop', params: {} }],
        maxNodes: 64,
        timeouts: TIMEOUTS,
      };
      const t = performance.now();
      const wall = Date.now();
      const h = await client.workflow.start(burstWorkflow, {
        workflowId: id,
        taskQueue: burstQueue,
        args: [inp],
        typedSearchAttributes: [{ key: SA_OWNER, value: inp.owner }],
      });
      const r = (await h.result()) as BurstResult;
      const took = performance.now() - t;
      const js = r.status.jobs[0];
      if (r.outcome !== 'completed' || js?.state !== 'completed' || js.result?.tasks[0]?.stdout !== 'hi\n') {
        throw new Error(`burst ${id} did not run the job: outcome ${r.outcome}, job ${JSON.stringify(js)}`);
      }
      const s: Sample = { ms: took, phases: phaseSpans(r) };
      if (BREAKDOWN) Object.assign(s, segments(await history(id), wall, wall + took));
      return s;
    };

    for (let i = 0; i < WARMUP; i++) {
      await baselineOnce();
      await burstOnce('noop');
      await burstOnce('local');
    }
    const base: Sample[] = [];
    const mock: Sample[] = [];
    const burst: Sample[] = [];
    if (ORDER === 'blocks') {
      for (let i = 0; i < RUNS; i++) base.push(await baselineOnce());
      for (let i = 0; i < RUNS; i++) mock.push(await burstOnce('noop'));
      for (let i = 0; i < RUNS; i++) burst.push(await burstOnce('local'));
    } else {
      for (let i = 0; i < RUNS; i++) {
        base.push(await baselineOnce());
        mock.push(await burstOnce('noop'));
        burst.push(await burstOnce('local'));
      }
    }

    report(base, mock, 'mock burst (zero-latency plugin, 1 job, 1 node)', 'mock');
    report(base, burst, 'burst (local plugin: a real node process, 1 job)', 'local');
  } finally {
    await cleanup();
  }
}

/** Workflow-time spans between phase marks (what the burst's status.timeline shows). */
function phaseSpans(r: BurstResult): Record<string, number> {
  const tl = r.status.timeline;
  const out: Record<string, number> = {};
  for (let i = 0; i + 1 < tl.length; i++) out[tl[i]!.phase] = tl[i + 1]!.at - tl[i]!.at;
  return out;
}

function report(base: Sample[], burst: Sample[], label: string, kind: string) {
  const b = summary(base.map((s) => s.ms));
  const m = summary(burst.map((s) => s.ms));
  const r50 = m.p50 / b.p50;
  const r95 = m.p95 / b.p95;
  const mark = (ok: boolean) => (ok ? 'MET' : 'MISSED');

  const out: string[] = [];
  out.push('');
  out.push(`=== ${label} ===`);
  out.push(`end-to-end latency, client start() → result(), ms  (node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(2)})`);
  if (SERVER_ARGS.length) out.push(`  server args: ${SERVER_ARGS.join(' ')}`);
  out.push(table(
    ['', 'n', 'p50', 'p95', 'mean', 'min', 'max'],
    [
      ['baseline (6 no-op activities)', String(b.n), ms(b.p50), ms(b.p95), ms(b.mean), ms(b.min), ms(b.max)],
      [label, String(m.n), ms(m.p50), ms(m.p95), ms(m.mean), ms(m.min), ms(m.max)],
      ['ratio burst/baseline', '', r50.toFixed(2), r95.toFixed(2), (m.mean / b.mean).toFixed(2), '', ''],
    ],
  ));
  out.push('');
  out.push('targets');
  out.push(`  burst p50 ≤ ${TARGET_P50_MS} ms        ${ms(m.p50).padStart(8)} ms   ${mark(m.p50 <= TARGET_P50_MS)}`);
  out.push(`  ratio p50 ≤ ${TARGET_RATIO}            ${r50.toFixed(2).padStart(8)}      ${mark(r50 <= TARGET_RATIO)}`);
  out.push(`  ratio p95 ≤ ${TARGET_RATIO}            ${r95.toFixed(2).padStart(8)}      ${mark(r95 <= TARGET_RATIO)}`);

  if (BREAKDOWN && base[0]?.seg && burst[0]?.seg) {
    // Median per segment over runs (medians do not add up exactly to the p50 above).
    const labels = new Set<string>();
    for (const s of [...base, ...burst]) for (const k of s.seg!.keys()) labels.add(k);
    const med = (xs: Sample[], k: string) => pct(xs.map((s) => s.seg!.get(k) ?? 0), 50);
    const p95 = (xs: Sample[], k: string) => pct(xs.map((s) => s.seg!.get(k) ?? 0), 95);
    const order = (k: string) =>
      k.startsWith('client: start') ? 0 : k.startsWith('WFT') ? 1 : k.startsWith('activity dispatch') ? 2 : k.startsWith('activity exec') ? 3 : k.startsWith('gap') ? 4 : 5;
    const rows = [...labels]
      .sort((x, y) => order(x) - order(y) || x.localeCompare(y))
      .map((k) => [k, ms(med(base, k)), ms(p95(base, k)), ms(med(burst, k)), ms(p95(burst, k)), ms(med(burst, k) - med(base, k))]);
    const total = (xs: Sample[], pred: (k: string) => boolean) => pct(xs.map((s) => [...s.seg!].filter(([k]) => pred(k)).reduce((a, [, v]) => a + v, 0)), 50);
    const groups: [string, (k: string) => boolean][] = [
      ['Σ client ↔ server', (k) => k.startsWith('client')],
      ['Σ workflow tasks (queue + exec)', (k) => k.startsWith('WFT')],
      ['Σ activity dispatch', (k) => k.startsWith('activity dispatch')],
      ['Σ activity exec', (k) => k.startsWith('activity exec')],
      ['Σ other gaps', (k) => k.startsWith('gap')],
    ];
    for (const [name, pred] of groups) rows.push([name, ms(total(base, pred)), '', ms(total(burst, pred)), '', ms(total(burst, pred) - total(base, pred))]);
    out.push('');
    out.push('where the time goes: event-history segments per run, ms (median, p95 over runs; segments tile start() → result())');
    out.push(table(['segment', 'base p50', 'base p95', 'burst p50', 'burst p95', 'Δ p50'], rows));
    // Per workflow task, how long it waited in the server before a poller got it.
    const wfts = pct(base.map((s) => s.wfts ?? 1), 50) || 1;
    const queued = total(base, (k) => k.startsWith('WFT queue')) / wfts;
    if (queued > 10) {
      out.push(
        `  note: baseline workflow tasks wait ~${queued.toFixed(0)} ms each between scheduled and started. The dev server's history`,
        '        transfer queue is read at most history.transferProcessorMaxPollRPS (default 20) times/s per shard, and start-dev',
        '        has one shard; back-to-back tasks wait for the next read. To see the floor without that limit, rerun with',
        "        BENCH_SERVER_ARGS='--dynamic-config-value history.transferProcessorMaxPollRPS=1000'",
      );
    }
  }

  const phaseNames = Object.keys(burst[0]?.phases ?? {});
  if (phaseNames.length) {
    out.push('');
    out.push('burst status.timeline spans (workflow time: WFT start → next phase WFT start), ms');
    out.push(table(['phase', 'p50', 'p95'], phaseNames.map((p) => {
      const xs = burst.map((s) => s.phases![p] ?? 0);
      return [p, ms(pct(xs, 50)), ms(pct(xs, 95))];
    })));
  }

  const json = {
    bench: 'fluxburst-latency',
    kind,
    runs: base.length,
    warmup: WARMUP,
    order: ORDER,
    baseline: round(b),
    burst: round(m),
    ratio: { p50: +r50.toFixed(3), p95: +r95.toFixed(3) },
    targets: {
      burstP50Ms: { target: TARGET_P50_MS, value: +m.p50.toFixed(1), met: m.p50 <= TARGET_P50_MS },
      ratioP50: { target: TARGET_RATIO, value: +r50.toFixed(3), met: r50 <= TARGET_RATIO },
      ratioP95: { target: TARGET_RATIO, value: +r95.toFixed(3), met: r95 <= TARGET_RATIO },
    },
  };
  out.push('');
  out.push(JSON.stringify(json));
  process.stdout.write(`${out.join('\n')}\n`);
}

function round(s: Summary) {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === 'n' ? v : +v.toFixed(1)]));
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].map((l) => `  ${l}`).join('\n');
}

function log(msg: string) {
  process.stderr.write(`[bench] ${msg}\n`);
}

async function stopWorker(w: Worker, running: Promise<void>, conn: NativeConnection) {
  if (w.getState() === 'RUNNING') w.shutdown();
  await running;
  await conn.close();
}

async function stopChild(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
