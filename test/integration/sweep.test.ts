import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateFleetCommand,
  CreateLaunchTemplateCommand,
  DescribeFleetsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeSubnetsCommand,
  type EC2Client,
  RunInstancesCommand,
  type Tag,
} from '@aws-sdk/client-ec2';
import { ScheduleNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetChoice } from '../../src/core/types.js';
import type { SweepResult } from '../../workflows/sweep.js';
import { localParams, localPlugin } from '../../src/plugins/local/plugin.js';
import { address, cli, cliAsync, client, input, job, leftovers, startWorker, uid, workdir } from '../support/harness.js';
import { ec2Client, type Moto, startMoto } from '../../testkit/moto/index.js';

const TQ = uid('tq-sweep');
let moto: Moto;
let ec2: EC2Client;
let c: Client;
let w: Awaited<ReturnType<typeof startWorker>>;
let target: TargetChoice;
let configFile: string;
let subnetId: string;
let imageId: string;

/** Tags as the aws-ec2 plugin puts them on everything a burst makes. */
const ours = (burstId: string): Tag[] => [
  { Key: 'fluxburst:burst-id', Value: burstId },
  { Key: 'fluxburst:owner', Value: 'tester' },
  { Key: 'fluxburst:created-by', Value: 'fluxburst' },
  { Key: 'fluxburst:step', Value: 'fleet' },
];

async function runTagged(burstId: string, count: number): Promise<string[]> {
  const r = await ec2.send(
    new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: count, MaxCount: count, SubnetId: subnetId, TagSpecifications: [{ ResourceType: 'instance', Tags: ours(burstId) }] }),
  );
  return (r.Instances ?? []).map((i) => i.InstanceId!);
}

async function states(ids: string[]): Promise<Record<string, string>> {
  const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  return Object.fromEntries((r.Reservations ?? []).flatMap((x) => x.Instances ?? []).map((i) => [i.InstanceId!, i.State!.Name!]));
}

async function launchTemplateNames(): Promise<string[]> {
  const r = await ec2.send(new DescribeLaunchTemplatesCommand({}));
  return (r.LaunchTemplates ?? []).map((t) => t.LaunchTemplateName!);
}

function sweep(args: { dryRun?: boolean; minAgeSeconds?: number } = {}): Promise<SweepResult> {
  return c.workflow.execute('sweepWorkflow', { workflowId: uid('sweep'), taskQueue: TQ, args: [{ targets: [target], ...args }] }) as Promise<SweepResult>;
}

const idsOf = (rs: { id: string }[]) => rs.map((r) => r.id).sort();

beforeAll(async () => {
  moto = await startMoto();
  ec2 = ec2Client(moto.endpoint);
  // owned() has no credentials of its own: the worker's SDK chain (this process) answers.
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  const subnets = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'availability-zone', Values: ['us-east-1a'] }] }));
  subnetId = subnets.Subnets![0]!.SubnetId!;
  const images = await ec2.send(new DescribeImagesCommand({}));
  imageId = images.Images!.find((i) => i.ImageId?.startsWith('ami-'))!.ImageId!;
  target = { name: 'moto', plugin: 'aws-ec2', params: { region: 'us-east-1', endpoint: moto.endpoint, imageId, subnetIds: [subnetId] } };
  const dir = workdir('sweep-config');
  configFile = join(dir, 'fluxburst.yaml');
  writeFileSync(configFile, `name: sweeper\ntargets:\n  - name: moto\n    plugin: aws-ec2\n    params: ${JSON.stringify(target.params)}\n`);
  c = await client();
  w = await startWorker(TQ);
});

afterAll(async () => {
  await w?.stop();
  ec2?.destroy();
  await moto?.stop();
});

