// The aws-ec2 plugin against a plain moto server (EC2 emulation): plan from the catalog,
// launch template → fleet → running instances with all tags, idempotent retries, teardown with
// and without a ref, and the orphan listing. Placement groups, capacity errors and partial
// fleets need a patched moto (testkit/moto/index.ts) and are not covered here.
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribePlacementGroupsCommand,
  EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CapacityError, TransientError } from '../../src/core/errors.js';
import type { BurstPlan, Job, ResourceRef } from '../../src/core/types.js';
import type { PluginContext } from '../../src/plugins/contract.js';
import { fromEc2, isNotFound } from '../../src/plugins/aws-ec2/errors.js';
import { clientToken, launchFleet } from '../../src/plugins/aws-ec2/fleet.js';
import { UnavailableOfferings, unavailableOfferings } from '../../src/plugins/aws-ec2/offerings.js';
import { awsEc2Params, type AwsEc2Params } from '../../src/plugins/aws-ec2/params.js';
import { awsEc2Plugin } from '../../src/plugins/aws-ec2/index.js';
import { fleetTypes } from '../../src/plugins/aws-ec2/sizing.js';
import { loadRegistry } from '../../src/plugins/registry.js';
import { type Moto, ec2Client as motoClient, startMoto } from '../../testkit/moto/index.js';

const REGION = 'us-east-1';
const CREDS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };

let server: Moto | undefined;
let endpoint = '';
let ec2: EC2Client;
let base: Record<string, unknown>;

function job(id: string, nodes: number, coresPerNode = 2): Job {
  return { id, name: id, nodes, tasks: nodes * coresPerNode, coresPerNode, command: ['true'], attributes: {} };
}

function ctx(burstId: string, attempt = 1): PluginContext {
  return {
    burstId,
    owner: 'alice',
    attempt,
    credentials: { ...CREDS },
    signal: new AbortController().signal,
    heartbeat: () => undefined,
    log: { info: () => undefined, warn: () => undefined },
  };
}

function params(extra: Record<string, unknown> = {}): AwsEc2Params {
  return awsEc2Params.parse({ ...base, ...extra });
}

async function byTags(tags: Record<string, string>, states = ['pending', 'running']): Promise<Instance[]> {
  const r = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [...Object.entries(tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })), { Name: 'instance-state-name', Values: states }],
    }),
  );
  return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
}

const tag = (i: Instance, k: string) => i.Tags?.find((t) => t.Key === k)?.Value;

async function launchTemplates(): Promise<string[]> {
  const r = await ec2.send(new DescribeLaunchTemplatesCommand({}));
  return (r.LaunchTemplates ?? []).map((t) => t.LaunchTemplateName!);
}

/** plan + provision every step, as the saga would. */
async function provisionAll(p: AwsEc2Params, burstId: string, jobs: Job[]): Promise<{ plan: BurstPlan; refs: ResourceRef[] }> {
  const plan = await awsEc2Plugin.plan(jobs, p, ctx(burstId));
  const refs: ResourceRef[] = [];
  for (const s of plan.steps) refs.push(await awsEc2Plugin.provision(s, plan, p, ctx(burstId)));
  return { plan, refs };
}

beforeAll(async () => {
  // moto through our launcher (testkit/moto): plain moto answers DescribePlacementGroups with an
  // HTML error page, which EC2 never does; the launcher adds what moto lacks, as EC2 does it.
  server = await startMoto();
  endpoint = server.endpoint;
  // owned() has no context: it uses the SDK's normal chain, i.e. these.
  process.env.AWS_ACCESS_KEY_ID = CREDS.AWS_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = CREDS.AWS_SECRET_ACCESS_KEY;
  ec2 = new EC2Client({ region: REGION, endpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  const vpcId = vpc.Vpc!.VpcId!;
  const s1 = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.1.0/24', AvailabilityZone: `${REGION}a` }));
  const s2 = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.2.0/24', AvailabilityZone: `${REGION}b` }));
  const sg = await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'fluxburst-test', Description: 'test' }));
  const images = await ec2.send(new DescribeImagesCommand({}));
  const imageId = images.Images?.find((i) => i.ImageId?.startsWith('ami-'))?.ImageId;
  if (!imageId) throw new Error('moto lists no AMI');
  base = {
    region: REGION,
    endpoint,
    imageId,
    subnetIds: [s1.Subnet!.SubnetId!, s2.Subnet!.SubnetId!],
    securityGroupIds: [sg.GroupId!],
    tags: { team: 'hpc' },
    userData: '#!/bin/sh\nfluxburst-join --burst {{burstId}} --token-ssm /fluxburst/{{burstId}}/join\n',
    pollSeconds: 0.2,
    launchTimeoutSeconds: 30,
  };
});

afterAll(async () => {
  ec2?.destroy();
  await server?.stop();
});

