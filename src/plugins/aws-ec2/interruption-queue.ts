import { createHash } from 'node:crypto';
import { DescribeInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { FluxburstError, TransientError } from '../../core/errors.js';
import type { Interruption } from '../../core/types.js';
import { ec2, ec2Code } from './errors.js';
import { type InterruptionEvent, parseInterruptionEvent } from './events.js';
import { CREATED_BY, TAG_BURST, TAG_CREATED_BY, TAG_NODE, tagOf } from './tags.js';

/**
 * Interruption notices from an SQS queue fed by EventBridge rules (spot warnings, rebalance
 * recommendations, state changes, AWS Health scheduled changes), mapped to the burst and node of
 * the instance they name. Like Karpenter's interruption controller, one queue serves every
 * burst of the account and region; instances that are not ours are acknowledged and dropped.
 */

export interface QueueDelivery {
  burstId: string;
  interruption: Interruption;
  instanceId: string;
  /** The receipt handle of the message it came from: kept off `ack` when the signal could not be sent. */
  receipt?: string;
  /** When AWS emitted the event, if it said. */
  time?: string;
}

export interface ReceivedInterruptions {
  deliveries: QueueDelivery[];
  /** Receipt handles to delete once the deliveries are delivered. */
  ack: string[];
  ignored: Array<{ messageId: string; reason: string }>;
  /** Instance ids without our tags (or no longer known to EC2). */
  notOurs: string[];
}

/**
 * The queue cannot be used as configured (missing, wrong URL, no permission, KMS key unusable):
 * retrying does not help, somebody has to fix the queue or the role.
 */
export class InterruptionQueueError extends FluxburstError {
  readonly queueUrl: string;
  constructor(queueUrl: string, message: string, cause?: unknown) {
    super('InterruptionQueueUnavailable', message, { cause });
    this.queueUrl = queueUrl;
  }
}

// Error names as SDK v3 raises them (JSON protocol) plus the older query-protocol codes, which
// the SDK may still put in `Code`.
const QUEUE_UNUSABLE_CODES: ReadonlySet<string> = new Set([
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'InvalidAddress',
  'AccessDenied',
  'AccessDeniedException',
  'InvalidSecurity',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'KmsAccessDenied',
  'KmsDisabled',
  'KmsNotFound',
  'KmsInvalidState',
  'KmsInvalidKeyUsage',
  'KmsOptInRequired',
]);

/** A receipt handle that no longer deletes anything: the message is gone or visible again. */
const STALE_HANDLE_CODES: ReadonlySet<string> = new Set([
  'ReceiptHandleIsInvalid',
  'InvalidParameterValue',
  'MessageNotInflight',
  'AWS.SimpleQueueService.MessageNotInflight',
]);

export function fromSqs(e: unknown, what: string, queueUrl: string): FluxburstError {
  if (e instanceof FluxburstError) return e;
  const code = ec2Code(e);
  const status = (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  const msg = `${what} on interruption queue ${queueUrl}: ${code ? `${code}: ` : ''}${(e as Error)?.message ?? String(e)}`;
  if ((code !== undefined && QUEUE_UNUSABLE_CODES.has(code)) || status === 403) return new InterruptionQueueError(queueUrl, msg, e);
  return new TransientError(msg, e);
}

async function sqsCall<T>(what: string, queueUrl: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw fromSqs(e, what, queueUrl);
  }
}

const clients = new Map<string, SQSClient>();

/** Same credential and retry policy as ec2Client (client.ts): explicit keys if given, else the SDK chain. */
export function sqsClient(p: { region: string; endpoint?: string | undefined }, credentials?: Record<string, string>): SQSClient {
  const id = credentials?.AWS_ACCESS_KEY_ID;
  const secret = credentials?.AWS_SECRET_ACCESS_KEY;
  const explicit = id && secret ? { accessKeyId: id, secretAccessKey: secret, ...(credentials?.AWS_SESSION_TOKEN ? { sessionToken: credentials.AWS_SESSION_TOKEN } : {}) } : undefined;
  // Keeps distinct secrets from sharing a cached client without keeping the secret in the key.
  const fp = explicit ? createHash('sha256').update(`${secret}\0${explicit.sessionToken ?? ''}`).digest('hex').slice(0, 16) : '';
  const key = `${p.region}|${p.endpoint ?? ''}|${id ?? ''}|${fp}`;
  let c = clients.get(key);
  if (!c) {
    c = new SQSClient({
      region: p.region,
      ...(p.endpoint ? { endpoint: p.endpoint } : {}),
      ...(explicit ? { credentials: explicit } : {}),
      maxAttempts: Number(process.env.FLUXBURST_AWS_MAX_ATTEMPTS ?? 6),
      retryMode: 'adaptive',
    });
    if (clients.size > 32) clients.clear();
    clients.set(key, c);
  }
  return c;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, Math.trunc(v)));

/**
 * One long poll of the queue. Every message received is in `ack`, whatever became of it: an
 * irrelevant or foreign message stays irrelevant, and leaving it would only redeliver it forever.
 * If the instance lookup fails nothing is acknowledged: the call throws, and the messages come
 * back after their visibility timeout.
 */
