import {
  CreateFleetCommand,
  type CreateFleetCommandInput,
  CreateLaunchTemplateCommand,
  CreatePlacementGroupCommand,
  CreateSubnetCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DeleteFleetsCommand,
  DeletePlacementGroupCommand,
  DescribeFleetsCommand,
  DescribeInstancesCommand,
  DescribePlacementGroupsCommand,
  DescribeSpotInstanceRequestsCommand,
  DescribeSubnetsCommand,
  type EC2Client,
  type Instance,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ec2Client, type Moto, startMoto } from '../../testkit/moto/index.js';

const AMI = 'ami-12345678';
let moto: Moto;
let ec2: EC2Client;
let subnetA: string; // us-east-1a
let subnetB: string; // us-east-1b
let ltId: string; // c5n.18xlarge, one EFA interface

beforeAll(async () => {
  moto = await startMoto();
  ec2 = ec2Client(moto.endpoint);
});
afterAll(async () => {
  ec2?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  const vpcId = vpc.Vpc!.VpcId!;
  const a = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1a' }));
  const b = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.2.0/24', AvailabilityZone: 'us-east-1b' }));
  subnetA = a.Subnet!.SubnetId!;
  subnetB = b.Subnet!.SubnetId!;
  const lt = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: 'hpc',
      LaunchTemplateData: {
        ImageId: AMI,
        InstanceType: 'c5n.18xlarge',
        NetworkInterfaces: [{ DeviceIndex: 0, InterfaceType: 'efa' }],
      },
    }),
  );
  ltId = lt.LaunchTemplate!.LaunchTemplateId!;
});

/** An instant fleet over {c5n.18xlarge, c6in.32xlarge} x {subnetA, subnetB}. */
function fleet(over: Partial<CreateFleetCommandInput> & { capacity?: 'spot' | 'on-demand'; total?: number } = {}): CreateFleetCommandInput {
  const { capacity = 'on-demand', total = 2, ...rest } = over;
  return {
    Type: 'instant',
    LaunchTemplateConfigs: [
      {
        LaunchTemplateSpecification: { LaunchTemplateId: ltId, Version: '$Latest' },
        Overrides: [
          { InstanceType: 'c5n.18xlarge', SubnetId: subnetA },
          { InstanceType: 'c5n.18xlarge', SubnetId: subnetB },
          { InstanceType: 'c6in.32xlarge', SubnetId: subnetA },
          { InstanceType: 'c6in.32xlarge', SubnetId: subnetB },
        ],
      },
    ],
    TargetCapacitySpecification: { TotalTargetCapacity: total, DefaultTargetCapacityType: capacity },
    ...(capacity === 'spot' ? { SpotOptions: { AllocationStrategy: 'lowest-price' } } : {}),
    TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'fluxburst:burst', Value: 'b1' }] }],
    ...rest,
  };
}