describe('aws-ec2 params, errors, offerings (no cloud)', () => {
  it('parses with defaults and rejects secrets in userData', () => {
    const p = params();
    expect(p.capacityType).toBe('spot-then-on-demand');
    expect(p.allocationStrategy).toBe('price-capacity-optimized');
    expect(p.gang).toBe(true);
    expect(awsEc2Params.safeParse({ ...base, userData: 'export AWS_SECRET_ACCESS_KEY=abc' }).success).toBe(false);
    expect(awsEc2Params.safeParse({ ...base, userData: 'join --key AKIAABCDEFGHIJKLMNOP' }).success).toBe(false);
    expect(awsEc2Params.safeParse({ ...base, userData: 'password=hunter2' }).success).toBe(false);
    expect(awsEc2Params.safeParse({ ...base, userData: 'token=/fluxburst/join-token\nsecret: arn:aws:secretsmanager:x' }).success).toBe(true);
    expect(awsEc2Params.safeParse({ ...base, subnetIds: [] }).success).toBe(false);
    expect(awsEc2Params.safeParse({ ...base, bogus: 1 }).success).toBe(false);
  });

  it('maps EC2 codes: capacity → CapacityError with the EC2 code, not-found, others retryable', () => {
    const e = Object.assign(new Error('no capacity'), { name: 'InsufficientInstanceCapacity' });
    const m = fromEc2(e, 'CreateFleet');
    expect(m).toBeInstanceOf(CapacityError);
    expect(m.code).toBe('InsufficientInstanceCapacity');
    expect(m.retryable).toBe(false);
    expect(fromEc2(Object.assign(new Error('x'), { name: 'VcpuLimitExceeded' }), 'x').code).toBe('VcpuLimitExceeded');
    expect(isNotFound(Object.assign(new Error('x'), { name: 'InvalidLaunchTemplateName.NotFoundException' }))).toBe(true);
    const other = fromEc2(Object.assign(new Error('x'), { name: 'RequestLimitExceeded' }), 'x');
    expect(other).toBeInstanceOf(TransientError);
    expect(other.retryable).toBe(true);
  });

  it('forgets an unavailable offering after the TTL', () => {
    let now = 0;
    const c = new UnavailableOfferings(180_000, () => now);
    c.markUnavailable({ instanceType: 'c5.large', subnetId: 'subnet-1', capacityType: 'spot' }, 'InsufficientInstanceCapacity');
    c.markUnavailable({ instanceType: '*', subnetId: '*', capacityType: 'on-demand' }, 'VcpuLimitExceeded');
    expect(c.isUnavailable({ instanceType: 'c5.large', subnetId: 'subnet-1', capacityType: 'spot' })).toBe(true);
    expect(c.isUnavailable({ instanceType: 'c5.large', subnetId: 'subnet-2', capacityType: 'spot' })).toBe(false);
    expect(c.isUnavailable({ instanceType: 'm5.large', subnetId: 'subnet-9', capacityType: 'on-demand' })).toBe(true);
    now = 180_001;
    expect(c.isUnavailable({ instanceType: 'c5.large', subnetId: 'subnet-1', capacityType: 'spot' })).toBe(false);
  });

  it('client tokens depend only on their parts', () => {
    expect(clientToken('b1', 'fleet', 'spot', 2, 0)).toBe(clientToken('b1', 'fleet', 'spot', 2, 0));
    expect(clientToken('b1', 'fleet', 'spot', 2, 0)).not.toBe(clientToken('b1', 'fleet', 'spot', 2, 1));
    expect(clientToken('b1', 'fleet', 'spot', 2, 0).length).toBeLessThanOrEqual(64);
  });

  it('is registered next to local', async () => {
    const reg = await loadRegistry({ searchPaths: [] });
    expect(reg.get('aws-ec2')).toBe(awsEc2Plugin);
    expect(reg.has('local')).toBe(true);
  });
});

