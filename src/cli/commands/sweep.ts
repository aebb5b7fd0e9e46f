import { sweepWorkflow } from '../../../workflows/sweep.js';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Command } from 'commander';
import { FluxburstError, InputError } from '../../core/errors.js';
import { allTargets, narrowTargets } from '../../plan/prepare.js';
import type { SweepInput, SweepResult, SweptResource } from '../../../workflows/sweep.js';
import { type CommonOpts, EXIT, connectClient, intArg, prepare, printJson, uiUrlFor, withConnectionFlags } from '../common.js';
import { table } from '../render.js';
import { checkCron } from './schedule.js';

const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

interface SweepOpts extends CommonOpts {
  plugin?: string;
  dryRun?: boolean;
  wait?: boolean;
  minAge: number;
  schedule?: string;
  scheduleId?: string;
  paused?: boolean;
}

/** 20240131T235959Z: sortable, and readable in the UI's workflow list. */
const stamp = (d = new Date()) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

function rows(label: string, rs: SweptResource[]): string[][] {
  return rs.map((r) => [label, r.target, r.kind, r.id, r.burstId, r.owner]);
}

function report(id: string, r: SweepResult): string {
  const head = r.dryRun
    ? `sweep ${id} (dry run): found ${r.found}, kept ${r.kept.length} (burst running), would remove ${r.orphans.length}\n`
    : `sweep ${id}: found ${r.found}, kept ${r.kept.length} (burst running), removed ${r.removed.length}, failed ${r.failed.length}\n`;
  const body = [
    ...rows('kept', r.kept),
    ...(r.dryRun ? rows('would remove', r.orphans) : rows('removed', r.removed)),
    ...r.failed.map((f) => ['FAILED', f.resource.target, f.resource.kind, f.resource.id, f.resource.burstId, f.error]),
    ...rows('deferred', r.deferred),
  ];
  const errors = r.targetErrors.map((e) => `target ${e.target}: ${e.error}\n`).join('');
  return head + (body.length ? table(['', 'TARGET', 'KIND', 'ID', 'BURST', 'OWNER'], body) : '') + errors;
}

export function registerSweep(program: Command): void {
  withConnectionFlags(
    program
      .command('sweep')
      .description('Find resources tagged as ours whose burst is not running, and delete them (once, or on a schedule).'),
  )
    .option('-p, --plugin <name>', 'only this target (or plugin)')
    .option('--dry-run', 'report what would be removed, delete nothing (waits for the report)')
    .option('--wait', 'wait for the sweep and print what it removed')
    .option('--min-age <seconds>', 'delete only what was an orphan this long ago (the sweep looks twice)', intArg('--min-age', 0, 86_400), 0)
    .option('--schedule <cron>', 'create a Temporal Schedule that sweeps on this cron instead of sweeping now')
    .option('--schedule-id <id>', 'id of the schedule (default: <config name>-sweep)')
    .option('--paused', 'with --schedule: create it paused')
    .option('--json', 'machine-readable output')
    .action(async (o: SweepOpts) => {
      // Every flag is checked before anything is started or created.
      if (o.schedule !== undefined) {
        checkCron(o.schedule, '--schedule');
        if (o.wait) throw new InputError('flags', [{ path: '--wait', message: 'a schedule sweeps later; --wait goes with a sweep now' }]);
      } else {
        if (o.scheduleId !== undefined) throw new InputError('flags', [{ path: '--schedule-id', message: 'only with --schedule' }]);
        if (o.paused) throw new InputError('flags', [{ path: '--paused', message: 'only with --schedule' }]);
      }
      if (o.scheduleId !== undefined && !ID.test(o.scheduleId)) throw new InputError('flags', [{ path: '--schedule-id', message: 'lowercase letters, digits and dashes, at most 63' }]);
      const ctx = await prepare(o);
      const config = narrowTargets(ctx.loaded.config, ctx.registry, o.plugin);
      const input: SweepInput = { targets: allTargets(config, ctx.registry), ...(o.dryRun ? { dryRun: true } : {}), ...(o.minAge ? { minAgeSeconds: o.minAge } : {}) };
      const client = await connectClient(ctx.conn);

      if (o.schedule !== undefined) {
        const scheduleId = o.scheduleId ?? `${config.name}-sweep`;
        try {
          await client.schedule.create({
            scheduleId,
            spec: { cronExpressions: [o.schedule] },
            action: { type: 'startWorkflow', workflowType: sweepWorkflow, workflowId: `${config.name}-sweep`, taskQueue: ctx.conn.taskQueue, args: [input] },
            // Two sweeps at once would only race each other to the same deletes.
            policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10 minutes' },
            state: { paused: !!o.paused },
          });
        } catch (e) {
          if (e instanceof ScheduleAlreadyRunning) throw new FluxburstError('AlreadyExists', `schedule "${scheduleId}" already exists`);
          throw e;
        }
        if (o.json) return printJson({ schedule: scheduleId, cron: o.schedule, targets: input.targets.map((t) => t.name), dryRun: !!o.dryRun });
        process.stdout.write(`schedule ${scheduleId} created: "${o.schedule}" → sweep ${input.targets.map((t) => t.name).join(', ')}${o.dryRun ? ' (dry run)' : ''}\n`);
        return;
      }

      const id = `${config.name}-sweep-${stamp()}`;
      const handle = await client.workflow.start(sweepWorkflow, { workflowId: id, taskQueue: ctx.conn.taskQueue, args: [input] });
      const url = uiUrlFor(ctx.conn, id);
      if (!o.wait && !o.dryRun) {
        if (o.json) return printJson({ sweep: id, url });
        process.stdout.write(`sweep ${id} started\n  ${url}\n`);
        return;
      }
      const r = (await handle.result()) as SweepResult;
      if (r.failed.length || r.targetErrors.length) process.exitCode = EXIT.failed;
      if (o.json) return printJson({ sweep: id, url, ...r });
      process.stdout.write(report(id, r));
    });
}
