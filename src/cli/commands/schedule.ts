import { burstWorkflow } from '../../../workflows/burst.js';
import { resolve } from 'node:path';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, ScheduleAlreadyRunning } from '@temporalio/client';
import type { Command } from 'commander';
import { FluxburstError, InputError } from '../../core/errors.js';
import { SA_OWNER } from '../../core/search-attributes.js';
import { readJobsFile } from '../../jobs/file-source.js';
import { allTargets, burstInput, defaultOwner, narrowTargets } from '../../plan/prepare.js';
import { type CommonOpts, connectClient, prepare, printJson, withConnectionFlags } from '../common.js';
import { table } from '../render.js';

const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Temporal's cron string: 5 fields (minute hour day-of-month month day-of-week), 6 (+ year) or
 * 7 (second first, + year), or @hourly-style names. Rejected here, not by the server at 3am.
 */
export function checkCron(expr: string, flag = '--cron'): void {
  const fields = expr.trim().split(/\s+/);
  const ok =
    /^@(yearly|annually|monthly|weekly|daily|hourly|every\s+\S+)$/.test(expr.trim()) ||
    (fields.length >= 5 && fields.length <= 7 && fields.every((f) => /^[\d*/,\-A-Za-z?]+$/.test(f)));
  if (!ok) throw new InputError('flags', [{ path: flag, message: `"${expr}" is not a cron expression (minute hour day-of-month month day-of-week)` }]);
}

export function registerSchedule(program: Command): void {
  const sched = program.command('schedule').description('Temporal Schedules that start bursts on a cron.');

  withConnectionFlags(sched.command('create').argument('<id>', 'schedule id').description('Create a schedule; each firing reads the jobs file and bursts what is burstable.'))
    .requiredOption('--cron <expr>', 'cron expression, e.g. "*/15 * * * *"')
    .option('-j, --jobs <file>', 'jobs file read at each firing (default: config jobs)')
    .option('-p, --plugin <name>', 'use only this target (or plugin)')
    .option('--paused', 'create it paused')
    .action(async (id: string, o: CommonOpts & { cron: string; jobs?: string; plugin?: string; paused?: boolean }) => {
      if (!ID.test(id)) throw new InputError('flags', [{ path: '<id>', message: 'lowercase letters, digits and dashes, at most 63' }]);
      checkCron(o.cron);
      const ctx = await prepare(o);
      const config = ctx.loaded.config;
      const path = o.jobs ?? config.jobs;
      if (!path) throw new InputError('flags', [{ path: '--jobs', message: 'no jobs: pass --jobs FILE or set `jobs:` in the config' }]);
      await readJobsFile(resolve(path)); // fail now on a bad file, not at 3am
      const narrowed = narrowTargets(config, ctx.registry, o.plugin);
      const input = burstInput(narrowed, { owner: config.owner ?? defaultOwner(), source: { kind: 'file', path: resolve(path) }, targets: allTargets(narrowed, ctx.registry) });
      const client = await connectClient(ctx.conn);
      try {
        await client.schedule.create({
          scheduleId: id,
          spec: { cronExpressions: [o.cron] },
          action: {
            type: 'startWorkflow',
            workflowType: burstWorkflow,
            workflowId: `${config.name}-sched-${id}`,
            taskQueue: ctx.conn.taskQueue,
            args: [input],
            typedSearchAttributes: [{ key: SA_OWNER, value: input.owner }],
          },
          // A burst still running when the next firing comes is not doubled.
          policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10 minutes' },
          state: { paused: !!o.paused },
        });
      } catch (e) {
        if (e instanceof ScheduleAlreadyRunning) throw new FluxburstError('AlreadyExists', `schedule "${id}" already exists`);
        throw e;
      }
      process.stdout.write(`schedule ${id} created: "${o.cron}" → burst ${path}\n`);
    });

  withConnectionFlags(sched.command('list').description('List schedules.'))
    .option('--json', 'machine-readable output')
    .action(async (o: CommonOpts) => {
      const ctx = await prepare(o);
      const client = await connectClient(ctx.conn);
      const rows = [];
      for await (const s of client.schedule.list()) {
        if (s.action?.type !== 'startWorkflow' || s.action.workflowType !== 'burstWorkflow') continue;
        rows.push({
          id: s.scheduleId,
          cron: s.spec?.calendars?.length ? `${s.spec.calendars.length} calendar(s)` : (s.spec?.intervals?.map((i) => `every ${i.every}`).join(',') ?? ''),
          paused: s.state.paused,
          next: s.info.nextActionTimes[0]?.toISOString() ?? '-',
          recent: s.info.recentActions.length,
        });
      }
      if (o.json) return printJson(rows);
      process.stdout.write(table(['SCHEDULE', 'SPEC', 'PAUSED', 'NEXT', 'RECENT'], rows.map((r) => [r.id, r.cron, String(r.paused), r.next, String(r.recent)])));
    });

  withConnectionFlags(sched.command('delete').argument('<id>', 'schedule id').description('Delete a schedule (bursts it started keep running).')).action(async (id: string, o: CommonOpts) => {
    const ctx = await prepare(o);
    const client = await connectClient(ctx.conn);
    try {
      await client.schedule.getHandle(id).delete();
    } catch (e) {
      if (e instanceof ScheduleNotFoundError) throw new FluxburstError('NotFound', `no schedule "${id}"`);
      throw e;
    }
    process.stdout.write(`schedule ${id} deleted\n`);
  });
}
