// Slurm job source: pending jobs from `squeue --json` (Slurm 22.05, openapi/v0.0.38 output:
// `{meta, errors, jobs: [...]}`, one record per job with job_id, name, user_name, partition,
// job_state, state_reason, node_count, tasks, cpus, cpus_per_task, minimum_cpus_per_node,
// memory_per_node / memory_per_cpu (MiB), time_limit (minutes), shared, tres_per_node /
// tres_per_job (`gres:gpu:2`), command, comment, …; unset numbers are null). A real sample:
// test/fixtures/slurm/squeue-22.05.json.
//
// `squeue --json` ignores filters (-t, -j, -p: every job comes back, finished ones included), so
// we read everything and keep job_state PENDING ourselves. Held jobs (state_reason JobHeld*) are
// left out: they cannot run anywhere until released.
//
// Burstable rule (what the `burstable` selector reads, attributes.system.burstable): a job is
// burstable when its comment has the word `burstable` or `fluxburst` (`sbatch --comment=burstable`),
// or its partition is one of the source's `partitions`. Everything Slurm said about the job that
// we use is kept under attributes.system.slurm for `match` selectors.

import { z } from 'zod';
import { type FieldIssue, formatIssues } from '../core/errors.js';
import type { Job } from '../core/types.js';
import { toFieldIssues } from '../core/zod-issues.js';

export const SQUEUE_ARGS = ['--json'] as const;

export { SlurmCommandError, type SlurmFailure } from '../slurm/command.js';

import { runSlurmCommand, SlurmCommandError } from '../slurm/command.js';

const malformed = (command: string, issues: FieldIssue[]) => new SlurmCommandError(command, 'malformed', formatIssues(`output of \`${command}\``, issues), { issues });

// Slurm prints NO_VAL (0xfffffffe) / INFINITE (0xffffffff) in some versions where others print null.
const NO_VAL_MIN = 0xfffffffe;
const num = z.number().nullish().transform((v) => (v === null || v === undefined || v >= NO_VAL_MIN ? undefined : v));
const str = z.string().nullish().transform((v) => v ?? '');

const squeueJob = z.looseObject({
  job_id: z.number().int().nonnegative(),
  name: str,
  user_name: str,
  partition: str,
  job_state: z.string(),
  state_reason: str,
  node_count: num,
  tasks: num,
  cpus: num,
  cpus_per_task: num,
  minimum_cpus_per_node: num,
  memory_per_node: num,
  memory_per_cpu: num,
  time_limit: num,
  shared: z.string().nullish(),
  tres_per_node: str,
  tres_per_job: str,
  command: str,
  comment: str,
  array_job_id: num,
  array_task_string: str,
});
export type SqueueJob = z.output<typeof squeueJob>;

const squeueDoc = z.looseObject({
  jobs: z.array(z.unknown()),
  errors: z.array(z.unknown()).optional(),
  meta: z.unknown().optional(),
});

