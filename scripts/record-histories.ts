// Records real histories for the replay tests: starts a dev server and a worker, runs one
// burst per interesting path (and one watch loop), and writes each history to
// test/replay/histories/<name>.json. Run after a deliberate workflow change (with a patch, see
// docs/versioning.md):
//   npm run build && node dist/scripts/record-histories.js            # all of them
//   npm run build && node dist/scripts/record-histories.js watch      # only the named ones
// Re-record only what the change touched: the other files are the old histories that still
// have to replay.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { SA_OWNER } from '../src/core/search-attributes.js';
import type { BurstInput, Job } from '../src/core/types.js';
import { parseConfig } from '../src/config/load.js';
import { loadRegistry } from '../src/plugins/registry.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { projectRoot } from '../src/temporal/paths.js';
import { createBurstWorker } from '../workers/worker.js';
import { burstWorkflow } from '../workflows/burst.js';
import { interruptionSignal, statusQuery, stopWatchSignal, watchStatusQuery } from '../workflows/messages.js';
import type { WatchInput } from '../workflows/watch.js';

// The pre-batching burst histories (completed, fault-provision, cancelled, interrupted) can no
// longer be recorded: new bursts take the batched code. They stay, and replay through
// workflows/legacy/burst-v1.ts.
const ALL = ['burst-v2-completed', 'burst-v2-interrupted', 'burst-v2-continued', 'watch'] as const;
const wanted = new Set(process.argv.slice(2).length ? process.argv.slice(2) : ALL);
for (const w of wanted) if (!(ALL as readonly string[]).includes(w)) throw new Error(`unknown history "${w}"; one of ${ALL.join(', ')}`);

const out = join(projectRoot(), 'test', 'replay', 'histories');
mkdirSync(out, { recursive: true });
const state = mkdtempSync(join(tmpdir(), 'fb-record-'));
const nodes = mkdtempSync(join(tmpdir(), 'fb-record-nodes-'));
const port = 17233 + Math.floor(Math.random() * 1000);
const { child } = await startDevServer({ stateDir: state, port, headless: true });
const address = `127.0.0.1:${port}`;
const taskQueue = 'record';
const registry = await loadRegistry();
const { worker, connection } = await createBurstWorker({ connection: { address, namespace: 'default', taskQueue }, registry });
const running = worker.run();
const client = new Client({ connection: await Connection.connect({ address }) });

const job = (id: string, command: string[], n = 1): Job => ({ id, name: id, nodes: n, tasks: n, command, attributes: { system: { burstable: 1 } } });
const input = (jobs: Job[], params: Record<string, unknown>): BurstInput => ({
  owner: 'recorder',
  source: { kind: 'inline', jobs },
  selector: { kind: 'burstable' },
  targets: [{ name: 'local', plugin: 'local', params: { workdir: nodes, ...params } }],
  maxNodes: 64,
  timeouts: { stepSeconds: 60, heartbeatSeconds: 5, jobSeconds: 120 },
});
const start = (name: string, i: BurstInput) =>
  client.workflow.start(burstWorkflow, { workflowId: `replay-${name}`, taskQueue, args: [i], typedSearchAttributes: [{ key: SA_OWNER, value: i.owner }] });
const untilRunning = async (h: WorkflowHandle) => {
  for (;;) {
    const s = await h.query(statusQuery).catch(() => undefined);
    if (s?.jobs.some((j) => j.state === 'running')) return;
    await sleep(100);
  }
};
const save = async (name: string, h: WorkflowHandle) => {
  await h.result().catch(() => undefined);
  writeFileSync(join(out, `${name}.json`), historyToJSON(await h.fetchHistory()));
  process.stdout.write(`recorded ${name}\n`);
};

try {
  if (wanted.has('burst-v2-completed')) {
    // Two nodes, a two-node job, a failing job, and jobs batched behind them.
    const jobs = [job('a', ['hostname'], 2), job('b', ['sh', '-c', 'exit 2']), ...['c', 'd', 'e'].map((x) => job(x, ['echo', x]))];
    await save('burst-v2-completed', await start('burst-v2-completed', input(jobs, {})));
  }
  if (wanted.has('burst-v2-interrupted')) {
    const s = await start('burst-v2-interrupted', input([job('a', ['sleep', '2']), job('b', ['true'])], { nodes: 2 }));
    await untilRunning(s);
    await s.signal(interruptionSignal, { node: 'node-0', kind: 'spot-interruption', reason: 'recorded notice' });
    await save('burst-v2-interrupted', s);
  }
  if (wanted.has('burst-v2-continued')) {
    // A short eventsPerRun: the first run continues as new mid-burst; this is that first run.
    const jobs = Array.from({ length: 40 }, (_, k) => job(`j${k}`, ['true']));
    const h = await start('burst-v2-continued', { ...input(jobs, { nodes: 2 }), run: { eventsPerRun: 60, batchMax: 3 } });
    await h.result();
    writeFileSync(join(out, 'burst-v2-continued.json'), historyToJSON(await client.workflow.getHandle('replay-burst-v2-continued', h.firstExecutionRunId).fetchHistory()));
    process.stdout.write('recorded burst-v2-continued (first run)\n');
  }
  if (wanted.has('watch')) {
    // The long-running loop: scans (activity), a child burst started and abandoned, timers
    // between scans, a query, and the stop signal; the paths a patch in watch.ts can break.
    const jobsFile = join(state, 'jobs.yaml');
    writeFileSync(jobsFile, `${[{ id: 'w1', command: ['true'], nodes: 1, burstable: true }, { id: 'h1', command: ['true'], burstable: false }].map((j) => `- ${JSON.stringify(j)}`).join('\n')}\n`);
    const config = parseConfig(`name: recorded\nowner: recorder\ntargets:\n  - {plugin: local, params: {workdir: ${nodes}}}\n`, 'recorder config', registry);
    const arg: WatchInput = { owner: 'recorder', source: { kind: 'file', path: jobsFile }, config: config as unknown as Record<string, unknown>, intervalSeconds: 1 };
    const w = await client.workflow.start('watchWorkflow', { workflowId: 'replay-watch', taskQueue, args: [arg], typedSearchAttributes: [{ key: SA_OWNER, value: 'recorder' }] });
    for (;;) {
      const st = await w.query(watchStatusQuery).catch(() => undefined);
      if (st && st.scans >= 3 && st.started.length === 1) break;
      await sleep(200);
    }
    await w.signal(stopWatchSignal);
    const res = (await w.result()) as { started: string[] };
    // The child burst was abandoned: wait for it, so its nodes are gone before the workdir is.
    await client.workflow.getHandle(res.started[0]!).result().catch(() => undefined);
    await save('watch', w);
  }
} finally {
  worker.shutdown();
  await running;
  await connection.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(state, { recursive: true, force: true });
  rmSync(nodes, { recursive: true, force: true });
}
