// The aws-ec2 plugin takes the same path on moto as on AWS: no branch on `endpoint`, no error
// swallowed because moto alone gives it. Where moto differed from EC2, the launcher was fixed
// (testkit/moto/launcher.py P9), not the product.
import { CreateFleetCommand, CreateLaunchTemplateCommand, CreatePlacementGroupCommand, DescribeFleetsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deleteFleets } from '../../src/plugins/aws-ec2/fleet.js';
import { awsEc2Params } from '../../src/plugins/aws-ec2/params.js';
import { awsEc2Plugin } from '../../src/plugins/aws-ec2/plugin.js';
import type { PluginContext } from '../../src/plugins/contract.js';
import { ec2Client, type Moto, motoBase, startMoto } from '../../testkit/moto/index.js';

let moto: Moto;
let ec2: EC2Client;
let base: Record<string, unknown>;
const ctx: PluginContext = {
  burstId: 'same-as-aws',
  owner: 'tester',
  attempt: 1,
  credentials: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
  signal: new AbortController().signal,
  heartbeat: () => undefined,
  log: { info: () => undefined, warn: () => undefined },
};

beforeAll(async () => {
  moto = await startMoto();
  ec2 = ec2Client(moto.endpoint);
  base = await motoBase(moto.endpoint, 'same');
});
afterAll(async () => {
  ec2?.destroy();
  await moto?.stop();
});

it('owned() lists an orphaned placement group on an endpoint override, for a target that makes none (the sweep finds it)', async () => {
  await ec2.send(
    new CreatePlacementGroupCommand({
      GroupName: 'fb-orphan-pg',
      Strategy: 'cluster',
      TagSpecifications: [
        {
          ResourceType: 'placement-group',
          Tags: [
            { Key: 'fluxburst:burst-id', Value: 'old-burst' },
            { Key: 'fluxburst:owner', Value: 'alice' },
            { Key: 'fluxburst:created-by', Value: 'fluxburst' },
          ],
        },
      ],
    }),
  );
  const p = awsEc2Params.parse({ ...base, instanceTypes: ['c5.large'] });
  expect(p.endpoint).toBe(moto.endpoint);
  expect(p.placementGroup).toBeFalsy();
  const owned = await awsEc2Plugin.owned!(p, ctx);
  expect(owned.filter((o) => o.kind === 'placement-group')).toEqual([{ burstId: 'old-burst', owner: 'alice', kind: 'placement-group', id: 'fb-orphan-pg' }]);
  expect((await moto.calls()).DescribePlacementGroups).toBe(1);
});

it('deleteFleets deletes an instant fleet that launched nothing (no moto-only error swallowed)', async () => {
  const p = awsEc2Params.parse({ ...base, instanceTypes: ['c5.large'] });
  await moto.unavailable({ instanceType: 'c5.large', errorCode: 'InsufficientInstanceCapacity' });
  const lt = await ec2.send(
    new CreateLaunchTemplateCommand({ LaunchTemplateName: 'same-lt', LaunchTemplateData: { ImageId: String(base.imageId), InstanceType: 'c5.large' } }),
  );
  const f = await ec2.send(
    new CreateFleetCommand({
      Type: 'instant',
      LaunchTemplateConfigs: [{ LaunchTemplateSpecification: { LaunchTemplateId: lt.LaunchTemplate!.LaunchTemplateId!, Version: '$Latest' }, Overrides: [{ InstanceType: 'c5.large', SubnetId: p.subnetIds[0]! }] }],
      TargetCapacitySpecification: { TotalTargetCapacity: 1, DefaultTargetCapacityType: 'on-demand' },
    }),
  );
  expect(f.Instances ?? []).toEqual([]);
  await deleteFleets(ec2, [f.FleetId!]);
  const after = await ec2.send(new DescribeFleetsCommand({ FleetIds: [f.FleetId!] }));
  expect(after.Fleets?.[0]?.FleetState).toMatch(/^deleted/);
  await moto.clearCapacity();
});
