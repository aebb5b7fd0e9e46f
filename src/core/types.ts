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
  stdout: string;
  stderr: string;
}

export interface JobResult {
  jobId: string;
  exitCode: number;
  tasks: TaskResult[];
}

export interface JobStatus {
  id: string;
  name: string;
  nodes: number;
  state: JobState;
  /** How many times the job was started (more than one after an interruption requeued it). */
  attempts: number;
  assigned: string[];
  result?: JobResult;
  error?: string;
}

/** A thing a provision step makes; the step key is deterministic so retries find the same one. */
export interface ProvisionStep {
  key: string;
  kind: string;
  /** For node steps: which node this is. */
  node?: string;
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
  | { kind: 'flux'; flux?: string }
  /**
   * Pending jobs from Slurm through `squeue --json` (SLURM_CONF from the worker's env). A job is
   * burstable when its comment says `burstable`/`fluxburst` or it waits in one of `partitions`.
   */
  | { kind: 'slurm'; squeue?: string; partitions?: string[]; conf?: string };

/** One test on a job field or attribute path, e.g. `{path: 'attributes.system.queue', in: ['gpu']}`. */
export interface Condition {
  path: string;
  equals?: string | number | boolean;
  in?: Array<string | number | boolean>;
  exists?: boolean;
  min?: number;
  max?: number;
}

export type SelectorSpec =
  | { kind: 'burstable' }
  | { kind: 'match'; all?: Condition[]; any?: Condition[] }
  | { kind: 'module'; path: string; export: string };

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

export interface BurstInput {
  owner: string;
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
}

export type Outcome = 'completed' | 'cancelled' | 'nothing-to-do';

export interface BurstResult {
  burstId: string;
  outcome: Outcome;
  status: BurstStatus;
}