export interface SlurmSourceOptions {
  /** The squeue executable: a path or a name on PATH. Default `squeue`. */
  squeue?: string;
  /** Partitions whose pending jobs are all burstable. */
  partitions?: string[];
  /** Environment for squeue (SLURM_CONF picks the cluster). Default: this process's. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** GPUs in a TRES string like `gres:gpu:2`, `gres/gpu:a100:4`, `gpu:2,gres:license:1`. */
export function gpusIn(tres: string): number {
  let n = 0;
  for (const part of tres.split(',')) {
    // gpu, gpu:COUNT, gpu:TYPE, gpu:TYPE:COUNT (after an optional `gres:` / `gres/`)
    const m = /^(?:gres[:/])?gpu((?::[^:,]+){0,2})$/.exec(part.trim());
    if (!m) continue;
    const last = m[1]!.split(':').pop()!;
    n += /^\d+$/.test(last) ? Number(last) : 1;
  }
  return n;
}

const BURSTABLE_WORD = /\b(burstable|fluxburst)\b/i;

export function isBurstableSlurmJob(j: SqueueJob, partitions: readonly string[] = []): boolean {
  if (BURSTABLE_WORD.test(j.comment)) return true;
  return j.partition.split(',').some((p) => partitions.includes(p));
}

/** One squeue record → Job. */
export function slurmJobToJob(j: SqueueJob, partitions: readonly string[] = []): Job {
  const nodes = Math.max(1, j.node_count ?? 1);
  const tasks = Math.max(1, j.tasks ?? nodes);
  const job: Job = { id: String(j.job_id), name: j.name || String(j.job_id), nodes, tasks, command: j.command ? [j.command] : [], attributes: {} };
  if (j.user_name) job.user = j.user_name;
  if (j.partition) job.queue = j.partition;
  const cores = Math.max(j.minimum_cpus_per_node ?? 0, j.cpus !== undefined ? Math.ceil(j.cpus / nodes) : 0, j.cpus_per_task ?? 0);
  if (cores > 0) job.coresPerNode = cores;
  const gpus = gpusIn(j.tres_per_node) || Math.ceil(gpusIn(j.tres_per_job) / nodes);
  if (gpus > 0) job.gpusPerNode = gpus;
  const mem = j.memory_per_node ?? (j.memory_per_cpu !== undefined && cores > 0 ? j.memory_per_cpu * cores : undefined);
  if (mem !== undefined && mem > 0) job.memoryMiB = mem;
  if (j.time_limit !== undefined && j.time_limit > 0) job.walltimeSeconds = j.time_limit * 60;
  if (j.shared === 'none') job.exclusive = true;
  const system: Record<string, unknown> = {
    queue: j.partition,
    slurm: { state: j.job_state, reason: j.state_reason, comment: j.comment, ...(j.tres_per_node ? { tresPerNode: j.tres_per_node } : {}) },
  };
  if (isBurstableSlurmJob(j, partitions)) system.burstable = 1;
  job.attributes = { system };
  return job;
}

/** Pending (not held) jobs of a `squeue --json` document, as Jobs, in squeue's order. */
export function parseSqueueJson(text: string, o: { partitions?: readonly string[]; command?: string } = {}): Job[] {
  const command = o.command ?? `squeue ${SQUEUE_ARGS.join(' ')}`;
  const trimmed = text.trim();
  if (!trimmed) throw malformed(command, [{ path: '', message: 'no output (expected a JSON object with a `jobs` list)' }]);
  let doc: unknown;
  try {
    doc = JSON.parse(trimmed);
  } catch (e) {
    throw malformed(command, [{ path: '', message: `not JSON: ${(e as Error).message.split('\n')[0]}` }]);
  }
  const d = squeueDoc.safeParse(doc);
  if (!d.success) throw malformed(command, toFieldIssues(d.error));
  const issues: FieldIssue[] = [];
  const jobs: Job[] = [];
  d.data.jobs.forEach((raw, i) => {
    const r = squeueJob.safeParse(raw);
    if (!r.success) {
      issues.push(...toFieldIssues(r.error, `jobs[${i}]`));
      return;
    }
    if (r.data.job_state !== 'PENDING' || r.data.state_reason.startsWith('JobHeld')) return;
    jobs.push(slurmJobToJob(r.data, o.partitions ?? []));
  });
  if (issues.length) throw malformed(command, issues);
  return jobs;
}

export async function readSlurmJobs(o: SlurmSourceOptions = {}): Promise<Job[]> {
  const squeue = o.squeue ?? 'squeue';
  const command = [squeue, ...SQUEUE_ARGS].join(' ');
  const stdout = await runSlurmCommand(squeue, [...SQUEUE_ARGS], {
    ...(o.env ? { env: o.env } : {}),
    ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    notFoundHint: "is slurm-client installed, and is the source's `squeue` path right?",
  });
  return parseSqueueJson(stdout, { partitions: o.partitions ?? [], command });
}
