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
      return readSlurmJobs({ ...(src.squeue ? { squeue: src.squeue } : {}), ...(src.partitions ? { partitions: src.partitions } : {}) });
  }
}
