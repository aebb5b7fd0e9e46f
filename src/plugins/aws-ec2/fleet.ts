// The nodes: one instant EC2 Fleet per provision step. Idempotent in two ways: a ClientToken made
// from the burst, the step and attempt-independent data (so EC2 answers a retried call with the
// fleet it already made), and, before any create, a DescribeInstances lookup by the burst/step
// tags (so a worker that died after EC2 answered never launches a second set, even where the
// token is not honoured). Capacity errors mark offerings unavailable and the next offering (or
// on-demand after spot) is tried; when nothing is left the step fails with a CapacityError.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateFleetCommand,
  type CreateFleetCommandInput,
  CreateTagsCommand,
  DeleteFleetsCommand,
  DescribeFleetsCommand,
  DescribeInstancesCommand,
  type EC2Client,
  type FleetLaunchTemplateOverridesRequest,
  type CreateFleetError,
  type Filter,
  type Instance,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CapacityError, providerCode, TransientError } from '../../core/errors.js';
import { ACCOUNT_LIMIT_CODES, ec2, ec2Code, fromEc2, isCapacityCode, isNotFound } from './errors.js';
import { type CapacityKind, type UnavailableOfferings, unavailableOfferings } from './offerings.js';
import type { AwsEc2Params } from './params.js';
import { CREATED_BY, TAG_BURST, TAG_CREATED_BY, TAG_NODE, TAG_STEP, burstTags, tagFilters, tagOf } from './tags.js';

export const LIVE_STATES = ['pending', 'running'] as const;
/** States in which an instance still costs money or may come back. */
export const NOT_GONE_STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'] as const;

export interface LaunchedInstance {
  id: string;
  node: string;
  instanceType: string;
  subnetId: string;
  availabilityZone?: string;
  privateIp?: string;
  lifecycle: CapacityKind;
  state: string;
}

export function capacityOrder(ct: AwsEc2Params['capacityType']): CapacityKind[] {
  return ct === 'spot' ? ['spot'] : ct === 'on-demand' ? ['on-demand'] : ['spot', 'on-demand'];
}

/** ≤ 64 ASCII characters, as EC2 wants; a function of its parts only. */
export function clientToken(...parts: Array<string | number>): string {
  return `fb-${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 56)}`;
}

/** Every instance matching the filters (all pages). */
export async function describeInstances(client: EC2Client, filters: Filter[], what = 'DescribeInstances'): Promise<Instance[]> {
  const out: Instance[] = [];
  let NextToken: string | undefined;
  do {
    const r = await ec2(what, () => client.send(new DescribeInstancesCommand({ Filters: filters, MaxResults: 1000, ...(NextToken ? { NextToken } : {}) })));
    for (const res of r.Reservations ?? []) out.push(...(res.Instances ?? []));
    NextToken = r.NextToken;
  } while (NextToken);
  return out;
}

/** Instances launched for one step of a burst, in the given states. */
export function stepInstances(client: EC2Client, burstId: string, stepKey: string, states: readonly string[] = LIVE_STATES): Promise<Instance[]> {
  return describeInstances(client, [...tagFilters({ [TAG_BURST]: burstId, [TAG_STEP]: stepKey }), { Name: 'instance-state-name', Values: [...states] }], 'DescribeInstances (step tags)');
}

/** Instances of a burst (any step), or of every burst when burstId is absent, not yet gone. */
export function burstInstances(client: EC2Client, burstId?: string, states: readonly string[] = NOT_GONE_STATES): Promise<Instance[]> {
  return describeInstances(client, [...tagFilters({ [TAG_CREATED_BY]: CREATED_BY, ...(burstId ? { [TAG_BURST]: burstId } : {}) }), { Name: 'instance-state-name', Values: [...states] }]);
}

/** Terminate instances; ones already gone are fine. */
export async function terminateInstances(client: EC2Client, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    try {
      await client.send(new TerminateInstancesCommand({ InstanceIds: chunk }));
    } catch (e) {
      if (!isNotFound(e)) throw fromEc2(e, 'TerminateInstances');
      // One unknown id fails the whole call: go one by one.
      for (const id of chunk) {
        try {
          await client.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
        } catch (e2) {
          if (!isNotFound(e2)) throw fromEc2(e2, `TerminateInstances ${id}`);
        }
      }
    }
  }
}

/**
 * Delete fleets (terminating their instances); unknown or already deleted fleets are fine. Each
 * fleet is described first: deleting a deleted fleet again is an error on some endpoints.
 */
