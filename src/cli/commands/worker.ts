import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { FluxburstError } from '../../core/errors.js';
import { describeConnectFailure } from '../../temporal/connection.js';
import { stateDir } from '../../temporal/paths.js';
import { type CommonOpts, intArg, prepare, withConnectionFlags, zArg } from '../common.js';
import { detachSelf } from './server.js';

export function registerWorker(program: Command): void {
  withConnectionFlags(
    program
      .command('worker')
      .description('Run a worker: polls the task queue, runs burst workflows and plugin activities. SIGINT/SIGTERM drain it.'),
  )
    .option('--max-activities <n>', 'concurrent activities', intArg('--max-activities', 1, 10_000), 200)
    .option('--detach', 'run in the background (log in the state dir); `fluxburst stop` ends it')
    .addOption(
      new Option('--metrics <host:port>', 'serve Prometheus metrics (SDK and fluxburst_*) at http://<host:port>/metrics')
        .env('FLUXBURST_METRICS')
        .argParser(zArg(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port, e.g. 0.0.0.0:9464'), '--metrics')),
    )
    .addOption(new Option('--otel', 'OpenTelemetry tracing over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318); on whenever that variable is set'))
    .addOption(new Option('--log-format <format>', 'text (the SDK\'s default lines) or json (one object per line, burstId on burst lines)').choices(['text', 'json']).env('FLUXBURST_LOG_FORMAT').default('text'))
    .action(async (o: CommonOpts & { maxActivities: number; detach?: boolean; metrics?: string; otel?: boolean; logFormat: 'text' | 'json' }) => {
      const ctx = await prepare(o);
      if (o.detach) {
        const pid = detachSelf('worker', true);
        // Wait until it polls, so a burst started next is picked up at once.
        const log = join(stateDir(), 'worker.log');
        for (let i = 0; ; i++) {
          if (existsSync(log) && readFileSync(log, 'utf8').includes(`polling ${pid}`)) break;
          let alive = true;
          try {
            process.kill(pid, 0);
          } catch {
            alive = false;
          }
          if (!alive || i > 600) throw new FluxburstError('WorkerFailed', `worker did not start; see ${log}`);
          await sleep(100);
        }
        process.stdout.write(`worker started in the background (pid ${pid}, log ${log})\n`);
        return;
      }
      // Loaded here, not at the top: the worker SDK is heavy and no other command needs it.
      const { createBurstWorker } = await import('../../../workers/worker.js');
      const telemetry = await import('../../../workers/telemetry.js');
      // Before any connection: the runtime (metrics endpoint, logger) is fixed once one exists.
      telemetry.installRuntime({ metrics: o.metrics, logFormat: o.logFormat });
      const otlp = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      const tracing = o.otel || otlp ? await telemetry.startTracing(otlp || 'http://localhost:4318') : undefined;
      let made: Awaited<ReturnType<typeof createBurstWorker>>;
      try {
        made = await createBurstWorker({ connection: ctx.conn, registry: ctx.registry, maxConcurrentActivities: o.maxActivities, ...(tracing ? { tracing } : {}) });
      } catch (e) {
        // Only dial failures get the connection advice; anything else is not about the connection.
        if (!/transport|connect|tls|certificate|handshake|dns/i.test(String((e as Error).message))) throw e;
        throw new FluxburstError('ConnectFailed', await describeConnectFailure(ctx.conn, e));
      }
      const { worker, connection } = made;
      telemetry.say(
        `fluxburst worker polling ${process.pid} on ${ctx.conn.address} namespace=${ctx.conn.namespace} taskQueue=${ctx.conn.taskQueue} plugins=${ctx.registry.names().join(',')}`,
        { ...(o.metrics ? { metrics: `http://${o.metrics}/metrics` } : {}), tracing: !!tracing },
      );
      try {
        await worker.run(); // resolves after SIGINT/SIGTERM once in-flight work has drained
      } finally {
        await connection.close();
        await tracing?.shutdown().catch(() => undefined);
      }
      telemetry.say('fluxburst worker stopped');
    });
}