describe('orphan sweep on moto', () => {
  // Each test makes its own orphan and its own running burst, so any test passes alone (-t) or in
  // any order: none depends on what another removed or terminated.
  const handles: WorkflowHandle[] = [];
  async function fixture() {
    const orphan = uid('orphan-burst');
    const live = uid('live-burst');
    // A burst that is running: its workflow waits on a task queue no worker polls.
    const running = await c.workflow.start('burstWorkflow', { workflowId: live, taskQueue: uid('tq-nobody'), args: [input([job('j1')], {})] });
    handles.push(running);
    const liveInstances = await runTagged(live, 1);
    // An orphan made outside any workflow (as if its worker died mid-provision): a launch
    // template, loose instances, and an instant fleet with its own instance.
    const lt = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: `fluxburst-${orphan}`,
        LaunchTemplateData: { ImageId: imageId, InstanceType: 't3.micro' },
        TagSpecifications: [{ ResourceType: 'launch-template', Tags: ours(orphan) }],
      }),
    );
    const orphanInstances = await runTagged(orphan, 2);
    const f = await ec2.send(
      new CreateFleetCommand({
        Type: 'instant',
        LaunchTemplateConfigs: [{ LaunchTemplateSpecification: { LaunchTemplateId: lt.LaunchTemplate!.LaunchTemplateId!, Version: '$Latest' }, Overrides: [{ InstanceType: 't3.micro', SubnetId: subnetId }] }],
        TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'on-demand', OnDemandTargetCapacity: 1, SpotTargetCapacity: 0 },
        TagSpecifications: [
          { ResourceType: 'instance', Tags: ours(orphan) },
          { ResourceType: 'fleet', Tags: ours(orphan) },
        ],
      }),
    );
    const fleetId = f.FleetId!;
    const fleetInstances = (f.Instances ?? []).flatMap((i) => i.InstanceIds ?? []);
    expect(fleetInstances).toHaveLength(1);
    return { orphan, live, running, orphanInstances, fleetInstances, fleetId, liveInstances };
  }

  afterAll(async () => {
    for (const h of handles) await h.terminate('test over').catch(() => undefined);
  });

  it('a dry run reports the orphans and the running burst, and removes nothing', async () => {
    const { orphan, live, orphanInstances, fleetInstances, fleetId, liveInstances } = await fixture();
    const r = await sweep({ dryRun: true });
    expect(r.dryRun).toBe(true);
    expect(r.removed).toEqual([]);
    const orphans = r.orphans.filter((x) => x.burstId === orphan);
    expect(idsOf(orphans.filter((x) => x.kind === 'instance'))).toEqual([...orphanInstances, ...fleetInstances].sort());
    expect(orphans.filter((x) => x.kind === 'launch-template').map((x) => x.id)).toEqual([`fluxburst-${orphan}`]);
    expect(orphans.filter((x) => x.kind === 'fleet').map((x) => x.id)).toEqual([fleetId]);
    expect(idsOf(r.kept.filter((x) => x.burstId === live))).toEqual(liveInstances);
    expect(r.orphans.some((x) => x.burstId === live)).toBe(false);
    expect(Object.values(await states([...orphanInstances, ...fleetInstances]))).toEqual(['running', 'running', 'running']);
    expect(await launchTemplateNames()).toContain(`fluxburst-${orphan}`);
  });

  it('`fluxburst sweep --dry-run` prints what it would remove and what it keeps', async () => {
    const { orphan, live, orphanInstances, fleetId, liveInstances } = await fixture();
    const flags = ['--address', address(), '--task-queue', TQ, '--config', configFile];
    const text = await cliAsync(['sweep', '--dry-run', ...flags]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^sweep sweeper-sweep-\S+ \(dry run\): found \d+, kept \d+ \(burst running\), would remove \d+/);
    for (const id of [...orphanInstances, fleetId, `fluxburst-${orphan}`]) expect(text.stdout).toMatch(new RegExp(`would remove\\s+moto\\s+\\S+\\s+${id}\\s+${orphan}`));
    expect(text.stdout).toMatch(new RegExp(`kept\\s+moto\\s+instance\\s+${liveInstances[0]}\\s+${live}`));
    const json = await cliAsync(['sweep', '--dry-run', '--json', ...flags]);
    expect(json.code).toBe(0);
    const r = JSON.parse(json.stdout) as SweepResult & { sweep: string };
    expect(r.sweep).toMatch(/^sweeper-sweep-/);
    expect(r.removed).toEqual([]);
    expect(r.orphans.some((x) => x.id === fleetId)).toBe(true);
    expect(Object.values(await states(orphanInstances))).toEqual(['running', 'running']);
  });

  it('orphans created outside any workflow are found and removed by the sweep; a running burst keeps its resources', async () => {
    const { orphan, live, running, orphanInstances, fleetInstances, fleetId, liveInstances } = await fixture();
    const r = await sweep();
    expect(r.failed).toEqual([]);
    expect(r.targetErrors).toEqual([]);
    const removed = r.removed.filter((x) => x.burstId === orphan);
    expect(idsOf(removed)).toEqual([...orphanInstances, ...fleetInstances, fleetId, `fluxburst-${orphan}`].sort());
    expect(idsOf(r.kept.filter((x) => x.burstId === live))).toEqual(liveInstances);
    expect(r.removed.some((x) => x.burstId === live)).toBe(false);

    // What EC2 says now.
    for (const s of Object.values(await states([...orphanInstances, ...fleetInstances]))) expect(['shutting-down', 'terminated']).toContain(s);
    expect(await states(liveInstances)).toEqual({ [liveInstances[0]!]: 'running' });
    expect(await launchTemplateNames()).not.toContain(`fluxburst-${orphan}`);
    const fleets = await ec2.send(new DescribeFleetsCommand({ FleetIds: [fleetId] }));
    expect(fleets.Fleets?.[0]?.FleetState ?? 'deleted').toMatch(/deleted/);
    expect((await running.describe()).status.name).toBe('RUNNING');

    // Nothing is left to remove; the running burst's resources are still found and kept.
    const again = await sweep();
    expect(again.orphans.filter((x) => x.burstId === orphan)).toEqual([]);
    expect(idsOf(again.kept.filter((x) => x.burstId === live))).toEqual(liveInstances);
  });

  it('once the burst is no longer running, its resources are orphans too (after the min-age second look)', async () => {
    const { live, running, liveInstances } = await fixture();
    await running.terminate('burst ended without its teardown');
    const r = await sweep({ minAgeSeconds: 1 });
    expect(idsOf(r.removed.filter((x) => x.burstId === live))).toEqual(liveInstances);
    for (const s of Object.values(await states(liveInstances))) expect(['shutting-down', 'terminated']).toContain(s);
  });
});