export async function deleteFleets(client: EC2Client, fleetIds: string[]): Promise<void> {
  for (const id of fleetIds) {
    try {
      const d = await client.send(new DescribeFleetsCommand({ FleetIds: [id] }));
      const f = d.Fleets?.find((x) => x.FleetId === id);
      if (!f || /deleted/.test(f.FleetState ?? '')) continue;
      const r = await client.send(new DeleteFleetsCommand({ FleetIds: [id], TerminateInstances: true }));
      for (const u of r.UnsuccessfulFleetDeletions ?? []) {
        const code = u.Error?.Code ?? '';
        if (!/NotExist|NotFound|NotInDeletableState|deleted/i.test(code)) throw new TransientError(`DeleteFleets ${id}: ${code}: ${u.Error?.Message ?? ''}`);
      }
    } catch (e) {
      if (e instanceof TransientError) throw e;
      if (!isNotFound(e)) throw fromEc2(e, `DeleteFleets ${id}`);
    }
  }
}

/** Fleets tagged for this burst (tags are matched here: DescribeFleets has no tag filter). */
export async function burstFleets(client: EC2Client, burstId?: string): Promise<Array<{ id: string; burstId: string; owner: string; step: string }>> {
  const out: Array<{ id: string; burstId: string; owner: string; step: string }> = [];
  let NextToken: string | undefined;
  do {
    const r = await ec2('DescribeFleets', () => client.send(new DescribeFleetsCommand({ ...(NextToken ? { NextToken } : {}) })));
    for (const f of r.Fleets ?? []) {
      if (!f.FleetId || /deleted/.test(f.FleetState ?? '')) continue;
      if (tagOf(f.Tags, TAG_CREATED_BY) !== CREATED_BY) continue;
      const b = tagOf(f.Tags, TAG_BURST) ?? '';
      if (burstId && b !== burstId) continue;
      out.push({ id: f.FleetId, burstId: b, owner: tagOf(f.Tags, 'fluxburst:owner') ?? 'unknown', step: tagOf(f.Tags, TAG_STEP) ?? '' });
    }
    NextToken = r.NextToken;
  } while (NextToken);
  return out;
}

export interface FleetRequest {
  burstId: string;
  owner: string;
  stepKey: string;
  /** Nodes this step makes. */
  count: number;
  /** Their names, in order (default node-0..node-N-1). */
  nodeNames?: string[];
  launchTemplateId: string;
  /** Candidate types, preferred first. */
  types: string[];
  placementGroupName?: string;
  gang: boolean;
  heartbeat?: (d: unknown) => void;
  log?: { info(msg: string, meta?: Record<string, unknown>): void; warn(msg: string, meta?: Record<string, unknown>): void };
}

export interface FleetResult {
  fleetIds: string[];
  instances: LaunchedInstance[];
  /** True when the instances were found from an earlier try, not launched now. */
  adopted: boolean;
}

interface Round {
  fleetId?: string;
  /** Offerings the errors name (type or subnet `*` when the error does not say). */
  marks: Array<{ t: string; s: string; code: string }>;
  got: Array<{ id: string; instanceType: string; subnetId: string; lifecycle: CapacityKind }>;
  capacityErrors: Array<{ code: string; message: string }>;
  otherErrors: Array<{ code: string; message: string }>;
}

function overridesFor(p: AwsEc2Params, r: FleetRequest, kind: CapacityKind, cache: UnavailableOfferings): FleetLaunchTemplateOverridesRequest[] {
  const out: FleetLaunchTemplateOverridesRequest[] = [];
  r.types.forEach((t, ti) => {
    for (const s of p.subnetIds) {
      if (cache.isUnavailable({ instanceType: t, subnetId: s, capacityType: kind })) continue;
      out.push({
        InstanceType: t as never,
        SubnetId: s,
        ...(kind === 'spot' && p.maxPrice !== undefined ? { MaxPrice: String(p.maxPrice) } : {}),
        ...(r.placementGroupName ? { Placement: { GroupName: r.placementGroupName } } : {}),
        // Preferred types first, where the strategy reads priorities.
        ...(kind === 'spot' && p.allocationStrategy === 'capacity-optimized-prioritized' ? { Priority: ti } : {}),
      });
    }
  });
  return out;
}

