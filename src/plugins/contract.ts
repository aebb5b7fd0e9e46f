import type { z } from 'zod';
import type { BurstPlan, Estimate, Interruption, Job, JobResult, ProvisionStep, ResourceRef } from '../core/types.js';

/**
 * What every call into a plugin gets. Plugins never see Temporal: the activity layer adapts
 * heartbeats and cancellation to these.
 */
export interface PluginContext {
  burstId: string;
  owner: string;
  /** 1 on the first try of this call, more on retries (Temporal's activity attempt). */
  attempt: number;
  /** For `run`: which start of this job this is (more than 1 after an interruption requeued it). */
  runAttempt?: number;
  /**
   * The target's credentials, read on the worker from where the config points (env var or file)
   * at call time. Only their references travel through Temporal; the values never do.
   */
  credentials: Record<string, string>;
  /**
   * Aborted when this call should stop: the burst cancelled it, or Temporal gave up on this
   * attempt (heartbeats lost, e.g. across a server restart) or the worker is draining. Only in the
   * first case is the work itself unwanted; see `cancelledByBurst`.
   */
  signal: AbortSignal;
  /**
   * After `signal` aborted: true when the burst cancelled the call (kill what it started), false
   * when only this attempt ends and the next attempt re-attaches to the same work (leave it
   * running). Absent means true.
   */
  cancelledByBurst?(): boolean;
  /** Report progress; also how a long call proves it is alive. */
  heartbeat(details?: unknown): void;
  log: { info(msg: string, meta?: Record<string, unknown>): void; warn(msg: string, meta?: Record<string, unknown>): void };
}

export interface PlanOptions {
  nodeNames?: string[];
}

/** The local scheduler new nodes join. */
export type Broker = { kind: 'slurm'; conf: string };

export interface OwnedResource {
  burstId: string;
  owner: string;
  kind: string;
  id: string;
}

/**
 * The plugin contract: a small provider interface in the spirit of Karpenter's CloudProvider.
 * Every method must be safe to call again with the same arguments (activities retry): provision
 * finds what an earlier try made instead of making a second one; teardown treats "already gone"
 * as done. `P` is the parsed params type.
 */
export interface Plugin<P = any> {
  readonly name: string;
  readonly description: string;
  /** zod schema for the params: one source for YAML keys, validation and JSON Schema. */
  readonly params: z.ZodType<P>;
  /** Cheap, no side effects: can this plugin take these jobs at all, and at what cost. */
  estimate(jobs: Job[], params: P): Estimate | { unfit: string };
  /**
   * What one of this job's nodes would be here (instance type, machine type) and its price per
   * node-hour, or why the job cannot run here. Pure, and a function of the job's resource request
   * (nodes, tasks, coresPerNode, gpusPerNode, memoryMiB, exclusive) and its fluxburst override
   * only: the planner answers once per such profile, not once per job.
   */
  shape?(job: Job, params: P): { shape: string; costPerNodeHour: number } | { unfit: string };
  /**
   * For `--dry-run`: ask the provider whether the launch would be allowed (EC2's DryRun), with no
   * side effects. Each check names the call and the provider's answer.
   */
  preflight?(jobs: Job[], params: P, ctx: PluginContext): Promise<Array<{ call: string; ok: boolean; code: string; message?: string }>>;
  /**
   * Size the burst and list its provision steps, in creation order. No side effects. With
   * `opts.nodeNames` (Slurm power-save names the nodes it wants) the plan must make exactly those
   * nodes, each in a step whose `node` is its name; a plugin that cannot simply ignores it and the
   * caller refuses the plan.
   */
  plan(jobs: Job[], params: P, ctx: PluginContext, opts?: PlanOptions): Promise<BurstPlan>;
  /** Create one step's resource, or return the one an earlier try made. */
  provision(step: ProvisionStep, plan: BurstPlan, params: P, ctx: PluginContext): Promise<ResourceRef>;
  /**
   * Connect the created capacity to the local scheduler; resolves when nodes are usable. With a
   * broker, the nodes join that scheduler (e.g. a slurmd per node registered with slurmctld).
   */
  join(resources: ResourceRef[], params: P, ctx: PluginContext, broker?: Broker): Promise<void>;
  /**
   * Remove one node of a resource that holds several (an interrupted fleet member), leaving the
   * rest running. Already gone is success.
   */
  releaseNode?(node: string, ref: ResourceRef, params: P, ctx: PluginContext): Promise<void>;
  /**
   * Run one job on the given nodes, where the plugin itself is the executor. Plugins without it
   * only bring nodes to the local scheduler, which runs the jobs; the burst then holds the nodes
   * until the scheduler reports each job finished (the `jobDone` update).
   */
  run?(job: Job, nodes: ResourceRef[], params: P, ctx: PluginContext): Promise<JobResult>;
  /**
   * Whether, with these params, the plugin runs jobs itself (default: whether it has `run`). A
   * plugin whose nodes can instead join the local scheduler (the local plugin's Flux mode: the
   * nodes are Flux brokers) says no, and the burst lets the scheduler run them.
   */
  runsJobs?(params: P): boolean;
  /** Whether, with these params, `interruptions` is worth polling (default: whether it exists). */
  watchesNodes?(params: P): boolean;
  /** Current interruption notices for these resources (spot warnings, lost nodes). */
  interruptions?(resources: ResourceRef[], params: P, ctx: PluginContext): Promise<Interruption[]>;
  /** Delete one step's resource. `ref` is absent when provision may have run but never returned. */
  teardown(step: ProvisionStep, ref: ResourceRef | undefined, params: P, ctx: PluginContext): Promise<void>;
  /**
   * Resources tagged as ours, for the orphan sweep. `ctx` (the sweep's; its burstId and owner are
   * the sweep's, not the resources') carries the target's credentials.
   */
  owned(params: P, ctx?: PluginContext): Promise<OwnedResource[]>;
  /**
   * Delete one owned resource found by the sweep (whose burst is not running); already gone is
   * success. Without it the sweep reports what it found but removes nothing of this plugin's.
   */
  destroy?(r: OwnedResource, params: P, ctx: PluginContext): Promise<void>;
}

export function definePlugin<P>(p: Plugin<P>): Plugin<P> {
  return p;
}
