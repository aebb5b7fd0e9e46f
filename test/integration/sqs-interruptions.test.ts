// The interruption queue against moto (SQS and EC2 on one endpoint): EventBridge-shaped bodies
// go in, deliveries come out mapped by the instances' tags, and every message is acknowledged.
import { CreateSubnetCommand, CreateVpcCommand, type EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TransientError } from '../../src/core/errors.js';
import { ackMessages, fromSqs, InterruptionQueueError, type QueueDelivery, receiveInterruptions, sqsClient } from '../../src/plugins/aws-ec2/interruption-queue.js';
import { CREATED_BY, TAG_BURST, TAG_CREATED_BY, TAG_NODE } from '../../src/plugins/aws-ec2/tags.js';
import { ec2Client, type Moto, startMoto } from '../../testkit/moto/index.js';

const AMI = 'ami-12345678';
const CREDS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
let moto: Moto;
let ec2: EC2Client;
let sqs: SQSClient;
let subnet: string;

beforeAll(async () => {
  moto = await startMoto();
  ec2 = ec2Client(moto.endpoint);
  sqs = sqsClient({ region: 'us-east-1', endpoint: moto.endpoint }, CREDS);
});
afterAll(async () => {
  ec2?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  const s = await ec2.send(new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId!, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1a' }));
  subnet = s.Subnet!.SubnetId!;
});

async function launch(tags: Record<string, string>): Promise<string> {
  const r = await ec2.send(
    new RunInstancesCommand({
      ImageId: AMI,
      InstanceType: 'c5.large',
      MinCount: 1,
      MaxCount: 1,
      SubnetId: subnet,
      ...(Object.keys(tags).length ? { TagSpecifications: [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] } : {}),
    }),
  );
  return r.Instances![0]!.InstanceId!;
}

const ours = (burst: string, node: string) => ({ [TAG_CREATED_BY]: CREATED_BY, [TAG_BURST]: burst, [TAG_NODE]: node, Name: `fluxburst-${burst}` });

function event(detailType: string, source: string, detail: unknown, resources: string[] = []): string {
  return JSON.stringify({
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': detailType,
    source,
    account: '123456789012',
    time: '2024-05-01T12:00:00Z',
    region: 'us-east-1',
    resources,
    detail,
  });
}
const arn = (id: string) => `arn:aws:ec2:us-east-1:123456789012:instance/${id}`;

async function queue(name: string): Promise<string> {
  return (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '60' } }))).QueueUrl!;
}

async function drain(queueUrl: string) {
  const all = { deliveries: [] as QueueDelivery[], ack: [] as string[], ignored: [] as Array<{ messageId: string; reason: string }>, notOurs: [] as string[] };
  for (let round = 0; round < 20; round++) {
    const r = await receiveInterruptions({ sqs, ec2, queueUrl, waitSeconds: 1, maxMessages: 3 });
    if (r.ack.length === 0) return all;
    all.deliveries.push(...r.deliveries);
    all.ack.push(...r.ack);
    all.ignored.push(...r.ignored);
    all.notOurs.push(...r.notOurs);
  }
  throw new Error('queue never drained');
}