export function fleetInput(p: AwsEc2Params, r: FleetRequest, kind: CapacityKind, need: number, overrides: FleetLaunchTemplateOverridesRequest[], token: string): CreateFleetCommandInput {
  const gangOpts = r.gang ? { MinTargetCapacity: need, SingleInstanceType: true } : {};
  const pgOpts = r.placementGroupName ? { SingleAvailabilityZone: true } : {};
  const tags = burstTags(p, r.burstId, r.owner, { [TAG_STEP]: r.stepKey });
  return {
    Type: 'instant',
    ClientToken: token,
    LaunchTemplateConfigs: [{ LaunchTemplateSpecification: { LaunchTemplateId: r.launchTemplateId, Version: '$Latest' }, Overrides: overrides }],
    TargetCapacitySpecification: {
      TotalTargetCapacity: need,
      DefaultTargetCapacityType: kind,
      ...(kind === 'spot' ? { SpotTargetCapacity: need, OnDemandTargetCapacity: 0 } : { OnDemandTargetCapacity: need, SpotTargetCapacity: 0 }),
    },
    ...(kind === 'spot'
      ? { SpotOptions: { AllocationStrategy: p.allocationStrategy, InstanceInterruptionBehavior: 'terminate', ...gangOpts, ...pgOpts } }
      : { OnDemandOptions: { AllocationStrategy: 'lowest-price', ...gangOpts, ...pgOpts } }),
    TagSpecifications: [
      { ResourceType: 'instance', Tags: tags },
      { ResourceType: 'fleet', Tags: tags },
    ],
  } as CreateFleetCommandInput;
}

async function createFleet(client: EC2Client, input: CreateFleetCommandInput, kind: CapacityKind): Promise<Round> {
  const r = await client.send(new CreateFleetCommand(input));
  const round: Round = { ...(r.FleetId ? { fleetId: r.FleetId } : {}), got: [], capacityErrors: [], otherErrors: [], marks: [] };
  for (const set of r.Instances ?? []) {
    const o = set.LaunchTemplateAndOverrides?.Overrides;
    for (const id of set.InstanceIds ?? []) {
      round.got.push({ id, instanceType: String(set.InstanceType ?? o?.InstanceType ?? ''), subnetId: o?.SubnetId ?? '', lifecycle: (set.Lifecycle as CapacityKind | undefined) ?? kind });
    }
  }
  return { ...round, ...classify(r.Errors ?? []) };
}

function classify(errors: CreateFleetError[]): Pick<Round, 'capacityErrors' | 'otherErrors' | 'marks'> {
  const out: Pick<Round, 'capacityErrors' | 'otherErrors' | 'marks'> = { capacityErrors: [], otherErrors: [], marks: [] };
  for (const e of errors) {
    const code = e.ErrorCode ?? 'Unknown';
    const message = e.ErrorMessage ?? '';
    if (isCapacityCode(code)) {
      out.capacityErrors.push({ code, message });
      const o = e.LaunchTemplateAndOverrides?.Overrides;
      out.marks.push({ t: o?.InstanceType ?? '*', s: o?.SubnetId ?? '*', code });
    } else out.otherErrors.push({ code, message });
  }
  return out;
}

/** Sorted by id, so names are stable between tries; names already tagged are kept. */
function nameInstances(found: Array<{ id: string; node?: string }>, names: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Set<string>();
  for (const f of found) if (f.node && names.includes(f.node) && !taken.has(f.node)) (out.set(f.id, f.node), taken.add(f.node));
  const free = names.filter((n) => !taken.has(n));
  for (const f of [...found].sort((a, b) => (a.id < b.id ? -1 : 1))) if (!out.has(f.id)) out.set(f.id, free.shift() ?? f.id);
  return out;
}

function toLaunched(i: Instance, node: string): LaunchedInstance {
  return {
    id: i.InstanceId!,
    node,
    instanceType: String(i.InstanceType ?? ''),
    subnetId: i.SubnetId ?? '',
    ...(i.Placement?.AvailabilityZone ? { availabilityZone: i.Placement.AvailabilityZone } : {}),
    ...(i.PrivateIpAddress ? { privateIp: i.PrivateIpAddress } : {}),
    lifecycle: i.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand',
    state: i.State?.Name ?? 'unknown',
  };
}

/** Describe fresh instances by id; right after a launch EC2 may not know them yet (eventual consistency). */
/**
 * Instances by id, 500 ids a call, every page. EC2 answers an InstanceIds request whole, but moto
 * pages it (100 reservations, and a spot instance is a reservation of its own): without NextToken a
 * big spot fleet came back short. Raw SDK errors: callers decide what NotFound means.
 */
export async function describeInstancesByIds(client: EC2Client, ids: string[]): Promise<Instance[]> {
  const out: Instance[] = [];
  for (let k = 0; k < ids.length; k += 500) {
    let NextToken: string | undefined;
    do {
      const r = await client.send(new DescribeInstancesCommand({ InstanceIds: ids.slice(k, k + 500), ...(NextToken ? { NextToken } : {}) }));
      for (const res of r.Reservations ?? []) out.push(...(res.Instances ?? []));
      NextToken = r.NextToken;
    } while (NextToken);
  }
  return out;
}

