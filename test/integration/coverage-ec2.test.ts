// aws-ec2 params no other test drove (keyName, iamInstanceProfile, alternatives and their price cap,
// replaceInterruptedWith: same), through the plugin against moto, and `fluxburst interruptions
// start|status|stop` through the CLI against moto's SQS with a worker of this file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyPairCommand, DescribeLaunchTemplateVersionsCommand, type EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, ResourceRef } from '../../src/core/types.js';
import { sqsClient } from '../../src/plugins/aws-ec2/interruption-queue.js';
import { awsEc2Params } from '../../src/plugins/aws-ec2/params.js';
import { awsEc2Plugin } from '../../src/plugins/aws-ec2/plugin.js';
import { catalogFor } from '../../src/plugins/aws-ec2/sizing.js';
import { ec2Client as pluginEc2Client } from '../../src/plugins/aws-ec2/client.js';
import { CREATED_BY, TAG_BURST, TAG_CREATED_BY, TAG_NODE } from '../../src/plugins/aws-ec2/tags.js';
import type { PluginContext } from '../../src/plugins/contract.js';
import { queueWorkflowId } from '../../src/cli/commands/interruptions.js';
import { ec2Client, type Moto, motoBase, startMoto } from '../../testkit/moto/index.js';
import { address, cliAsync as cli, client, input, job, start, startWorker, uid, waitFor, workdir } from '../support/harness.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
let moto: Moto;
let ec2: EC2Client;
let base: Record<string, unknown>;

const ctx = (burstId: string): PluginContext => ({
  burstId,
  owner: 'cov',
  attempt: 1,
  credentials: { ...CREDS },
  signal: new AbortController().signal,
  heartbeat: () => undefined,
  log: { info: () => undefined, warn: () => undefined },
});
const eightCores: Job = { id: 'e', name: 'e', nodes: 1, tasks: 8, coresPerNode: 8, command: ['true'], attributes: {} };
const twoCores: Job = { id: 'j', name: 'j', nodes: 1, tasks: 2, coresPerNode: 2, command: ['true'], attributes: {} };

beforeAll(async () => {
  moto = await startMoto();
  ec2 = ec2Client(moto.endpoint);
  base = await motoBase(moto.endpoint, 'cov');
});
afterAll(async () => {
  ec2?.destroy();
  await moto?.stop();
});

/** Plan and provision every step; returns what teardown needs. */
async function provisionAll(params: Record<string, unknown>, burstId: string, jobs: Job[] = [twoCores]) {
  const p = awsEc2Params.parse({ ...base, pollSeconds: 0.2, launchTimeoutSeconds: 20, ...params });
  const plan = await awsEc2Plugin.plan(jobs, p, ctx(burstId));
  const refs: Array<ResourceRef | undefined> = [];
  for (const s of plan.steps) refs.push(await awsEc2Plugin.provision(s, plan, p, ctx(burstId)));
  return {
    p,
    plan,
    refs,
    teardown: async () => {
      for (let i = plan.steps.length - 1; i >= 0; i--) await awsEc2Plugin.teardown(plan.steps[i]!, refs[i], p, ctx(burstId));
    },
  };
}

async function launchTemplateData(name: string) {
  const v = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: name }));
  return v.LaunchTemplateVersions![0]!.LaunchTemplateData!;
}

