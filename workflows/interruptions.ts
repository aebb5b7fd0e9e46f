import { ActivityFailure, ApplicationFailure, condition, continueAsNew, getExternalWorkflowHandle, proxyActivities, log, setHandler } from '@temporalio/workflow';
import type { InterruptionActivities, QueueRef } from '../activities/interruptions.js';
import { NON_RETRYABLE_CODES } from '../src/core/errors.js';
import { interruptionQueueStatusQuery, interruptionSignal, type InterruptionQueueStatus, stopWatchSignal } from './messages.js';

export interface InterruptionQueueInput extends QueueRef {
  /** Long-poll length of one receive (SQS allows up to 20 s). */
  waitSeconds?: number;
  /** Carried across continue-as-new. */
  counts?: InterruptionQueueStatus['counts'];
}

/** Receives per run before continue-as-new keeps the history short (each receive is ~8 events). */
const RECEIVES_PER_RUN = 200;

const { receiveInterruptions, ackInterruptions } = proxyActivities<InterruptionActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1s', maximumInterval: '1 minute', nonRetryableErrorTypes: [...NON_RETRYABLE_CODES, 'InterruptionQueueUnavailable'] },
});

function messageOf(e: unknown): string {
  const c = e instanceof ActivityFailure ? e.cause : e;
  return c instanceof Error ? c.message : String(c);
}

/**
 * One per interruption queue (account × region), like Karpenter's interruption controller: reads
 * EventBridge notices from SQS and signals the burst that owns each instance; that burst drains,
 * requeues and replaces the node. A message is deleted only after its signal was sent (or its
 * burst is gone), so a crash re-reads it; bursts ignore a second notice for a drained node.
 */
/** Why a signal to a burst failed: the burst is gone (closed or never there), or anything else. */
export function signalFailure(e: unknown): 'gone' | 'other' {
  return /not found|already completed|already finished/i.test(messageOf(e)) ? 'gone' : 'other';
}

export async function interruptionQueueWorkflow(input: InterruptionQueueInput): Promise<InterruptionQueueStatus> {
  const st: InterruptionQueueStatus = {
    queueUrl: input.queueUrl,
    counts: input.counts ?? { received: 0, delivered: 0, burstGone: 0, notOurs: 0, ignored: 0 },
    recent: [],
    stopping: false,
  };
  setHandler(interruptionQueueStatusQuery, () => st);
  setHandler(stopWatchSignal, () => void (st.stopping = true));
  const q: QueueRef = { queueUrl: input.queueUrl, region: input.region, ...(input.endpoint ? { endpoint: input.endpoint } : {}), ...(input.credentials ? { credentials: input.credentials } : {}) };

  for (let i = 0; i < RECEIVES_PER_RUN && !st.stopping; i++) {
    let got;
    try {
      got = await receiveInterruptions({ ...q, waitSeconds: input.waitSeconds ?? 20 });
    } catch (e) {
      throw ApplicationFailure.nonRetryable(`interruption queue ${input.queueUrl}: ${messageOf(e)}`, 'InterruptionQueueFailed');
    }
    st.counts.received += got.deliveries.length + got.ignored.length + got.notOurs.length;
    st.counts.notOurs += got.notOurs.length;
    st.counts.ignored += got.ignored.length;
    const keep = new Set<string>();
    for (const d of got.deliveries) {
      try {
        await getExternalWorkflowHandle(d.burstId).signal(interruptionSignal, d.interruption);
        st.counts.delivered++;
        st.recent = [...st.recent, { burstId: d.burstId, node: d.interruption.node, kind: d.interruption.kind, instanceId: d.instanceId }].slice(-20);
      } catch (e) {
        if (signalFailure(e) === 'gone') {
          // The burst has finished: nothing to drain there (its teardown took the instance).
          st.counts.burstGone++;
        } else {
          // The burst is there but the notice did not reach it: keep the message, so SQS shows it
          // again after its visibility timeout and the next receive tries again.
          st.counts.kept = (st.counts.kept ?? 0) + 1;
          if (d.receipt) keep.add(d.receipt);
          log.warn('interruption signal failed; message kept', { burstId: d.burstId, error: messageOf(e) });
        }
      }
    }
    const ack = got.ack.filter((r) => !keep.has(r));
    if (ack.length) await ackInterruptions({ ...q, receipts: ack });
    // Let a stop signal in between receives.
    await condition(() => st.stopping, 1);
  }
  if (st.stopping) return st;
  return continueAsNew<typeof interruptionQueueWorkflow>({ ...input, counts: st.counts });
}
