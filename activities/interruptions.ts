import type { CredentialRef } from '../src/core/types.js';
import type { ReceivedInterruptions } from '../src/plugins/aws-ec2/interruption-queue.js';
import { keepalive, mapError, resolveCredentials } from './index.js';

/** Where an interruption queue is and how to reach it (references only for credentials). */
export interface QueueRef {
  queueUrl: string;
  region: string;
  endpoint?: string;
  credentials?: Record<string, CredentialRef>;
}

/**
 * Reading the queue is an activity (I/O); routing a notice to its burst is the workflow's
 * signal, so it is durable and visible in both histories.
 */
// The AWS SDK loads on first use, as the aws-ec2 plugin's does: workers without EC2 never pay for it.
const sdk = async () => ({ ...(await import('../src/plugins/aws-ec2/client.js')), ...(await import('../src/plugins/aws-ec2/interruption-queue.js')) });

export function createInterruptionActivities() {
  return {
    async receiveInterruptions(q: QueueRef & { waitSeconds: number }): Promise<ReceivedInterruptions> {
      try {
        const creds = resolveCredentials(q.credentials);
        const { ec2Client, receiveInterruptions, sqsClient } = await sdk();
        return await keepalive(() => receiveInterruptions({ sqs: sqsClient(q, creds), ec2: ec2Client(q, creds), queueUrl: q.queueUrl, waitSeconds: q.waitSeconds }));
      } catch (e) {
        mapError(e);
      }
    },

    async ackInterruptions(q: QueueRef & { receipts: string[] }): Promise<{ deleted: number; stale: number }> {
      try {
        const { ackMessages, sqsClient } = await sdk();
        return await ackMessages(sqsClient(q, resolveCredentials(q.credentials)), q.queueUrl, q.receipts);
      } catch (e) {
        mapError(e);
      }
    },
  };
}

export type InterruptionActivities = ReturnType<typeof createInterruptionActivities>;