describe('aws-ec2 params on moto', () => {
  it('keyName and iamInstanceProfile (name or ARN) go into the launch template', async () => {
    await ec2.send(new CreateKeyPairCommand({ KeyName: 'cov-key' }));
    const a = await provisionAll({ keyName: 'cov-key', iamInstanceProfile: 'fb-node-role', capacityType: 'on-demand', instanceTypes: ['c5.large'] }, 'cov-key-name');
    try {
        const data = await launchTemplateData(String(a.refs[0]!.data!.name));
        expect(data.KeyName).toBe('cov-key');
        expect(data.IamInstanceProfile).toEqual({ Name: 'fb-node-role' });
    } finally {
      await a.teardown();
    }
    const arn = 'arn:aws:iam::123456789012:instance-profile/fb-node-role';
    const b = await provisionAll({ iamInstanceProfile: arn, capacityType: 'on-demand', instanceTypes: ['c5.large'] }, 'cov-key-arn');
    try {
      const data = await launchTemplateData(String(b.refs[0]!.data!.name));
      expect(data.IamInstanceProfile).toEqual({ Arn: arn });
      expect(data.KeyName).toBeUndefined();
    } finally {
      await b.teardown();
    }
  });

  it('alternatives: the fleet may fall back to that many bigger types, each at most 1.5× the price of the planned one', async () => {
    // The CreateFleet requests as the plugin sent them (its EC2 client is shared per endpoint and keys).
    const shared = pluginEc2Client(awsEc2Params.parse(base), CREDS);
    const sent: Array<{ LaunchTemplateConfigs?: Array<{ Overrides?: Array<{ InstanceType?: string }> }> }> = [];
    shared.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'CreateFleetCommand') sent.push(args.input as never);
        return next(args);
      },
      { step: 'initialize', name: 'covCaptureFleet' },
    );
    const asked: Record<number, string[]> = {};
    try {
      for (const n of [0, 2, 20]) {
        sent.length = 0;
        // 8 cores: a shape the catalog has several bigger types for, some within the cap, some above.
        const r = await provisionAll({ alternatives: n, capacityType: 'on-demand' }, `cov-alt-${n}`, [eightCores]);
        await r.teardown();
        expect(sent).toHaveLength(1);
        asked[n] = [...new Set(sent[0]!.LaunchTemplateConfigs!.flatMap((c) => (c.Overrides ?? []).map((o) => o.InstanceType!)))];
      }
    } finally {
      shared.middlewareStack.remove('covCaptureFleet');
    }
    const cat = catalogFor(awsEc2Params.parse(base));
    const find = (t: string) => cat.types.find((x) => x.name === t)!;
    const shape = asked[0]![0]!;
    expect(asked[0]).toEqual([shape]);
    expect(asked[2]).toHaveLength(3);
    expect(asked[2]![0]).toBe(shape);
    const s0 = find(shape);
    // Alternatives are at least as big in every dimension; the cap: even 20 stay within 1.5× the price.
    for (const t of asked[20]!) {
      const x = find(t);
      expect(x.vcpus >= s0.vcpus && x.memoryMiB >= s0.memoryMiB && x.gpus >= s0.gpus, t).toBe(true);
      expect(x.pricePerHour, t).toBeLessThanOrEqual(s0.pricePerHour * 1.5);
    }
    expect(asked[20]!.length).toBeGreaterThan(3);
    expect(asked[20]!.length).toBeLessThan(21);
    // ... and the catalog does have fitting types above the cap, which were left out.
    const aboveCap = cat.types.filter((x) => x.arch === s0.arch && x.vcpus >= s0.vcpus && x.memoryMiB >= s0.memoryMiB && x.gpus >= s0.gpus && x.pricePerHour > s0.pricePerHour * 1.5);
    expect(aboveCap.length).toBeGreaterThan(0);
  });

  it('replaceInterruptedWith: same keeps spot for the replacement of a spot-interrupted node; the default goes on demand', async () => {
    const lifecycles: Record<string, string | undefined> = {};
    for (const mode of ['same', 'on-demand'] as const) {
      const id = `cov-repl-${mode}`;
      const r = await provisionAll({ capacityType: 'spot', replaceInterruptedWith: mode, instanceTypes: ['c5.large'] }, id);
      try {
        const step = { key: 'node-0-r1', kind: 'node', node: 'node-0-r1', rank: 0, replacement: 1, replaces: { node: 'node-0', kind: 'spot-interruption' as const } };
        const ref = await awsEc2Plugin.provision(step as never, r.plan, r.p, ctx(id));
        const inst = JSON.parse(String(ref.data!.instances)) as Array<{ lifecycle?: string }>;
        lifecycles[mode] = inst[0]!.lifecycle;
        await awsEc2Plugin.teardown(step as never, ref, r.p, ctx(id));
      } finally {
        await r.teardown();
      }
    }
    expect(lifecycles).toEqual({ same: 'spot', 'on-demand': 'on-demand' });
  });
});

