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
import { cancelSignal, interruptionSignal, statusQuery, stopWatchSignal, watchStatusQuery } from '../workflows/messages.js';
import type { WatchInput } from '../workflows/watch.js';

const ALL = ['completed', 'fault-provision', 'cancelled', 'interrupted', 'watch'] as const;
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
  client.workflow.start('burstWorkflow', { workflowId: `replay-${name}`, taskQueue, args: [i], typedSearchAttributes: [{ key: SA_OWNER, value: i.owner }] });
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
  if (wanted.has('completed')) await save('completed', await start('completed', input([job('a', ['hostname'], 2), job('b', ['sh', '-c', 'exit 2'])], {})));
  if (wanted.has('fault-provision')) await save('fault-provision', await start('fault-provision', input([job('a', ['true'])], { nodes: 3, fault: { step: 'provision', node: 1 } })));
  if (wanted.has('cancelled')) {
    const c = await start('cancelled', input([job('a', ['sleep', '30'])], {}));
    await untilRunning(c);
    await c.signal(cancelSignal, { reason: 'recorded cancel' });
    await save('cancelled', c);
  }
  if (wanted.has('interrupted')) {
    const s = await start('interrupted', input([job('a', ['sleep', '2'])], {}));
    await untilRunning(s);
    await s.signal(interruptionSignal, { node: 'node-0', kind: 'spot-interruption', reason: 'recorded notice' });
    await save('interrupted', s);
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
