// Whole bursts on the aws-ec2 plugin: the real Temporal dev server, the real worker and the real
// @aws-sdk/client-ec2 against our moto launcher (testkit/moto). The nodes join the local scheduler,
// which runs the jobs and reports each one's end (`jobDone` update / `fluxburst report`).
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import {
  DescribeFleetsCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribePlacementGroupsCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { workdir } from '../support/workdirs.js';
import type { BurstInput, BurstStatus, Job } from '../../src/core/types.js';
import { unavailableOfferings } from '../../src/plugins/aws-ec2/offerings.js';
import { TAG_BURST } from '../../src/plugins/aws-ec2/tags.js';
import { interruptionQueueStatusQuery, jobDoneUpdate, statusQuery, stopWatchSignal } from '../../workflows/messages.js';
import { address, cliAsync, client, result, spawnWorker, start, startWorker, uid, waitFor } from '../support/harness.js';
import { ec2Client, type Moto, motoBase, startMoto } from '../../testkit/moto/index.js';

const TQ = uid('tq-ec2');
let moto: Moto;
let ec2: EC2Client;
let base: Record<string, unknown>;
let w: Awaited<ReturnType<typeof startWorker>>;
let c: Awaited<ReturnType<typeof client>>;

function job(id: string, nodes = 1): Job {
  return { id, name: id, nodes, tasks: nodes, coresPerNode: 2, command: ['hostname'], attributes: { system: { burstable: 1 } } };
}

function ec2Input(jobs: Job[], params: Record<string, unknown> = {}, over: Partial<BurstInput> = {}): BurstInput {
  return {
    owner: 'tester',
    source: { kind: 'inline', jobs },
    selector: { kind: 'burstable' },
    targets: [{ name: 'aws', plugin: 'aws-ec2', params: { ...base, ...params } }],
    maxNodes: 64,
    timeouts: { stepSeconds: 60, heartbeatSeconds: 3, jobSeconds: 120 },
    ...over,
  };
}

async function instancesOf(burstId: string, states = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated']): Promise<Instance[]> {
  const r = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:${TAG_BURST}`, Values: [burstId] }, { Name: 'instance-state-name', Values: states }] }));
  return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
}

/** Everything of ours still in moto for this burst: live instances, launch templates, placement groups, active fleets. */
async function leftovers(burstId: string): Promise<string[]> {
  const out: string[] = [];
  for (const i of await instancesOf(burstId, ['pending', 'running', 'stopping', 'stopped', 'shutting-down'])) out.push(`instance ${i.InstanceId} ${i.State?.Name}`);
  const lts = await ec2.send(new DescribeLaunchTemplatesCommand({ Filters: [{ Name: `tag:${TAG_BURST}`, Values: [burstId] }] }));
  for (const t of lts.LaunchTemplates ?? []) out.push(`launch-template ${t.LaunchTemplateName}`);
  const pgs = await ec2.send(new DescribePlacementGroupsCommand({ Filters: [{ Name: `tag:${TAG_BURST}`, Values: [burstId] }] }));
  for (const g of pgs.PlacementGroups ?? []) if (g.State !== 'deleted') out.push(`placement-group ${g.GroupName} ${g.State}`);
  const fleets = await ec2.send(new DescribeFleetsCommand({}));
  for (const f of fleets.Fleets ?? []) {
    if (f.Tags?.some((t) => t.Key === TAG_BURST && t.Value === burstId) && !/deleted/.test(f.FleetState ?? '')) out.push(`fleet ${f.FleetId} ${f.FleetState}`);
  }
  return out;
}

async function failureOf(h: WorkflowHandle): Promise<string> {
  try {
    await h.result();
  } catch (e) {
    expect(e).toBeInstanceOf(WorkflowFailedError);
    return (e as WorkflowFailedError).cause?.message ?? '';
  }
  throw new Error('expected the burst to fail');
}

const inPhase = (h: WorkflowHandle, phase: string, ms = 30_000) =>
  waitFor(async () => {
    const s = (await h.query(statusQuery).catch(() => undefined)) as BurstStatus | undefined;
    return s?.phase === phase ? s : undefined;
  }, ms, `phase ${phase}`);

beforeAll(async () => {
  moto = await startMoto();
  // The worker's SDK clients use the normal credential chain: here, these.
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  ec2 = ec2Client(moto.endpoint);
  base = {
    ...(await motoBase(moto.endpoint, 'ec2-burst')),
    instanceTypes: ['c5.large', 'c6i.large', 'm5.large'],
    userData: '#!/bin/sh\nfluxburst-join --burst {{burstId}} --token-ssm /fluxburst/{{burstId}}/join\n',
    pollSeconds: 0.2,
    launchTimeoutSeconds: 30,
  };
  c = await client();
  w = await startWorker(TQ);
}, 90_000);

afterAll(async () => {
  await w?.stop();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.clearCapacity();
  await moto.clearFaults();
  await moto.boot(0);
  // The worker runs in this process: its ICE cache is this module's.
  unavailableOfferings.clear();
});

describe('a burst on aws-ec2 (moto)', () => {
  it('plans → fleet in a placement group → running → joined → the scheduler reports the jobs → teardown leaves nothing', async () => {
    const id = uid('ec2-happy');
    const h = await start(c, TQ, id, ec2Input([job('wide', 2), job('small'), job('bad')], { placementGroup: true, capacityType: 'on-demand' }));
    const s = await inPhase(h, 'run');
    expect(s.plugin).toBe('aws-ec2');
    const fleet = s.resources.find((r) => r.kind === 'fleet')!;
    expect(fleet.nodes).toEqual(['node-0', 'node-1']);
    expect(s.resources.map((r) => r.kind)).toEqual(['launch-template', 'placement-group', 'fleet']);
    const live = await instancesOf(id, ['running']);
    expect(live).toHaveLength(2);
    expect(live.map((i) => i.Placement?.GroupName)).toEqual([`fluxburst-${id}`, `fluxburst-${id}`]);

    // The jobs run on the local scheduler; its epilog reports them (one through the CLI; async:
    // the worker runs in this process and must keep polling while the CLI waits).
    expect(await h.executeUpdate(jobDoneUpdate, { args: [{ id: 'wide', exitCode: 0 }] })).toEqual({ state: 'completed' });
    const r1 = await cliAsync(['report', id, 'bad', '--exit', '3', '--message', 'segfault', '--address', address()]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stdout).toContain('job bad of');
    // Reporting twice, or a job that is not there, is refused (exit 2 names the job).
    const again = await cliAsync(['report', id, 'bad', '--exit', '0', '--address', address()]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/bad.*already/);
    expect((await cliAsync(['report', id, 'nope', '--exit', '0', '--address', address()])).stderr).toMatch(/not in this burst/);
    expect((await cliAsync(['report', id, 'small', '--exit', 'x', '--address', address()])).code).toBe(2);
    await h.executeUpdate(jobDoneUpdate, { args: [{ id: 'small', exitCode: 0 }] });

    const r = await result(h);
    expect(r.outcome).toBe('completed');
    expect(Object.fromEntries(r.status.jobs.map((j) => [j.id, j.state]))).toEqual({ wide: 'completed', small: 'completed', bad: 'failed' });
    expect(r.status.jobs.find((j) => j.id === 'bad')!.error).toBe('segfault');
    expect(r.status.timeline.map((m) => m.phase)).toEqual(['select', 'plan', 'provision', 'join', 'run', 'teardown', 'completed']);
    expect(r.status.spend).toBeGreaterThan(0);
    expect(await leftovers(id)).toEqual([]);
    // Exactly the planned instances were ever made.
    expect(await instancesOf(id)).toHaveLength(2);
  });

  // EC2 checks authorisation before it acts: an UnauthorizedOperation means nothing was made.
  it.each(['CreateLaunchTemplate', 'CreatePlacementGroup', 'CreateFleet'])('EC2 refuses %s (UnauthorizedOperation, nothing made): the burst fails naming the code, one call, nothing left', async (action) => {
    const id = uid('ec2-refused');
    const before = (await moto.calls())[action] ?? 0;
    await moto.fault({ action, errorCode: 'UnauthorizedOperation', after: false });
    const h = await start(c, TQ, id, ec2Input([job('a', 2)], { placementGroup: true, capacityType: 'on-demand' }));
    const msg = await failureOf(h);
    expect(msg).toMatch(/failed at provision: .*UnauthorizedOperation/);
    // Not retried: a refusal is not transient.
    expect(((await moto.calls())[action] ?? 0) - before).toBe(1);
    expect(await leftovers(id)).toEqual([]);
    expect(await instancesOf(id)).toHaveLength(0);
  });

  // The lost answer: EC2 made the resource, the caller heard an error (a 500, or a timeout).
  it.each(['CreateLaunchTemplate', 'CreatePlacementGroup'])('an InternalError after %s took effect: the retried step adopts it; exactly one of it and exactly the planned instances exist', async (action) => {
    const id = uid('ec2-lost');
    // More failures than the SDK's own attempts: the activity fails and Temporal retries it.
    await moto.fault({ action, errorCode: 'InternalError', status: 500, after: true, times: 6 });
    const h = await start(c, TQ, id, ec2Input([job('a', 2)], { placementGroup: true, capacityType: 'on-demand' }));
    const s = await inPhase(h, 'run', 90_000);
    expect(s.resources.map((r) => r.kind)).toEqual(['launch-template', 'placement-group', 'fleet']);
    const lts = await ec2.send(new DescribeLaunchTemplatesCommand({ Filters: [{ Name: `tag:${TAG_BURST}`, Values: [id] }] }));
    expect(lts.LaunchTemplates?.map((t) => t.LaunchTemplateName)).toEqual([`fluxburst-${id}`]);
    const pgs = await ec2.send(new DescribePlacementGroupsCommand({ Filters: [{ Name: `tag:${TAG_BURST}`, Values: [id] }] }));
    expect(pgs.PlacementGroups?.map((g) => g.GroupName)).toEqual([`fluxburst-${id}`]);
    expect(await instancesOf(id)).toHaveLength(2);
    await h.executeUpdate(jobDoneUpdate, { args: [{ id: 'a', exitCode: 0 }] });
    expect((await result(h)).outcome).toBe('completed');
    expect(await leftovers(id)).toEqual([]);
    expect(await instancesOf(id)).toHaveLength(2);
  });

  it('an InternalError after CreateFleet took effect: the retried activity adopts the fleet; exactly the planned instances exist', async () => {
    const id = uid('ec2-retry');
    // More failures than the SDK's own attempts: the activity fails and Temporal retries it.
    await moto.fault({ action: 'CreateFleet', errorCode: 'InternalError', status: 500, after: true, times: 6 });
    const h = await start(c, TQ, id, ec2Input([job('a', 3)], { capacityType: 'on-demand' }));
    const s = await inPhase(h, 'run', 60_000);
    expect(s.resources.find((r) => r.kind === 'fleet')!.nodes).toEqual(['node-0', 'node-1', 'node-2']);
    expect(await instancesOf(id)).toHaveLength(3);
    await h.executeUpdate(jobDoneUpdate, { args: [{ id: 'a', exitCode: 0 }] });
    expect((await result(h)).outcome).toBe('completed');
    expect(await leftovers(id)).toEqual([]);
    expect(await instancesOf(id)).toHaveLength(3);
  });

  it('the worker is SIGKILLed after EC2 launched the fleet but before it heard back: the burst resumes, no second fleet', async () => {
    const tq = uid('tq-ec2-kill');
    const killed = spawnWorker(['--address', address(), '--task-queue', tq]);
    await killed.ready;
    const id = uid('ec2-kill');
    await moto.fault({ action: 'CreateFleet', delayMs: 4000 });
    const h = await start(c, tq, id, ec2Input([job('a', 2)], { capacityType: 'on-demand' }));
    // The fleet exists in EC2 while the worker still waits for the answer.
    await waitFor(async () => ((await instancesOf(id)).length >= 2 ? true : undefined), 30_000, 'fleet launched');
    killed.kill('SIGKILL');
    await new Promise((r) => killed.once('exit', r));
    const next = spawnWorker(['--address', address(), '--task-queue', tq]);
    try {
      await next.ready;
      const s = await inPhase(h, 'run', 60_000);
      expect(s.resources.find((r) => r.kind === 'fleet')!.data?.adopted).toBe(true);
      expect(await instancesOf(id)).toHaveLength(2);
      expect((await moto.calls()).CreateFleet).toBeGreaterThanOrEqual(1);
      await h.executeUpdate(jobDoneUpdate, { args: [{ id: 'a', exitCode: 0 }] });
      expect((await result(h)).outcome).toBe('completed');
      expect(await leftovers(id)).toEqual([]);
      expect(await instancesOf(id)).toHaveLength(2);
    } finally {
      next.kill('SIGKILL');
      if (killed.exitCode === null) killed.kill('SIGKILL');
    }
  });
});

describe('readiness on aws-ec2 (moto)', () => {
  it('instances still pending at launchTimeoutSeconds fail the burst at join, and everything is rolled back', async () => {
    await moto.boot(3600);
    const id = uid('ec2-slow');
    const h = await start(c, TQ, id, ec2Input([job('a', 2)], { capacityType: 'on-demand', launchTimeoutSeconds: 2 }));
    const msg = await failureOf(h);
    expect(msg).toMatch(/failed at join: 2 of 2 instances not running after 2s: node-0=i-\w+:pending, node-1=i-\w+:pending/);
    expect(await leftovers(id)).toEqual([]);
  });

  it('instances that boot within the timeout are waited for', async () => {
    await moto.boot(2);
    const id = uid('ec2-boot');
    const h = await start(c, TQ, id, ec2Input([job('a', 2)], { capacityType: 'on-demand' }));
    const s = await inPhase(h, 'run', 60_000);
    const joinedAt = s.timeline.find((m) => m.phase === 'run')!.at - s.timeline.find((m) => m.phase === 'join')!.at;
    expect(joinedAt).toBeGreaterThanOrEqual(1500);
    await h.executeUpdate(jobDoneUpdate, { args: [{ id: 'a', exitCode: 0 }] });
    expect((await result(h)).outcome).toBe('completed');
    expect(await leftovers(id)).toEqual([]);
  });
});

describe('capacity on aws-ec2 (moto)', () => {
  it('ICE on the first offering → the next type; spot exhausted → on-demand', async () => {
    await moto.unavailable({ instanceType: 'c5.large', capacityType: 'spot', errorCode: 'InsufficientInstanceCapacity' });
    const id = uid('ec2-ice');
    const h = await start(c, TQ, id, ec2Input([job('a', 2)], { capacityType: 'spot' }));
    const s = await inPhase(h, 'run', 60_000);
    const types = (await instancesOf(id, ['running'])).map((i) => i.InstanceType);
    expect(types).toHaveLength(2);
    expect(types).not.toContain('c5.large');
    expect(JSON.parse(String(s.resources.find((r) => r.kind === 'fleet')!.data!.instances)).every((i: { lifecycle: string }) => i.lifecycle === 'spot')).toBe(true);
    await h.executeUpdate(jobDoneUpdate, { args: [{ id: 'a', exitCode: 0 }] });
    expect((await result(h)).outcome).toBe('completed');

    for (const t of ['c5.large', 'c6i.large', 'm5.large']) await moto.unavailable({ instanceType: t, capacityType: 'spot', errorCode: 'InsufficientInstanceCapacity' });
    unavailableOfferings.clear();
    const id2 = uid('ec2-od');
    const h2 = await start(c, TQ, id2, ec2Input([job('a', 2)], { capacityType: 'spot-then-on-demand' }));
    await inPhase(h2, 'run', 60_000);
    const live = await instancesOf(id2, ['running']);
    expect(live).toHaveLength(2);
    expect(live.every((i) => i.InstanceLifecycle !== 'spot')).toBe(true);
    await h2.executeUpdate(jobDoneUpdate, { args: [{ id: 'a', exitCode: 0 }] });
    expect((await result(h2)).outcome).toBe('completed');
    expect(await leftovers(id)).toEqual([]);
    expect(await leftovers(id2)).toEqual([]);
  });

  it('everything exhausted → the burst fails with the EC2 code, nothing left', async () => {
    for (const t of ['c5.large', 'c6i.large', 'm5.large']) await moto.unavailable({ instanceType: t, errorCode: 'InsufficientInstanceCapacity' });
    const id = uid('ec2-none');
    const h = await start(c, TQ, id, ec2Input([job('a', 2)]));
    const msg = await failureOf(h);
    expect(msg).toMatch(/failed at provision: .*InsufficientInstanceCapacity/);
    expect(await instancesOf(id, ['pending', 'running'])).toEqual([]);
    expect(await leftovers(id)).toEqual([]);
  });
});

describe('budget on aws-ec2 (moto)', () => {
  it('a plan over limits.maxCostPerHour is refused before anything is created', async () => {
    const creates = (calls: Record<string, number>) => Object.entries(calls).filter(([k]) => /^(Create|Run|Request)/.test(k)).map(([k, n]) => `${k}=${n}`);
    const before = creates(await moto.calls());
    const id = uid('ec2-cap');
    const h = await start(c, TQ, id, ec2Input([job('a', 4)], { capacityType: 'on-demand' }, { budget: { maxCostPerHour: 0.01 } }));
    const msg = await failureOf(h);
    expect(msg).toMatch(/failed at plan: .*maxCostPerHour \$0\.01\/h/);
    expect(creates(await moto.calls())).toEqual(before);
  });

  it('a running burst is stopped and torn down when its estimated spend reaches limits.maxSpend', async () => {
    const id = uid('ec2-spend');
    // 2 × c5.large on demand is about $0.17/h: $0.0002 lasts about 4 s.
    const h = await start(c, TQ, id, ec2Input([job('a', 2)], { capacityType: 'on-demand', instanceTypes: ['c5.large'] }, { budget: { maxSpend: 0.0002 } }));
    const r = await result(h);
    expect(r.outcome).toBe('cancelled');
    expect(r.status.cancelReason).toMatch(/spend cap reached/);
    expect(r.status.jobs[0]!.state).toBe('cancelled');
    expect(r.status.spend).toBeGreaterThanOrEqual(0.0002);
    expect(await leftovers(id)).toEqual([]);
  }, 60_000);
});

describe('spot interruptions on aws-ec2 (moto SQS + EC2)', () => {
  it('a spot warning on the SQS queue → the burst requeues the job of that node and replaces it on demand; no job lost', async () => {
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uid('fb-interruptions') }))).QueueUrl!;
    const watcher = await c.workflow.start('interruptionQueueWorkflow', {
      workflowId: uid('interruptions'),
      taskQueue: TQ,
      args: [{ queueUrl, region: 'us-east-1', endpoint: moto.endpoint, waitSeconds: 1 }],
    });
    const id = uid('ec2-spot');
    const h = await start(c, TQ, id, ec2Input([job('a'), job('b')], { nodes: 2, capacityType: 'spot', interruptionQueueUrl: queueUrl }));
    let s = await inPhase(h, 'run', 60_000);
    expect(s.jobs.map((j) => [j.id, j.assigned])).toEqual([
      ['a', ['node-0']],
      ['b', ['node-1']],
    ]);
    const victim = (await instancesOf(id, ['running'])).find((i) => i.Tags?.some((t) => t.Key === 'fluxburst:node' && t.Value === 'node-1'))!;
    expect(victim.InstanceLifecycle).toBe('spot');
    // EC2 marks the spot request and reclaims the instance 2 s later; EventBridge puts the warning on the queue.
    await moto.interrupt(victim.InstanceId!, 2);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify({
          version: '0',
          id: '1e5527d7-bb36-4607-3370-4164db56a40e',
          'detail-type': 'EC2 Spot Instance Interruption Warning',
          source: 'aws.ec2',
          account: '123456789012',
          time: new Date().toISOString(),
          region: 'us-east-1',
          resources: [`arn:aws:ec2:us-east-1a:instance/${victim.InstanceId}`],
          detail: { 'instance-id': victim.InstanceId, 'instance-action': 'terminate' },
        }),
      }),
    );
    s = await waitFor(async () => {
      const x = (await h.query(statusQuery)) as BurstStatus;
      return x.jobs.find((j) => j.id === 'b')!.attempts === 2 && x.jobs.find((j) => j.id === 'b')!.state === 'running' ? x : undefined;
    }, 60_000, 'job b requeued onto the replacement');
    expect(s.interruptions).toEqual([expect.objectContaining({ node: 'node-1', kind: 'spot-interruption' })]);
    expect(s.jobs.find((j) => j.id === 'b')!.assigned).toEqual(['node-1-r1']);
    // The job on the untouched node kept running.
    expect(s.jobs.find((j) => j.id === 'a')).toMatchObject({ state: 'running', attempts: 1, assigned: ['node-0'] });
    const replacement = (await instancesOf(id, ['running'])).find((i) => i.Tags?.some((t) => t.Key === 'fluxburst:node' && t.Value === 'node-1-r1'))!;
    expect(replacement.InstanceLifecycle).not.toBe('spot');
    expect((await c.workflow.getHandle(watcher.workflowId).query(interruptionQueueStatusQuery)).counts).toMatchObject({ delivered: 1 });

    await h.executeUpdate(jobDoneUpdate, { args: [{ id: 'a', exitCode: 0 }] });
    await h.executeUpdate(jobDoneUpdate, { args: [{ id: 'b', exitCode: 0 }] });
    const r = await result(h);
    expect(r.outcome).toBe('completed');
    expect(r.status.jobs.map((j) => [j.id, j.state])).toEqual([
      ['a', 'completed'],
      ['b', 'completed'],
    ]);
    expect(await leftovers(id)).toEqual([]);
    expect(await instancesOf(id)).toHaveLength(3);
    await c.workflow.getHandle(watcher.workflowId).signal(stopWatchSignal);
    await c.workflow.getHandle(watcher.workflowId).result();
    sqs.destroy();
  });
});

describe('lost nodes found by polling the plugin (no queue)', () => {
  it('a reclaimed spot instance is found by the burst itself: its job is requeued onto an on-demand replacement', async () => {
    const id = uid('ec2-poll');
    const h = await start(c, TQ, id, ec2Input([job('a'), job('b')], { nodes: 2, capacityType: 'spot' }, { timeouts: { stepSeconds: 60, heartbeatSeconds: 3, jobSeconds: 120, interruptionPollSeconds: 0.5 } }));
    await inPhase(h, 'run', 60_000);
    const victim = (await instancesOf(id, ['running'])).find((i) => i.Tags?.some((t) => t.Key === 'fluxburst:node' && t.Value === 'node-0'))!;
    await moto.interrupt(victim.InstanceId!, 1);
    const s = await waitFor(async () => {
      const x = (await h.query(statusQuery)) as BurstStatus;
      const a = x.jobs.find((j) => j.id === 'a')!;
      return a.attempts === 2 && a.state === 'running' ? x : undefined;
    }, 60_000, 'job a requeued onto the replacement');
    expect(s.interruptions).toEqual([expect.objectContaining({ node: 'node-0' })]);
    expect(s.interruptions[0]!.reason).toMatch(/marked-for-termination|terminated|shutting-down/);
    expect(s.jobs.find((j) => j.id === 'a')!.assigned).toEqual(['node-0-r1']);
    expect(s.jobs.find((j) => j.id === 'b')).toMatchObject({ state: 'running', attempts: 1 });
    await h.executeUpdate(jobDoneUpdate, { args: [{ id: 'a', exitCode: 0 }] });
    await h.executeUpdate(jobDoneUpdate, { args: [{ id: 'b', exitCode: 0 }] });
    expect((await result(h)).outcome).toBe('completed');
    expect(await leftovers(id)).toEqual([]);
    expect(await instancesOf(id)).toHaveLength(3);
  });
});

describe('burst --dry-run on aws-ec2 (EC2 DryRun on moto)', () => {
  it('prints the plan and what EC2 would allow; a refused permission exits 1 naming the EC2 code; nothing is launched', async () => {
    const dir = workdir('ec2-dry');
    writeFileSync(join(dir, 'jobs.yaml'), '- { id: a, nodes: 2, command: [hostname], burstable: true }\n');
    writeFileSync(join(dir, 'fb.yaml'), `name: dry\njobs: jobs.yaml\ntargets:\n  - plugin: aws-ec2\n    params: ${JSON.stringify({ ...base, capacityType: 'on-demand' })}\n`);
    const before = (await moto.calls()).RunInstances ?? 0;
    const ok = await cliAsync(['burst', '--dry-run', '--config', join(dir, 'fb.yaml'), '--address', address()]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/would start burst dry-2n-\w+: 1 job\(s\) on aws-ec2 \(2 × c5\.large/);
    expect(ok.stdout).toMatch(/preflight CreateLaunchTemplate: would succeed/);
    expect(ok.stdout).toMatch(/preflight RunInstances c5\.large in subnet-\w+: would succeed/);

    await moto.fault({ action: 'RunInstances', errorCode: 'UnauthorizedOperation', after: false, times: 5 });
    const refused = await cliAsync(['burst', '--dry-run', '--config', join(dir, 'fb.yaml'), '--address', address()]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/preflight RunInstances .*refused: UnauthorizedOperation/);
    expect(refused.stderr).toMatch(/dry run: the provider refused RunInstances .*\(UnauthorizedOperation\)/);
    // DryRun checks only: EC2 was asked, nothing was launched, no burst started.
    expect((await moto.calls()).RunInstances).toBeGreaterThan(before);
    const live = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:fluxburst:owner', Values: ['*'] }, { Name: 'instance-state-name', Values: ['pending', 'running'] }] }));
    expect((live.Reservations ?? []).flatMap((r) => r.Instances ?? []).filter((i) => i.Tags?.some((t) => t.Key === TAG_BURST && t.Value?.startsWith('dry-')))).toEqual([]);
    const lts = await ec2.send(new DescribeLaunchTemplatesCommand({}));
    expect((lts.LaunchTemplates ?? []).filter((t) => t.LaunchTemplateName?.includes('dry-'))).toEqual([]);
  });
});