async function instances(ids: string[]): Promise<Instance[]> {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

async function allInstances(): Promise<Instance[]> {
  const out = await ec2.send(new DescribeInstancesCommand({}));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

const ids = (out: { Instances?: { InstanceIds?: string[] }[] }) => (out.Instances ?? []).flatMap((i) => i.InstanceIds ?? []);

async function rejection(p: Promise<unknown>): Promise<{ name: string; message: string; $metadata: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as { name: string; message: string; $metadata: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}

describe('moto launcher', () => {
  it('launches instant on-demand and spot fleets with tags, template and EFA interfaces', async () => {
    const od = await ec2.send(new CreateFleetCommand(fleet({ total: 2 })));
    expect(od.FleetId).toMatch(/^fleet-/);
    expect(od.Errors ?? []).toEqual([]);
    expect(ids(od)).toHaveLength(2);
    expect(od.Instances).toHaveLength(1); // one entry per pool, as EC2 does
    expect(od.Instances![0]!.Lifecycle).toBe('on-demand');
    expect(od.Instances![0]!.LaunchTemplateAndOverrides?.Overrides?.SubnetId).toBe(subnetA);

    const described = await instances(ids(od));
    for (const i of described) {
      expect(i.InstanceType).toBe('c5n.18xlarge');
      expect(i.Placement?.AvailabilityZone).toBe('us-east-1a');
      const tags = Object.fromEntries((i.Tags ?? []).map((t) => [t.Key, t.Value]));
      expect(tags['fluxburst:burst']).toBe('b1');
      expect(tags['aws:ec2:fleet-id']).toBe(od.FleetId);
      expect(tags['aws:ec2launchtemplate:id']).toBe(ltId);
      expect(i.NetworkInterfaces?.[0]?.InterfaceType).toBe('efa');
    }

    const spot = await ec2.send(new CreateFleetCommand(fleet({ capacity: 'spot', total: 1 })));
    expect(spot.Instances![0]!.Lifecycle).toBe('spot');
    const reqs = await ec2.send(
      new DescribeSpotInstanceRequestsCommand({ Filters: [{ Name: 'instance-id', Values: ids(spot) }] }),
    );
    expect(reqs.SpotInstanceRequests).toHaveLength(1);
    expect(reqs.SpotInstanceRequests![0]!.Status?.Code).toBe('fulfilled');
    expect((await instances(ids(spot)))[0]!.NetworkInterfaces?.[0]?.InterfaceType).toBe('efa');

    const fleets = await ec2.send(new DescribeFleetsCommand({ FleetIds: [od.FleetId!, spot.FleetId!] }));
    expect(fleets.Fleets).toHaveLength(2);
    const spotOnly = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-lifecycle', Values: ['spot'] }] }));
    expect((spotOnly.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId)).toEqual(ids(spot));

    await ec2.send(new DeleteFleetsCommand({ FleetIds: [od.FleetId!], TerminateInstances: true }));
    expect((await instances(ids(od))).map((i) => i.State?.Name)).toEqual(['terminated', 'terminated']);
  });

  it('keeps InterfaceType efa on RunInstances network interfaces', async () => {
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: AMI,
        InstanceType: 'c5n.18xlarge',
        MinCount: 1,
        MaxCount: 1,
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetB, InterfaceType: 'efa' }],
      }),
    );
    const [i] = await instances([run.Instances![0]!.InstanceId!]);
    expect(i!.NetworkInterfaces?.[0]?.InterfaceType).toBe('efa');
    expect(i!.Placement?.AvailabilityZone).toBe('us-east-1b');
  });

  it('keeps two EFA interfaces and the security group of a launch template on fleet instances', async () => {
    const vpcId = (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetA] }))).Subnets![0]!.VpcId!;
    const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'efa', Description: 'efa', VpcId: vpcId }));
    const lt = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'p5',
        LaunchTemplateData: {
          ImageId: AMI,
          InstanceType: 'p5.48xlarge',
          NetworkInterfaces: [
            { DeviceIndex: 0, NetworkCardIndex: 0, InterfaceType: 'efa', Groups: [sg.GroupId!] },
            { DeviceIndex: 1, NetworkCardIndex: 1, InterfaceType: 'efa', Groups: [sg.GroupId!] },
          ],
        },
      }),
    );
    for (const capacity of ['on-demand', 'spot'] as const) {
      const out = await ec2.send(
        new CreateFleetCommand({
          Type: 'instant',
          LaunchTemplateConfigs: [
            { LaunchTemplateSpecification: { LaunchTemplateName: 'p5', Version: '$Default' }, Overrides: [{ SubnetId: subnetB }] },
          ],
          TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: capacity },
        }),
      );
      const [i] = await instances(ids(out));
      expect(i!.InstanceType).toBe('p5.48xlarge');
      expect(i!.SubnetId).toBe(subnetB);
      const nics = [...(i!.NetworkInterfaces ?? [])].sort((a, b) => a.Attachment!.DeviceIndex! - b.Attachment!.DeviceIndex!);
      expect(nics.map((n) => n.InterfaceType)).toEqual(['efa', 'efa']);
      expect(nics.map((n) => n.SubnetId)).toEqual([subnetB, subnetB]);
      expect(nics[0]!.Groups?.map((g) => g.GroupId)).toContain(sg.GroupId);
    }
    expect(lt.LaunchTemplate?.LaunchTemplateName).toBe('p5');
  });

  it('CreateFleet with the same ClientToken returns the same fleet and launches nothing new', async () => {
    const input = fleet({ total: 2, ClientToken: 'burst-b1-step-3' });
    const first = await ec2.send(new CreateFleetCommand(input));
    const again = await ec2.send(new CreateFleetCommand(input));
    expect(again.FleetId).toBe(first.FleetId);
    expect(ids(again)).toEqual(ids(first));
    expect(await allInstances()).toHaveLength(2);

    const mismatch = await rejection(ec2.send(new CreateFleetCommand(fleet({ total: 3, ClientToken: 'burst-b1-step-3' }))));
    expect(mismatch.name).toBe('IdempotentParameterMismatch');
    expect(await allInstances()).toHaveLength(2);
    expect((await moto.calls()).CreateFleet).toBe(3);

    // Non-instant fleets (moto's own allocation) are idempotent too.
    const request = { ...fleet({ total: 1, ClientToken: 'req-1' }), Type: 'request' as const };
    const r1 = await ec2.send(new CreateFleetCommand(request));
    const r2 = await ec2.send(new CreateFleetCommand(request));
    expect(r2.FleetId).toBe(r1.FleetId);
    expect(await allInstances()).toHaveLength(3);
  });

  it('skips unavailable pools, returns a partial fleet with Errors', async () => {
    // c5n.18xlarge: none in 1a, only 1 more in 1b; c6in.32xlarge: none anywhere (on-demand).
    await moto.unavailable({ instanceType: 'c5n.18xlarge', availabilityZone: 'us-east-1a', errorCode: 'InsufficientInstanceCapacity' });
    await moto.unavailable({ instanceType: 'c5n.18xlarge', availabilityZone: 'us-east-1b', errorCode: 'InsufficientInstanceCapacity', available: 1 });
    await moto.unavailable({ instanceType: 'c6in.32xlarge', capacityType: 'on-demand', errorCode: 'InstanceLimitExceeded' });
    const out = await ec2.send(new CreateFleetCommand(fleet({ total: 3 })));
    expect(ids(out)).toHaveLength(1);
    const [i] = await instances(ids(out));
    expect(i!.Placement?.AvailabilityZone).toBe('us-east-1b');
    const errors = out.Errors ?? [];
    expect(errors).toHaveLength(4);
    const ice = errors.find((e) => e.LaunchTemplateAndOverrides?.Overrides?.SubnetId === subnetA && e.ErrorCode === 'InsufficientInstanceCapacity');
    expect(ice?.Lifecycle).toBe('on-demand');
    expect(ice?.LaunchTemplateAndOverrides?.Overrides?.InstanceType).toBe('c5n.18xlarge');
    expect(ice?.ErrorMessage).toContain('We currently do not have sufficient c5n.18xlarge capacity in the Availability Zone you requested (us-east-1a)');
    expect(errors.filter((e) => e.ErrorCode === 'InstanceLimitExceeded')).toHaveLength(2);

    // Spot pools are not blocked by the on-demand-only rule.
    const spot = await ec2.send(new CreateFleetCommand(fleet({ capacity: 'spot', total: 2 })));
    expect(ids(spot)).toHaveLength(2);
    expect((await instances(ids(spot))).every((x) => x.InstanceType === 'c6in.32xlarge')).toBe(true);

    await moto.clearCapacity();
    const full = await ec2.send(new CreateFleetCommand(fleet({ total: 3 })));
    expect(ids(full)).toHaveLength(3);
    expect(full.Errors ?? []).toEqual([]);
  });

  it('MinTargetCapacity is all-or-nothing', async () => {
    await moto.unavailable({ instanceType: 'c5n.18xlarge', errorCode: 'InsufficientInstanceCapacity', available: 2 });
    await moto.unavailable({ instanceType: 'c6in.32xlarge', availabilityZone: 'us-east-1a', errorCode: 'InsufficientInstanceCapacity', available: 1 });
    await moto.unavailable({ instanceType: 'c6in.32xlarge', availabilityZone: 'us-east-1b', errorCode: 'Unsupported' });
    // No single instance type can give 4: nothing is launched, only Errors come back.
    const none = await ec2.send(
      new CreateFleetCommand(fleet({ total: 4, OnDemandOptions: { MinTargetCapacity: 4, SingleInstanceType: true } })),
    );
    expect(ids(none)).toEqual([]);
    expect((none.Errors ?? []).length).toBeGreaterThan(0);
    expect(none.Errors!.map((e) => e.ErrorCode)).toContain('InsufficientInstanceCapacity');
    expect(await allInstances()).toHaveLength(0);

    // Min 2 in a single AZ can be met (c5n.18xlarge x2 in 1a) though the target 4 cannot.
    const some = await ec2.send(
      new CreateFleetCommand(fleet({ total: 4, OnDemandOptions: { MinTargetCapacity: 2, SingleAvailabilityZone: true } })),
    );
    const got = await instances(ids(some));
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(new Set(got.map((x) => x.Placement?.AvailabilityZone)).size).toBe(1);

    const bad = await rejection(ec2.send(new CreateFleetCommand(fleet({ total: 2, OnDemandOptions: { MinTargetCapacity: 2 } }))));
    expect(bad.name).toBe('InvalidFleetConfig');
  });

  it('DeleteFleets of an instant fleet that launched nothing deletes it, as EC2 does (moto refused it with InvalidParameterCombination)', async () => {
    await moto.unavailable({ instanceType: 'c5n.18xlarge', errorCode: 'InsufficientInstanceCapacity' });
    await moto.unavailable({ instanceType: 'c6in.32xlarge', errorCode: 'InsufficientInstanceCapacity' });
    const none = await ec2.send(new CreateFleetCommand(fleet({ total: 2 })));
    expect(ids(none)).toEqual([]);
    const del = await ec2.send(new DeleteFleetsCommand({ FleetIds: [none.FleetId!], TerminateInstances: true }));
    expect(del.SuccessfulFleetDeletions?.map((d) => d.FleetId)).toEqual([none.FleetId]);
    expect(del.UnsuccessfulFleetDeletions ?? []).toEqual([]);
    const after = await ec2.send(new DescribeFleetsCommand({ FleetIds: [none.FleetId!] }));
    expect(after.Fleets?.[0]?.FleetState).toMatch(/^deleted/);
  });

  it('binds a port of its own (no port picked beforehand and handed over): READY names it, and it serves there', async () => {
    const [a, b] = await Promise.all([startMoto(), startMoto()]);
    try {
      expect(a.port).toBeGreaterThan(0);
      expect(b.port).not.toBe(a.port);
      expect(a.endpoint).toBe(`http://127.0.0.1:${a.port}`);
      expect(await b.calls()).toEqual({});
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('placement groups: create, describe, in-use delete failure, delete', async () => {
    const pg = await ec2.send(
      new CreatePlacementGroupCommand({
        GroupName: 'fb-b1',
        Strategy: 'cluster',
        TagSpecifications: [{ ResourceType: 'placement-group', Tags: [{ Key: 'fluxburst:burst', Value: 'b1' }] }],
      }),
    );
    expect(pg.PlacementGroup?.GroupId).toMatch(/^pg-/);
    await ec2.send(new CreatePlacementGroupCommand({ GroupName: 'other', Strategy: 'spread' }));
    const dup = await rejection(ec2.send(new CreatePlacementGroupCommand({ GroupName: 'fb-b1', Strategy: 'cluster' })));
    expect(dup.name).toBe('InvalidPlacementGroup.Duplicate');

    const byName = await ec2.send(new DescribePlacementGroupsCommand({ GroupNames: ['fb-b1'] }));
    expect(byName.PlacementGroups).toHaveLength(1);
    expect(byName.PlacementGroups![0]!.Strategy).toBe('cluster');
    expect(byName.PlacementGroups![0]!.State).toBe('available');
    expect(byName.PlacementGroups![0]!.Tags).toEqual([{ Key: 'fluxburst:burst', Value: 'b1' }]);
    const byId = await ec2.send(new DescribePlacementGroupsCommand({ GroupIds: [pg.PlacementGroup!.GroupId!] }));
    expect(byId.PlacementGroups!.map((g) => g.GroupName)).toEqual(['fb-b1']);
    const byTag = await ec2.send(new DescribePlacementGroupsCommand({ Filters: [{ Name: 'tag:fluxburst:burst', Values: ['b1'] }] }));
    expect(byTag.PlacementGroups!.map((g) => g.GroupName)).toEqual(['fb-b1']);
    const byStrategy = await ec2.send(new DescribePlacementGroupsCommand({ Filters: [{ Name: 'strategy', Values: ['spread'] }] }));
    expect(byStrategy.PlacementGroups!.map((g) => g.GroupName)).toEqual(['other']);
    const byGroupName = await ec2.send(new DescribePlacementGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['other'] }] }));
    expect(byGroupName.PlacementGroups).toHaveLength(1);

    // Launch through a template that names the group; the instances keep Placement.GroupName.
    const lt = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'hpc-pg',
        LaunchTemplateData: { ImageId: AMI, InstanceType: 'c5n.18xlarge', Placement: { GroupName: 'fb-b1' } },
      }),
    );
    const out = await ec2.send(
      new CreateFleetCommand({
        Type: 'instant',
        LaunchTemplateConfigs: [
          {
            LaunchTemplateSpecification: { LaunchTemplateId: lt.LaunchTemplate!.LaunchTemplateId!, Version: '$Latest' },
            Overrides: [{ InstanceType: 'c5n.18xlarge', SubnetId: subnetA }],
          },
        ],
        TargetCapacitySpecification: { TotalTargetCapacity: 2, DefaultTargetCapacityType: 'on-demand' },
      }),
    );
    const launched = await instances(ids(out));
    expect(launched.map((i) => i.Placement?.GroupName)).toEqual(['fb-b1', 'fb-b1']);
    const inGroup = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'placement-group-name', Values: ['fb-b1'] }] }));
    expect((inGroup.Reservations ?? []).flatMap((r) => r.Instances ?? [])).toHaveLength(2);
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: AMI, InstanceType: 'c5n.18xlarge', MinCount: 1, MaxCount: 1, SubnetId: subnetA, Placement: { GroupName: 'other' } }),
    );
    expect((await instances([run.Instances![0]!.InstanceId!]))[0]!.Placement?.GroupName).toBe('other');

    const inUse = await rejection(ec2.send(new DeletePlacementGroupCommand({ GroupName: 'fb-b1' })));
    expect(inUse.name).toBe('InvalidPlacementGroup.InUse');
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids(out) }));
    await ec2.send(new DeletePlacementGroupCommand({ GroupName: 'fb-b1' }));
    const gone = await rejection(ec2.send(new DescribePlacementGroupsCommand({ GroupNames: ['fb-b1'] })));
    expect(gone.name).toBe('InvalidPlacementGroup.Unknown');
    const unknown = await rejection(ec2.send(new DeletePlacementGroupCommand({ GroupName: 'fb-b1' })));
    expect(unknown.name).toBe('InvalidPlacementGroup.Unknown');
  });

  it('spot interruption: marked-for-termination, then terminated with Server.SpotInstanceTermination', async () => {
    const out = await ec2.send(new CreateFleetCommand(fleet({ capacity: 'spot', total: 1 })));
    const [id] = ids(out);
    await moto.interrupt(id!, 1);
    const reqs = await ec2.send(new DescribeSpotInstanceRequestsCommand({ Filters: [{ Name: 'instance-id', Values: [id!] }] }));
    expect(reqs.SpotInstanceRequests![0]!.Status?.Code).toBe('marked-for-termination');
    expect((await instances([id!]))[0]!.State?.Name).toBe('running');

    const seen = new Set<string>();
    const deadline = Date.now() + 10_000;
    let last: Instance | undefined;
    while (Date.now() < deadline) {
      last = (await instances([id!]))[0];
      seen.add(last!.State!.Name!);
      if (last!.State?.Name === 'terminated') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(last!.State?.Name).toBe('terminated');
    expect(seen).toContain('shutting-down');
    expect(last!.StateReason?.Code).toBe('Server.SpotInstanceTermination');
    const after = await ec2.send(new DescribeSpotInstanceRequestsCommand({ SpotInstanceRequestIds: [reqs.SpotInstanceRequests![0]!.SpotInstanceRequestId!] }));
    expect(after.SpotInstanceRequests![0]!.State).toBe('closed');
  });

  it('DryRun answers HTTP 412 DryRunOperation and launches nothing', async () => {
    // Thunks, so that each rejection is awaited as soon as it happens.
    const calls = [
      () => ec2.send(new CreateFleetCommand({ ...fleet({ total: 1 }), DryRun: true })),
      () => ec2.send(new RunInstancesCommand({ ImageId: AMI, InstanceType: 'c5n.18xlarge', MinCount: 1, MaxCount: 1, SubnetId: subnetA, DryRun: true })),
      () => ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'dry', LaunchTemplateData: { ImageId: AMI }, DryRun: true })),
      () => ec2.send(new CreatePlacementGroupCommand({ GroupName: 'dry', Strategy: 'cluster', DryRun: true })),
    ];
    for (const call of calls) {
      const e = await rejection(call());
      expect(e.name).toBe('DryRunOperation');
      expect(e.$metadata.httpStatusCode).toBe(412);
    }
    expect(await allInstances()).toHaveLength(0);
    expect((await ec2.send(new DescribePlacementGroupsCommand({}))).PlacementGroups ?? []).toEqual([]);

    // moto really runs a dry-run DeleteFleets; the launcher checks DryRun first.
    const real = await ec2.send(new CreateFleetCommand(fleet({ total: 1 })));
    const del = await rejection(ec2.send(new DeleteFleetsCommand({ FleetIds: [real.FleetId!], TerminateInstances: true, DryRun: true })));
    expect(del.name).toBe('DryRunOperation');
    expect(del.$metadata.httpStatusCode).toBe(412);
    expect((await instances(ids(real)))[0]!.State?.Name).toBe('running');
  });

  it('counts EC2 calls per action since reset', async () => {
    const before = await moto.calls();
    expect(before).toMatchObject({ CreateVpc: 1, CreateSubnet: 2, CreateLaunchTemplate: 1 });
    await ec2.send(new CreateFleetCommand(fleet({ total: 1 })));
    await ec2.send(new DescribeInstancesCommand({}));
    await ec2.send(new DescribeInstancesCommand({}));
    const after = await moto.calls();
    expect(after.CreateFleet).toBe(1);
    expect(after.DescribeInstances).toBe(2);
  });
});
