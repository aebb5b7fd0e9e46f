// The aws-ec2 plugin: nodes are EC2 instances launched as one instant EC2 Fleet per burst, from a
// per-burst launch template, optionally in a per-burst cluster placement group. Laid out like
// Karpenter's AWS provider, one module per concern: params, client, errors, offerings (ICE
// cache), launch-template, placement, fleet; this file wires them to the plugin contract.
import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeLaunchTemplatesCommand, DescribePlacementGroupsCommand, DescribeSpotInstanceRequestsCommand, type Instance, type SpotInstanceRequest } from '@aws-sdk/client-ec2';
import { CapacityError, FluxburstError, NodeLostError, TransientError } from '../../core/errors.js';
import { registerNode } from '../../slurm/scontrol.js';
import type { BurstPlan, Interruption, ProvisionStep, ResourceRef } from '../../core/types.js';
import { definePlugin, type OwnedResource, type PluginContext } from '../contract.js';
import { ec2Client } from './client.js';
import { destroyOwned } from './destroy.js';
import { ec2, fromEc2, isNotFound } from './errors.js';
import { burstFleets, burstInstances, deleteFleets, describeInstances, describeInstancesByIds, launchFleet, NOT_GONE_STATES, stepInstances, terminateInstances, type LaunchedInstance } from './fleet.js';
import { unavailableOfferings } from './offerings.js';
import { deleteLaunchTemplate, efaSupport, ensureLaunchTemplate, findLaunchTemplate, launchTemplateName } from './launch-template.js';
import { AWS_EC2_DESCRIPTION, awsEc2Params, type AwsEc2Params } from './params.js';
import { preflight } from './preflight.js';
import { deletePlacementGroup, ensurePlacementGroup, placementGroupName } from './placement.js';
import { CREATED_BY, TAG_BURST, TAG_CREATED_BY, TAG_NODE, TAG_OWNER, tagFilters, tagOf } from './tags.js';

import { burstType, estimate, fleetTypes, shapeOf } from './sizing.js';

export { awsEc2Params, type AwsEc2Params } from './params.js';

// ---------------------------------------------------------------------------------------------
// Resource refs

function instancesOf(refs: ResourceRef[]): LaunchedInstance[] {
  const out: LaunchedInstance[] = [];
  for (const r of refs) {
    const raw = r.data?.instances;
    if (typeof raw !== 'string') continue;
    try {
      out.push(...(JSON.parse(raw) as LaunchedInstance[]));
    } catch {
      /* not ours */
    }
  }
  return out;
}

