// Flux benchmark (issue 12), on a real flux-core lead (testkit/flux) and the real Temporal dev server:
//  (1) pending → RUN on burst ranks: a `-N3` burstable job submitted to a lead that has only
//      itself up waits until `fluxburst watch --interval 1` bursts it onto brokers that claim the
//      lead's slots and join (the local plugin's Flux mode); latency is Flux's own t_run − t_submit.
//      BENCH_FLUX_BURSTS runs (default 20), each a fresh burst: the previous brokers stopped and
//      their ranks offline before the next job is submitted.
//  (2) throughput: BENCH_FLUX_JOBS (default 1000) short `true` jobs through a 4-rank burst — the
//      lead's own rank drained so only burst ranks run them; a second watcher (interval 1 s) whose
//      target has `nodes: 4` — against the same jobs on a 4-rank Flux instance started directly (a
//      lead and three brokers, all up first), in the same run. Throughput is jobs per second of
//      make-span (first t_submit → last t_inactive, as Flux records them), so the burst's includes
//      its scan, join and the source reading every pending job's jobspec; the running-phase ratio
//      (first t_run → last t_inactive) is printed too. throughputRatio = burst ÷ Flux alone.
// Prints both, the targets (p50 ≤ 3 s, ratio ≥ 0.8), and one JSON line (exit 1 only if it could not measure)
//   {"bench":"fluxburst-flux","pendingToRunMs":{"p50":…,"p95":…},"throughputRatio":…}
//   npm run build && npm run bench:flux        (needs a flux ≥ 0.88: scripts/setup.sh --test)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadRegistry } from '../src/plugins/registry.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { projectRoot } from '../src/temporal/paths.js';
import { freePort } from '../src/temporal/ports.js';
import { type FluxLead, startFluxLead } from '../testkit/flux/lead.js';
import { createBurstWorker } from '../workers/worker.js';

Runtime.install({ logger: new DefaultLogger('WARN') });
const BURSTS = Math.max(1, Number(process.env.BENCH_FLUX_BURSTS ?? 20));
const JOBS = Math.max(2, Number(process.env.BENCH_FLUX_JOBS ?? 1000));
const CLI = join(projectRoot(), 'bin', 'fluxburst.js');
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const log = (s: string) => process.stderr.write(`[bench:flux] ${s}\n`);

type FluxJob = { id: number; state: string; result?: string; nodelist?: string; t_submit: number; t_run?: number; t_inactive?: number };

