// Scale benchmark: N concurrent bursts (1 job, 1 node) on the zero-latency `noop` plugin against
// one worker process, and in the same run N bare workflows with the same six activities
// (bench/baseline-workflows.ts, the Temporal floor) against one worker process of their own.
// Prints throughput (workflows/s), latency, the worker's peak RSS and CPU, the dev server's CPU,
// the burst/baseline throughput ratio and the targets (ratio ≥ 0.8, RSS ≤ 400 MB).
// A benchmark, not a test: exits 0 whether or not the targets are met.
//
//   npm run build && npm run bench:scale
//   npm run bench:scale -- --cluster    the same pair on a real Temporal cluster (four
//       temporal-server processes on PostgreSQL, testkit/temporal-cluster) AND on start-dev, in
//       one run; server CPU is then the four services + every PostgreSQL process. Ends with
//       {"bench":"fluxburst-scale","cluster":{ratio,burstsPerSecond,…},"startDev":{…},"workerRssMb":…}
//
// Env: BENCH_SCALE_N (1000), BENCH_SCALE_WARMUP (20), BENCH_SCALE_START_CONCURRENCY (100),
//      BENCH_SCALE_ORDER (baseline-first | burst-first), BENCH_SERVER_ARGS (extra start-dev args).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { SA_OWNER } from '../src/core/search-attributes.js';
import type { BurstInput, BurstResult, Job } from '../src/core/types.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { SERVICES } from '../src/temporal/cluster.js';
import { startTestCluster, type TestCluster } from '../testkit/temporal-cluster/index.js';
import { freePort } from '../src/temporal/ports.js';
import { baselineBundleOptions } from './baseline-bundle.js';
import type { BaselineInput } from './baseline-workflows.js';
import { burstWorkflow } from '../workflows/burst.js';

const here = dirname(fileURLToPath(import.meta.url));
const N = intEnv('BENCH_SCALE_N', 1000);
const WARMUP = intEnv('BENCH_SCALE_WARMUP', 20);
const START_CONCURRENCY = intEnv('BENCH_SCALE_START_CONCURRENCY', 100);
const ORDER = process.env.BENCH_SCALE_ORDER === 'burst-first' ? 'burst-first' : 'baseline-first';
const SERVER_ARGS = (process.env.BENCH_SERVER_ARGS ?? '').split(/\s+/).filter(Boolean);
const PHASE_TIMEOUT_MS = intEnv('BENCH_SCALE_TIMEOUT_S', 1200) * 1000;
const TARGET_RATIO = 0.8;
const TARGET_RSS_MB = 400;
const TIMEOUTS = { stepSeconds: 60, heartbeatSeconds: 5, jobSeconds: 120 };
const CLK_TCK = 100;

