// Jobs benchmark (issue 13): one burst of N one-node `true` jobs on 4 local nodes, for N = 100,
// 1,000, 10,000 and 100,000: wall time, jobs/s, events and bytes over all of the burst's runs
// (continue-as-new included), per job, and the largest run. One JSON line per N. A benchmark, not
// a test: exits 0 whether or not the targets are met.
//
//   npm run build && npm run bench:jobs            # BENCH_JOBS=100,1000 for a shorter run
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Job } from '../src/core/types.js';
import { jobsRef } from '../src/jobs/spool.js';
import { loadRegistry } from '../src/plugins/registry.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { freePort } from '../src/temporal/ports.js';
import { historySizes, totals } from '../testkit/temporal/history-size.js';
import { createBurstWorker } from '../workers/worker.js';
import { burstWorkflow } from '../workflows/burst.js';

const SIZES = (process.env.BENCH_JOBS ?? '100,1000,10000,100000').split(',').map(Number);
const NODES = 4;
const state = mkdtempSync(join(tmpdir(), 'fb-bench-jobs-'));
process.env.FLUXBURST_SPOOL = join(state, 'spool');
Runtime.install({ logger: new DefaultLogger('ERROR') });
const port = await freePort();
const { child } = await startDevServer({ stateDir: join(state, 'server'), port, headless: true });
const address = `127.0.0.1:${port}`;
const taskQueue = 'bench-jobs';
const { worker, connection } = await createBurstWorker({ connection: { address, namespace: 'default', taskQueue }, registry: await loadRegistry() });
const running = worker.run();
const client = new Client({ connection: await Connection.connect({ address }) });

const job = (i: number): Job => ({ id: `j${i}`, name: `j${i}`, nodes: 1, tasks: 1, command: ['true'], attributes: { system: { burstable: 1 } } });
const rows: Array<{ jobs: number; jobsPerSecond: number }> = [];
try {
  for (const n of SIZES) {
    const jobs = Array.from({ length: n }, (_, i) => job(i));
    const id = `bench-jobs-${n}-${Date.now().toString(36)}`;
    const t0 = performance.now();
    const h = await client.workflow.start(burstWorkflow, {
      workflowId: id,
      taskQueue,
      args: [
        {
          owner: 'bench',
          jobs: jobsRef(jobs),
          source: { kind: 'inline', jobs: [], selected: true },
          selector: { kind: 'burstable' },
          targets: [{ name: 'local', plugin: 'local', params: { workdir: join(state, 'nodes'), nodes: NODES } }],
          maxNodes: 64,
          timeouts: { stepSeconds: 60, heartbeatSeconds: 10, jobSeconds: 600 },
        },
      ],
    });
    const r = await h.result();
    const seconds = (performance.now() - t0) / 1000;
    if (r.status.counts?.completed !== n) throw new Error(`burst of ${n}: ${JSON.stringify(r.status.counts)}`);
    const t = totals(await historySizes(client, id, h.firstExecutionRunId));
    const line = {
      bench: 'fluxburst-jobs',
      jobs: n,
      seconds: +seconds.toFixed(2),
      jobsPerSecond: +(n / seconds).toFixed(1),
      events: t.events,
      bytes: t.bytes,
      eventsPerJob: +(t.events / n).toFixed(4),
      bytesPerJob: +(t.bytes / n).toFixed(1),
      maxRunEvents: t.maxRunEvents,
      runs: t.runs,
    };
    rows.push(line);
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  const at = (n: number) => rows.find((r) => r.jobs === n)?.jobsPerSecond;
  if (at(1000) && at(100000)) process.stderr.write(`jobs/s at 100,000 vs 1,000: ${(at(100000)! / at(1000)!).toFixed(2)} (target ≥ 0.8)\n`);
} finally {
  worker.shutdown();
  await running;
  await connection.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(state, { recursive: true, force: true });
}
