import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import ora from 'ora';
import { SA_OWNER } from '../../core/search-attributes.js';
import type { BurstResult, BurstStatus } from '../../core/types.js';
import { prepareBurst } from '../../plan/prepare.js';
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
  withConnectionFlags(program.command('burst').description('Select burstable jobs, plan, and start one burst workflow.'))
    .option('-j, --jobs <file>', 'jobs file (YAML/JSON; Flux jobinfo shape accepted)')
    .option('-p, --plugin <name>', 'use only this plugin')
    .option('--owner <name>', 'owner tag (default: config owner or $USER)', zArg(ownerSchema, '--owner'))
    .option('-w, --wait', 'follow the burst to the end, showing its phases')
    .option('--json', 'machine-readable output')
    .action(async (o: BurstOpts) => {
      const ctx = await prepare(o);
      const prepared = await prepareBurst({ config: ctx.loaded.config, registry: ctx.registry, jobsPath: o.jobs, plugin: o.plugin, owner: o.owner });
      if (prepared.selection.selected.length === 0) {
        const msg = `no burstable jobs (${prepared.selection.skipped.length} skipped); nothing started`;
        if (o.json) printJson({ started: false, reason: msg, skipped: prepared.selection.skipped });
        else process.stdout.write(`${msg}\n`);
        return;
      }
      const client = await connectClient(ctx.conn);
      let handle: WorkflowHandle;
      let started = true;
      try {
        handle = await client.workflow.start('burstWorkflow', {
          workflowId: prepared.id,
          taskQueue: ctx.conn.taskQueue,
          args: [prepared.input],
          typedSearchAttributes: [{ key: SA_OWNER, value: prepared.input.owner }],
          // A burst that failed or was cancelled may be retried under its name; one that ran may not.
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        });
      } catch (e) {
        if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
        started = false;
        handle = client.workflow.getHandle(prepared.id);
      }
      const url = uiUrlFor(ctx.conn, prepared.id);
      if (!o.json) {
        process.stdout.write(
          started
            ? `started burst ${prepared.id}: ${prepared.selection.selected.length} job(s) on ${prepared.plugin} (${prepared.estimate?.nodes} node(s))\n`
            : `burst ${prepared.id} already exists for these jobs; not starting another\n`,
        );
        process.stdout.write(`history: ${url}\n`);
      }
      if (!o.wait) {
        if (o.json) printJson({ started, burstId: prepared.id, url, plugin: prepared.plugin, estimate: prepared.estimate });
        return;
      }
      const code = await follow(handle, !!o.json, url);
      process.exitCode = code;
    });
}

/** Follow a burst to its end, showing phase changes; returns the exit code. */
export async function follow(handle: WorkflowHandle, json: boolean, url: string): Promise<number> {
  const tty = process.stderr.isTTY && !json;
  const spinner = tty ? ora({ stream: process.stderr }).start('waiting for a worker') : undefined;
  let last = '';
  let done = false;
  const poll = (async () => {
    while (!done) {
      try {
        const s = await handle.query(statusQuery);
        const line = phaseLine(s);
        if (line !== last) {
          last = line;
          if (spinner) spinner.text = line;
          else if (!json) process.stderr.write(`  ${line}\n`);
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
    if (json) printJson({ burstId: result.burstId, outcome: result.outcome, url, status: result.status });
    else {
      if (!spinner) process.stdout.write(`burst ${result.burstId}: ${result.outcome}\n`);
      process.stdout.write(jobsTable(result.status));
      process.stdout.write(`history: ${url}\n`);
    }
    if (result.outcome === 'cancelled') return EXIT.cancelled;
    return result.status.jobs.every((j) => j.state === 'completed') ? EXIT.ok : EXIT.failed;
  } catch (e) {
    done = true;
    await poll;
    const msg = e instanceof WorkflowFailedError ? (e.cause?.message ?? e.message) : (e as Error).message;
    spinner?.fail(`burst ${handle.workflowId} failed`);
    if (json) printJson({ burstId: handle.workflowId, outcome: 'failed', url, error: msg });
    else process.stderr.write(`burst ${handle.workflowId} failed: ${msg}\nhistory: ${url}\n`);
    return EXIT.failed;
  }
}

function phaseLine(s: BurstStatus): string {
  const done = s.jobs.filter((j) => j.state === 'completed' || j.state === 'failed').length;
  const parts = [`phase ${s.phase}`];
  if (s.plugin) parts.push(`plugin ${s.plugin}`);
  if (s.resources.length) parts.push(`${s.resources.length} node(s)`);
  if (s.jobs.length) parts.push(`jobs ${done}/${s.jobs.length} done`);
  return parts.join(' · ');
}
