// The run phase of a burst: the scheduler (src/burst/scheduler.ts) decides, this loop carries its
// decisions out — batches of jobs as activity calls, interruptions as drain + replacement — and
// hands back when all jobs are done, or when the run's history is long enough to continue as new.
import { CancellationScope, condition, isCancellation, log, sleep, workflowInfo, ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { BatchEnd, BatchResult } from '../src/burst/batch.js';
import type { Batch, JobEnd, SchedJob } from '../src/burst/scheduler.js';
import type { Interruption, JobStatus, ProvisionStep, ResourceRef } from '../src/core/types.js';
import { handleInterruption } from './burst-interrupt.js';
import { messageOf } from './errors.js';
import type { BurstRun } from './burst-state.js';
import type { Handlers } from './burst-handlers.js';
import type { BurstActivities } from './policies.js';
import type { Undo } from './saga.js';

export { messageOf };

function lostNode(e: unknown): string | undefined {
  if (e instanceof ActivityFailure && e.cause instanceof ApplicationFailure && e.cause.type === 'NodeLost') {
    return (e.cause.details?.[0] as { node?: string } | undefined)?.node;
  }
  return undefined;
}

export interface RunDeps {
  acts: BurstActivities;
  handlers: Handlers;
  provisionOne(s: ProvisionStep): Promise<ResourceRef>;
  teardownOne(u: Undo): Promise<void>;
}

/** Nodes of the burst by name → the resource that holds each (a node, or a fleet of them). */
export function nodeRefs(resources: ResourceRef[]): Map<string, ResourceRef> {
  const refs = new Map<string, ResourceRef>();
  for (const r of resources) for (const n of r.node ? [r.node] : (r.nodes ?? [])) refs.set(n, r);
  return refs;
}

/**
 * Run until every job has ended ('done'), or until this run's history is long enough that the
 * burst should continue as new ('continue': no batch is in flight then).
 */
export async function runJobs(b: BurstRun, d: RunDeps): Promise<'done' | 'continue'> {
  const t = b.input.timeouts;
  const set = b.settings;
  const refs = nodeRefs(b.st.resources);
  const running = new Map<string, CancellationScope>();
  let runError: unknown;
  let loading = false;
  let draining = false;

  const status = (j: SchedJob, state: JobStatus['state'], nodes: string[]): JobStatus => {
    const prev = b.recent.get(j.i);
    const js: JobStatus = { i: j.i, id: j.id, name: prev?.name ?? j.id, nodes: j.nodes, state, attempts: j.attempts ?? prev?.attempts ?? 0, assigned: nodes };
    b.see(js);
    return js;
  };

  const apply = (batch: Batch, ends: JobEnd[], details: Map<number, BatchEnd>) => {
    for (const dcs of b.sched.batchEnded(batch.id, ends)) if (dcs.kind === 'fail') status(dcs.job, 'failed', []).error = dcs.reason;
    for (const j of batch.jobs) {
      const e = details.get(j.i);
      if (!e || e.state === 'lost') {
        if (b.recent.get(j.i)?.state === 'running') status(j, 'pending', []);
        continue;
      }
      const js = status(j, e.state === 'cancelled' ? 'cancelled' : e.state, batch.nodes);
      js.result = { jobId: j.id, exitCode: e.exitCode ?? -1, tasks: e.tasks ?? [] };
      if (e.error) js.error = e.error;
    }
  };

  /** Run a batch: the plugin runs the jobs, or (plugins that only add nodes) the local scheduler does and reports. */
  const start = (batch: Batch) => {
    const scope = new CancellationScope();
    running.set(batch.id, scope);
    for (const j of batch.jobs) status(j, 'running', batch.nodes);
    const work = b.choice!.runs ? () => runBatch(batch) : () => awaitReports(batch);
    let result: BatchResult = { ends: [] };
    scope
      .run(work)
      .then(
        (r) => {
          result = r;
        },
        (e) => {
          const lost = lostNode(e);
          if (lost) b.interrupts.push({ node: lost, kind: 'node-lost', reason: messageOf(e) });
          // The plugin could not run the batch (not a job's own failure): the burst fails.
          else if (!isCancellation(e)) runError ??= e;
        },
      )
      .finally(() => {
        if (result.lost && b.sched.s.nodes[result.lost] !== 'drained') b.interrupts.push({ node: result.lost, kind: 'node-lost', reason: result.ends.at(-1)?.error ?? 'node stopped answering' });
        const ends: JobEnd[] = result.ends.map((e) => ({ i: e.i, state: e.state, ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}), ...(e.error ? { error: e.error } : {}) }) as JobEnd);
        apply(batch, ends, new Map(result.ends.map((e) => [e.i, e])));
        running.delete(batch.id);
        b.touch();
      });
  };

  const runBatch = (batch: Batch): Promise<BatchResult> => {
    const inline = batch.jobs.map((j) => b.inlineJob(j.i) ?? null);
    return d.acts.batch.runJobBatch({
      ...b.call(),
      ...(b.jobs.kind === 'spool' ? { jobs: b.jobs } : {}),
      ...(inline.some((x) => x) ? { inline } : {}),
      items: batch.jobs.map((j) => ({ i: j.i, attempt: j.attempts ?? 1 })),
      nodes: [...new Set(batch.nodes.map((n) => refs.get(n)!))],
      jobSeconds: t.jobSeconds,
      batchSeconds: set.batchSeconds,
      tailBytes: set.tailBytes,
    });
  };

  /** The local scheduler runs the batch's job (one per batch here); wait for its report, bounded like a run. */
  const awaitReports = async (batch: Batch): Promise<BatchResult> => {
    const ends: BatchEnd[] = [];
    for (const j of batch.jobs) {
      d.handlers.awaiting.add(j.id);
      try {
        if (await condition(() => d.handlers.reports.has(j.id), t.jobSeconds * 1000)) {
          const r = d.handlers.reports.get(j.id)!;
          ends.push({ i: j.i, state: r.exitCode === 0 ? 'completed' : 'failed', exitCode: r.exitCode, ...(r.message ? { error: r.message } : {}) });
        } else {
          ends.push({ i: j.i, state: 'failed', exitCode: 124, error: `no report from the local scheduler within ${t.jobSeconds}s (timeouts.jobSeconds)` });
        }
      } catch (e) {
        if (!isCancellation(e)) throw e;
        ends.push({ i: j.i, state: 'lost', error: 'its node was drained' });
        return { ends, stopped: true };
      } finally {
        d.handlers.awaiting.delete(j.id);
      }
    }
    return { ends };
  };

  /** Keep the scheduler's queue fed from the job list, a page at a time. */
  const refill = async () => {
    if (loading || b.cursor >= b.count || b.sched.s.queue.length >= set.pageSize / 2) return;
    loading = true;
    try {
      const offset = b.cursor;
      const limit = Math.min(set.pageSize, b.count - offset);
      let page: { ids: string[]; nodes: number[] };
      if (b.jobs.kind === 'inline') {
        const js = b.jobs.jobs.slice(offset, offset + limit);
        page = { ids: js.map((j) => j.id), nodes: js.map((j) => j.nodes) };
      } else {
        page = await d.acts.quick.loadJobs({ jobs: b.jobs, offset, limit });
      }
      b.sched.add(page.ids.map((id, k) => ({ i: offset + k, id, nodes: page.nodes[k]! })));
      b.cursor = offset + page.ids.length;
    } finally {
      loading = false;
    }
  };

  const interrupt = (n: Interruption) => handleInterruption(b, d, refs, n, (ids) => ids.forEach((id) => running.get(id)?.cancel()));

  const stopPolling = pollInterruptions(b, d, () => [...refs.keys()]);
  try {
    return await loop();
  } finally {
    stopPolling();
  }

  async function loop(): Promise<'done' | 'continue'> {
  for (;;) {
    if (runError !== undefined) {
      for (const s of running.values()) s.cancel();
      throw runError;
    }
    while (b.interrupts.length) await interrupt(b.interrupts.shift()!);
    await refill();
    if (!draining) {
      for (const dcs of b.sched.schedule()) {
        if (dcs.kind === 'start') start(dcs.batch);
        else status(dcs.job, 'failed', []).error = `${dcs.reason}${b.replacementErrors.length ? ` (no replacement: ${b.replacementErrors.join('; ')})` : ''}`;
      }
    }
    if (b.sched.idle() && b.cursor >= b.count && !b.interrupts.length) return 'done';
    const info = workflowInfo();
    if (!draining && (info.historyLength >= set.eventsPerRun || info.continueAsNewSuggested)) draining = true;
    if (draining && running.size === 0 && !loading) return 'continue';
    const seen = b.wake;
    await condition(() => b.wake !== seen || b.interrupts.length > 0 || runError !== undefined);
  }
}
}

