import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import ora from 'ora';
import { SA_OWNER } from '../../core/search-attributes.js';
import type { BurstResult, BurstStatus } from '../../core/types.js';
import { prepareBursts } from '../../plan/prepare.js';
import { chooseAndPlan } from '../../plan/choose.js';
import { applyExecutionPlanToConfig, readExecutionPlan } from '../../plugins/aws-ec2/execution-plan.js';
import { FluxburstError, InputError, providerCode } from '../../core/errors.js';
import type { CredentialRef } from '../../core/types.js';
import type { PluginContext } from '../../plugins/contract.js';
import { resolveCredentials } from '../../plugins/credentials.js';
import { statusQuery } from '../../../workflows/messages.js';
import { burstWorkflow } from '../../../workflows/burst.js';
import { ownerSchema } from '../../config/schema.js';
import { type CommonOpts, EXIT, connectClient, prepare, printJson, uiUrlFor, withConnectionFlags, zArg } from '../common.js';
import { jobsTable } from '../render.js';

interface BurstOpts extends CommonOpts {
  jobs?: string;
  plugin?: string;
  wait?: boolean;
  owner?: string;
  plan?: string;
  dryRun?: boolean;
  preflight?: boolean;
  strict?: boolean;
}

export function registerBurst(program: Command): void {
  withConnectionFlags(program.command('burst').description('Select jobs, plan bursts (targets, sizes, types), and start one workflow per burst.'))
    .option('-j, --jobs <file>', 'jobs file (YAML/JSON; Flux jobinfo shape accepted)')
    .option('-p, --plugin <name>', 'use only this target (or the targets of this plugin)')
    .option('--owner <name>', 'owner tag (default: config owner or $USER)', zArg(ownerSchema, '--owner'))
    .option('-w, --wait', 'follow the bursts to the end, showing their phases')
    .option('--plan <file>', 'execution plan (JSON, aws-slurm-burst format): instance types, count, spot/on-demand, placement over the target\'s params')
    .option('--dry-run', 'print the bursts that would start (targets with their final params, nodes, estimate) and ask the provider whether it would allow the launch (EC2 DryRun); start nothing')
    .option('--no-preflight', 'with --dry-run: do not ask the provider (offline; the plan only)')
    .option('--strict', 'all or nothing: when a job fits no target, start nothing (exit 2) instead of bursting the rest (exit 4)')
    .option('--json', 'machine-readable output')
    .action(async (o: BurstOpts) => {
      const ctx = await prepare(o);
      const config = o.plan ? applyExecutionPlanToConfig(ctx.loaded.config, ctx.registry, await readExecutionPlan(o.plan)) : ctx.loaded.config;
      const prepared = await prepareBursts({ config, registry: ctx.registry, jobsPath: o.jobs, target: o.plugin, owner: o.owner });
      if (prepared.selection.selected.length === 0) {
        const msg = `no burstable jobs (${prepared.selection.skipped.length} skipped); nothing started`;
        if (o.json) printJson({ bursts: [], reason: msg, skipped: prepared.selection.skipped });
        else process.stdout.write(`${msg}\n`);
        return;
      }
      // A job nothing can take does not hold up the rest (as `watch` does): what fits bursts, the
      // others are listed with why, and the exit code (4) says some were left. --strict: all or nothing.
      const unfit = prepared.plan.unfit;
      if (unfit.length && (o.strict || prepared.bursts.length === 0)) {
        throw new InputError('plan', unfit.map((u) => ({ path: `job ${u.jobId}`, message: u.reason })));
      }
      if (unfit.length) {
        process.stderr.write(`warning: ${unfit.length} job(s) fit no target and were left (exit 4; --strict starts nothing instead):\n`);
        for (const u of unfit.slice(0, 50)) process.stderr.write(`  left: job ${u.jobId}: ${u.reason}\n`);
        if (unfit.length > 50) process.stderr.write(`  … and ${unfit.length - 50} more\n`);
      }
      const leftCode = unfit.length ? EXIT.partial : EXIT.ok;
      if (o.dryRun) {
        // The workflow's own plan step, run here: the dry run shows exactly what the burst will make.
        const bursts = await Promise.all(
          prepared.bursts.map(async (b) => {
            const choice = await chooseAndPlan(b.jobs, b.chain, ctx.registry, b.input.maxNodes, cliPluginContext(b.id, prepared.owner, b.chain[0]!.credentials), b.input.budget?.maxCostPerHour);
            const e = choice.plan.estimate;
            return { burstId: b.id, target: choice.target, nodes: choice.plan.nodes, shape: choice.plan.groups[0]?.shape ?? b.shape, costPerHour: e.costPerHour, secondsToReady: e.secondsToReady, jobs: b.jobs.map((j) => j.id), steps: choice.plan.steps.map((s) => s.key), chain: b.chain.map((c) => ({ name: c.name, plugin: c.plugin, params: c.params })), reason: choice.reason };
          }),
        );
        // Where the provider can check the launch itself (EC2 DryRun), ask it: a missing permission or a
        // wrong image shows now, not at provision.
        const checks = await Promise.all(
          prepared.bursts.map(async (b) => {
            const first = b.chain[0]!;
            const plugin = ctx.registry.get(first.plugin);
            if (!plugin.preflight || o.preflight === false) return [];
            return plugin.preflight(b.jobs, first.params, cliPluginContext(b.id, prepared.owner, first.credentials));
          }),
        );
        const refused = checks.flat().filter((c) => !c.ok);
        if (o.json) printJson({ dryRun: true, ...(o.plan ? { plan: o.plan } : {}), bursts: bursts.map((b, i) => ({ ...b, preflight: checks[i] })), unfit });
        else {
          bursts.forEach((b, i) => {
            process.stdout.write(`dry run: would start burst ${b.burstId}: ${b.jobs.length} job(s) on ${b.target} (${b.nodes} × ${b.shape}, ~$${b.costPerHour.toFixed(2)}/h, ready in ~${b.secondsToReady.toFixed(0)}s)\n`);
            for (const c of b.chain) process.stdout.write(`  target ${c.name} (${c.plugin}) params ${JSON.stringify(c.params)}\n`);
            for (const c of checks[i]!) process.stdout.write(`  preflight ${c.call}: ${c.ok ? 'would succeed' : `refused: ${c.code}${c.message ? ` (${c.message})` : ''}`}\n`);
          });
          process.stdout.write(`dry run: ${bursts.length} burst(s), nothing started\n`);
        }
        if (refused.length) throw new FluxburstError(providerCode(refused[0]!.code), `dry run: the provider refused ${refused.map((c) => `${c.call} (${c.code})`).join(', ')}`);
        process.exitCode = leftCode;
        return;
      }
      const client = await connectClient(ctx.conn);
      const started = [];
      for (const b of prepared.bursts) {
        let handle: WorkflowHandle;
        let isNew = true;
        try {
          handle = await client.workflow.start(burstWorkflow, {
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
            unfit,
          });
        }
        process.exitCode = leftCode;
        return;
      }
      const many = started.length > 1;
      const results = await Promise.all(started.map(({ handle, url }) => follow(handle, !!o.json, url, many ? handle.workflowId : undefined)));
      if (o.json) printJson({ bursts: results.map((r) => r.record), unfit });
      const codes = results.map((r) => r.code);
      process.exitCode = codes.includes(EXIT.failed) ? EXIT.failed : codes.includes(EXIT.cancelled) ? EXIT.cancelled : leftCode;
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
    const c = result.status.counts;
    const allDone = c ? c.completed === c.total : result.status.jobs.every((j) => j.state === 'completed');
    const code = result.outcome === 'cancelled' ? EXIT.cancelled : allDone ? EXIT.ok : EXIT.failed;
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
  const done = s.counts ? s.counts.completed + s.counts.failed : s.jobs.filter((j) => j.state === 'completed' || j.state === 'failed').length;
  const total = s.counts?.total ?? s.jobs.length;
  const parts = [`phase ${s.phase}`];
  if (s.target) parts.push(`target ${s.target}`);
  if (s.resources.length) parts.push(`${s.resources.length} node(s)`);
  if (total) parts.push(`jobs ${done}/${total} done`);
  return parts.join(' · ');
}

/** A plugin context for calls the CLI makes itself (dry-run checks): credentials are read here. */
function cliPluginContext(burstId: string, owner: string, credentials?: Record<string, CredentialRef>): PluginContext {
  return {
    burstId,
    owner,
    attempt: 1,
    credentials: resolveCredentials(credentials),
    signal: new AbortController().signal,
    heartbeat: () => undefined,
    log: { info: () => undefined, warn: (m, meta) => process.stderr.write(`warning: ${m}${meta ? ` ${JSON.stringify(meta)}` : ''}\n`) },
  };
}