describe('orphan sweep of the local plugin', () => {
  it('kills and removes a node started outside any workflow', async () => {
    const dir = workdir('sweep');
    const burstId = uid('local-orphan');
    const p = localParams.parse({ workdir: dir });
    const ctx = { burstId, owner: 'tester', attempt: 1, credentials: {}, signal: new AbortController().signal, heartbeat: () => undefined, log: { info: () => undefined, warn: () => undefined } };
    const plan = await localPlugin.plan([job('j1')], p, ctx);
    await localPlugin.provision(plan.steps[0]!, plan, p, ctx);
    expect(leftovers(dir).processes.length).toBeGreaterThan(0);
    const r = (await c.workflow.execute('sweepWorkflow', { workflowId: uid('sweep'), taskQueue: TQ, args: [{ targets: [{ name: 'local', plugin: 'local', params: { workdir: dir } }] }] })) as SweepResult;
    expect(r.removed.map((x) => `${x.burstId}/${x.id}`)).toEqual([`${burstId}/node-0`]);
    expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
  });
});

describe('fluxburst sweep flags', () => {
  it('bad flags exit 2 naming the flag, before anything is created', async () => {
    const flags = ['--address', address(), '--task-queue', TQ, '--config', configFile];
    const age = cli(['sweep', '--min-age', 'soon', ...flags]);
    expect(age.code).toBe(2);
    expect(age.stderr).toContain('--min-age');
    const cron = cli(['sweep', '--schedule', 'every tuesday', ...flags]);
    expect(cron.code).toBe(2);
    expect(cron.stderr).toContain('--schedule');
    const id = uid('sweep-sched');
    const wait = cli(['sweep', '--schedule', '0 * * * *', '--schedule-id', id, '--wait', ...flags]);
    expect(wait.code).toBe(2);
    expect(wait.stderr).toContain('--wait');
    await expect(c.schedule.getHandle(id).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    const orphanId = cli(['sweep', '--schedule-id', id, ...flags]);
    expect(orphanId.code).toBe(2);
    expect(orphanId.stderr).toContain('--schedule-id');
  });

  it('--schedule creates a Temporal Schedule that starts sweepWorkflow, skipping overlaps', async () => {
    const id = uid('sweep-sched');
    const flags = ['--address', address(), '--task-queue', TQ, '--config', configFile];
    const r = cli(['sweep', '--schedule', '0 * * * *', '--schedule-id', id, '--paused', ...flags]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`schedule ${id} created`);
    const d = await c.schedule.getHandle(id).describe();
    expect(d.action.type === 'startWorkflow' && d.action.workflowType).toBe('sweepWorkflow');
    expect(d.policies.overlap).toBe('SKIP');
    expect(d.state.paused).toBe(true);
    await c.schedule.getHandle(id).delete();
  });
});
