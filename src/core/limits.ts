// Bounds on what one job (and one target) may ask for, checked where input enters (job files,
// Flux listings, the config) so a typo like `tasks: 1000000000` is refused by name instead of
// reaching a worker that would try to honour it.

/** Most nodes one job or one burst may have (also the ceiling of `limits.maxNodes`). */
export const MAX_NODES = 10_000;
/** Most tasks (ranks) per node: the local agent starts a process for each. */
export const MAX_TASKS_PER_NODE = 1024;
/** Most tasks in one job. */
export const MAX_TASKS = 1_048_576;
export const MAX_CORES_PER_NODE = 1024;
export const MAX_GPUS_PER_NODE = 64;
/** 16 TiB. */
export const MAX_MEMORY_MIB = 16 * 1024 * 1024;
/** Longest job id: ids become file names and route segments (255-byte names, with room for a suffix). */
export const MAX_JOB_ID = 240;

/**
 * Job ids name directories and HTTP routes on the nodes: ASCII letters, digits and `. _ : -` (what the local agent routes),
 * not starting with a dot. Flux ids (numbers), Slurm ids (`1234`, `1234_5`) fit.
 */
export const JOB_ID = /^[A-Za-z0-9_:-][A-Za-z0-9._:-]*$/;

/** Why a job id is refused, or undefined. */
export function jobIdProblem(id: string): string | undefined {
  if (id.length > MAX_JOB_ID) return `job id "${id.slice(0, 40)}…" is ${id.length} characters; at most ${MAX_JOB_ID}`;
  if (!JOB_ID.test(id)) {
    return `job id ${JSON.stringify(id)}: ASCII letters, digits and . _ : - only (no spaces, "/" or other characters; not starting with ".")`;
  }
  return undefined;
}