describe('receiveInterruptions (moto SQS + EC2)', () => {
  it('maps EventBridge events to burst nodes, reports foreign instances and garbage, acks everything', async () => {
    const a0 = await launch(ours('burst-a', 'node-0'));
    const a1 = await launch(ours('burst-a', 'node-1'));
    const b0 = await launch(ours('burst-b', 'node-0'));
    const b1 = await launch(ours('burst-b', 'node-1'));
    const stranger = await launch({});
    // Burst tag but another creator: not ours either.
    const lookalike = await launch({ [TAG_BURST]: 'burst-a', [TAG_NODE]: 'node-9', [TAG_CREATED_BY]: 'someone-else' });
    const url = await queue('fluxburst-interruptions');

    const bodies = [
      event('EC2 Spot Instance Interruption Warning', 'aws.ec2', { 'instance-id': a0, 'instance-action': 'terminate' }, [arn(a0)]),
      event('EC2 Instance Rebalance Recommendation', 'aws.ec2', { 'instance-id': a1 }, [arn(a1)]),
      event('EC2 Instance State-change Notification', 'aws.ec2', { 'instance-id': b0, state: 'terminated' }, [arn(b0)]),
      event('EC2 Instance State-change Notification', 'aws.ec2', { 'instance-id': b0, state: 'running' }, [arn(b0)]),
      event(
        'AWS Health Event',
        'aws.health',
        {
          eventArn: 'arn:aws:health:us-east-1::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED_ABC123',
          service: 'EC2',
          eventTypeCode: 'AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED',
          eventTypeCategory: 'scheduledChange',
          startTime: 'Wed, 15 May 2024 12:00:00 GMT',
          eventDescription: [{ language: 'en_US', latestDescription: 'Your instance is scheduled for retirement.' }],
          affectedEntities: [{ entityValue: b1 }, { entityValue: stranger }],
        },
        [b1, stranger],
      ),
      event('EC2 Spot Instance Interruption Warning', 'aws.ec2', { 'instance-id': lookalike, 'instance-action': 'stop' }, [arn(lookalike)]),
      // A well-formed id EC2 does not know (another account's instance, or long gone).
      event('EC2 Instance Rebalance Recommendation', 'aws.ec2', { 'instance-id': 'i-0000000000000dead' }),
      'this is not an event {',
    ];
    const ids = new Map<string, string>();
    for (const [i, b] of bodies.entries()) {
      const r = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: b }));
      ids.set(r.MessageId!, String(i));
    }

    const got = await drain(url);
    const byKey = (d: QueueDelivery) => `${d.burstId}/${d.interruption.node}/${d.interruption.kind}`;
    expect(got.deliveries.map(byKey).sort()).toEqual(['burst-a/node-0/spot-interruption', 'burst-a/node-1/rebalance', 'burst-b/node-0/termination', 'burst-b/node-1/scheduled-change']);
    const find = (k: string) => got.deliveries.find((d) => byKey(d) === k)!;
    expect(find('burst-a/node-0/spot-interruption')).toMatchObject({ instanceId: a0, time: '2024-05-01T12:00:00Z', interruption: { reason: expect.stringContaining('terminate') } });
    expect(find('burst-b/node-1/scheduled-change')).toMatchObject({ instanceId: b1, interruption: { reason: expect.stringContaining('AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED') } });
    expect(find('burst-b/node-0/termination').instanceId).toBe(b0);

    expect(got.notOurs.sort()).toEqual([stranger, lookalike, 'i-0000000000000dead'].sort());
    expect(got.ignored.map((i) => ids.get(i.messageId)).sort()).toEqual(['3', '7']);
    expect(got.ignored.find((i) => ids.get(i.messageId) === '7')!.reason).toMatch(/not JSON/);
    expect(got.ignored.find((i) => ids.get(i.messageId) === '3')!.reason).toMatch(/running/);
    expect(got.ack).toHaveLength(bodies.length);

    const acked = await ackMessages(sqs, url, got.ack);
    expect(acked).toEqual({ deleted: bodies.length, stale: 0 });
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 0 }));
    expect(again.Messages ?? []).toEqual([]);
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    expect(attrs.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });

    // Acking again: the handles delete nothing, which is not an error.
    const twice = await ackMessages(sqs, url, got.ack);
    expect(twice.deleted + twice.stale).toBe(bodies.length);
  });

  it('an empty queue returns nothing to do', async () => {
    const url = await queue('fluxburst-empty');
    expect(await receiveInterruptions({ sqs, ec2, queueUrl: url, waitSeconds: 0 })).toEqual({ deliveries: [], ack: [], ignored: [], notOurs: [] });
    expect(await ackMessages(sqs, url, [])).toEqual({ deleted: 0, stale: 0 });
  });

  it('a queue that does not exist is a non-retryable error naming it', async () => {
    const url = `${moto.endpoint}/123456789012/no-such-queue`;
    const err = await receiveInterruptions({ sqs, ec2, queueUrl: url, waitSeconds: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InterruptionQueueError);
    expect(err).not.toBeInstanceOf(TransientError);
    expect((err as InterruptionQueueError).retryable).toBe(false);
    expect((err as Error).message).toContain(url);
    expect((err as Error).message).toMatch(/NonExistentQueue|QueueDoesNotExist/);
  });
});

describe('fromSqs', () => {
  const url = 'https://sqs.us-east-1.amazonaws.com/123456789012/q';
  const sdkError = (name: string, status: number) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

  it('queue or permission problems are final and name the queue; the rest is transient', () => {
    for (const [name, status] of [['QueueDoesNotExist', 400], ['AccessDenied', 403], ['KmsAccessDenied', 400], ['SomethingNew', 403]] as const) {
      const e = fromSqs(sdkError(name, status), 'ReceiveMessage', url);
      expect(e, name).toBeInstanceOf(InterruptionQueueError);
      expect(e.retryable).toBe(false);
      expect(e.message).toContain(url);
    }
    for (const [name, status] of [['RequestThrottled', 400], ['InternalError', 500], ['TimeoutError', 0]] as const) {
      const e = fromSqs(sdkError(name, status), 'ReceiveMessage', url);
      expect(e, name).toBeInstanceOf(TransientError);
      expect(e.retryable).toBe(true);
    }
  });
});