describe('fluxburst interruptions start|status|stop (CLI, moto SQS)', () => {
  const TQ = uid('tq-cov-intr');
  let w: Awaited<ReturnType<typeof startWorker>>;
  let sqs: SQSClient;
  let dir: string;
  let nodes: string;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  beforeAll(async () => {
    // The watcher's activities run in this process's worker: the SDK's chain reads these.
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    w = await startWorker(TQ);
    sqs = sqsClient({ region: 'us-east-1', endpoint: moto.endpoint }, CREDS);
    dir = mkdtempSync(join(tmpdir(), 'fb-cov-intr-'));
    nodes = workdir('cov-intr');
  });
  afterAll(async () => {
    await w?.stop();
    sqs?.destroy();
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = saved.id;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    rmSync(dir, { recursive: true, force: true });
    rmSync(nodes, { recursive: true, force: true });
  });

  it('start watches the queue, routes a notice to its running burst and counts one whose burst is gone, status shows it, stop ends the watcher; every message is deleted', async () => {
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uid('cov-intr'), Attributes: { VisibilityTimeout: '30' } }))).QueueUrl!;
    const cfg = join(dir, 'fb.yaml');
    writeFileSync(
      cfg,
      `name: covintr\ntargets:\n  - name: cloud\n    plugin: aws-ec2\n    params: {region: us-east-1, endpoint: "${moto.endpoint}", imageId: ${String(base.imageId)}, subnetIds: [${(base.subnetIds as string[]).join(', ')}], interruptionQueueUrl: "${queueUrl}"}\n`,
    );
    const flags = ['--address', address(), '--task-queue', TQ, '--config', cfg];
    const env = { ...CREDS };

    // A running burst (local nodes) to receive a notice, and an instance tagged as its node-0.
    const c = await client();
    const burstId = uid('cov-intr-burst');
    await start(c, TQ, burstId, input([job('s', { command: ['sleep', '60'] })], { workdir: nodes }));
    try {
    const tagged = async (burst: string) => {
      const r = await ec2.send(
        new RunInstancesCommand({
          ImageId: String(base.imageId),
          InstanceType: 'c5.large',
          MinCount: 1,
          MaxCount: 1,
          SubnetId: (base.subnetIds as string[])[0],
          TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: TAG_CREATED_BY, Value: CREATED_BY }, { Key: TAG_BURST, Value: burst }, { Key: TAG_NODE, Value: 'node-0' }] }],
        }),
      );
      return r.Instances![0]!.InstanceId!;
    };
    const notice = (instanceId: string) =>
      JSON.stringify({
        version: '0',
        id: crypto.randomUUID(),
        'detail-type': 'EC2 Spot Instance Interruption Warning',
        source: 'aws.ec2',
        account: '123456789012',
        time: '2024-05-01T12:00:00Z',
        region: 'us-east-1',
        resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${instanceId}`],
        detail: { 'instance-id': instanceId, 'instance-action': 'terminate' },
      });
    const live = await tagged(burstId);
    const gone = await tagged(uid('cov-no-such-burst'));

    const started = await cli(['interruptions', 'start', '--json', ...flags], env);
    expect(started.code, started.stderr).toBe(0);
    expect(JSON.parse(started.stdout).watchers).toEqual([queueWorkflowId(queueUrl)]);
    // Idempotent: a second start is the same watcher.
    const again = await cli(['interruptions', 'start', '--json', ...flags], env);
    expect(JSON.parse(again.stdout).watchers).toEqual([queueWorkflowId(queueUrl)]);

    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: notice(live) }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: notice(gone) }));
    const status = await waitFor(async () => {
      const s = await cli(['interruptions', 'status', '--json', ...flags], env);
      const rows = JSON.parse(s.stdout) as Array<{ id: string; counts?: { delivered: number; burstGone: number }; recent?: Array<{ burstId: string; instanceId: string }> }>;
      return rows[0]?.counts && rows[0].counts.delivered + rows[0].counts.burstGone >= 2 ? rows[0] : undefined;
    }, 60_000, 'both notices routed');
    expect(status.counts).toMatchObject({ delivered: 1, burstGone: 1 });
    expect(status.recent).toEqual([expect.objectContaining({ burstId, instanceId: live })]);
    const text = await cli(['interruptions', 'status', ...flags], env);
    expect(text.stdout).toMatch(new RegExp(`${queueWorkflowId(queueUrl)}\\s+\\S+\\s+1\\s+1`));
    // The burst got the notice for its node-0.
    const bs = await c.workflow.getHandle(burstId).query('status');
    expect(JSON.stringify((bs as { interruptions: unknown[] }).interruptions)).toContain('node-0');

    // Deleted after routing: nothing visible or in flight.
    await waitFor(async () => {
      const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      return a.Attributes!.ApproximateNumberOfMessages === '0' && a.Attributes!.ApproximateNumberOfMessagesNotVisible === '0' ? true : undefined;
    }, 30_000, 'queue empty');

    const stop = await cli(['interruptions', 'stop', ...flags], env);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain(`stopping ${queueWorkflowId(queueUrl)}`);
    // Wake the long poll so the watcher sees the stop now.
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'wake up' }));
    const h = c.workflow.getHandle(queueWorkflowId(queueUrl));
    await h.result();
    expect((await h.describe()).status.name).toBe('COMPLETED');
    // The stopped watcher still answers status with its final counts (the wake-up message was not a notice).
    const after = await cli(['interruptions', 'status', '--json', ...flags], env);
    expect(JSON.parse(after.stdout)[0].counts).toMatchObject({ delivered: 1, burstGone: 1, ignored: 1 });
    } finally {
      // Whatever happened above: the burst is torn down and the watcher gone.
      await c.workflow.getHandle(burstId).signal('cancel', { reason: 'test over' });
      await c.workflow.getHandle(burstId).result();
      await c.workflow.getHandle(queueWorkflowId(queueUrl)).terminate('test over').catch(() => undefined);
    }
  });
});