describe('aws-ec2 fleet logic against a scripted EC2 (answers moto cannot give)', () => {
  /** A fake EC2 client: CreateFleet answers come from `script`, instances live in a map. */
  function fakeEc2(script: Array<(need: number, types: string[]) => { launch: Array<[string, string]>; errors?: Array<{ code: string; type: string; subnet: string }> }>) {
    const instances = new Map<string, Instance>();
    const calls: Array<{ name: string; input: Record<string, any> }> = [];
    let n = 0;
    const send = async (cmd: { constructor: { name: string }; input: Record<string, any> }) => {
      const name = cmd.constructor.name.replace(/Command$/, '');
      calls.push({ name, input: cmd.input });
      const inp = cmd.input;
      switch (name) {
        case 'DescribeInstances': {
          let list = [...instances.values()];
          if (inp.InstanceIds) list = list.filter((i) => inp.InstanceIds.includes(i.InstanceId));
          for (const f of inp.Filters ?? []) {
            if (f.Name === 'instance-state-name') list = list.filter((i) => f.Values.includes(i.State!.Name));
            else if (f.Name === 'instance-id') list = list.filter((i) => f.Values.includes(i.InstanceId));
            else if (f.Name.startsWith('tag:')) list = list.filter((i) => f.Values.includes(tag(i, f.Name.slice(4))));
          }
          return { Reservations: [{ Instances: list }] };
        }
        case 'CreateFleet': {
          const step = script.shift();
          if (!step) throw new Error('unexpected CreateFleet');
          const overrides = inp.LaunchTemplateConfigs[0].Overrides as Array<{ InstanceType: string; SubnetId: string }>;
          const r = step(inp.TargetCapacitySpecification.TotalTargetCapacity, overrides.map((o) => `${o.InstanceType}@${o.SubnetId}`));
          const tags = inp.TagSpecifications.find((t: { ResourceType: string }) => t.ResourceType === 'instance').Tags;
          const out = r.launch.map(([type, subnet]) => {
            const id = `i-${String(++n).padStart(8, '0')}`;
            instances.set(id, { InstanceId: id, InstanceType: type as never, SubnetId: subnet, State: { Name: 'running' }, PrivateIpAddress: `10.0.0.${n}`, Tags: [...tags] });
            return { InstanceIds: [id], InstanceType: type, Lifecycle: inp.TargetCapacitySpecification.DefaultTargetCapacityType, LaunchTemplateAndOverrides: { Overrides: { InstanceType: type, SubnetId: subnet } } };
          });
          const errors = (r.errors ?? []).map((e) => ({ ErrorCode: e.code, ErrorMessage: e.code, LaunchTemplateAndOverrides: { Overrides: { InstanceType: e.type, SubnetId: e.subnet } } }));
          return { FleetId: `fleet-${n}`, Instances: out, Errors: errors };
        }
        case 'TerminateInstances':
          for (const id of inp.InstanceIds) instances.get(id)!.State = { Name: 'terminated' };
          return {};
        case 'CreateTags':
          for (const id of inp.Resources) instances.get(id)!.Tags!.push(...inp.Tags);
          return {};
        default:
          throw new Error(`unexpected ${name}`);
      }
    };
    return { client: { send } as unknown as EC2Client, calls, instances };
  }
  const req = (types: string[], gang = true) => ({ burstId: 'fake-1', owner: 'alice', stepKey: 'fleet', count: 2, launchTemplateId: 'lt-1', types, gang });
  const fp = (extra: Record<string, unknown> = {}) => awsEc2Params.parse({ region: REGION, imageId: 'ami-12345678', subnetIds: ['subnet-a'], ...extra });

  it('under gang, terminates a partial fleet and tries the next offering with a new token', async () => {
    const { client, calls, instances } = fakeEc2([() => ({ launch: [['c5.large', 'subnet-a']] }), () => ({ launch: [['c6i.large', 'subnet-a'], ['c6i.large', 'subnet-a']] })]);
    const cache = new UnavailableOfferings();
    const r = await launchFleet(client, fp({ capacityType: 'on-demand' }), req(['c5.large', 'c6i.large']), cache);
    expect(r.instances.map((i) => i.instanceType)).toEqual(['c6i.large', 'c6i.large']);
    expect(r.instances.map((i) => i.node)).toEqual(['node-0', 'node-1']);
    const fleets = calls.filter((c) => c.name === 'CreateFleet');
    expect(fleets).toHaveLength(2);
    expect(fleets[0]!.input.ClientToken).not.toBe(fleets[1]!.input.ClientToken);
    expect(fleets[0]!.input.OnDemandOptions).toMatchObject({ MinTargetCapacity: 2, SingleInstanceType: true });
    expect(calls.find((c) => c.name === 'TerminateInstances')!.input.InstanceIds).toEqual(['i-00000001']);
    expect(instances.get('i-00000001')!.State!.Name).toBe('terminated');
    expect(cache.isUnavailable({ instanceType: 'c5.large', subnetId: 'subnet-a', capacityType: 'on-demand' })).toBe(true);
  });

  it('best effort (gang: false) keeps a short fleet; capacity errors end in a CapacityError with the EC2 code under gang', async () => {
    const short = fakeEc2([() => ({ launch: [['c5.large', 'subnet-a']], errors: [{ code: 'InsufficientInstanceCapacity', type: 'c5.large', subnet: 'subnet-a' }] })]);
    const r = await launchFleet(short.client, fp({ capacityType: 'on-demand', gang: false }), req(['c5.large'], false), new UnavailableOfferings());
    expect(r.instances).toHaveLength(1);

    const none = fakeEc2([
      () => ({ launch: [], errors: [{ code: 'InsufficientInstanceCapacity', type: 'c5.large', subnet: 'subnet-a' }] }),
      () => ({ launch: [], errors: [{ code: 'VcpuLimitExceeded', type: 'c5.large', subnet: 'subnet-a' }] }),
    ]);
    const err = await launchFleet(none.client, fp(), req(['c5.large']), new UnavailableOfferings()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CapacityError);
    expect((err as CapacityError).code).toBe('VcpuLimitExceeded');
    expect((err as Error).message).toMatch(/spot: 0\/2 \(InsufficientInstanceCapacity\).*on-demand: 0\/2 \(VcpuLimitExceeded\)/);
    const kinds = none.calls.filter((c) => c.name === 'CreateFleet').map((c) => c.input.TargetCapacitySpecification.DefaultTargetCapacityType);
    expect(kinds).toEqual(['spot', 'on-demand']);
  });

  it('adopts what an earlier try launched instead of calling CreateFleet', async () => {
    const f = fakeEc2([() => ({ launch: [['c5.large', 'subnet-a'], ['c5.large', 'subnet-a']] })]);
    const first = await launchFleet(f.client, fp({ capacityType: 'on-demand' }), req(['c5.large']), new UnavailableOfferings());
    const again = await launchFleet(f.client, fp({ capacityType: 'on-demand' }), req(['c5.large']), new UnavailableOfferings());
    expect(again.adopted).toBe(true);
    expect(again.instances).toEqual(first.instances);
    expect(f.calls.filter((c) => c.name === 'CreateFleet')).toHaveLength(1);
  });
});

