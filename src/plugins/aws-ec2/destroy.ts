// The orphan sweep's delete: one resource that `owned` listed, by kind. Unlike teardown it has no
// provision step or ref to go by, only the kind and id the tags gave.
import { DeleteLaunchTemplateCommand } from '@aws-sdk/client-ec2';
import { FluxburstError } from '../../core/errors.js';
import type { OwnedResource, PluginContext } from '../contract.js';
import { ec2Client } from './client.js';
import { ec2Delete } from './errors.js';
import { deleteFleets, describeInstances, NOT_GONE_STATES, terminateInstances } from './fleet.js';
import { deleteLaunchTemplate } from './launch-template.js';
import type { AwsEc2Params } from './params.js';
import { deletePlacementGroup } from './placement.js';

export async function destroyOwned(r: OwnedResource, p: AwsEc2Params, ctx: PluginContext): Promise<void> {
  const client = ec2Client(p, ctx.credentials);
  switch (r.kind) {
    case 'instance': {
      // The instance may have gone with its fleet since the sweep listed it, and terminating a
      // terminated instance again is an error on some endpoints.
      const left = await describeInstances(client, [{ Name: 'instance-id', Values: [r.id] }, { Name: 'instance-state-name', Values: [...NOT_GONE_STATES] }], 'DescribeInstances (sweep)');
      if (left.length) await terminateInstances(client, [r.id]);
      return;
    }
    case 'fleet':
      await deleteFleets(client, [r.id]);
      return;
    case 'launch-template':
      // `owned` names a template by its name, or by its id when it has none.
      if (await deleteLaunchTemplate(client, r.id)) return;
      if (/^lt-[0-9a-f]+$/.test(r.id)) await ec2Delete(`DeleteLaunchTemplate ${r.id}`, () => client.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: r.id })));
      return;
    case 'placement-group':
      // Waits (heartbeating) while the group's instances finish terminating.
      await deletePlacementGroup(client, r.id, { signal: ctx.signal, heartbeat: (d) => ctx.heartbeat(d) });
      return;
    default:
      throw new FluxburstError('Unsupported', `aws-ec2 cannot delete a ${r.kind} (${r.id})`);
  }
}
