import { watchWorkflow } from '../../../workflows/watch.js';
import { resolve } from 'node:path';
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import { FluxburstError, InputError } from '../../core/errors.js';
import { SA_OWNER } from '../../core/search-attributes.js';
import type { SourceSpec } from '../../core/types.js';
import { configSource, readSource } from '../../jobs/sources.js';
import { defaultOwner, narrowTargets } from '../../plan/prepare.js';
import { type WatchStatus, stopWatchSignal, watchStatusQuery } from '../../../workflows/messages.js';
import { type CommonOpts, connectClient, intArg, prepare, printJson, uiUrlFor, withConnectionFlags } from '../common.js';

/**
 * Watch mode is a long-running workflow, not a Schedule: it must remember which jobs already
 * have a burst (durable state a Schedule cannot carry between firings), scan more often than a
 * minute, and show its own history in the UI. It continues-as-new to keep that history short.
 */
/** The seen ids the last finished run of this watcher returned (none if it never finished). */
async function previousSeen(client: Client, id: string): Promise<string[]> {
  try {
    const h = client.workflow.getHandle(id);
    const d = await h.describe();
    if (d.status.name !== 'COMPLETED') return [];
    return ((await h.result()) as WatchStatus).seenIds ?? [];
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return [];
    throw e;
  }
}

export function registerWatch(program: Command): void {
  withConnectionFlags(program.command('watch').description('Scan the source every N seconds and burst new burstable jobs, each exactly once.'))
    .option('-j, --jobs <file>', 'jobs file to watch (default: config jobs)')
    .option('-p, --plugin <name>', 'only this target (or plugin)')
    .option('--interval <seconds>', 'seconds between scans', intArg('--interval', 1, 86_400), 30)
    .option('--once', 'one scan, then stop')
    .option('--stop', 'stop the running watcher')
    .option('--json', 'machine-readable output')
    .action(async (o: CommonOpts & { jobs?: string; plugin?: string; interval: number; once?: boolean; stop?: boolean }) => {
      const ctx = await prepare(o);
      const config = narrowTargets(ctx.loaded.config, ctx.registry, o.plugin);
      const id = `${config.name}-watch`;
      const client = await connectClient(ctx.conn);
      if (o.stop) {
        try {
          await client.workflow.getHandle(id).signal(stopWatchSignal);
        } catch (e) {
          if (e instanceof WorkflowNotFoundError) throw new FluxburstError('NotFound', `no watcher "${id}" running`);
          throw e;
        }
        process.stdout.write(`stop sent to ${id}\n`);
        return;
      }
      const path = o.jobs ?? config.jobs;
      const found: SourceSpec | undefined = path ? { kind: 'file', path: resolve(path) } : configSource(config, (p) => resolve(p));
      if (!found) throw new InputError('flags', [{ path: '--jobs', message: 'nothing to watch: pass --jobs FILE, or set `jobs:`, `flux:` or `slurm:` in the config' }]);
      const source: SourceSpec = found;
      await readSource(source); // a bad source is an input error now, not a failed scan later
      const owner = config.owner ?? defaultOwner();
      // A watcher that ran before (stopped, or --once) hands over which jobs already have a burst,
      // so a new job next to old ones does not pull the old ones into a second burst.
      const seen = await previousSeen(client, id);
      let started = true;
      try {
        await client.workflow.start(watchWorkflow, {
          workflowId: id,
          taskQueue: ctx.conn.taskQueue,
          args: [{ owner, source, config: config as unknown as Record<string, unknown>, intervalSeconds: o.interval, once: !!o.once, seen }],
          typedSearchAttributes: [{ key: SA_OWNER, value: owner }],
        });
      } catch (e) {
        if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
        started = false;
      }
      const url = uiUrlFor(ctx.conn, id);
      const handle = client.workflow.getHandle(id);
      if (o.once) {
        const r = await handle.result();
        if (o.json) printJson({ watcher: id, url, ...(r as object) });
        else process.stdout.write(`scan done: ${(r as { started: string[] }).started.length} burst(s) started\n`);
        return;
      }
      if (o.json) printJson({ watcher: id, started, url });
      else process.stdout.write(`${started ? 'watching' : 'already watching'} ${path ?? source.kind} every ${o.interval}s as ${id}\nhistory: ${url}\nstop with: fluxburst watch --stop\n`);
    });

  withConnectionFlags(program.command('watch-status').description('What the watcher has done: scans, bursts started, jobs it cannot place.'))
    .option('--json', 'machine-readable output')
    .action(async (o: CommonOpts) => {
      const ctx = await prepare(o);
      const client = await connectClient(ctx.conn);
      const s = await client.workflow.getHandle(`${ctx.loaded.config.name}-watch`).query(watchStatusQuery);
      if (o.json) return printJson(s);
      process.stdout.write(`scans: ${s.scans}  bursts started: ${s.started.length}  jobs seen: ${s.seen}\n`);
      for (const u of s.unfit) process.stdout.write(`unfit: job ${u.jobId}: ${u.reason}\n`);
    });
}
