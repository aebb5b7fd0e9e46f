import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BundleOptions, NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { Client, Connection } from '@temporalio/client';
import { createActivities } from '../activities/index.js';
import { createFluxActivities } from '../activities/flux.js';
import { createInterruptionActivities } from '../activities/interruptions.js';
import { createSweepActivities } from '../activities/sweep.js';
import { dataConverterFromEnv } from '../src/temporal/codec.js';
import type { PluginRegistry } from '../src/plugins/registry.js';
import { type ResolvedConnection, connectionOptions } from '../src/temporal/connection.js';
import { activityMetrics, type Tracing } from './telemetry.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The workflow bundle: the one `npm run build` wrote (dist/workflow-bundle.js), or a fresh one
 * from the sources. A prebuilt bundle keeps worker start-up (and restart after a crash) fast.
 */
export async function workflowBundle(o: { tracing?: boolean } = {}): Promise<WorkflowBundleOption> {
  const file = o.tracing ? 'workflow-bundle-otel.js' : 'workflow-bundle.js';
  const prebuilt = [join(here, '..', file), join(here, '..', 'dist', file)].find(existsSync);
  if (prebuilt && process.env.FLUXBURST_REBUNDLE !== '1') return { codePath: prebuilt };
  return bundleWorkflowCode(bundleOptions(o));
}

/**
 * The OpenTelemetry workflow interceptors live in their own bundle: a worker without tracing runs
 * the plain bundle, whose workflow code is exactly what the recorded histories were made with.
 */
const otelWorkflowInterceptors = createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/** Bundle options; TS sources use `.js` import specifiers, which webpack must map back to `.ts`. */
export function bundleOptions(o: { tracing?: boolean } = {}): BundleOptions {
  const ts = join(here, '..', 'workflows', 'index.ts');
  const js = join(here, '..', 'workflows', 'index.js');
  return {
    workflowsPath: existsSync(js) ? js : ts,
    ...(o.tracing ? { workflowInterceptorModules: [otelWorkflowInterceptors] } : {}),
    webpackConfigHook: (config) => {
      config.resolve = { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } };
      return config;
    },
  };
}

/**
 * Concurrency and drain settings shared by every fluxburst worker; bench/scale.ts gives its
 * baseline worker the same ones, so the comparison is of workflow code, not of tuning.
 */
export const WORKER_TUNING = {
  // Graceful drain on SIGTERM: running activities get this long to finish before cancel.
  shutdownGraceTime: '20s',
} as const;

export interface WorkerOptions {
  connection: ResolvedConnection;
  registry: PluginRegistry;
  /** Max activities at once (provision/run calls are mostly waiting). */
  maxConcurrentActivities?: number;
  identity?: string;
  /** Payload encryption; default from FLUXBURST_CODEC_KEYS (see src/temporal/codec.ts). */
  dataConverter?: DataConverter;
  /** OpenTelemetry (workers/telemetry.ts startTracing); off when absent. */
  tracing?: Tracing;
}

export async function createBurstWorker(o: WorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect(connectionOptions(o.connection));
  const dataConverter = o.dataConverter ?? dataConverterFromEnv();
  // The sweep asks the server which bursts still run; a worker connection cannot, a client can.
  // Lazy: it connects on the first sweep, and goes when the worker's connection is closed.
  const clientConnection = Connection.lazy(connectionOptions(o.connection));
  const client = new Client({ connection: clientConnection, namespace: o.connection.namespace, ...(dataConverter ? { dataConverter } : {}) });
  const closeWorkerConnection = connection.close.bind(connection);
  connection.close = async () => {
    await clientConnection.close().catch(() => undefined);
    await closeWorkerConnection();
  };
  const worker = await Worker.create({
    connection,
    ...(dataConverter ? { dataConverter } : {}),
    namespace: o.connection.namespace,
    taskQueue: o.connection.taskQueue,
    workflowBundle: await workflowBundle({ tracing: !!o.tracing }),
    interceptors: { activity: [activityMetrics, ...(o.tracing ? [o.tracing.activity] : [])] },
    ...(o.tracing ? { sinks: o.tracing.sinks } : {}),
    activities: { ...createActivities(o.registry), ...createSweepActivities(o.registry, client), ...createInterruptionActivities(), ...createFluxActivities() },
    maxConcurrentActivityTaskExecutions: o.maxConcurrentActivities ?? 200,
    ...WORKER_TUNING,
    ...(o.identity ? { identity: o.identity } : {}),
  });
  return { worker, connection };
}
