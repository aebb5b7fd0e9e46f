import type { Job, SourceSpec } from '../core/types.js';
import { readJobsFile } from './file-source.js';
import { readFluxJobs } from './flux-source.js';
import { readSlurmJobs } from './slurm-source.js';

/** Every pending job the source holds, normalised. */
export async function readSource(src: SourceSpec): Promise<Job[]> {
  switch (src.kind) {
    case 'inline':
      return src.jobs;
    case 'file':
      return readJobsFile(src.path);
    case 'flux':
      return readFluxJobs(src.flux ? { flux: src.flux } : {});
    case 'slurm':
      return readSlurmJobs({
        ...(src.squeue ? { squeue: src.squeue } : {}),
        ...(src.partitions ? { partitions: src.partitions } : {}),
        ...(src.conf ? { env: { ...process.env, SLURM_CONF: src.conf } } : {}),
      });
  }
}

/** The config's queue (file, Flux or Slurm), or undefined when it names none. */
export function configSource(config: { jobs?: string | undefined; flux?: { command: string; resubmit?: number } | undefined; slurm?: { squeue: string; conf?: string | undefined; partitions: string[] } | undefined }, resolvePath: (p: string) => string): SourceSpec | undefined {
  if (config.jobs) return { kind: 'file', path: resolvePath(config.jobs) };
  if (config.flux) return { kind: 'flux', flux: config.flux.command, ...(config.flux.resubmit ? { resubmit: config.flux.resubmit } : {}) };
  if (config.slurm) return { kind: 'slurm', squeue: config.slurm.squeue, partitions: config.slurm.partitions, ...(config.slurm.conf ? { conf: resolvePath(config.slurm.conf) } : {}) };
  return undefined;
}