/**
 * Plugins that can tell lost or reclaimed nodes are asked in the background while jobs run; each
 * call returns within minutes, so the next one sees the burst's current resources.
 */
export function pollInterruptions(b: BurstRun, d: RunDeps, nodes: () => string[]): () => void {
  if (!b.choice?.watches) return () => undefined;
  let watching = true;
  let scope: CancellationScope | undefined;
  const pollSeconds = b.input.timeouts.interruptionPollSeconds ?? 15;
  void (async () => {
    while (watching) {
      scope = new CancellationScope();
      try {
        const live = new Set(nodes());
        const known = [...Object.keys(b.sched.s.nodes).filter((n) => !live.has(n)), ...b.interrupts.map((x) => x.node)];
        const t0 = Date.now();
        const found = await scope.run(() => d.acts.watcher.awaitInterruptions({ ...b.call(), resources: b.st.resources, known, pollSeconds, maxSeconds: 300 }));
        const fresh = found.filter((n) => b.sched.s.nodes[n.node] !== 'drained' && !b.interrupts.some((x) => x.node === n.node));
        b.interrupts.push(...fresh);
        if (fresh.length) b.touch();
        // A poll that answers at once with nothing new must not spin the history.
        else if (Date.now() - t0 < pollSeconds * 1000) await sleep(pollSeconds * 1000);
      } catch (e) {
        if (!watching) return;
        if (!isCancellation(e)) {
          log.warn('interruption poll failed; trying again', { error: messageOf(e) });
          await sleep(pollSeconds * 1000);
        }
      }
    }
  })().catch(() => undefined); // cancelled with the burst: nothing left to watch
  return () => {
    watching = false;
    scope?.cancel();
  };
}