async function describeByIds(client: EC2Client, ids: string[]): Promise<Instance[]> {
  for (let i = 0; ; i++) {
    try {
      return await describeInstancesByIds(client, ids);
    } catch (e) {
      if (!isNotFound(e) || i >= 5) throw fromEc2(e, 'DescribeInstances (new instances)');
      await sleep(500 * 2 ** i);
    }
  }
}

/** Tag the node names (and the step, which some launch paths drop) onto the instances. */
async function tagNodes(client: EC2Client, instances: Instance[], names: Map<string, string>, stepKey: string): Promise<void> {
  // The step tag is the same for all: one call per 1,000 resources.
  const untagged = instances.filter((i) => tagOf(i.Tags, TAG_STEP) !== stepKey).map((i) => i.InstanceId!);
  for (let k = 0; k < untagged.length; k += 1000) {
    await ec2('CreateTags', () => client.send(new CreateTagsCommand({ Resources: untagged.slice(k, k + 1000), Tags: [{ Key: TAG_STEP, Value: stepKey }] })));
  }
  // Node names differ per instance, so one call each; a few at a time keeps 1,000 nodes from taking
  // 1,000 round trips in a row while staying far below EC2's mutating-call rate.
  const todo = instances.filter((i) => tagOf(i.Tags, TAG_NODE) !== names.get(i.InstanceId!));
  const worker = async () => {
    for (let i = todo.shift(); i; i = todo.shift()) {
      const id = i.InstanceId!;
      await ec2('CreateTags', () => client.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: TAG_NODE, Value: names.get(id)! }] })));
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, todo.length) }, worker));
}

async function finish(client: EC2Client, r: FleetRequest, ids: string[], fleetIds: string[], adopted: boolean): Promise<FleetResult> {
  const names = r.nodeNames ?? Array.from({ length: r.count }, (_, i) => `node-${i}`);
  const described = await describeByIds(client, ids);
  const naming = nameInstances(described.map((i) => ({ id: i.InstanceId!, ...(tagOf(i.Tags, TAG_NODE) ? { node: tagOf(i.Tags, TAG_NODE)! } : {}) })), names);
  await tagNodes(client, described, naming, r.stepKey);
  const instances = described.map((i) => toLaunched(i, naming.get(i.InstanceId!)!)).sort((a, b) => names.indexOf(a.node) - names.indexOf(b.node));
  return { fleetIds: [...new Set(fleetIds)], instances, adopted };
}

/**
 * Launch `count` nodes for one step as instant fleets, or adopt the ones an earlier try launched.
 * Under `gang`, a partial fleet is terminated and the next offering is tried.
 */