describe('aws-ec2 on moto', () => {
  it('plans from the catalog: launch template, fleet; shape is the cheapest fitting type', async () => {
    const p = params();
    const jobs = [job('a', 2, 2), job('b', 1, 4)];
    const plan = await awsEc2Plugin.plan(jobs, p, ctx('plan-1'));
    expect(plan.steps.map((s) => s.key)).toEqual(['launch-template', 'fleet']);
    expect(plan.nodes).toBe(2);
    const shape = awsEc2Plugin.shape!(job('b', 1, 4), p);
    expect(shape).toMatchObject({ shape: plan.groups[0]!.shape });
    expect(plan.groups[0]).toMatchObject({ count: 2, gangMin: 2 });
    expect(fleetTypes(p, plan.groups[0]!.shape)[0]).toBe(plan.groups[0]!.shape);
    // instanceTypes narrows the choice.
    const narrowed = params({ instanceTypes: ['m5.xlarge'] });
    expect(awsEc2Plugin.shape!(job('b', 1, 4), narrowed)).toMatchObject({ shape: 'm5.xlarge' });
    expect(awsEc2Plugin.shape!(job('big', 1, 64), narrowed)).toHaveProperty('unfit');
    const pg = await awsEc2Plugin.plan(jobs, params({ placementGroup: true }), ctx('plan-2'));
    expect(pg.steps.map((s) => s.key)).toEqual(['launch-template', 'placement-group', 'fleet']);
    await expect(awsEc2Plugin.plan([job('huge', 2, 100_000)], p, ctx('plan-3'))).rejects.toThrow(CapacityError);
  });

  it('provisions launch template → fleet → running, tagged instances; a retry adopts them; teardown cleans up (twice)', async () => {
    const p = params();
    const burstId = 'b-ref-1';
    const { plan, refs } = await provisionAll(p, burstId, [job('a', 3, 2)]);
    const [ltRef, fleetRef] = refs;
    expect(ltRef).toMatchObject({ kind: 'launch-template', data: { name: `fluxburst-${burstId}` } });
    expect(fleetRef!.kind).toBe('fleet');
    const listed = JSON.parse(String(fleetRef!.data!.instances)) as Array<{ id: string; node: string; privateIp?: string; lifecycle: string }>;
    expect(listed.map((i) => i.node)).toEqual(['node-0', 'node-1', 'node-2']);
    expect(listed.every((i) => /^i-/.test(i.id) && i.privateIp)).toBe(true);
    // spot-then-on-demand: spot first, and moto has spot capacity.
    expect(listed.every((i) => i.lifecycle === 'spot')).toBe(true);

    // Launch template: named from the burst, tagged, user data rendered with only a reference.
    const lts = await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [`fluxburst-${burstId}`] }));
    const lt = lts.LaunchTemplates![0]!;
    expect(tag(lt as Instance, 'fluxburst:burst-id')).toBe(burstId);
    expect(tag(lt as Instance, 'fluxburst:created-by')).toBe('fluxburst');
    const v = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: `fluxburst-${burstId}` }));
    const ud = Buffer.from(v.LaunchTemplateVersions![0]!.LaunchTemplateData!.UserData!, 'base64').toString();
    expect(ud).toContain(`/fluxburst/${burstId}/join`);

    // Instances: N running, each with every tag.
    await awsEc2Plugin.join(refs, p, ctx(burstId));
    const live = await byTags({ 'fluxburst:burst-id': burstId });
    expect(live).toHaveLength(3);
    for (const i of live) {
      expect(i.State?.Name).toBe('running');
      expect(tag(i, 'fluxburst:owner')).toBe('alice');
      expect(tag(i, 'fluxburst:created-by')).toBe('fluxburst');
      expect(tag(i, 'fluxburst:step')).toBe('fleet');
      expect(tag(i, 'team')).toBe('hpc');
      expect(tag(i, 'fluxburst:node')).toMatch(/^node-\d$/);
    }
    expect(new Set(live.map((i) => i.InstanceId))).toEqual(new Set(listed.map((i) => i.id)));

    // A retried activity (attempt 2) returns the same instances and launches nothing.
    const again = await awsEc2Plugin.provision(plan.steps[1]!, plan, p, ctx(burstId, 2));
    expect(again.data!.adopted).toBe(true);
    expect(JSON.parse(String(again.data!.instances))).toEqual(listed);
    const ltAgain = await awsEc2Plugin.provision(plan.steps[0]!, plan, p, ctx(burstId, 2));
    expect(ltAgain.id).toBe(ltRef!.id);
    expect(await byTags({ 'fluxburst:burst-id': burstId })).toHaveLength(3);

    expect(await awsEc2Plugin.interruptions!(refs, p, ctx(burstId))).toEqual([]);

    const owned = await awsEc2Plugin.owned(p);
    expect(owned.filter((o) => o.burstId === burstId && o.kind === 'instance')).toHaveLength(3);
    expect(owned.some((o) => o.burstId === burstId && o.kind === 'launch-template' && o.id === `fluxburst-${burstId}`)).toBe(true);

    // Teardown in reverse, with refs; then again (already gone is success).
    for (let round = 0; round < 2; round++) {
      for (let i = plan.steps.length - 1; i >= 0; i--) await awsEc2Plugin.teardown(plan.steps[i]!, refs[i], p, ctx(burstId));
    }
    expect(await byTags({ 'fluxburst:burst-id': burstId })).toHaveLength(0);
    expect(await launchTemplates()).not.toContain(`fluxburst-${burstId}`);
  });

  it('tears down by tag lookup when the refs were lost, and then owns nothing', async () => {
    const p = params({ capacityType: 'on-demand' });
    const burstId = 'b-noref-1';
    const { plan } = await provisionAll(p, burstId, [job('a', 2, 2)]);
    const live = await byTags({ 'fluxburst:burst-id': burstId });
    expect(live).toHaveLength(2);
    expect(live.every((i) => i.InstanceLifecycle !== 'spot')).toBe(true);
    // A dead instance shows up as an interruption of its node.
    for (let i = plan.steps.length - 1; i >= 0; i--) await awsEc2Plugin.teardown(plan.steps[i]!, undefined, p, ctx(burstId));
    for (let i = plan.steps.length - 1; i >= 0; i--) await awsEc2Plugin.teardown(plan.steps[i]!, undefined, p, ctx(burstId));
    expect(await byTags({ 'fluxburst:burst-id': burstId })).toHaveLength(0);
    expect(await launchTemplates()).not.toContain(`fluxburst-${burstId}`);
    expect(await awsEc2Plugin.owned(p)).toEqual([]);
  });

  it('reports a terminated node as an interruption', async () => {
    const p = params({ capacityType: 'on-demand' });
    const burstId = 'b-int-1';
    const { plan, refs } = await provisionAll(p, burstId, [job('a', 2, 2)]);
    const listed = JSON.parse(String(refs[1]!.data!.instances)) as Array<{ id: string; node: string }>;
    const { TerminateInstancesCommand } = await import('@aws-sdk/client-ec2');
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [listed[1]!.id] }));
    const n = await awsEc2Plugin.interruptions!(refs, p, ctx(burstId));
    expect(n).toEqual([expect.objectContaining({ node: listed[1]!.node, kind: 'termination' })]);
    // A replacement node step launches one tagged instance of its own.
    const r = await awsEc2Plugin.provision({ key: 'node-1-r1', kind: 'node', node: 'node-1-r1' }, plan, p, ctx(burstId));
    expect(r).toMatchObject({ kind: 'node', node: 'node-1-r1' });
    expect(await byTags({ 'fluxburst:burst-id': burstId, 'fluxburst:step': 'node-1-r1' })).toHaveLength(1);
    await awsEc2Plugin.teardown({ key: 'node-1-r1', kind: 'node', node: 'node-1-r1' }, undefined, p, ctx(burstId));
    for (let i = plan.steps.length - 1; i >= 0; i--) await awsEc2Plugin.teardown(plan.steps[i]!, refs[i], p, ctx(burstId));
    expect(await byTags({ 'fluxburst:burst-id': burstId })).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Against the patched moto (testkit/moto/launcher.py): capacity errors, partial fleets under
