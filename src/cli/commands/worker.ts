import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { FluxburstError } from '../../core/errors.js';
import { stateDir } from '../../temporal/paths.js';
import { type CommonOpts, intArg, prepare, withConnectionFlags } from '../common.js';
import { detachSelf } from './server.js';

export function registerWorker(program: Command): void {
  withConnectionFlags(
    program
      .command('worker')
      .description('Run a worker: polls the task queue, runs burst workflows and plugin activities. SIGINT/SIGTERM drain it.'),
  )
    .option('--max-activities <n>', 'concurrent activities', intArg('--max-activities', 1, 10_000), 200)
    .option('--detach', 'run in the background (log in the state dir); `fluxburst stop` ends it')
    .action(async (o: CommonOpts & { maxActivities: number; detach?: boolean }) => {
      const ctx = await prepare(o);
      if (o.detach) {
        const pid = detachSelf('worker');
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
      const { worker, connection } = await createBurstWorker({ connection: ctx.conn, registry: ctx.registry, maxConcurrentActivities: o.maxActivities });
      process.stdout.write(
        `fluxburst worker polling ${process.pid} on ${ctx.conn.address} namespace=${ctx.conn.namespace} taskQueue=${ctx.conn.taskQueue} plugins=${ctx.registry.names().join(',')}\n`,
      );
      try {
        await worker.run(); // resolves after SIGINT/SIGTERM once in-flight work has drained
      } finally {
        await connection.close();
      }
      process.stdout.write('fluxburst worker stopped\n');
    });
}