export async function receiveInterruptions(o: {
  sqs: SQSClient;
  ec2: EC2Client;
  queueUrl: string;
  waitSeconds?: number;
  maxMessages?: number;
}): Promise<ReceivedInterruptions> {
  const { queueUrl } = o;
  const r = await sqsCall('ReceiveMessage', queueUrl, () =>
    o.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: clamp(o.maxMessages ?? 10, 1, 10),
        WaitTimeSeconds: clamp(o.waitSeconds ?? 10, 0, 20),
      }),
    ),
  );

  const ack: string[] = [];
  const ignored: ReceivedInterruptions['ignored'] = [];
  const events: Array<InterruptionEvent & { receipt?: string }> = [];
  for (const m of r.Messages ?? []) {
    if (m.ReceiptHandle) ack.push(m.ReceiptHandle);
    const messageId = m.MessageId ?? '(no message id)';
    if (m.Body === undefined || m.Body === '') {
      ignored.push({ messageId, reason: 'empty body' });
      continue;
    }
    const parsed = parseInterruptionEvent(m.Body);
    if ('ignored' in parsed) ignored.push({ messageId, reason: parsed.ignored });
    else events.push(...parsed.events.map((e) => ({ ...e, ...(m.ReceiptHandle ? { receipt: m.ReceiptHandle } : {}) })));
  }

  const instances = await describeByIds(o.ec2, [...new Set(events.map((e) => e.instanceId))]);
  const deliveries: QueueDelivery[] = [];
  const notOurs = new Set<string>();
  // A stopping-then-terminated pair, or SQS's at-least-once redelivery, would otherwise signal twice.
  const seen = new Set<string>();
  for (const e of events) {
    const owner = ownerOf(instances.get(e.instanceId));
    if (!owner) {
      notOurs.add(e.instanceId);
      continue;
    }
    const k = `${e.instanceId}|${e.kind}`;
    if (seen.has(k)) continue;
    seen.add(k);
    deliveries.push({
      burstId: owner.burstId,
      instanceId: e.instanceId,
      interruption: { node: owner.node, kind: e.kind, reason: e.reason },
      ...(e.time ? { time: e.time } : {}),
      ...(e.receipt ? { receipt: e.receipt } : {}),
    });
  }
  return { deliveries, ack, ignored, notOurs: [...notOurs] };
}

/**
 * Ours means launched by fluxburst and already named as a burst node. An instance of a burst that
 * has no node tag yet was never joined, so there is no node to drain.
 */
function ownerOf(i: Instance | undefined): { burstId: string; node: string } | undefined {
  if (!i || tagOf(i.Tags, TAG_CREATED_BY) !== CREATED_BY) return undefined;
  const burstId = tagOf(i.Tags, TAG_BURST);
  const node = tagOf(i.Tags, TAG_NODE);
  return burstId && node ? { burstId, node } : undefined;
}

// EC2 caps filter values per request; one receive names at most a few dozen ids anyway.
const FILTER_VALUES_MAX = 200;

/**
 * By the instance-id filter, not InstanceIds: one unknown id (another account's, or terminated
 * long ago) would fail the whole InstanceIds call with InvalidInstanceID.NotFound.
 */
async function describeByIds(client: EC2Client, ids: string[]): Promise<Map<string, Instance>> {
  const out = new Map<string, Instance>();
  for (let i = 0; i < ids.length; i += FILTER_VALUES_MAX) {
    const chunk = ids.slice(i, i + FILTER_VALUES_MAX);
    let NextToken: string | undefined;
    do {
      const token = NextToken;
      const r = await ec2('DescribeInstances (interruption queue)', () =>
        client.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: chunk }], ...(token ? { NextToken: token } : {}) })),
      );
      for (const res of r.Reservations ?? []) for (const inst of res.Instances ?? []) if (inst.InstanceId) out.set(inst.InstanceId, inst);
      NextToken = r.NextToken;
    } while (NextToken);
  }
  return out;
}

const DELETE_BATCH_MAX = 10;

/**
 * Delete received messages. A handle that no longer deletes anything (already deleted, or its
 * visibility timeout ran out) is counted as stale, not an error: the message either is gone or
 * will be delivered again, and the consumer deduplicates.
 */
export async function ackMessages(sqs: SQSClient, queueUrl: string, receiptHandles: string[]): Promise<{ deleted: number; stale: number }> {
  const handles = [...new Set(receiptHandles.filter((h) => h))];
  let deleted = 0;
  let stale = 0;
  for (let i = 0; i < handles.length; i += DELETE_BATCH_MAX) {
    const chunk = handles.slice(i, i + DELETE_BATCH_MAX);
    const r = await sqsCall('DeleteMessageBatch', queueUrl, () =>
      sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((ReceiptHandle, j) => ({ Id: String(j), ReceiptHandle })) })),
    );
    deleted += r.Successful?.length ?? 0;
    const failed = r.Failed ?? [];
    const hard = failed.filter((f) => !STALE_HANDLE_CODES.has(f.Code ?? ''));
    stale += failed.length - hard.length;
    if (hard.length > 0) {
      throw new TransientError(`DeleteMessageBatch on interruption queue ${queueUrl}: ${hard.length} of ${chunk.length} failed: ${hard.map((f) => `${f.Code ?? '?'}: ${f.Message ?? ''}`).join('; ')}`);
    }
  }
  return { deleted, stale };
}
