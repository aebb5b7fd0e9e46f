// Shapes shared by the CLI, activities and workflows. Pure types only: workflows import this file,
// so nothing here may touch Node, clocks or randomness.

export type Phase =
  | 'pending'
  | 'select'
  | 'plan'
  | 'provision'
  | 'join'
  | 'run'
  | 'teardown'
  | 'completed'
  | 'failed'
  | 'cancelled';

/** The saga steps a failure can be attributed to (phases that do work). */
export type Step = 'select' | 'plan' | 'provision' | 'join' | 'run' | 'teardown';

/** One pending job from any source, normalised. */
export interface Job {
  id: string;
  name: string;
  user?: string;
  nodes: number;
  tasks: number;
  coresPerNode?: number;
  gpusPerNode?: number;
  memoryMiB?: number;
  walltimeSeconds?: number;
  exclusive?: boolean;
  /** The local queue/partition it waits in, when the source has one. */
  queue?: string;
  /** argv of the job's command (Flux: spec.tasks[0].command). */
  command: string[];
  /** spec.attributes (system + user), as the source gave them. */
  attributes: Record<string, unknown>;
}

export type JobState = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface TaskResult {
  rank: number;
  node: string;
  exitCode: number;
  /** The tail of the task's output (how much is kept depends on where the result travels). */
  stdout: string;
  stderr: string;
  /** The whole output's size, when only a tail is kept. */
  stdoutBytes?: number;
  stderrBytes?: number;
  /** Where the whole output is, when the plugin keeps it (local: `outputDir`). */
  outputPath?: string;
}

export interface JobResult {
  jobId: string;
  exitCode: number;
  tasks: TaskResult[];
  /** Why the job failed when it is not its own exit code (a time limit, a command that cannot start). */
  error?: string;
}

export interface JobStatus {
  /** Index in the burst's job list (absent in statuses from before batching). */
  i?: number;
  id: string;
  name: string;
  nodes: number;
  state: JobState;
  /** How many times the job was started (more than one after an interruption requeued it). */
  attempts: number;
  assigned: string[];
  result?: JobResult;
  error?: string;
  /** A job the local scheduler ran again under a new id (Flux: resubmitted after a node failure): the ids before, and why. */
  resubmitted?: { from: string[]; reason: string };
}

/** A thing a provision step makes; the step key is deterministic so retries find the same one. */
export interface ProvisionStep {
  key: string;
  kind: string;
  /** For node steps: which node this is. */
  node?: string;
  /**
   * For node steps: the node's place in the burst (0-based), kept by its replacements — the
   * scheduler rank a plugin gives it (a Flux/MiniCluster rank, a fault aimed at "node 1").
   * Absent in steps recorded before it existed: plugins fall back to the name.
   */
  rank?: number;
  /** For a replacement node: which replacement of the burst this is (1, 2, …). */
  replacement?: number;
  /** For a replacement node: the node it replaces and why (a plugin may pick other capacity). */
  replaces?: { node: string; kind: Interruption['kind'] };
}

export interface NodeGroup {
  name: string;
  count: number;
  shape: string;
  gangMin: number;
}

export interface Estimate {
  nodes: number;
  costPerHour: number;
  secondsToReady: number;
}

export interface BurstPlan {
  plugin: string;
  nodes: number;
  groups: NodeGroup[];
  steps: ProvisionStep[];
  estimate: Estimate;
}

export interface ResourceRef {
  key: string;
  kind: string;
  /** Provider id (pid, instance id, namespace, ...). */
  id: string;
  /** Set on resources that are one schedulable node. */
  node?: string;
  /** Set on resources that hold several schedulable nodes (an EC2 fleet, a node pool). */
  nodes?: string[];
  data?: Record<string, string | number | boolean>;
}

/** A place to burst to: a plugin with its params (config `targets:`), by name. */
export interface TargetChoice {
  name: string;
  plugin: string;
  params: Record<string, unknown>;
  /** Names → where the secret lives. Resolved on the worker; values never enter a history. */
  credentials?: Record<string, CredentialRef>;
}

export type CredentialRef = { env: string } | { file: string };

export type SourceSpec =
  /** Jobs given with the burst; `selected` when the starter already applied the selector. */
  | { kind: 'inline'; jobs: Job[]; selected?: boolean }
  | { kind: 'file'; path: string }
  /** Pending jobs from a Flux instance through its `flux` command (FLUX_URI from the worker's env). */
  | {
      kind: 'flux';
      flux?: string;
      /** Resubmit a job that Flux failed because its node failed, with its original jobspec, up to this many times (opt-in). */
      resubmit?: number;
    }
  /**
   * Pending jobs from Slurm through `squeue --json` (SLURM_CONF from the worker's env). A job is
   * burstable when its comment says `burstable`/`fluxburst` or it waits in one of `partitions`.
   */
  | { kind: 'slurm'; squeue?: string; partitions?: string[]; conf?: string };

