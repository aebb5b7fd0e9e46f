import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import ora from 'ora';
import { SA_OWNER } from '../../core/search-attributes.js';
import type { BurstResult, BurstStatus } from '../../core/types.js';
import { prepareBursts } from '../../plan/prepare.js';
import { InputError } from '../../core/errors.js';
import { statusQuery } from '../../../workflows/messages.js';
import { ownerSchema } from '../../config/schema.js';
import { type CommonOpts, EXIT, connectClient, prepare, printJson, uiUrlFor, withConnectionFlags, zArg } from '../common.js';
import { jobsTable } from '../render.js';

interface BurstOpts extends CommonOpts {
  jobs?: string;
  plugin?: string;
  wait?: boolean;
  owner?: string;
}

export function registerBurst(program: Command): void {
  withConnectionFlags(program.command('burst').description('Select jobs, plan bursts (targets, sizes, types), and start one workflow per burst.'))
    .option('-j, --jobs <file>', 'jobs file (YAML/JSON; Flux jobinfo shape accepted)')
    .option('-p, --plugin <name>', 'use only this target (or the targets of this plugin)')
    .option('--owner <name>', 'owner tag (default: config owner or $USER)', zArg(ownerSchema, '--owner'))
    .option('-w, --wait', 'follow the bursts to the end, showing their phases')
    .option('--json', 'machine-readable output')
    .action(async (o: BurstOpts) => {
      const ctx = await prepare(o);
      const prepared = await prepareBursts({ config: ctx.loaded.config, registry: ctx.registry, jobsPath: o.jobs, target: o.plugin, owner: o.owner });
      if (prepared.selection.selected.length === 0) {
        const msg = `no burstable jobs (${prepared.selection.skipped.length} skipped); nothing started`;
        if (o.json) printJson({ bursts: [], reason: msg, skipped: prepared.selection.skipped });
        else process.stdout.write(`${msg}\n`);
        return;
      }
      // A job nothing can take is a configuration problem: say why, start nothing.
      if (prepared.plan.unfit.length) {
        throw new InputError('plan', prepared.plan.unfit.map((u) => ({ path: `job ${u.jobId}`, message: u.reason })));
      }
      const client = await connectClient(ctx.conn);
      const started = [];
      for (const b of prepared.bursts) {
        let handle: WorkflowHandle;
        let isNew = true;
        try {
          handle = await client.workflow.start('burstWorkflow', {
            workflowId: b.id,
            taskQueue: ctx.conn.taskQueue,
            args: [b.input],
            typedSearchAttributes: [{ key: SA_OWNER, value: prepared.owner }],
            // A burst that failed or was cancelled may be retried under its name; one that ran may not.
            workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          });
        } catch (e) {
          if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
          isNew = false;
          handle = client.workflow.getHandle(b.id);
        }
        const url = uiUrlFor(ctx.conn, b.id);
        started.push({ b, handle, isNew, url });
        if (!o.json) {
          process.stdout.write(
            isNew
              ? `started burst ${b.id}: ${b.jobs.length} job(s) on ${b.target} (${b.nodes} × ${b.shape}, ~$${b.costPerHour.toFixed(2)}/h)\n`
              : `burst ${b.id} already exists for these jobs; not starting another\n`,
          );
          process.stdout.write(`history: ${url}\n`);
        }
      }
      if (!o.wait) {
        if (o.json) {
          printJson({
            bursts: started.map(({ b, isNew, url }) => ({ burstId: b.id, started: isNew, url, target: b.target, nodes: b.nodes, shape: b.shape, costPerHour: b.costPerHour, jobs: b.jobs.map((j) => j.id), reason: b.reason })),
          });
        }
        return;
      }
      const many = started.length > 1;
      const results = await Promise.all(started.map(({ handle, url }) => follow(handle, !!o.json, url, many ? handle.workflowId : undefined)));
      if (o.json) printJson({ bursts: results.map((r) => r.record) });
      const codes = results.map((r) => r.code);
      process.exitCode = codes.includes(EXIT.failed) ? EXIT.failed : codes.includes(EXIT.cancelled) ? EXIT.cancelled : EXIT.ok;
    });
}

/**
 * Follow a burst to its end. On a TTY with one burst: a spinner with the live phase; otherwise
 * one line per phase change (prefixed by the burst id when several are followed). With `json`
 * nothing is printed; the caller prints the returned record.
 */
export async function follow(handle: WorkflowHandle, json: boolean, url: string, prefix?: string): Promise<{ code: number; record: Record<string, unknown> }> {
  const spinner = process.stderr.isTTY && !json && !prefix ? ora({ stream: process.stderr }).start('waiting for a worker') : undefined;
  let last = '';
  let done = false;
  const poll = (async () => {
    while (!done) {
      try {
        const line = phaseLine(await handle.query(statusQuery));
        if (line !== last) {
          last = line;
          if (spinner) spinner.text = line;
          else if (!json) process.stderr.write(`  ${prefix ? `${prefix}: ` : ''}${line}\n`);
        }
      } catch {
        /* not started on a worker yet, or already closed */
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  try {
    const result = (await handle.result()) as BurstResult;
    done = true;
    await poll;
    spinner?.succeed(`burst ${result.burstId}: ${result.outcome}`);
    if (!json) {
      if (!spinner) process.stdout.write(`burst ${result.burstId}: ${result.outcome}\n`);
      process.stdout.write(jobsTable(result.status));
      process.stdout.write(`history: ${url}\n`);
    }
    const code = result.outcome === 'cancelled' ? EXIT.cancelled : result.status.jobs.every((j) => j.state === 'completed') ? EXIT.ok : EXIT.failed;
    return { code, record: { burstId: result.burstId, outcome: result.outcome, url, status: result.status } };
  } catch (e) {
    done = true;
    await poll;
    const msg = e instanceof WorkflowFailedError ? (e.cause?.message ?? e.message) : (e as Error).message;
    spinner?.fail(`burst ${handle.workflowId} failed`);
    if (!json) process.stderr.write(`burst ${handle.workflowId} failed: ${msg}\nhistory: ${url}\n`);
    return { code: EXIT.failed, record: { burstId: handle.workflowId, outcome: 'failed', url, error: msg } };
  }
}

function phaseLine(s: BurstStatus): string {
  const done = s.jobs.filter((j) => j.state === 'completed' || j.state === 'failed').length;
  const parts = [`phase ${s.phase}`];
  if (s.target) parts.push(`target ${s.target}`);
  if (s.resources.length) parts.push(`${s.resources.length} node(s)`);
  if (s.jobs.length) parts.push(`jobs ${done}/${s.jobs.length} done`);
  return parts.join(' · ');
}