function intEnv(name: string, dflt: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : dflt;
}
const uid = (p: string) => `${p}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
const log = (m: string) => process.stderr.write(`[bench:scale] ${m}\n`);

// ---------------------------------------------------------------------------------------------
// /proc readings (Linux): what the kernel charged the process, not what it says about itself.

function statusKb(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
/** user + system CPU seconds, children excluded. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may itself contain spaces and parentheses.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

async function pool<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

// ---------------------------------------------------------------------------------------------

type Kind = 'baseline' | 'burst';

interface PhaseResult {
  kind: Kind;
  n: number;
  completed: number;
  /** First start → last close, from the server's own timestamps. */
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  /** Sampled every 250 ms while the N workflows ran. */
  rssRunPeakMb: number;
  /** VmHWM: the process's lifetime peak, start-up included. */
  rssPeakMb: number;
  workerCpuS: number;
  serverCpuS: number;
  /** Cluster: the server CPU by process (history, matching, frontend, worker, postgres). */
  serverCpuParts?: Record<string, number>;
  /** Mean 1-minute load average while it ran: other work on the machine shares the CPUs. */
  load: number;
  failures: string[];
}

function spawnScaleWorker(kind: Kind, address: string, taskQueue: string, baselineBundle: string): Promise<ChildProcess> {
  const js = join(here, 'scale-worker.js');
  if (!existsSync(js)) throw new Error(`${js} missing: run npm run build`);
  const child = spawn(process.execPath, [js], {
    env: { ...process.env, SCALE_ROLE: kind, SCALE_ADDRESS: address, SCALE_TQ: taskQueue, SCALE_BUNDLE: baselineBundle },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve(child);
    });
    child.once('exit', (code, sig) => reject(new Error(`${kind} worker exited (${code ?? sig}) before it was ready: ${out}`)));
  });
}

async function stopChild(child: ChildProcess, graceMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function burstInput(): BurstInput {
  const job: Job = { id: 'j1', name: 'j1', nodes: 1, tasks: 1, command: ['echo', 'hi'], attributes: { system: { burstable: 1 } } };
  return {
    owner: 'bench',
    source: { kind: 'inline', jobs: [job] },
    selector: { kind: 'burstable' },
    targets: [{ name: 'noop', plugin: 'noop', params: {} }],
    maxNodes: 64,
    timeouts: TIMEOUTS,
  };
}

/** Pids of a process and all its descendants (PostgreSQL's backends are the postmaster's children). */
function withDescendants(root: number): number[] {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => (out.push(p), (kids.get(p) ?? []).forEach(walk));
  walk(root);
  return out;
}
const cpuOf = (pids: number[]) =>
  pids.reduce((sum, p) => {
    try {
      return sum + cpuSeconds(p);
    } catch {
      return sum;
    }
  }, 0);

async function phase(kind: Kind, client: Client, address: string, serverCpu: () => number, baselineBundle: string, cpuParts?: () => Record<string, number>): Promise<PhaseResult> {
  const taskQueue = uid(`scale-${kind}`);
  const worker = await spawnScaleWorker(kind, address, taskQueue, baselineBundle);
  const pid = worker.pid!;
  try {
    const startOne = (id: string) =>
      kind === 'burst'
        ? client.workflow.start(burstWorkflow, { workflowId: id, taskQueue, args: [burstInput()], typedSearchAttributes: [{ key: SA_OWNER, value: 'bench' }] })
        : client.workflow.start('baselineWorkflow', {
            workflowId: id,
            taskQueue,
            args: [{ upserts: true, timeouts: TIMEOUTS } satisfies BaselineInput],
            typedSearchAttributes: [{ key: SA_OWNER, value: 'bench' }],
          });

    // Warm-up: loads the bundle into the worker's V8 context and JITs the hot paths.
    const warm = Array.from({ length: WARMUP }, (_, i) => `${taskQueue}-warm-${i}`);
    await Promise.all(warm.map(async (id) => (await startOne(id)).result()));
    const warmSet = new Set(warm);

    const ids = Array.from({ length: N }, (_, i) => `${taskQueue}-${i}`);
    const cpu0 = { worker: cpuSeconds(pid), server: serverCpu(), parts: cpuParts?.() };
    log(`${kind}: starting ${N} workflows on ${taskQueue} (worker pid ${pid})`);
    let rssPeakKb = 0;
    const loads: number[] = [];
    const sampler = setInterval(() => {
      loads.push(loadavg()[0]!);
      try {
        rssPeakKb = Math.max(rssPeakKb, statusKb(pid, 'VmRSS'));
      } catch {
        /* exiting */
      }
    }, 250);
    const t0 = Date.now();
    try {
      await pool(ids, START_CONCURRENCY, async (id) => {
        await startOne(id);
      });
      log(`${kind}: all started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      // Count from visibility instead of N result() long-polls, which would load the server
      // (and so the measurement) with N open history waits.
      const q = `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"`;
      for (let last = -1; ; ) {
        const running = (await client.workflow.count(q)).count;
        if (running !== last) log(`${kind}: ${running} running (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        last = running;
        if (running === 0) break;
        if (Date.now() - t0 > PHASE_TIMEOUT_MS) throw new Error(`${kind}: ${running} still running after ${PHASE_TIMEOUT_MS / 1000} s`);
        await sleep(500);
      }
    } finally {
      clearInterval(sampler);
    }
    const cpu1 = { worker: cpuSeconds(pid), server: serverCpu(), parts: cpuParts?.() };
    const rssRunPeakMb = rssPeakKb / 1024;
    const rssPeakMb = Math.max(rssPeakKb, statusKb(pid, 'VmHWM')) / 1024;

    // Server timestamps, so client polling granularity does not enter the figure.
    const ms = (d: Date | undefined) => d?.getTime() ?? NaN;
    const rows: { id: string; start: number; close: number; status: string }[] = [];
    for await (const w of client.workflow.list({ query: `TaskQueue = "${taskQueue}"` })) {
      if (warmSet.has(w.workflowId)) continue;
      rows.push({ id: w.workflowId, start: ms(w.startTime), close: ms(w.closeTime), status: w.status.name });
    }
    const failures: string[] = [];
    for (const r of rows) if (r.status !== 'COMPLETED') failures.push(`${r.id}: ${r.status}`);
    if (rows.length !== N) failures.push(`listed ${rows.length} of ${N}`);
    if (kind === 'burst') {
      // A burst that "completed" with a failed job would flatter the figure: check each outcome.
      await pool(ids, 20, async (id) => {
        const r = (await client.workflow.getHandle(id).result().catch((e: Error) => ({ outcome: e.message }))) as BurstResult;
        if (r.outcome !== 'completed' || r.status?.jobs[0]?.state !== 'completed') failures.push(`${id}: outcome ${r.outcome}`);
      });
    }
    const first = Math.min(...rows.map((r) => r.start));
    const lastClose = Math.max(...rows.map((r) => r.close));
    const seconds = (lastClose - first) / 1000;
    const lat = rows.map((r) => r.close - r.start);
    return {
      kind,
      n: N,
      completed: rows.filter((r) => r.status === 'COMPLETED').length,
      seconds,
      perSecond: rows.length / seconds,
      p50Ms: pct(lat, 50),
      p95Ms: pct(lat, 95),
      rssRunPeakMb,
      rssPeakMb,
      workerCpuS: cpu1.worker - cpu0.worker,
      serverCpuS: cpu1.server - cpu0.server,
      ...(cpu0.parts && cpu1.parts ? { serverCpuParts: Object.fromEntries(Object.entries(cpu1.parts).map(([k, v]) => [k, +(v - (cpu0.parts![k] ?? 0)).toFixed(1)])) } : {}),
      load: loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length),
      failures,
    };
  } finally {
    await stopChild(worker);
  }
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].map((l) => `  ${l}`).join('\n');
}

function report(base: PhaseResult, burst: PhaseResult, serverRssMb: number, serverName = 'dev server'): void {
  const ratio = burst.perSecond / base.perSecond;
  const mark = (ok: boolean) => (ok ? 'MET' : 'MISSED');
  const row = (label: string, r: PhaseResult) => [
    label,
    String(r.completed),
    r.seconds.toFixed(1),
    r.perSecond.toFixed(1),
    r.p50Ms.toFixed(0),
    r.p95Ms.toFixed(0),
    r.rssRunPeakMb.toFixed(0),
    r.rssPeakMb.toFixed(0),
    r.workerCpuS.toFixed(1),
    r.serverCpuS.toFixed(1),
    r.load.toFixed(1),
  ];
  const out: string[] = [];
  out.push('');
  out.push(`=== ${serverName}: ${N} concurrent workflows, one worker process each kind (node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(2)}, ${ORDER}) ===`);
  if (SERVER_ARGS.length) out.push(`  server args: ${SERVER_ARGS.join(' ')}`);
  out.push(
    table(
      ['', 'completed', 'seconds', 'per s', 'p50 ms', 'p95 ms', 'worker RSS run MB', 'worker VmHWM MB', 'worker CPU s', 'server CPU s', 'load'],
      [row('baseline (6 no-op activities)', base), row('burst (noop plugin, 1 job, 1 node)', burst)],
    ),
  );
  out.push(`  RSS run = peak of 250 ms samples while the ${N} ran; VmHWM = lifetime peak (the target is checked on it)`);
  out.push(`  CPU = user+system seconds charged while the ${N} ran; ${serverName} RSS at the end: ${serverRssMb.toFixed(0)} MB`);
  // Wall-clock throughput moves with whatever else the machine runs; CPU charged per workflow
  // does not, and on a machine of its own the slower of worker and server sets the ceiling.
  const cpuMs = (r: PhaseResult) => ((r.workerCpuS + r.serverCpuS) * 1000) / r.completed;
  const cpuRatio = cpuMs(base) / cpuMs(burst);
  out.push(
    `  CPU per workflow, worker + server: baseline ${cpuMs(base).toFixed(0)} ms, burst ${cpuMs(burst).toFixed(0)} ms (baseline/burst ${cpuRatio.toFixed(2)}); ` +
      `the server's share: ${((100 * burst.serverCpuS) / (burst.serverCpuS + burst.workerCpuS)).toFixed(0)} % for bursts`,
  );
  if (Math.max(base.load, burst.load) > 1.25 * Math.min(base.load, burst.load)) {
    out.push(`  note: the load average differed between the phases (${base.load.toFixed(1)} vs ${burst.load.toFixed(1)}): the throughput ratio is skewed by other work; the CPU ratio is not`);
  }
  out.push('');
  out.push('targets');
  out.push(`  throughput burst/baseline ≥ ${TARGET_RATIO}   ${ratio.toFixed(2).padStart(8)}      ${mark(ratio >= TARGET_RATIO)}`);
  out.push(`  burst worker RSS ≤ ${TARGET_RSS_MB} MB       ${burst.rssPeakMb.toFixed(0).padStart(8)} MB   ${mark(burst.rssPeakMb <= TARGET_RSS_MB)}`);
  for (const r of [base, burst]) if (r.failures.length) out.push(`  ${r.kind}: ${r.failures.length} problem(s), e.g. ${r.failures.slice(0, 3).join('; ')}`);
  const round = (r: PhaseResult) => ({
    completed: r.completed,
    seconds: +r.seconds.toFixed(2),
    perSecond: +r.perSecond.toFixed(2),
    p50Ms: Math.round(r.p50Ms),
    p95Ms: Math.round(r.p95Ms),
    rssRunPeakMb: Math.round(r.rssRunPeakMb),
    rssPeakMb: Math.round(r.rssPeakMb),
    workerCpuS: +r.workerCpuS.toFixed(1),
    serverCpuS: +r.serverCpuS.toFixed(1),
    load: +r.load.toFixed(2),
    failures: r.failures.length,
  });
  out.push('');
  out.push(
    JSON.stringify({
      bench: 'fluxburst-scale',
      server: serverName,
      n: N,
      order: ORDER,
      baseline: round(base),
      burst: round(burst),
      ratio: +ratio.toFixed(3),
      cpuPerWorkflowMs: { baseline: Math.round(cpuMs(base)), burst: Math.round(cpuMs(burst)), ratio: +cpuRatio.toFixed(3) },
      targets: {
        throughputRatio: { target: TARGET_RATIO, value: +ratio.toFixed(3), met: ratio >= TARGET_RATIO },
        workerRssMb: { target: TARGET_RSS_MB, value: Math.round(burst.rssPeakMb), met: burst.rssPeakMb <= TARGET_RSS_MB },
      },
    }),
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

type ServerKind = 'cluster' | 'startDev';
interface ServerRun {
  base: PhaseResult;
  burst: PhaseResult;
  serverRssMb: number;
}

/** Both phases against one server of this kind, started for the purpose and stopped after. */
async function onServer(kind: ServerKind, stateDir: string, baselineBundle: string, track: (stop: () => Promise<void>) => void): Promise<ServerRun> {
  let address: string;
  let serverCpu: () => number;
  let serverRss: () => number;
  let cpuParts: (() => Record<string, number>) | undefined;
  let stop: () => Promise<void>;
  if (kind === 'cluster') {
    const tc: TestCluster = await startTestCluster({ log: (l) => log(`cluster: ${l}`) });
    stop = async () => void (await tc.stop());
    address = tc.address;
    const pids = () => [...SERVICES.map((s) => tc.cluster.child(s)!.pid!), ...withDescendants(tc.cluster.postgresPid()!)];
    serverCpu = () => cpuOf(pids());
    cpuParts = () => ({
      ...Object.fromEntries(SERVICES.map((s) => [s, cpuOf([tc.cluster.child(s)!.pid!])])),
      postgres: cpuOf(withDescendants(tc.cluster.postgresPid()!)),
    });
    serverRss = () => pids().reduce((m, p) => m + (statusKb(p, 'VmRSS') || 0), 0) / 1024;
    log(`Temporal cluster ${address} (four temporal-server processes, PostgreSQL, ${tc.stateDir})`);
  } else {
    const dir = join(stateDir, 'dev');
    const port = await freePort();
    // startDevServer: its own SQLite file, WAL pragmas, transfer-queue poll limit raised.
    const started = await startDevServer({ stateDir: dir, port, headless: true, extraArgs: SERVER_ARGS });
    const child = started.child;
    stop = () => stopChild(child, 10_000);
    address = started.info.address;
    serverCpu = () => cpuSeconds(child.pid!);
    serverRss = () => statusKb(child.pid!, 'VmRSS') / 1024;
    log(`dev server ${address} (state ${dir})`);
  }
  track(stop);
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    const kinds: Kind[] = ORDER === 'burst-first' ? ['burst', 'baseline'] : ['baseline', 'burst'];
    const results = new Map<Kind, PhaseResult>();
    for (const k of kinds) results.set(k, await phase(k, client, address, serverCpu, baselineBundle, cpuParts));
    return { base: results.get('baseline')!, burst: results.get('burst')!, serverRssMb: serverRss() };
  } finally {
    await connection.close().catch(() => undefined);
    await stop();
  }
}

