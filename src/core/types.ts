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
  /** Set on resources that are schedulable nodes. */
  node?: string;
  data?: Record<string, string | number | boolean>;
}

export interface PluginChoice {
  name: string;
  params: Record<string, unknown>;
}

export type SourceSpec =
  | { kind: 'inline'; jobs: Job[] }
  | { kind: 'file'; path: string };

export interface SelectorSpec {
  kind: 'burstable';
}

export interface BurstTimeouts {
  /** Longest a single provision/teardown call may take. */
  stepSeconds: number;
  /** Heartbeat timeout for long activities: how soon a dead worker's activity is retried. */
  heartbeatSeconds: number;
  /** Longest a job may run before it is failed. */
  jobSeconds: number;
}

export interface BurstInput {
  owner: string;
  source: SourceSpec;
  selector: SelectorSpec;
  ordering: 'in_order';
  plugins: PluginChoice[];
  maxNodes: number;
  timeouts: BurstTimeouts;
}

export interface Interruption {
  node: string;
  kind: 'spot-interruption' | 'rebalance' | 'termination' | 'node-lost';
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
  reason?: string;
  plan?: BurstPlan;
  resources: ResourceRef[];
  jobs: JobStatus[];
  interruptions: Interruption[];
  timeline: PhaseMark[];
  error?: { step: Step; message: string };
  cancelReason?: string;
}

export type Outcome = 'completed' | 'cancelled' | 'nothing-to-do';

export interface BurstResult {
  burstId: string;
  outcome: Outcome;
  status: BurstStatus;
}