/** Selector and condition types, derived from their zod schema (one source: src/core/selector.ts). */
import type { Condition, SelectorSpec } from './selector.js';
export type { Condition, SelectorSpec };

export interface BurstTimeouts {
  /** Longest a single provision/teardown call may take. */
  stepSeconds: number;
  /** Heartbeat timeout for long activities: how soon a dead worker's activity is retried. */
  heartbeatSeconds: number;
  /** Longest a job may run before it is failed. */
  jobSeconds: number;
  /** How often a running burst polls its plugin for interruptions (plugins that have `interruptions`). */
  interruptionPollSeconds?: number;
}

/**
 * Where a burst's jobs are: in the history itself when the list is small, or in a spool file
 * (a claim check: content-addressed JSONL that the starter wrote and every worker can read) when
 * it is not — a workflow input, like any payload, must stay well under Temporal's 2 MB.
 */
export type JobsRef = { kind: 'inline'; jobs: Job[] } | { kind: 'spool'; path: string; sha256: string; count: number };

/** How the run phase hands out work and keeps its history small (config `run:`). */
export interface RunSettings {
  /** Most jobs in one batch (one activity call runs a batch's jobs one after another). */
  batchMax: number;
  /** A batch hands back the jobs it has not started after this long, so the burst stays responsive. */
  batchSeconds: number;
  /** Continue-as-new once a run's history has this many events (Temporal warns at 10,240). */
  eventsPerRun: number;
  /** Bytes of each job's output tail kept in the history (the full output stays on the node / outputDir). */
  tailBytes: number;
  /** Jobs loaded into the workflow at a time from a spool. */
  pageSize: number;
}

export interface BurstInput {
  owner: string;
  /** The burst's jobs, already selected (the starter ran the selector). Without it, `source` is read and selected in the workflow. */
  jobs?: JobsRef;
  source: SourceSpec;
  selector: SelectorSpec;
  /** Candidates in the order to try them; the planner already applied the ordering strategy. */
  targets: TargetChoice[];
  /** Why the planner put the burst on its chain (ordering, targets passed over). */
  reason?: string;
  maxNodes: number;
  /** Spend caps from config `limits`: a plan over maxCostPerHour is refused; a burst stops at maxSpend. */
  budget?: { maxCostPerHour?: number; maxSpend?: number };
  timeouts: BurstTimeouts;
  /** Absent in inputs from before batching: defaults apply. */
  run?: Partial<RunSettings>;
  /** Set only when a burst continues as new: where the previous run left off. */
  carried?: CarriedBurst;
}

/** What a burst carries into its next run (continue-as-new): small, whatever the job count. */
export interface CarriedBurst {
  jobs: JobsRef;
  /** Jobs in `jobs` (plus any added to the running burst, which `added` holds). */
  count: number;
  /** Next index of `jobs` never loaded into the scheduler. */
  cursor: number;
  added: Job[];
  status: BurstStatus;
  choice: CarriedChoice;
  undo: Array<{ step: ProvisionStep; ref?: ResourceRef }>;
  scheduler: unknown;
  spendFrom?: number;
  runs: number;
}

export interface CarriedChoice {
  plugin: string;
  params: Record<string, unknown>;
  credentials?: Record<string, CredentialRef>;
  runs: boolean;
  watches: boolean;
}

export interface Interruption {
  node: string;
  kind: 'spot-interruption' | 'rebalance' | 'termination' | 'scheduled-change' | 'node-lost';
  reason: string;
}

export interface PhaseMark {
  phase: Phase;
  /** Workflow time (ms since epoch) the phase began. */
  at: number;
}

export interface BurstStatus {
  burstId: string;
  owner: string;
  phase: Phase;
  plugin?: string;
  target?: string;
  reason?: string;
  plan?: BurstPlan;
  resources: ResourceRef[];
  jobs: JobStatus[];
  interruptions: Interruption[];
  timeline: PhaseMark[];
  error?: { step: Step; message: string };
  cancelReason?: string;
  /** Estimated spend so far (USD): the plan's cost per hour × the time its nodes have existed. */
  spend?: number;
  /**
   * Bursts that batch their jobs: counts over all jobs, the first failures with their reasons, and
   * `jobs` is then a page (the running and most recently finished ones), not every job.
   */
  counts?: { total: number; pending: number; running: number; completed: number; failed: number; cancelled: number; requeued: number };
  failures?: Array<{ i: number; id: string; exitCode?: number; error?: string }>;
  /** Which run of the workflow this is (continue-as-new keeps the id and counts up). */
  run?: number;
}

export type Outcome = 'completed' | 'cancelled' | 'nothing-to-do';

export interface BurstResult {
  burstId: string;
  outcome: Outcome;
  status: BurstStatus;
}