export async function launchFleet(client: EC2Client, p: AwsEc2Params, r: FleetRequest, cache: UnavailableOfferings = unavailableOfferings): Promise<FleetResult> {
  // 1. What did earlier tries of this step leave?
  const earlier = await stepInstances(client, r.burstId, r.stepKey, [...LIVE_STATES, 'shutting-down', 'terminated', 'stopping', 'stopped']);
  const live = earlier.filter((i) => (LIVE_STATES as readonly string[]).includes(i.State?.Name ?? ''));
  const fleetOf = (i: Instance) => tagOf(i.Tags, 'aws:ec2:fleet-id');
  const fleetIds: string[] = live.map(fleetOf).filter((x): x is string => !!x);
  if (live.length >= r.count) {
    const keep = [...live].sort((a, b) => (a.InstanceId! < b.InstanceId! ? -1 : 1));
    const extra = keep.splice(r.count);
    if (extra.length) await terminateInstances(client, extra.map((i) => i.InstanceId!));
    r.log?.info('fleet step already launched by an earlier try; adopting its instances', { step: r.stepKey, instances: keep.length });
    return finish(client, r, keep.map((i) => i.InstanceId!), fleetIds, true);
  }
  const have: string[] = [];
  if (live.length) {
    if (r.gang) {
      r.log?.warn('an earlier try left a partial gang; terminating it', { step: r.stepKey, instances: live.length });
      await terminateInstances(client, live.map((i) => i.InstanceId!));
    } else have.push(...live.map((i) => i.InstanceId!));
  }
  // Attempt-independent: how many launches of this step already failed (their instances are
  // gone), so a new launch after a failed gang does not reuse that launch's token.
  let generation = earlier.length - live.length + (r.gang ? live.length : 0);

  let lastCapacity: { code: string; message: string } | undefined;
  const tried: string[] = [];
  for (const kind of capacityOrder(p.capacityType)) {
    for (let round = 0; round < r.types.length * p.subnetIds.length + 2; round++) {
      const need = r.count - have.length;
      if (need <= 0) break;
      const overrides = overridesFor(p, r, kind, cache);
      if (overrides.length === 0) break;
      const token = clientToken(r.burstId, r.stepKey, kind, need, generation, ...overrides.map((o) => `${o.InstanceType}@${o.SubnetId}`));
      r.heartbeat?.({ launching: r.stepKey, kind, need, offerings: overrides.length });
      let res: Round;
      try {
        res = await createFleet(client, fleetInput(p, r, kind, need, overrides, token), kind);
      } catch (e) {
        const code = ec2Code(e);
        if (!isCapacityCode(code)) throw fromEc2(e, 'CreateFleet');
        // The whole request was refused: every offering in it (or the capacity type, for account limits) is out.
        lastCapacity = { code: code!, message: (e as Error).message };
        if (ACCOUNT_LIMIT_CODES.has(code!)) cache.markUnavailable({ instanceType: '*', subnetId: '*', capacityType: kind }, code!);
        else for (const o of overrides) cache.markUnavailable({ instanceType: String(o.InstanceType), subnetId: o.SubnetId!, capacityType: kind }, code!);
        tried.push(`${kind}: ${code}`);
        generation++;
        continue;
      }
      // Only fleets whose instances are kept are the step's to delete later.
      const keepsFleet = res.fleetId && res.got.length > 0 && (!r.gang || res.got.length >= need);
      if (keepsFleet) fleetIds.push(res.fleetId!);
      // Capacity errors → offerings unavailable (ICE cache).
      for (const e of res.capacityErrors) lastCapacity = e;
      for (const m of res.marks) {
        if (ACCOUNT_LIMIT_CODES.has(m.code)) cache.markUnavailable({ instanceType: '*', subnetId: '*', capacityType: kind }, m.code);
        else cache.markUnavailable({ instanceType: m.t, subnetId: m.s, capacityType: kind }, m.code);
      }
      const got = res.got;
      tried.push(`${kind}: ${got.length}/${need}${res.capacityErrors.length ? ` (${[...new Set(res.capacityErrors.map((e) => e.code))].join(', ')})` : ''}`);
      if (got.length >= need) {
        const extra = got.slice(need);
        if (extra.length) await terminateInstances(client, extra.map((g) => g.id));
        have.push(...got.slice(0, need).map((g) => g.id));
        break;
      }
      if (got.length > 0) {
        if (r.gang) {
          r.log?.warn('partial fleet under gang: terminating it and trying the next offering', { step: r.stepKey, got: got.length, need });
          await terminateInstances(client, got.map((g) => g.id));
          // Where the partial came from is short of capacity too.
          for (const g of got) cache.markUnavailable({ instanceType: g.instanceType, subnetId: g.subnetId, capacityType: kind }, 'partial fleet');
          lastCapacity ??= { code: 'InsufficientInstanceCapacity', message: `only ${got.length} of ${need} instances launched` };
        } else have.push(...got.map((g) => g.id));
      } else if (res.capacityErrors.length === 0) {
        if (res.otherErrors.length) {
          const e = res.otherErrors[0]!;
          throw new TransientError(`CreateFleet launched nothing: ${e.code}: ${e.message}`);
        }
        // Nothing launched and no reason given: do not ask the same offerings again at once.
        for (const o of overrides) cache.markUnavailable({ instanceType: String(o.InstanceType), subnetId: o.SubnetId!, capacityType: kind }, 'no instances, no errors');
      }
      generation++;
    }
    if (have.length >= r.count) break;
  }
  if (have.length >= r.count || (!r.gang && have.length > 0)) {
    if (have.length < r.count) r.log?.warn('best-effort fleet came up short', { step: r.stepKey, have: have.length, want: r.count });
    return finish(client, r, have, fleetIds, false);
  }
  const code = lastCapacity?.code ?? 'InsufficientInstanceCapacity';
  throw new CapacityError(
    `no capacity for ${r.count} x {${r.types.join(', ')}} in {${p.subnetIds.join(', ')}} (${capacityOrder(p.capacityType).join(' then ')}): ` +
      `${code}${lastCapacity?.message ? `: ${lastCapacity.message}` : ''} [tried: ${tried.join('; ') || 'nothing: every offering is marked unavailable'}]`,
    providerCode(code),
  );
}
