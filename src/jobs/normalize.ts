import type { FieldIssue } from '../core/errors.js';
import { jobIdProblem, MAX_CORES_PER_NODE, MAX_GPUS_PER_NODE, MAX_NODES, MAX_TASKS, MAX_TASKS_PER_NODE } from '../core/limits.js';
import type { Job } from '../core/types.js';
import type { FluxJobinfo, ResourceVertex, SimpleJob } from './schema.js';

function countOf(v: ResourceVertex): number {
  return typeof v.count === 'number' ? v.count : v.count.min;
}

/** Sum of `type` vertices below one vertex, multiplied through counts (slot×core etc). */
function perVertex(v: ResourceVertex, type: string): number {
  let total = 0;
  for (const child of v.with ?? []) {
    if (child.type === type) total += countOf(child);
    else total += countOf(child) * perVertex(child, type);
  }
  return total;
}

/** The first vertex of this type, depth first (node and slot may sit under a cluster or rack). */
function findVertex(vs: ResourceVertex[], type: string): ResourceVertex | undefined {
  for (const v of vs) {
    if (v.type === type) return v;
    const deeper = findVertex(v.with ?? [], type);
    if (deeper) return deeper;
  }
  return undefined;
}

/** Flux jobinfo → Job. The job-list fields (nnodes, ntasks) win over what the jobspec implies. */
export function fromFluxJobinfo(info: FluxJobinfo): Job {
  const spec = info.spec;
  const node = findVertex(spec.resources, 'node');
  const slot = findVertex(spec.resources, 'slot');
  const slots = slot ? countOf(slot) : 1; // per node when a node vertex holds the slots
  const nodes = info.nnodes ?? (node ? countOf(node) : 1);
  const task0 = spec.tasks[0]!;
  const perSlot = task0.count?.per_slot;
  const total = task0.count?.total;
  const tasks = info.ntasks ?? total ?? (perSlot ?? 1) * slots * (node ? countOf(node) : 1);
  // Without a node vertex the slots are spread over the job's nodes: per-node is total / nodes.
  const perNode = (type: string) => (node ? perVertex(node, type) : slot ? Math.ceil((perVertex(slot, type) * slots) / nodes) : 0);
  const cores = perNode('core');
  const gpus = perNode('gpu');
  const system = spec.attributes?.system ?? {};
  const duration = typeof system.duration === 'number' && system.duration > 0 ? system.duration : undefined;
  const job: Job = {
    id: info.id,
    name: info.name ?? task0.command[0]!,
    nodes,
    tasks,
    command: task0.command,
    attributes: { system: { ...system }, ...(spec.attributes?.user ? { user: { ...spec.attributes.user } } : {}) },
  };
  const user = info.username ?? (info.userid === undefined ? undefined : String(info.userid));
  if (user !== undefined) job.user = user;
  if (cores > 0) job.coresPerNode = cores;
  if (gpus > 0) job.gpusPerNode = gpus;
  if (duration !== undefined) job.walltimeSeconds = duration;
  if (node?.exclusive !== undefined) job.exclusive = node.exclusive;
  return job;
}

export function fromSimpleJob(s: SimpleJob): Job {
  const attrs: Record<string, unknown> = { ...(s.attributes ?? {}) };
  const system = { ...((attrs.system as Record<string, unknown> | undefined) ?? {}) };
  if (s.burstable) system.burstable = 1;
  attrs.system = system;
  const job: Job = {
    id: s.id,
    name: s.name ?? s.command[0]!,
    nodes: s.nodes,
    tasks: s.tasks ?? s.nodes,
    command: s.command,
    attributes: attrs,
  };
  if (s.user !== undefined) job.user = s.user;
  if (s.coresPerNode !== undefined) job.coresPerNode = s.coresPerNode;
  if (s.gpusPerNode !== undefined) job.gpusPerNode = s.gpusPerNode;
  if (s.memoryMiB !== undefined) job.memoryMiB = s.memoryMiB;
  if (s.walltimeSeconds !== undefined) job.walltimeSeconds = s.walltimeSeconds;
  if (s.exclusive !== undefined) job.exclusive = s.exclusive;
  return job;
}

/**
 * What the schemas cannot see on one field alone, checked on the normalised job (short form and
 * Flux alike): tasks against nodes (Flux refuses a job with fewer tasks than nodes) and the bounds
 * that keep one job from asking a worker or a node for more than it can start.
 */
export function jobProblems(job: Job): FieldIssue[] {
  const out: FieldIssue[] = [];
  const at = (path: string, message: string) => out.push({ path, message: `job ${job.id}: ${message}` });
  if (job.nodes > MAX_NODES) at('nodes', `${job.nodes} nodes; at most ${MAX_NODES}`);
  if (!Number.isInteger(job.tasks) || job.tasks < 1) at('tasks', `${job.tasks} tasks; a job runs a whole number of tasks, at least 1`);
  else if (job.tasks < job.nodes) at('tasks', `${job.tasks} task(s) on ${job.nodes} nodes; give at least one task per node (Flux refuses fewer)`);
  else if (job.tasks > Math.min(MAX_TASKS, job.nodes * MAX_TASKS_PER_NODE)) {
    at('tasks', `${job.tasks} tasks on ${job.nodes} node(s); at most ${MAX_TASKS_PER_NODE} per node and ${MAX_TASKS} in all`);
  }
  if (job.coresPerNode !== undefined && job.coresPerNode > MAX_CORES_PER_NODE) at('coresPerNode', `${job.coresPerNode} cores per node; at most ${MAX_CORES_PER_NODE}`);
  if (job.gpusPerNode !== undefined && job.gpusPerNode > MAX_GPUS_PER_NODE) at('gpusPerNode', `${job.gpusPerNode} GPUs per node; at most ${MAX_GPUS_PER_NODE}`);
  return out;
}

/**
 * Why a job is outside fluxburst's bounds (src/core/limits.ts: its id and counts), or undefined.
 * For jobs that skipped the jobs-file checks (a Flux or Slurm queue, a watch scan, a schedule).
 */
export function outOfBounds(job: Job): string | undefined {
  const why = [jobIdProblem(job.id), ...jobProblems(job).map((p) => `${p.path}: ${p.message.replace(`job ${job.id}: `, '')}`)].filter(Boolean);
  return why.length ? `out of bounds: ${why.join('; ')}` : undefined;
}