async function main() {
  const stateDir = mkdtempSync(join(tmpdir(), 'fluxburst-bench-scale-'));
  const servers: ServerKind[] = process.argv.includes('--cluster') ? ['cluster', 'startDev'] : ['startDev'];
  const stops: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const s of stops) await s().catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`\n${sig}: cleaning up\n`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // Bundled here, as `npm run build` bundles the product's workflows, so neither worker runs webpack.
    const baselineBundle = join(stateDir, 'baseline-bundle.js');
    writeFileSync(baselineBundle, (await bundleWorkflowCode(baselineBundleOptions())).code);
    const runs = new Map<ServerKind, ServerRun>();
    for (const k of servers) {
      const r = await onServer(k, stateDir, baselineBundle, (s) => stops.push(s));
      runs.set(k, r);
      report(r.base, r.burst, r.serverRssMb, k === 'cluster' ? 'Temporal cluster (4 services + PostgreSQL)' : 'dev server');
    }
    if (runs.has('cluster')) {
      const pair = (r: ServerRun) => ({
        ratio: +(r.burst.perSecond / r.base.perSecond).toFixed(3),
        burstsPerSecond: +r.burst.perSecond.toFixed(2),
        bareWorkflowsPerSecond: +r.base.perSecond.toFixed(2),
        serverCpuMsPerBurst: Math.round((r.burst.serverCpuS * 1000) / r.burst.completed),
        serverCpuMsPerBare: Math.round((r.base.serverCpuS * 1000) / r.base.completed),
        ...(r.burst.serverCpuParts ? { serverCpuSecondsByProcessBursts: r.burst.serverCpuParts } : {}),
        // Cluster: the sum over its processes (the four services share the binary's pages, so this overstates).
        serverRssMb: Math.round(r.serverRssMb),
        failures: r.base.failures.length + r.burst.failures.length,
      });
      const c = runs.get('cluster')!;
      const d = runs.get('startDev')!;
      process.stdout.write(
        `${JSON.stringify({
          bench: 'fluxburst-scale',
          n: N,
          cluster: pair(c),
          startDev: pair(d),
          clusterOverStartDev: { bursts: +(c.burst.perSecond / d.burst.perSecond).toFixed(3), bare: +(c.base.perSecond / d.base.perSecond).toFixed(3) },
          workerRssMb: Math.round(Math.max(c.burst.rssPeakMb, d.burst.rssPeakMb)),
        })}\n`,
      );
    }
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
