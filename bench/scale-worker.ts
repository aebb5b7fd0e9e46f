// The one worker process of bench/scale.ts, in a process of its own so its RSS is its own.
// SCALE_ROLE=burst: the product's worker (createBurstWorker) with the zero-latency `noop` plugin
// registered; SCALE_ROLE=baseline: a worker for bench/baseline-workflows.ts with no-op
// activities and the same tuning. Prints "ready" once polling; SIGTERM drains it.
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { baselineBundleOptions } from './baseline-bundle.js';
import { loadRegistry } from '../src/plugins/registry.js';
import { WORKER_TUNING, createBurstWorker } from '../workers/worker.js';
import type { NoopActivities } from './baseline-workflows.js';
import { noopPlugin } from './noop-plugin.js';

const role = process.env.SCALE_ROLE;
const address = process.env.SCALE_ADDRESS!;
const taskQueue = process.env.SCALE_TQ!;
const MAX_ACTIVITIES = 200;

Runtime.install({ logger: new DefaultLogger('WARN') });

async function burstWorker(): Promise<{ worker: Worker; connection: NativeConnection }> {
  const registry = await loadRegistry();
  registry.register(noopPlugin);
  return createBurstWorker({ connection: { address, namespace: 'default', taskQueue }, registry, maxConcurrentActivities: MAX_ACTIVITIES });
}

async function baselineWorker(): Promise<{ worker: Worker; connection: NativeConnection }> {
  // Prebuilt by bench/scale.ts like dist/workflow-bundle.js is for the burst worker: webpack in
  // this process would put its own peak into the RSS being measured.
  const bundlePath = process.env.SCALE_BUNDLE;
  const workflowBundle = bundlePath ? { codePath: bundlePath } : await bundleWorkflowCode(baselineBundleOptions());
  const noop = async () => undefined;
  const activities: NoopActivities = { selectJobs: noop, planBurst: noop, provisionStep: noop, joinNodes: noop, runJob: noop, teardownStep: noop };
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue,
    workflowBundle,
    activities,
    maxConcurrentActivityTaskExecutions: MAX_ACTIVITIES,
    ...WORKER_TUNING,
  });
  return { worker, connection };
}

const { worker, connection } = role === 'burst' ? await burstWorker() : role === 'baseline' ? await baselineWorker() : (() => {
  throw new Error(`SCALE_ROLE must be burst or baseline, not ${role}`);
})();
const running = worker.run();
process.stdout.write('ready\n');
await running;
await connection.close();
process.exit(0);