function jsonList(v: unknown): string[] {
  if (typeof v !== 'string') return [];
  try {
    const a = JSON.parse(v) as unknown;
    return Array.isArray(a) ? a.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** The candidate types for a fleet step, narrowed to EFA-capable ones when EFA is asked for. */
async function typesForLaunch(p: AwsEc2Params, plan: BurstPlan, ctx: PluginContext): Promise<{ types: string[]; efa: boolean }> {
  const shape = plan.groups[0]?.shape;
  if (!shape) throw new TransientError('aws-ec2: the plan has no node group');
  const types = fleetTypes(p, shape);
  if (!p.efa) return { types, efa: false };
  const support = await efaSupport(ec2Client(p, ctx.credentials), types);
  const withEfa = types.filter((t) => support.get(t));
  if (withEfa.length === 0) {
    ctx.log.warn('efa asked for, but none of the candidate types supports it; launching without EFA', { types });
    return { types, efa: false };
  }
  return { types: withEfa, efa: true };
}

// ---------------------------------------------------------------------------------------------

/** Wait until every instance runs; their descriptions (addresses for the scheduler) by id. */
async function pollUntilRunning(ids: Map<string, string>, p: AwsEc2Params, ctx: PluginContext): Promise<Map<string, Instance>> {
  const client = ec2Client(p, ctx.credentials);
  const deadline = Date.now() + p.launchTimeoutSeconds * 1000;
  for (;;) {
    const states = new Map<string, string>();
    const seen = new Map<string, Instance>();
    try {
      for (const inst of await describeInstancesByIds(client, [...ids.keys()])) {
        states.set(inst.InstanceId!, inst.State?.Name ?? 'unknown');
        seen.set(inst.InstanceId!, inst);
      }
    } catch (e) {
      if (!isNotFound(e)) throw fromEc2(e, 'DescribeInstances (join)');
      // Eventual consistency right after launch: try again next round.
    }
    for (const [id, node] of ids) {
      const s = states.get(id);
      if (s && ['shutting-down', 'terminated', 'stopping', 'stopped'].includes(s)) throw new NodeLostError(node, `node ${node} (${id}) is ${s} before it joined`);
    }
    const waiting = [...ids].filter(([id]) => states.get(id) !== 'running');
    if (waiting.length === 0) return seen;
    if (Date.now() > deadline) {
      throw new CapacityError(`${waiting.length} of ${ids.size} instances not running after ${p.launchTimeoutSeconds}s: ${waiting.map(([id, n]) => `${n}=${id}:${states.get(id) ?? 'unknown'}`).join(', ')}`, 'LaunchTimeout');
    }
    ctx.heartbeat({ waitingFor: waiting.map(([, n]) => n) });
    await sleep(p.pollSeconds * 1000, undefined, { signal: ctx.signal });
  }
}

const SPOT_INTERRUPT = /^(marked-for-termination|marked-for-stop|marked-for-hibernation|instance-terminated-.*|instance-stopped-.*|capacity-not-available|capacity-oversubscribed)$/;

function spotInterruption(r: SpotInstanceRequest, node: string): Interruption | undefined {
  const code = r.Status?.Code ?? '';
  if (!SPOT_INTERRUPT.test(code)) return undefined;
  const kind: Interruption['kind'] = code.startsWith('marked-for-') || code.startsWith('capacity-') ? 'spot-interruption' : 'termination';
  return { node, kind, reason: `spot ${code}${r.Status?.Message ? `: ${r.Status.Message}` : ''}` };
}

export const awsEc2Plugin = definePlugin<AwsEc2Params>({
  name: 'aws-ec2',
  description: AWS_EC2_DESCRIPTION,
  params: awsEc2Params,

  estimate,

  shape: shapeOf,

  preflight: (jobs, p, ctx) => preflight(ec2Client(p, ctx.credentials), jobs, p, ctx.burstId, ctx.owner),

  async plan(jobs, p, _ctx, opts) {
    const biggest = Math.max(1, ...jobs.map((j) => j.nodes));
    const names = opts?.nodeNames;
    const nodes = names?.length ?? p.nodes ?? biggest;
    if (nodes < biggest) throw new CapacityError(`params.nodes=${nodes} is smaller than the largest job (${biggest} nodes)`, 'Unfit');
    if (nodes > p.maxNodes) throw new CapacityError(`burst needs ${nodes} nodes but aws-ec2 maxNodes is ${p.maxNodes}`, 'Unfit');
    const t = burstType(jobs, p);
    if ('unfit' in t) throw new CapacityError(`aws-ec2 in ${p.region}: ${t.unfit}`, 'Unfit');
    const steps: ProvisionStep[] = [
      { key: 'launch-template', kind: 'launch-template' },
      ...(p.placementGroup ? [{ key: 'placement-group', kind: 'placement-group' }] : []),
      // Named nodes (Slurm power-save): one single-instance fleet each, tagged with its name.
      ...(names ? names.map((n): ProvisionStep => ({ key: `node-${n}`, kind: 'node', node: n })) : [{ key: 'fleet', kind: 'fleet' }]),
    ];
    const est = estimate(jobs, p);
    return {
      plugin: 'aws-ec2',
      nodes,
      groups: [{ name: 'aws-ec2', count: nodes, shape: t.name, gangMin: p.gang ? nodes : 1 }],
      steps,
      estimate: 'unfit' in est ? { nodes, costPerHour: nodes * t.pricePerHour, secondsToReady: 90 } : { ...est, costPerHour: nodes * t.pricePerHour },
    };
  },

  async provision(step, plan, p, ctx): Promise<ResourceRef> {
    const client = ec2Client(p, ctx.credentials);
    switch (step.kind) {
      case 'launch-template': {
        const { efa } = await typesForLaunch(p, plan, ctx);
        const lt = await ensureLaunchTemplate(client, p, { burstId: ctx.burstId, owner: ctx.owner, efa });
        return { key: step.key, kind: step.kind, id: lt.id, data: { name: lt.name, efa } };
      }
      case 'placement-group': {
        const pg = await ensurePlacementGroup(client, p, ctx.burstId, ctx.owner);
        return { key: step.key, kind: step.kind, id: pg.name, data: { name: pg.name, groupId: pg.id } };
      }
      case 'fleet':
      case 'node': {
        const name = launchTemplateName(ctx.burstId);
        const lt = await ec2('DescribeLaunchTemplates', () => findLaunchTemplate(client, name));
        if (!lt?.LaunchTemplateId) throw new TransientError(`launch template ${name} does not exist (the launch-template step must run first)`);
        const { types } = await typesForLaunch(p, plan, ctx);
        const single = step.kind === 'node';
        // Like Karpenter: after a spot notice, the replacement goes where there is capacity for sure.
        const reclaimed = step.replaces && ['spot-interruption', 'rebalance', 'scheduled-change'].includes(step.replaces.kind);
        const launchParams = reclaimed && p.replaceInterruptedWith === 'on-demand' ? { ...p, capacityType: 'on-demand' as const } : p;
        const res = await launchFleet(client, launchParams, {
          burstId: ctx.burstId,
          owner: ctx.owner,
          stepKey: step.key,
          count: single ? 1 : plan.nodes,
          ...(single && step.node ? { nodeNames: [step.node] } : {}),
          launchTemplateId: lt.LaunchTemplateId,
          types,
          ...(p.placementGroup ? { placementGroupName: placementGroupName(ctx.burstId) } : {}),
          gang: single ? true : p.gang,
          heartbeat: (d) => ctx.heartbeat(d),
          log: ctx.log,
        });
        const instances = res.instances.map((i) => ({ id: i.id, node: i.node, instanceType: i.instanceType, subnetId: i.subnetId, availabilityZone: i.availabilityZone, privateIp: i.privateIp, lifecycle: i.lifecycle }));
        const data = { fleetIds: JSON.stringify(res.fleetIds), instances: JSON.stringify(instances), count: instances.length, adopted: res.adopted };
        if (single) {
          const i = res.instances[0]!;
          return { key: step.key, kind: 'node', id: i.id, node: step.node ?? i.node, data: { ...data, ...(i.privateIp ? { privateIp: i.privateIp } : {}) } };
        }
        return { key: step.key, kind: 'fleet', id: res.fleetIds[0] ?? `fleet:${ctx.burstId}`, nodes: instances.map((i) => i.node), data };
      }
      default:
        throw new FluxburstError('Unsupported', `aws-ec2 cannot provision a ${step.kind}`); // a retry cannot help
    }
  },

  async join(resources, p, ctx, broker) {
    const ids = new Map(instancesOf(resources).map((i) => [i.id, i.node] as const));
    if (ids.size === 0) return;
    const running = await pollUntilRunning(ids, p, ctx);
    if (broker?.kind === 'slurm') {
      // As ParallelCluster's resume does: tell slurmctld where each node is; the node's own
      // slurmd (started by the user data, named from its fluxburst:node tag) then registers.
      for (const [id, node] of ids) {
        const i = running.get(id)!;
        const addr = i.PrivateIpAddress;
        if (!addr) throw new TransientError(`instance ${id} (${node}) has no private address yet`);
        await registerNode(broker.conf, node, addr, (i.PrivateDnsName || addr).split('.')[0]!);
        ctx.heartbeat({ registered: node });
      }
    }
    ctx.heartbeat({ joined: ids.size });
  },

  async releaseNode(node, ref, p, ctx) {
    const client = ec2Client(p, ctx.credentials);
    const ids = new Set(instancesOf([ref]).filter((i) => i.node === node).map((i) => i.id));
    // Also by tag: the ref may predate a retry that re-launched the node.
    for (const i of await stepInstances(client, ctx.burstId, ref.key, NOT_GONE_STATES)) if (tagOf(i.Tags, TAG_NODE) === node) ids.add(i.InstanceId!);
    await terminateInstances(client, [...ids]);
    ctx.heartbeat({ released: node, instances: [...ids] });
  },

  async interruptions(resources, p, ctx) {
    const instances = instancesOf(resources);
    if (instances.length === 0) return [];
    const client = ec2Client(p, ctx.credentials);
    const nodeOf = new Map(instances.map((i) => [i.id, i.node] as const));
    const out = new Map<string, Interruption>();
    const spot = instances.filter((i) => i.lifecycle === 'spot').map((i) => i.id);
    if (spot.length) {
      let NextToken: string | undefined;
      do {
        const r = await ec2('DescribeSpotInstanceRequests', () =>
          client.send(new DescribeSpotInstanceRequestsCommand({ Filters: [{ Name: 'instance-id', Values: spot }], ...(NextToken ? { NextToken } : {}) })),
        );
        for (const req of r.SpotInstanceRequests ?? []) {
          const node = req.InstanceId ? nodeOf.get(req.InstanceId) : undefined;
          const n = node ? spotInterruption(req, node) : undefined;
          if (n && !out.has(n.node)) {
            out.set(n.node, n);
            // Like Karpenter: a reclaimed spot offering is short of capacity; do not ask it for the replacement.
            const i = instances.find((x) => x.id === req.InstanceId);
            if (i?.instanceType && i.subnetId) unavailableOfferings.markUnavailable({ instanceType: i.instanceType, subnetId: i.subnetId, capacityType: 'spot' }, `spot ${req.Status?.Code ?? 'interruption'}`);
          }
        }
        NextToken = r.NextToken;
      } while (NextToken);
    }
    // Any instance (spot or not) that is gone or going is lost too.
    let described: Instance[] = [];
    try {
      described = await describeInstancesByIds(client, instances.map((i) => i.id));
    } catch (e) {
      if (!isNotFound(e)) throw fromEc2(e, 'DescribeInstances (interruptions)');
    }
    for (const i of described) {
      const node = nodeOf.get(i.InstanceId ?? '');
      const s = i.State?.Name ?? '';
      if (node && !out.has(node) && ['shutting-down', 'terminated', 'stopping', 'stopped'].includes(s)) {
        out.set(node, { node, kind: 'termination', reason: `instance ${i.InstanceId} is ${s}${i.StateReason?.Message ? ` (${i.StateReason.Message})` : ''}` });
      }
    }
    return [...out.values()];
  },

  async teardown(step, ref, p, ctx) {
    const client = ec2Client(p, ctx.credentials);
    switch (step.kind) {
      case 'fleet':
      case 'node': {
        // The ref's instances, and (always: the ref may be missing or stale) whatever carries this step's tags.
        const ids = new Set(instancesOf(ref ? [ref] : []).map((i) => i.id));
        const tagged = await stepInstances(client, ctx.burstId, step.key, NOT_GONE_STATES);
        for (const i of tagged) ids.add(i.InstanceId!);
        const fleetIds = new Set(jsonList(ref?.data?.fleetIds));
        for (const i of tagged) {
          const f = tagOf(i.Tags, 'aws:ec2:fleet-id');
          if (f) fleetIds.add(f);
        }
        // Also the step's fleets that launched nothing (failed capacity rounds): nothing runs there, but they are ours.
        for (const f of await burstFleets(client, ctx.burstId)) if (f.step === step.key) fleetIds.add(f.id);
        // The fleets first (they take their instances with them), then whatever is left.
        await deleteFleets(client, [...fleetIds]);
        // Terminate only what is not gone yet (terminating a terminated instance again is an error on some endpoints).
        const all = [...ids];
        for (let k = 0; k < all.length; k += 200) {
          const left = await describeInstances(client, [{ Name: 'instance-id', Values: all.slice(k, k + 200) }, { Name: 'instance-state-name', Values: [...NOT_GONE_STATES] }]);
          await terminateInstances(client, left.map((i) => i.InstanceId!));
        }
        ctx.heartbeat({ terminated: ids.size, fleets: fleetIds.size });
        return;
      }
      case 'launch-template':
        await deleteLaunchTemplate(client, launchTemplateName(ctx.burstId));
        return;
      case 'placement-group':
        await deletePlacementGroup(client, placementGroupName(ctx.burstId), { signal: ctx.signal, heartbeat: (d) => ctx.heartbeat(d) });
        return;
      default:
        return;
    }
  },

  async owned(p, ctx) {
    const client = ec2Client(p, ctx?.credentials);
    const out: OwnedResource[] = [];
    for (const i of await burstInstances(client)) {
      out.push({ burstId: tagOf(i.Tags, TAG_BURST) ?? 'unknown', owner: tagOf(i.Tags, TAG_OWNER) ?? 'unknown', kind: 'instance', id: i.InstanceId! });
    }
    let NextToken: string | undefined;
    do {
      const r = await ec2('DescribeLaunchTemplates', () =>
        client.send(new DescribeLaunchTemplatesCommand({ Filters: tagFilters({ [TAG_CREATED_BY]: CREATED_BY }), ...(NextToken ? { NextToken } : {}) })),
      );
      for (const t of r.LaunchTemplates ?? []) {
        out.push({ burstId: tagOf(t.Tags, TAG_BURST) ?? 'unknown', owner: tagOf(t.Tags, TAG_OWNER) ?? 'unknown', kind: 'launch-template', id: t.LaunchTemplateName ?? t.LaunchTemplateId! });
      }
      NextToken = r.NextToken;
    } while (NextToken);
    for (const f of await burstFleets(client)) out.push({ burstId: f.burstId, owner: f.owner, kind: 'fleet', id: f.id });
    // Placement groups, whatever the endpoint and whether or not this target makes them: an
    // earlier config of the same account may have left some.
    const r = await ec2('DescribePlacementGroups', () => client.send(new DescribePlacementGroupsCommand({ Filters: tagFilters({ [TAG_CREATED_BY]: CREATED_BY }) })));
    for (const g of r.PlacementGroups ?? []) {
      if (g.State === 'deleted' || g.State === 'deleting') continue;
      out.push({ burstId: tagOf(g.Tags, TAG_BURST) ?? 'unknown', owner: tagOf(g.Tags, TAG_OWNER) ?? 'unknown', kind: 'placement-group', id: g.GroupName! });
    }
    return out;
  },

  destroy: destroyOwned,
});