const dir = mkdtempSync(join(tmpdir(), 'fb-fluxbench-'));
const state = mkdtempSync(join(tmpdir(), 'fb-fluxbench-state-'));
const port = await freePort();
const { child: server } = await startDevServer({ stateDir: state, port, headless: true });
const address = `127.0.0.1:${port}`;
const TQ = 'flux-bench';
// The burst lead: its four slots serve both parts. The worker's Flux is this lead (FLUX_URI).
const lead = await startFluxLead({ slots: 4 });
let direct: FluxLead | undefined;
process.env.FLUX_URI = lead.uri;
const { worker, connection } = await createBurstWorker({
  connection: { address, namespace: 'default', taskQueue: TQ },
  registry: await loadRegistry(),
});
const running = worker.run();
const client = new Client({ connection: await Connection.connect({ address }) });
/** A watcher config for the lead (its own name, so its own watcher); `extra` adds target params. */
const watchConfig = (name: string, extra = '') => {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      'owner: bench',
      `flux: {command: ${lead.flux}}`,
      'targets:',
      '  - plugin: local',
      `    params: {workdir: ${join(dir, `${name}-nodes`)}, readyTimeoutSeconds: 60, flux: {config: ${lead.configDir}, lead: ${lead.uri}, stopGraceSeconds: 5}${extra}}`,
      `temporal: {taskQueue: ${TQ}}`,
      '',
    ].join('\n'),
  );
  return file;
};
const fb = (cfg: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args, '--address', address, '--config', cfg], {
    encoding: 'utf8',
    env: { ...process.env, FLUX_URI: lead.uri },
  });
  if (r.status !== 0) throw new Error(`fluxburst ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
};
const allJobs = async (l: FluxLead): Promise<FluxJob[]> =>
  (JSON.parse(await l.run(['jobs', '-a', '--count=0', '--json'], 120_000)) as { jobs: FluxJob[] }).jobs ?? [];
/** Wait until the lead shows only itself online (the last burst's brokers stopped). */
const untilIdle = async (timeoutMs = 180_000) => {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await lead.onlineHosts().catch(() => [])).join(',') === lead.leadHost) return;
    await sleep(200);
  }
  throw new Error(`burst ranks still online after ${timeoutMs} ms: ${(await lead.onlineHosts()).join(',')}`);
};
/** The throughput jobs, in one `flux submit --cc` call; resolves when all are inactive. */
const runBatch = async (l: FluxLead, burstable: boolean): Promise<FluxJob[]> => {
  const known = new Set((await allJobs(l)).map((j) => j.id));
  await l.run(['submit', `--cc=1-${JOBS}`, '--quiet', ...(burstable ? ['--setattr=system.burstable=1'] : []), 'true'], 300_000);
  await l.run(['queue', 'drain', '--timeout=900s'], 930_000);
  const js = (await allJobs(l)).filter((j) => !known.has(j.id));
  if (js.length !== JOBS) throw new Error(`expected ${JOBS} jobs, flux lists ${js.length}`);
  return js;
};
const span = (js: FluxJob[]) => {
  const t0 = Math.min(...js.map((j) => j.t_submit));
  const r0 = Math.min(...js.map((j) => j.t_run ?? Infinity));
  const t1 = Math.max(...js.map((j) => j.t_inactive ?? 0));
  const bad = js.filter((j) => j.result !== 'COMPLETED').length;
  return { makespan: t1 - t0, runspan: t1 - r0, bad, n: js.length };
};

type Ts = { seconds?: unknown; nanos?: number | null } | null | undefined;
const ms = (t: Ts) => (t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : NaN);
const median = (xs: number[]) => Math.round(pct(xs, 50));
/**
 * Where pending → RUN goes, from each latency burst's own history (bursts are sequential, so the
 * i-th burst started is the i-th job's): submit → burst workflow started (watch scan, source read,
 * plan), → provisioned (brokers started), → Flux t_run (brokers join, Flux schedules at once);
 * and how long after t_run the join activity learns the ranks are online (not on the job's path).
 */
async function breakdown(submitted: number[], ran: number[]): Promise<Record<string, number>> {
  const ids: Array<{ id: string; start: number }> = [];
  for await (const w of client.workflow.list({ query: `WorkflowType = 'burstWorkflow' AND WorkflowId STARTS_WITH 'fluxbench-'` }))
    ids.push({ id: w.workflowId, start: w.startTime.getTime() });
  ids.sort((a, b) => a.start - b.start);
  const seg: Record<string, number[]> = { toBurstStart: [], toProvisioned: [], provisionedToRun: [], joinNodesDoneAfterRun: [] };
  for (const [i, w] of ids.slice(0, submitted.length).entries()) {
    const events = (await client.workflow.getHandle(w.id).fetchHistory()).events ?? [];
    const type = new Map<string, string>();
    const done: Record<string, number> = {};
    for (const e of events) {
      const sch = e.activityTaskScheduledEventAttributes;
      if (sch) type.set(String(e.eventId), sch.activityType?.name ?? '');
      const c = e.activityTaskCompletedEventAttributes;
      if (c) {
        const name = type.get(String(c.scheduledEventId)) ?? '';
        if (name === 'provisionStep' || name === 'joinNodes') done[name] = Math.max(done[name] ?? 0, ms(e.eventTime));
      }
    }
    const start = ms(events[0]?.eventTime);
    seg.toBurstStart!.push(start - submitted[i]!);
    seg.toProvisioned!.push((done.provisionStep ?? NaN) - start);
    seg.provisionedToRun!.push(ran[i]! - (done.provisionStep ?? NaN));
    seg.joinNodesDoneAfterRun!.push((done.joinNodes ?? NaN) - ran[i]!);
  }
  return Object.fromEntries(Object.entries(seg).map(([k, v]) => [k, median(v)]));
}

let exitNote = '';
try {
  log(`lead up (flux-core ${lead.version}); watch --interval 1 on it`);
  const cfg1 = watchConfig('fluxbench');
  fb(cfg1, 'watch', '--interval', '1');

  // (1) pending → RUN on burst ranks, one fresh burst each.
  const latency: number[] = [];
  const submitted: number[] = [];
  const ran: number[] = [];
  for (let i = 0; i < BURSTS; i++) {
    const f58 = (await lead.run(['submit', '-N3', '--setattr=system.burstable=1', 'true'])).trim();
    await lead.run(['job', 'wait-event', '-t', '180', f58, 'clean'], 200_000);
    const j = JSON.parse(await lead.run(['jobs', '--json', f58])) as FluxJob;
    if (!j.t_run || j.result !== 'COMPLETED') throw new Error(`burst ${i}: job ${f58} ${JSON.stringify(j)}`);
    latency.push((j.t_run - j.t_submit) * 1000);
    submitted.push(j.t_submit * 1000);
    ran.push(j.t_run * 1000);
    log(`burst ${i + 1}/${BURSTS}: pending → RUN ${latency.at(-1)!.toFixed(0)} ms`);
    await untilIdle();
  }
  fb(cfg1, 'watch', '--stop');
  const phases = await breakdown(submitted, ran);

  // (2a) the jobs through a 4-rank burst: the lead's rank drained, so only burst ranks run them.
  await lead.run(['resource', 'drain', '0', 'bench: only burst ranks run the throughput jobs']);
  const cfg2 = watchConfig('fluxthru', ', nodes: 4');
  fb(cfg2, 'watch', '--interval', '1');
  log(`throughput: ${JOBS} jobs through a 4-rank burst`);
  const burstJobs = await runBatch(lead, true);
  const b = span(burstJobs);
  const onLead = burstJobs.filter((j) => j.nodelist === lead.leadHost).length;
  fb(cfg2, 'watch', '--stop');
  await untilIdle();
  await lead.run(['resource', 'undrain', '0']);

  // (2b) the same jobs on a 4-rank Flux instance started directly.
  log(`throughput: ${JOBS} jobs on a 4-rank Flux instance started directly`);
  direct = await startFluxLead({ slots: 3, prefix: 'plain-' });
  for (const h of direct.hosts) await direct.startBroker(h);
  await direct.waitOnline(direct.hosts, 60_000);
  const d = span(await runBatch(direct, false));

  const p50 = pct(latency, 50);
  const p95 = pct(latency, 95);
  const burstRate = b.n / b.makespan;
  const directRate = d.n / d.makespan;
  const ratio = burstRate / directRate;
  const runRatio = b.n / b.runspan / (d.n / d.runspan);
  const out = [
    '',
    `=== Flux (flux-core ${lead.version}, local plugin brokers on loopback, watch interval 1 s) ===`,
    `pending → RUN on burst ranks (Flux t_run − t_submit), ${latency.length} bursts: p50 ${(p50 / 1000).toFixed(2)} s, p95 ${(p95 / 1000).toFixed(2)} s   target p50 ≤ 3 s: ${p50 <= 3000 ? 'MET' : 'MISSED'}`,
    `  runs (ms): ${latency.map((x) => x.toFixed(0)).join(', ')}`,
    `  where it goes (medians, ms): ${Object.entries(phases)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `${JOBS} short jobs, 4-rank burst: ${b.makespan.toFixed(1)} s first submit → last inactive (${burstRate.toFixed(1)} jobs/s; running phase ${b.runspan.toFixed(1)} s)${b.bad ? `, ${b.bad} not COMPLETED` : ''}; on the lead's rank: ${onLead}`,
    `${JOBS} short jobs, 4-rank Flux alone: ${d.makespan.toFixed(1)} s (${directRate.toFixed(1)} jobs/s; running phase ${d.runspan.toFixed(1)} s)${d.bad ? `, ${d.bad} not COMPLETED` : ''}`,
    `throughput ratio burst / Flux alone: ${ratio.toFixed(2)} (running phase only: ${runRatio.toFixed(2)})   target ≥ 0.8: ${ratio >= 0.8 ? 'MET' : 'MISSED'}`,
    JSON.stringify({
      bench: 'fluxburst-flux',
      pendingToRunMs: { p50: Math.round(p50), p95: Math.round(p95) },
      pendingToRunPhasesMs: phases,
      throughputRatio: +ratio.toFixed(3),
      bursts: latency.length,
      jobs: JOBS,
      burstJobsPerSec: +burstRate.toFixed(2),
      directJobsPerSec: +directRate.toFixed(2),
      runningPhaseRatio: +runRatio.toFixed(3),
      notCompleted: { burst: b.bad, direct: d.bad },
    }),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
} catch (e) {
  exitNote = (e as Error).message;
  process.stderr.write(`bench:flux failed: ${exitNote}\nlead log tail:\n${lead.log().slice(-3000)}\n`);
} finally {
  for await (const w of client.workflow.list({ query: `ExecutionStatus = 'Running' AND TaskQueue = '${TQ}'` })) {
    await client.workflow
      .getHandle(w.workflowId)
      .terminate('benchmark cleanup')
      .catch(() => undefined);
  }
  worker.shutdown();
  await running;
  await connection.close();
  const left = [await direct?.stop(), await lead.stop()];
  if (left.some((l) => l && (l.processes.length || l.dir))) process.stderr.write(`left behind: ${JSON.stringify(left)}\n`);
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  for (const x of [dir, state]) rmSync(x, { recursive: true, force: true });
}
process.exitCode = exitNote ? 1 : 0;
