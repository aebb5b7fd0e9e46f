// The run phase when Flux runs the jobs: the burst's nodes joined the lead as brokers, Flux places
// the burst's jobs (and may place others) there, and the burst follows its jobs' states — one
// activity call long-polls Flux for all of them and returns on the first that ends — until every
// job is inactive. A lost or reclaimed node is drained in Flux first (no new job lands there),
// then released and replaced; a job Flux failed because its node failed is reported as such and,
// when the config asks (`flux.resubmit`), submitted again with its original jobspec.
import { CancellationScope, condition, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { SchedJob } from '../src/burst/scheduler.js';
import { NON_RETRYABLE_CODES } from '../src/core/errors.js';
import type { JobStatus, SourceSpec } from '../src/core/types.js';
import type { FluxActivities } from '../src/core/flux.js';
import { handleInterruption } from './burst-interrupt.js';
import type { RunDeps } from './burst-run.js';
import { nodeRefs, pollInterruptions } from './burst-run.js';
import type { BurstRun } from './burst-state.js';

/** How long one follow call waits for a job to end before the burst looks again. */
const FOLLOW_SECONDS = 60;

export function followsFlux(b: BurstRun): boolean {
  return b.choice?.runs === false && b.input.source.kind === 'flux';
}

function fluxActivities(b: BurstRun) {
  const t = b.input.timeouts;
  return proxyActivities<FluxActivities>({
    startToCloseTimeout: (FOLLOW_SECONDS + 120) * 1000,
    heartbeatTimeout: t.heartbeatSeconds * 1000,
    retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: [...NON_RETRYABLE_CODES] },
  });
}

export async function followFluxJobs(b: BurstRun, d: RunDeps): Promise<'done'> {
  const flux = fluxActivities(b);
  const source = b.input.source as Extract<SourceSpec, { kind: 'flux' }>;
  const refs = nodeRefs(b.st.resources);
  // Every job of the burst is Flux's from the start: load the ids, follow them all.
  const open = new Map<string, SchedJob>();
  while (b.cursor < b.count) {
    const offset = b.cursor;
    const limit = Math.min(b.settings.pageSize, b.count - offset);
    const page = b.jobs.kind === 'inline' ? { ids: b.jobs.jobs.slice(offset, offset + limit).map((j) => j.id) } : await d.acts.quick.loadJobs({ jobs: b.jobs, offset, limit });
    page.ids.forEach((id, k) => open.set(id, { i: offset + k, id, nodes: 1, attempts: 1 }));
    b.cursor = offset + page.ids.length;
  }
  for (const j of b.added) open.set(j.id, { i: b.count + b.added.indexOf(j), id: j.id, nodes: j.nodes, attempts: 1 });
  // The job's status keeps the ids it had before Flux ran it again.
  const resubmitted = new Map<string, NonNullable<JobStatus['resubmitted']>>();
  const show = (j: SchedJob, state: JobStatus['state'], extra: Partial<JobStatus> = {}) => {
    const r = resubmitted.get(j.id);
    const js: JobStatus = { i: j.i, id: j.id, name: j.id, nodes: j.nodes, state, attempts: j.attempts ?? 1, assigned: [], ...(r ? { resubmitted: r } : {}), ...extra };
    b.see(js);
    return js;
  };
  for (const j of open.values()) show(j, 'running');
  const track = () => (b.externalRunning = open.size);
  track();

  const stopPolling = pollInterruptions(b, d, () => [...refs.keys()]);
  try {
    return await follow();
  } finally {
    stopPolling();
  }

  async function follow(): Promise<'done'> {
  let scope: CancellationScope | undefined;
  const seen = { wake: b.wake };
  // An interruption wakes the burst: the follow call in flight is cut short so the drain happens now.
  void (async () => {
    for (;;) {
      // Only a new wake-up (signals and polls touch it), never a standing condition: a pending
      // interruption that stays queued until the follow loop takes it would spin this loop.
      await condition(() => b.wake !== seen.wake);
      seen.wake = b.wake;
      scope?.cancel();
      if (!open.size) return;
    }
  })().catch(() => undefined);

  const resubmits = source.resubmit ?? 0;
  while (open.size) {
    while (b.interrupts.length) {
      await handleInterruption(b, d, refs, b.interrupts.shift()!, () => undefined, (node, reason) => flux.drainFluxNodes({ source, hosts: [node], reason }));
    }
    scope = new CancellationScope();
    let r: Awaited<ReturnType<FluxActivities['followFluxJobs']>>;
    try {
      r = await scope.run(() => flux.followFluxJobs({ source, ids: [...open.keys()], waitSeconds: FOLLOW_SECONDS }));
    } catch (e) {
      if (isCancellation(e) && !CancellationScope.current().consideredCancelled) continue;
      throw e;
    }
    for (const run of r.running) {
      const j = open.get(run.id);
      if (j) show(j, 'running', { assigned: run.nodelist ? [run.nodelist] : [] });
    }
    for (const o of r.done) {
      const j = open.get(o.id);
      if (!j) continue;
      open.delete(o.id);
      track();
      const why = o.exception ? `${o.exception.type}: ${o.exception.note}` : undefined;
      if (o.nodeFailure && (j.attempts ?? 1) <= resubmits) {
        const { newId } = await flux.resubmitFluxJob({ source, id: o.id, attempt: j.attempts ?? 1 });
        const next = { ...j, id: newId, attempts: (j.attempts ?? 1) + 1 };
        b.sched.s.counts.requeued++;
        const reason = `${o.id}: ${o.result} (node failure${why ? `: ${why}` : ''}); resubmitted as ${newId}`;
        const prev = b.recent.get(j.i)?.resubmitted;
        resubmitted.set(newId, { from: [...(prev?.from ?? []), o.id], reason: prev ? `${prev.reason}; ${reason}` : reason });
        open.set(newId, next);
        track();
        show(next, 'running');
        continue;
      }
      const state = o.result === 'COMPLETED' ? 'completed' : o.result === 'CANCELED' ? 'cancelled' : 'failed';
      const error = state === 'completed' ? undefined : `${o.result}${o.returncode !== undefined ? ` (return code ${o.returncode})` : ''}${o.nodeFailure ? ', node failure' : ''}${why ? `: ${why}` : ''}`;
      b.sched.ended(j, { state, ...(o.returncode !== undefined ? { exitCode: o.returncode } : {}), ...(error ? { error } : {}) });
      show(j, state, { result: { jobId: o.id, exitCode: o.returncode ?? -1, tasks: [] }, ...(error ? { error } : {}), assigned: o.nodelist ? [o.nodelist] : [] });
    }
  }
  b.touch();
  return 'done';
}
}
