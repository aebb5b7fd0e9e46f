import type { Job, SelectorSpec } from '../core/types.js';

export interface Selection {
  selected: Job[];
  skipped: { id: string; reason: string }[];
}

/** flux-burst's default: the jobspec carries the `burstable` system attribute. */
export function isBurstable(job: Job): boolean {
  const system = job.attributes.system as Record<string, unknown> | undefined;
  return !!system && 'burstable' in system && system.burstable !== false && system.burstable !== 0;
}

export function selectJobs(jobs: Job[], spec: SelectorSpec): Selection {
  const selected: Job[] = [];
  const skipped: Selection['skipped'] = [];
  for (const job of jobs) {
    switch (spec.kind) {
      case 'burstable':
        if (isBurstable(job)) selected.push(job);
        else skipped.push({ id: job.id, reason: 'not marked burstable' });
    }
  }
  return { selected, skipped };
}
