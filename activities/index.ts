import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { FluxburstError } from '../src/core/errors.js';
import type { BurstInput, BurstPlan, CredentialRef, Interruption, Job, JobResult, ProvisionStep, ResourceRef, SelectorSpec, SourceSpec, TargetChoice } from '../src/core/types.js';
import { readSource } from '../src/jobs/sources.js';
import { configSchema } from '../src/config/schema.js';
import { planBursts } from '../src/plan/planner.js';
import { burstInput } from '../src/plan/prepare.js';
import { chooseAndPlan, type Choice } from '../src/plan/choose.js';
import type { Broker, PluginContext } from '../src/plugins/contract.js';
import { markDown } from '../src/slurm/scontrol.js';
import type { PluginRegistry } from '../src/plugins/registry.js';
import { type Selection, selectJobs } from '../src/select/selectors.js';
import { parseOrThrow } from '../src/core/zod-issues.js';
import { resolveCredentials } from '../src/plugins/credentials.js';
import { type BatchEnd, type BatchResult, runBatch } from '../src/burst/batch.js';
import { jobsRef, readJobs, readPage, refCount } from '../src/jobs/spool.js';
import type { JobsRef } from '../src/core/types.js';

export { resolveCredentials };

export interface ScanResult {
  /** Every job id the source holds now (the watch forgets seen ids that left). */
  present: string[];
  unfit: { jobId: string; reason: string }[];
  bursts: { id: string; jobIds: string[]; input: BurstInput }[];
}

/** Who a call is for; every plugin call carries it so resources are tagged and found again. */
export interface BurstRef {
  burstId: string;
  owner: string;
}

export interface PluginCall extends BurstRef {
  plugin: string;
  params: Record<string, unknown>;
  /** References only ({env} / {file}); resolved here, on the worker. */
  credentials?: Record<string, CredentialRef>;
}

/** Turn our errors into ApplicationFailures whose type is the error code. */
export function mapError(e: unknown): never {
  if (e instanceof FluxburstError) {
    throw ApplicationFailure.create({
      type: e.code,
      message: e.message,
      nonRetryable: !e.retryable,
      details: 'node' in e ? [{ node: (e as { node: string }).node }] : undefined,
    });
  }
  throw e;
}

/**
 * Heartbeat while `fn` runs: reading a big Flux queue can take a while, and with a heartbeat
 * timeout a dead worker's call is retried elsewhere in seconds rather than at its deadline.
 */
export async function keepalive<T>(fn: () => Promise<T>): Promise<T> {
  const c = Context.current();
  const timer = setInterval(() => c.heartbeat(), 1000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    mapError(e);
  }
}

function pluginContext(ref: BurstRef & { credentials?: Record<string, CredentialRef> }, runAttempt?: number): PluginContext {
  const c = Context.current();
  return {
    burstId: ref.burstId,
    owner: ref.owner,
    credentials: resolveCredentials(ref.credentials),
    attempt: c.info.attempt,
    runAttempt,
    signal: c.cancellationSignal,
    cancelledByBurst: () => {
      const d = c.cancellationDetails;
      return !d || d.cancelRequested || d.reset;
    },
    heartbeat: (d) => c.heartbeat(d),
    log: { info: (m, meta) => c.log.info(m, meta), warn: (m, meta) => c.log.warn(m, meta) },
  };
}

/**
 * Activities are thin: validate, call one source or plugin method, map errors. Built from the
 * plugin registry the worker loaded (samples-typescript's createActivities(deps) shape).
 */
