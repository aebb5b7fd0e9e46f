import { burstWorkflow } from '../../../workflows/burst.js';
import { resolve } from 'node:path';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, ScheduleAlreadyRunning } from '@temporalio/client';
import type { Command } from 'commander';
import { FluxburstError, InputError } from '../../core/errors.js';
import { SA_OWNER } from '../../core/search-attributes.js';
import { readJobsFile } from '../../jobs/file-source.js';
import { allTargets, burstInput, defaultOwner, narrowTargets } from '../../plan/prepare.js';
import { type CommonOpts, connectClient, idArg, prepare, printJson, withConnectionFlags } from '../common.js';
import { table } from '../render.js';

const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Temporal's cron string: 5 fields (minute hour day-of-month month day-of-week), 6 (+ year) or
 * 7 (second first, + year), or @hourly-style names. Each field's values are checked against its
 * range here (the server would refuse `61 * * * *` only once dialled), so bad input exits 2.
 */
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
interface CronField {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Names count from this number (months from 1, days from 0). */
  nameBase?: number;
  question?: boolean;
}
const SECOND: CronField = { name: 'second', min: 0, max: 59 };
const FIVE: CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'day-of-week', min: 0, max: 7, names: DAYS, nameBase: 0, question: true },
];
const YEAR: CronField = { name: 'year', min: 1970, max: 2999 };

/** Why one cron field is wrong, or undefined. */
function cronFieldProblem(text: string, f: CronField): string | undefined {
  const value = (v: string): number | string => {
    if (/^\d+$/.test(v)) {
      const n = Number(v);
      return n < f.min || n > f.max ? `${f.name} ${n} is out of range ${f.min}-${f.max}` : n;
    }
    const i = f.names?.indexOf(v.toLowerCase()) ?? -1;
    return i >= 0 ? i + f.nameBase! : `${f.name} "${v}" is not a number${f.names ? ` or a name (${f.names[0]}…)` : ''}`;
  };
  for (const item of text.split(',')) {
    const m = /^([^/]+)(?:\/(.*))?$/.exec(item);
    if (!m) return `${f.name} "${text}" is empty`;
    const [, range, step] = m;
    if (step !== undefined && !(/^\d+$/.test(step) && Number(step) >= 1 && Number(step) <= f.max)) return `${f.name} step "/${step}" must be a whole number from 1 to ${f.max}`;
    if (range === '*' || (range === '?' && f.question)) continue;
    const ends = range!.split('-');
    if (ends.length > 2 || ends.some((e) => e === '')) return `${f.name} "${range}" is not a value or a range a-b`;
    const vals = ends.map(value);
    const bad = vals.find((v) => typeof v === 'string');
    if (bad !== undefined) return bad as string;
    if (vals.length === 2 && (vals[0] as number) > (vals[1] as number)) return `${f.name} range "${range}" runs backwards`;
  }
  return undefined;
}

export function checkCron(expr: string, flag = '--cron'): void {
  const refuse = (why: string) => {
    throw new InputError('flags', [{ path: flag, message: `"${expr}" is not a cron expression (minute hour day-of-month month day-of-week): ${why}` }]);
  };
  const t = expr.trim();
  if (/^@(yearly|annually|monthly|weekly|daily|hourly)$/.test(t)) return;
  if (/^@every\s/.test(t)) {
    if (!/^@every\s+(\d+(ns|us|µs|ms|s|m|h))+$/.test(t)) refuse('@every takes a duration such as 15m or 1h30m');
    return;
  }
  const fields = t.split(/\s+/);
  const layout = fields.length === 5 ? FIVE : fields.length === 6 ? [...FIVE, YEAR] : fields.length === 7 ? [SECOND, ...FIVE, YEAR] : undefined;
  if (!layout) return refuse(`${t ? fields.length : 0} fields; give 5, 6 (+ year) or 7 (second first, + year)`);
  for (const [i, f] of layout.entries()) {
    const why = cronFieldProblem(fields[i]!, f);
    if (why) refuse(why);
  }
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

  withConnectionFlags(sched.command('delete').argument('<id>', 'schedule id', idArg('<id>')).description('Delete a schedule (bursts it started keep running).')).action(async (id: string, o: CommonOpts) => {
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
