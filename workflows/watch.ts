import {
  ParentClosePolicy,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  startChild,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import { NON_RETRYABLE_CODES } from '../src/core/errors.js';
import { SA_OWNER } from '../src/core/search-attributes.js';
import type { SourceSpec } from '../src/core/types.js';
import { burstWorkflow } from './burst.js';
import { type WatchStatus, stopWatchSignal, watchStatusQuery } from './messages.js';

export interface WatchInput {
  owner: string;
  source: SourceSpec;
  /** The parsed config (targets, selector, ordering, limits); re-validated by the scan activity. */
  config: Record<string, unknown>;
  intervalSeconds: number;
  /** One scan, then stop (what a cron Schedule runs). */
  once?: boolean;
  /** Carried across continue-as-new: job ids that already have a burst. */
  seen?: string[];
  scans?: number;
}


/** Continue-as-new well before the history gets long; the seen set travels along. */
const SCANS_PER_RUN = 200;

/**
 * Watch mode: scan the source every `intervalSeconds`, plan bursts for burstable jobs not seen
 * before, and start each as a child burst workflow that outlives this run (ABANDON). Never twice
 * for the same job: the seen set is workflow state (so it survives worker restarts by replay and
 * continue-as-new by argument), and a burst's id is derived from its jobs, so even a lost seen
 * entry meets "already started" instead of a second burst.
 */
export async function watchWorkflow(input: WatchInput): Promise<WatchStatus> {
  const seen = new Set(input.seen ?? []);
  const st: WatchStatus = { scans: input.scans ?? 0, started: [], seen: seen.size, unfit: [], stopping: false };
  setHandler(watchStatusQuery, () => ({ ...st, seen: seen.size }));
  setHandler(stopWatchSignal, () => {
    st.stopping = true;
  });
  const { scanAndPlan } = proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '15 seconds',
    retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_CODES] },
  });

  for (let i = 0; i < SCANS_PER_RUN && !st.stopping; i++) {
    let scan;
    try {
      scan = await scanAndPlan({ config: input.config, source: input.source, owner: input.owner, exclude: [...seen] });
    } catch (e) {
      // A source that cannot be read this time (flux down, file being rewritten) is tried again
      // next interval; bad input in it is reported the same way, without stopping the watch.
      log.warn('scan failed', { error: (e as Error).message });
      if (input.once) throw e;
      await condition(() => st.stopping, input.intervalSeconds * 1000);
      continue;
    }
    st.scans += 1;
    st.lastScanAt = Date.now();
    st.unfit = scan.unfit;
    // Forget jobs that left the source: they can no longer come back under the same id.
    for (const id of [...seen]) if (!scan.present.includes(id)) seen.delete(id);
    for (const b of scan.bursts) {
      try {
        await startChild(burstWorkflow, {
          workflowId: b.id,
          args: [b.input],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          typedSearchAttributes: [{ key: SA_OWNER, value: input.owner }],
        });
        st.started.push(b.id);
      } catch (e) {
        if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
        log.info('burst already exists', { burstId: b.id });
      }
      for (const j of b.jobIds) seen.add(j);
    }
    if (input.once) break;
    await condition(() => st.stopping, input.intervalSeconds * 1000);
  }
  if (st.stopping || input.once) return { ...st, seen: seen.size, seenIds: [...seen] };
  return continueAsNew<typeof watchWorkflow>({ ...input, seen: [...seen], scans: st.scans });
}