// MinTargetCapacity, placement groups, spot interruption marking, call counters.

describe('aws-ec2 on patched moto (capacity, placement groups, interruptions)', () => {
  let m: Moto | undefined;
  let client: EC2Client;
  let pbase: Record<string, unknown>;
  const pparams = (extra: Record<string, unknown> = {}) => awsEc2Params.parse({ ...pbase, ...extra });
  const live = async (burstId: string) => {
    const r = await client.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag:fluxburst:burst-id', Values: [burstId] }, { Name: 'instance-state-name', Values: ['pending', 'running'] }] }),
    );
    return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
  };
  const teardownAll = async (plan: BurstPlan, refs: Array<ResourceRef | undefined>, p: AwsEc2Params, burstId: string) => {
    for (let i = plan.steps.length - 1; i >= 0; i--) await awsEc2Plugin.teardown(plan.steps[i]!, refs[i], p, ctx(burstId));
  };

  beforeAll(async () => {
    m = await startMoto();
    client = motoClient(m.endpoint);
    const vpc = await client.send(new CreateVpcCommand({ CidrBlock: '10.1.0.0/16' }));
    const s1 = await client.send(new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId!, CidrBlock: '10.1.1.0/24', AvailabilityZone: `${REGION}a` }));
    const s2 = await client.send(new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId!, CidrBlock: '10.1.2.0/24', AvailabilityZone: `${REGION}b` }));
    const sg = await client.send(new CreateSecurityGroupCommand({ VpcId: vpc.Vpc!.VpcId!, GroupName: 'fb', Description: 'test' }));
    const images = await client.send(new DescribeImagesCommand({}));
    pbase = {
      region: REGION,
      endpoint: m.endpoint,
      imageId: images.Images!.find((i) => i.ImageId?.startsWith('ami-'))!.ImageId!,
      subnetIds: [s1.Subnet!.SubnetId!, s2.Subnet!.SubnetId!],
      securityGroupIds: [sg.GroupId!],
      instanceTypes: ['c5.large', 'c6i.large'],
      pollSeconds: 0.2,
      launchTimeoutSeconds: 30,
    };
  });

  beforeEach(async () => {
    unavailableOfferings.clear();
    await m?.clearCapacity();
  });

  afterAll(async () => {
    client?.destroy();
    await m?.stop();
  });

  it('moves to the next type when the first has no spot capacity, and remembers the offering', async () => {
    const p = pparams({ capacityType: 'spot' });
    const burstId = 'pm-next-type';
    await m!.unavailable({ instanceType: 'c5.large', capacityType: 'spot', errorCode: 'InsufficientInstanceCapacity' });
    const { plan, refs } = await provisionAll(p, burstId, [job('a', 2, 2)]);
    expect(plan.groups[0]!.shape).toBe('c5.large');
    const listed = JSON.parse(String(refs[1]!.data!.instances)) as Array<{ instanceType: string; lifecycle: string }>;
    expect(listed).toHaveLength(2);
    expect(listed.every((i) => i.instanceType === 'c6i.large' && i.lifecycle === 'spot')).toBe(true);
    expect(unavailableOfferings.isUnavailable({ instanceType: 'c5.large', subnetId: (p.subnetIds[0] as string), capacityType: 'spot' })).toBe(true);
    await teardownAll(plan, refs, p, burstId);
    expect(await live(burstId)).toHaveLength(0);
  });

  it('next type within one CreateFleet (EC2 itself skips a pool without capacity): one call, the product marks the offering, a second burst never asks for it', async () => {
    const p = pparams({ capacityType: 'spot' });
    await m!.unavailable({ instanceType: 'c5.large', capacityType: 'spot', errorCode: 'InsufficientInstanceCapacity' });
    const before = (await m!.calls()).CreateFleet ?? 0;
    const a = await provisionAll(p, 'pm-calls-a', [job('a', 2, 2)]);
    expect(((await m!.calls()).CreateFleet ?? 0) - before).toBe(1);
    for (const s of p.subnetIds) expect(unavailableOfferings.isUnavailable({ instanceType: 'c5.large', subnetId: s as string, capacityType: 'spot' })).toBe(true);
    expect(unavailableOfferings.isUnavailable({ instanceType: 'c6i.large', subnetId: p.subnetIds[0] as string, capacityType: 'spot' })).toBe(false);
    // The cache, not EC2, keeps the second burst off c5.large: capacity is back, yet it is not asked for.
    await m!.clearCapacity();
    const b = await provisionAll(p, 'pm-calls-b', [job('a', 1, 2)]);
    const listed = JSON.parse(String(b.refs[1]!.data!.instances)) as Array<{ instanceType: string }>;
    expect(listed.map((i) => i.instanceType)).toEqual(['c6i.large']);
    expect(((await m!.calls()).CreateFleet ?? 0) - before).toBe(2);
    await teardownAll(a.plan, a.refs, p, 'pm-calls-a');
    await teardownAll(b.plan, b.refs, p, 'pm-calls-b');
  });

  it('a CreateFleet refused as a whole (EC2 tried nothing else): the product loop marks every offering of it and goes on to on-demand in a second call', async () => {
    const p = pparams();
    const before = (await m!.calls()).CreateFleet ?? 0;
    await m!.fault({ action: 'CreateFleet', errorCode: 'InsufficientInstanceCapacity', after: false, times: 1 });
    const { plan, refs } = await provisionAll(p, 'pm-whole', [job('a', 2, 2)]);
    expect(((await m!.calls()).CreateFleet ?? 0) - before).toBe(2);
    for (const t of ['c5.large', 'c6i.large']) {
      for (const s of p.subnetIds) expect(unavailableOfferings.isUnavailable({ instanceType: t, subnetId: s as string, capacityType: 'spot' })).toBe(true);
    }
    const listed = JSON.parse(String(refs[1]!.data!.instances)) as Array<{ lifecycle: string }>;
    expect(listed.map((i) => i.lifecycle)).toEqual(['on-demand', 'on-demand']);
    await teardownAll(plan, refs, p, 'pm-whole');
    expect(await live('pm-whole')).toHaveLength(0);
  });

  it('falls back from spot to on-demand when no spot offering is left', async () => {
    const p = pparams();
    const burstId = 'pm-fallback';
    await m!.unavailable({ instanceType: 'c5.large', capacityType: 'spot', errorCode: 'InsufficientInstanceCapacity' });
    await m!.unavailable({ instanceType: 'c6i.large', capacityType: 'spot', errorCode: 'InsufficientInstanceCapacity' });
    const { plan, refs } = await provisionAll(p, burstId, [job('a', 3, 2)]);
    const listed = JSON.parse(String(refs[1]!.data!.instances)) as Array<{ instanceType: string; lifecycle: string }>;
    expect(listed).toHaveLength(3);
    expect(listed.every((i) => i.lifecycle === 'on-demand' && i.instanceType === 'c5.large')).toBe(true);
    expect((await live(burstId)).every((i) => i.InstanceLifecycle !== 'spot')).toBe(true);
    await teardownAll(plan, refs, p, burstId);
    expect(await live(burstId)).toHaveLength(0);
  });

  it('under gang, a pool that can give only part of the nodes launches nothing there; an account limit moves to on-demand', async () => {
    const p = pparams();
    const burstId = 'pm-gang';
    // Spot: one instance left for the whole account (MaxSpotInstanceCountExceeded after it).
    await m!.unavailable({ instanceType: 'c5.large', capacityType: 'spot', errorCode: 'MaxSpotInstanceCountExceeded', available: 1 });
    await m!.unavailable({ instanceType: 'c6i.large', capacityType: 'spot', errorCode: 'MaxSpotInstanceCountExceeded', available: 1 });
    const { plan, refs } = await provisionAll(p, burstId, [job('a', 3, 2)]);
    const now = await live(burstId);
    expect(now).toHaveLength(3);
    expect(now.every((i) => i.InstanceLifecycle !== 'spot')).toBe(true);
    expect(unavailableOfferings.isUnavailable({ instanceType: 'm5.large', subnetId: 'subnet-x', capacityType: 'spot' })).toBe(true);
    await teardownAll(plan, refs, p, burstId);
  });

  it('fails with a CapacityError carrying the EC2 code when nothing is left, and leaves nothing running', async () => {
    const p = pparams({ capacityType: 'spot' });
    const burstId = 'pm-none';
    await m!.unavailable({ instanceType: 'c5.large', capacityType: 'spot', errorCode: 'InsufficientInstanceCapacity' });
    await m!.unavailable({ instanceType: 'c6i.large', capacityType: 'spot', errorCode: 'InsufficientInstanceCapacity' });
    const plan = await awsEc2Plugin.plan([job('a', 2, 2)], p, ctx(burstId));
    await awsEc2Plugin.provision(plan.steps[0]!, plan, p, ctx(burstId));
    const err = await awsEc2Plugin.provision(plan.steps[1]!, plan, p, ctx(burstId)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CapacityError);
    expect((err as CapacityError).code).toBe('InsufficientInstanceCapacity');
    expect((err as CapacityError).retryable).toBe(false);
    expect((err as Error).message).toContain('InsufficientInstanceCapacity');
    expect(await live(burstId)).toHaveLength(0);
    // The saga's compensations run without refs.
    await teardownAll(plan, [undefined, undefined], p, burstId);
  });

  it('a retried fleet step calls CreateFleet no more', async () => {
    const p = pparams({ capacityType: 'on-demand' });
    const burstId = 'pm-retry';
    const { plan, refs } = await provisionAll(p, burstId, [job('a', 2, 2)]);
    const before = (await m!.calls()).CreateFleet ?? 0;
    const again = await awsEc2Plugin.provision(plan.steps[1]!, plan, p, ctx(burstId, 2));
    expect(again.data!.instances).toBe(refs[1]!.data!.instances);
    expect((await m!.calls()).CreateFleet ?? 0).toBe(before);
    expect(await live(burstId)).toHaveLength(2);
    await teardownAll(plan, refs, p, burstId);
  });

  it('makes a cluster placement group per burst, launches into it, deletes it (twice is fine)', async () => {
    const p = pparams({ capacityType: 'on-demand', placementGroup: true });
    const burstId = 'pm-pg';
    const { plan, refs } = await provisionAll(p, burstId, [job('a', 2, 2)]);
    expect(plan.steps.map((s) => s.kind)).toEqual(['launch-template', 'placement-group', 'fleet']);
    const pgs = await client.send(new DescribePlacementGroupsCommand({ GroupNames: [`fluxburst-${burstId}`] }));
    expect(pgs.PlacementGroups?.[0]).toMatchObject({ Strategy: 'cluster' });
    const now = await live(burstId);
    expect(now.every((i) => i.Placement?.GroupName === `fluxburst-${burstId}`)).toBe(true);
    expect(new Set(now.map((i) => i.Placement?.AvailabilityZone)).size).toBe(1);
    expect((await awsEc2Plugin.owned(p)).some((o) => o.kind === 'placement-group' && o.burstId === burstId)).toBe(true);
    await teardownAll(plan, refs, p, burstId);
    await teardownAll(plan, [undefined, undefined, undefined], p, burstId);
    const after = await client.send(new DescribePlacementGroupsCommand({})).catch(() => ({ PlacementGroups: [] }));
    expect((after.PlacementGroups ?? []).filter((g) => g.GroupName === `fluxburst-${burstId}` && g.State !== 'deleted')).toHaveLength(0);
    expect(await awsEc2Plugin.owned(p)).toEqual([]);
  });

  it('reports a spot instance marked for termination as an interruption of its node', async () => {
    const p = pparams({ capacityType: 'spot' });
    const burstId = 'pm-spot';
    const { plan, refs } = await provisionAll(p, burstId, [job('a', 2, 2)]);
    const listed = JSON.parse(String(refs[1]!.data!.instances)) as Array<{ id: string; node: string }>;
    expect(await awsEc2Plugin.interruptions!(refs, p, ctx(burstId))).toEqual([]);
    await m!.interrupt(listed[0]!.id, 30);
    const n = await awsEc2Plugin.interruptions!(refs, p, ctx(burstId));
    expect(n).toEqual([{ node: listed[0]!.node, kind: 'spot-interruption', reason: expect.stringContaining('marked-for-termination') }]);
    const first = (JSON.parse(String(refs[1]!.data!.instances)) as Array<{ instanceType: string; subnetId: string }>)[0]!;
    expect(unavailableOfferings.isUnavailable({ instanceType: first.instanceType, subnetId: first.subnetId, capacityType: 'spot' })).toBe(true);
    await teardownAll(plan, refs, p, burstId);
    expect(await live(burstId)).toHaveLength(0);
  });

  it('attaches an EFA interface when asked and the types support it', async () => {
    const p = pparams({ capacityType: 'on-demand', efa: true, instanceTypes: ['c5n.9xlarge', 'c5n.18xlarge'] });
    const burstId = 'pm-efa';
    const { plan, refs } = await provisionAll(p, burstId, [job('a', 2, 36)]);
    expect(plan.groups[0]!.shape).toBe('c5n.9xlarge');
    expect(refs[0]!.data!.efa).toBe(true);
    const v = await client.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: `fluxburst-${burstId}` }));
    expect(v.LaunchTemplateVersions![0]!.LaunchTemplateData!.NetworkInterfaces?.[0]).toMatchObject({ InterfaceType: 'efa', DeviceIndex: 0 });
    const now = await live(burstId);
    expect(now).toHaveLength(2);
    expect(now.every((i) => i.NetworkInterfaces?.[0]?.InterfaceType === 'efa')).toBe(true);
    await teardownAll(plan, refs, p, burstId);
    // A type without EFA: launched without it.
    const plain = pparams({ capacityType: 'on-demand', efa: true, instanceTypes: ['c5.large'] });
    const r = await provisionAll(plain, 'pm-noefa', [job('a', 1, 2)]);
    expect(r.refs[0]!.data!.efa).toBe(false);
    await teardownAll(r.plan, r.refs, plain, 'pm-noefa');
    expect(await live('pm-noefa')).toHaveLength(0);
  });
});
