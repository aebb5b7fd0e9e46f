// A cluster placement group per burst (deterministic name): create-or-find, delete at teardown.
import { setTimeout as sleep } from 'node:timers/promises';
import { CreatePlacementGroupCommand, DeletePlacementGroupCommand, DescribePlacementGroupsCommand, type EC2Client, type PlacementGroup } from '@aws-sdk/client-ec2';
import { TransientError } from '../../core/errors.js';
import { ec2Code, fromEc2, isNotFound } from './errors.js';
import type { AwsEc2Params } from './params.js';
import { burstTags, ec2Name } from './tags.js';

export const placementGroupName = (burstId: string): string => ec2Name('fluxburst', burstId, 255);

export async function findPlacementGroup(client: EC2Client, name: string): Promise<PlacementGroup | undefined> {
  try {
    const r = await client.send(new DescribePlacementGroupsCommand({ GroupNames: [name] }));
    return r.PlacementGroups?.find((g) => g.GroupName === name && g.State !== 'deleted');
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw fromEc2(e, 'DescribePlacementGroups');
  }
}

export async function ensurePlacementGroup(client: EC2Client, p: AwsEc2Params, burstId: string, owner: string): Promise<{ id: string; name: string }> {
  const name = placementGroupName(burstId);
  const found = await findPlacementGroup(client, name);
  if (found) return { id: found.GroupId ?? name, name };
  try {
    const r = await client.send(
      new CreatePlacementGroupCommand({ GroupName: name, Strategy: 'cluster', TagSpecifications: [{ ResourceType: 'placement-group', Tags: burstTags(p, burstId, owner) }] }),
    );
    return { id: r.PlacementGroup?.GroupId ?? name, name };
  } catch (e) {
    if (ec2Code(e) === 'InvalidPlacementGroup.Duplicate') {
      const again = await findPlacementGroup(client, name);
      if (again) return { id: again.GroupId ?? name, name };
    }
    throw fromEc2(e, 'CreatePlacementGroup');
  }
}

/**
 * Delete the group; already gone is success. A group still holding (terminating) instances
 * answers InvalidPlacementGroup.InUse: wait (heartbeating) and try again, up to `waitMs`, then
 * fail retryably so the activity tries later.
 */
export async function deletePlacementGroup(client: EC2Client, name: string, opts: { waitMs?: number; signal?: AbortSignal; heartbeat?: (d: unknown) => void } = {}): Promise<boolean> {
  const deadline = Date.now() + (opts.waitMs ?? 120_000);
  for (;;) {
    try {
      await client.send(new DeletePlacementGroupCommand({ GroupName: name }));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      if (ec2Code(e) !== 'InvalidPlacementGroup.InUse') throw fromEc2(e, `DeletePlacementGroup ${name}`);
      if (Date.now() > deadline) throw new TransientError(`placement group ${name} is still in use`, e);
      opts.heartbeat?.({ waitingFor: `placement group ${name}` });
      await sleep(5000, undefined, opts.signal ? { signal: opts.signal } : undefined);
    }
  }
}

