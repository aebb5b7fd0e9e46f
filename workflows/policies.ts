// One timeout/retry policy per kind of activity, defined once for every workflow of a burst.
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { NON_RETRYABLE_CODES } from '../src/core/errors.js';
import type { BurstTimeouts, RunSettings } from '../src/core/types.js';

export const DEFAULT_RUN: RunSettings = { batchMax: 500, batchSeconds: 30, eventsPerRun: 8000, tailBytes: 512, pageSize: 2000 };

export function burstActivities(t: BurstTimeouts, run: RunSettings) {
  const nonRetryableErrorTypes = [...NON_RETRYABLE_CODES];
  const hb = t.heartbeatSeconds * 1000;
  return {
    /** Reading a source or a spool, planning: CPU and a little I/O, heartbeating. */
    quick: proxyActivities<Activities>({
      startToCloseTimeout: '10 minutes',
      heartbeatTimeout: hb,
      retry: { initialInterval: '500ms', maximumAttempts: 5, nonRetryableErrorTypes },
    }),
    /** One provision, join, release or teardown step of a plugin. */
    steps: proxyActivities<Activities>({
      startToCloseTimeout: t.stepSeconds * 1000,
      heartbeatTimeout: hb,
      retry: { initialInterval: '500ms', maximumInterval: '30s', maximumAttempts: 8, nonRetryableErrorTypes },
    }),
    /**
     * A batch of jobs. Each job is limited inside the call (its walltime or jobSeconds); the
     * call's own deadline is a backstop: one job's limit plus the batch's time to hand back.
     * A stopped batch must really stop (its job killed) before its nodes are reused or deleted.
     */
    batch: proxyActivities<Activities>({
      startToCloseTimeout: (t.jobSeconds + run.batchSeconds + 300) * 1000,
      heartbeatTimeout: hb,
      retry: { initialInterval: '500ms', maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes },
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    }),
    /** Polls that return within minutes (interruptions, a Flux queue). */
    watcher: proxyActivities<Activities>({
      startToCloseTimeout: '10 minutes',
      heartbeatTimeout: Math.max(t.heartbeatSeconds, 2 * (t.interruptionPollSeconds ?? 15)) * 1000,
      retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes },
    }),
  };
}

export type BurstActivities = ReturnType<typeof burstActivities>;