export function createActivities(reg: PluginRegistry) {
  const plugin = (call: PluginCall) => {
    const p = reg.get(call.plugin);
    return { p, params: parseOrThrow(p.params, call.params, `plugin ${call.plugin} params`, 'params') };
  };
  return {
    async selectJobs(input: { source: SourceSpec; selector: SelectorSpec }): Promise<Selection> {
      return guarded(() => keepalive(async () => {
        const src = input.source;
        if (src.kind === 'inline' && src.selected) return { selected: src.jobs, skipped: [] };
        return selectJobs(await readSource(src), input.selector);
      }));
    },

    /** Watch mode's scan: read the source, select, drop jobs already burst, plan the rest. */
    async scanAndPlan(input: { config: Record<string, unknown>; source: SourceSpec; owner: string; exclude: string[] }): Promise<ScanResult> {
      return guarded(() => keepalive(async () => {
        const config = parseOrThrow(configSchema(reg), input.config, 'watch config');
        const jobs = await readSource(input.source);
        const exclude = new Set(input.exclude);
        const selection = await selectJobs(
          jobs.filter((j) => !exclude.has(j.id)),
          config.select as SelectorSpec,
        );
        const plan = planBursts(selection.selected, config, reg, { owner: input.owner });
        return {
          present: jobs.map((j) => j.id),
          unfit: plan.unfit,
          bursts: plan.bursts.map((b) => ({
            id: b.id,
            jobIds: b.jobs.map((j) => j.id),
            input: burstInput(config, { owner: input.owner, jobs: b.jobs, source: input.source, targets: b.chain, reason: b.reason }),
          })),
        };
      }));
    },

    /**
     * Read and select the source in the workflow (scheduled bursts): the selected jobs come back
     * as a reference — inline when small, else a spool file — never as an echo of a big list.
     */
    async selectBurstJobs(input: { source: SourceSpec; selector: SelectorSpec }): Promise<{ jobs: JobsRef; count: number; skipped: number }> {
      return guarded(() => keepalive(async () => {
        const sel = await selectJobs(await readSource(input.source), input.selector);
        return { jobs: jobsRef(sel.selected), count: sel.selected.length, skipped: sel.skipped.length };
      }));
    },

    /** The burst's plan step over its job reference (the jobs are read here, not sent). */
    async planBurstJobs(input: BurstRef & { jobs: JobsRef; targets: TargetChoice[]; maxNodes: number; maxCostPerHour?: number }): Promise<Choice> {
      return guarded(() =>
        keepalive(() => chooseAndPlan(readJobs(input.jobs), input.targets, reg, input.maxNodes, pluginContext(input), input.maxCostPerHour)),
      );
    },

    /** A page of a spooled job list, as the scheduler needs it: ids and sizes only. */
    async loadJobs(input: { jobs: JobsRef; offset: number; limit: number }): Promise<{ ids: string[]; nodes: number[] }> {
      return guarded(async () => {
        const page = readPage(input.jobs, input.offset, input.limit);
        return { ids: page.map((j) => j.id), nodes: page.map((j) => j.nodes) };
      });
    },

    /**
     * Run a batch of jobs one after another on the given nodes (see src/burst/batch.ts). Jobs come
     * as a spool reference with indexes, or inline (small bursts).
     */
    async runJobBatch(input: PluginCall & { jobs?: JobsRef; inline?: Array<Job | null>; items: Array<{ i: number; attempt: number }>; nodes: ResourceRef[]; jobSeconds: number; batchSeconds: number; tailBytes: number }): Promise<BatchResult> {
      return guarded(async () => {
        const { p, params } = plugin(input);
        const all = input.jobs ? readJobs(input.jobs) : undefined;
        const jobs = input.items.map((it, k) => {
          const job = input.inline?.[k] ?? all?.[it.i];
          if (!job) throw new FluxburstError('SpoolUnreadable', `job #${it.i} is not in the burst's job list (${input.jobs ? refCount(input.jobs) : 0} spooled)`);
          return { i: it.i, job, attempt: it.attempt };
        });
        const c = Context.current();
        const done = (c.info.heartbeatDetails as { done?: BatchEnd[] } | undefined)?.done;
        return runBatch(p, jobs, input.nodes, params, pluginContext(input), { jobSeconds: input.jobSeconds, batchSeconds: input.batchSeconds, tailBytes: input.tailBytes, ...(done ? { done } : {}) });
      });
    },

    async planBurst(input: BurstRef & { jobs: Job[]; targets: TargetChoice[]; maxNodes: number; maxCostPerHour?: number; nodeNames?: string[] }): Promise<Choice> {
      return guarded(() =>
        keepalive(() => chooseAndPlan(input.jobs, input.targets, reg, input.maxNodes, pluginContext(input), input.maxCostPerHour, input.nodeNames ? { nodeNames: input.nodeNames } : undefined)),
      );
    },

    async provisionStep(input: PluginCall & { step: ProvisionStep; plan: BurstPlan }): Promise<ResourceRef> {
      return guarded(async () => {
        const { p, params } = plugin(input);
        return p.provision(input.step, input.plan, params, pluginContext(input));
      });
    },

    async joinNodes(input: PluginCall & { resources: ResourceRef[]; broker?: Broker }): Promise<void> {
      return guarded(async () => {
        const { p, params } = plugin(input);
        await p.join(input.resources, params, pluginContext(input), input.broker);
      });
    },

    /**
     * Ask the plugin for lost or reclaimed nodes every `pollSeconds`, heartbeating, and return as
     * soon as one not in `known` shows up, or with nothing after `maxSeconds` (so each call stays
     * short and the workflow passes fresh resources to the next).
     */
    async awaitInterruptions(input: PluginCall & { resources: ResourceRef[]; known: string[]; pollSeconds: number; maxSeconds: number }): Promise<Interruption[]> {
      return guarded(async () => {
        const { p, params } = plugin(input);
        if (!p.interruptions) return [];
        const ctx = pluginContext(input);
        const known = new Set(input.known);
        const until = Date.now() + input.maxSeconds * 1000;
        for (;;) {
          const found = (await p.interruptions(input.resources, params, ctx)).filter((n) => !known.has(n.node));
          if (found.length) return found;
          ctx.heartbeat({ polled: new Date().toISOString() });
          if (Date.now() + input.pollSeconds * 1000 > until) return [];
          await sleep(input.pollSeconds * 1000, undefined, { signal: ctx.signal });
        }
      });
    },

    /** Remove one member of a multi-node resource (an interrupted fleet instance). */
    async releaseNode(input: PluginCall & { node: string; ref: ResourceRef }): Promise<void> {
      return guarded(async () => {
        const { p, params } = plugin(input);
        if (!p.releaseNode) throw ApplicationFailure.nonRetryable(`plugin ${input.plugin} cannot remove one node of ${input.ref.key}`, 'ReleaseNotSupported');
        await p.releaseNode(input.node, input.ref, params, pluginContext(input));
      });
    },

    /** Slurm fail-fast: the nodes go DOWN with the cause, so their jobs requeue at once. */
    async slurmMarkDown(input: { conf: string; hostlist: string; reason: string }): Promise<void> {
      return guarded(async () => {
        await markDown(input.conf, input.hostlist, input.reason);
      });
    },

    async runJob(input: PluginCall & { job: Job; nodes: ResourceRef[]; runAttempt: number }): Promise<JobResult> {
      return guarded(async () => {
        const { p, params } = plugin(input);
        if (!p.run) throw ApplicationFailure.nonRetryable(`plugin ${input.plugin} does not run jobs itself`, 'RunNotSupported');
        return p.run(input.job, input.nodes, params, pluginContext(input, input.runAttempt));
      });
    },

    async teardownStep(input: PluginCall & { step: ProvisionStep; ref?: ResourceRef }): Promise<void> {
      return guarded(async () => {
        const { p, params } = plugin(input);
        await p.teardown(input.step, input.ref, params, pluginContext(input));
      });
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
