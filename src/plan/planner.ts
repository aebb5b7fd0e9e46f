import type { Config } from '../config/schema.js';
import type { Job, TargetChoice } from '../core/types.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { outOfBounds } from '../jobs/normalize.js';
import { burstName } from './naming.js';
import { type JobOverride, overrideKey, overridesOf } from '../sizing/overrides.js';
import { packJobs } from './pack.js';
import { type Candidate, type ParamsCache, type Target, candidateFor, choiceOf, orderCandidates, resolveTargets } from './targets.js';

export interface PlannedBurst {
  /** Workflow id: `<name>-<nodes>n-<hash>`. */
  id: string;
  jobs: Job[];
  /** Where it goes first, then where it may fall back to. */
  chain: TargetChoice[];
  target: string;
  nodes: number;
  gangMin: number;
  shape: string;
  costPerHour: number;
  secondsToReady: number;
  /** Why this target (ordering and what was passed over). */
  reason: string;
}

export interface Plan {
  bursts: PlannedBurst[];
  unfit: { jobId: string; reason: string }[];
}

/**
 * Profiles by (nodes, tasks, cores, GPUs, memory, exclusive, override): a numeric hash with the
 * fields kept to check against, so the common lookup builds no string.
 */
class ProfileTable<V> {
  private readonly buckets = new Map<number, Array<{ n: number; t: number; c: number; g: number; m: number; x: boolean; o: string; v: V }>>();
  private static hash(j: Job, o: string): number {
    let h = Math.imul(j.nodes ^ 0x9e3779b1, 0x85ebca6b);
    h = Math.imul(h ^ j.tasks, 0xc2b2ae35);
    h = Math.imul(h ^ (j.coresPerNode ?? -1), 0x85ebca6b);
    h = Math.imul(h ^ (j.gpusPerNode ?? -1), 0xc2b2ae35);
    h = Math.imul(h ^ (j.memoryMiB ?? -1), 0x85ebca6b);
    return (h ^ (j.exclusive ? 1 : 0) ^ o.length) | 0;
  }
  get(j: Job, o: string): V | undefined {
    const b = this.buckets.get(ProfileTable.hash(j, o));
    if (!b) return undefined;
    for (const e of b) {
      if (e.n === j.nodes && e.t === j.tasks && e.c === (j.coresPerNode ?? -1) && e.g === (j.gpusPerNode ?? -1) && e.m === (j.memoryMiB ?? -1) && e.x === !!j.exclusive && e.o === o) return e.v;
    }
    return undefined;
  }
  set(j: Job, o: string, v: V): void {
    const h = ProfileTable.hash(j, o);
    const e = { n: j.nodes, t: j.tasks, c: j.coresPerNode ?? -1, g: j.gpusPerNode ?? -1, m: j.memoryMiB ?? -1, x: !!j.exclusive, o, v };
    const b = this.buckets.get(h);
    if (b) b.push(e);
    else this.buckets.set(h, [e]);
  }
}

interface Profile {
  ordered: Candidate[];
  /** Shape and price on the first target, as packJobs asks for it. */
  choice: { shape: string; costPerNodeHour: number };
  reason: () => string;
  o?: JobOverride;
  /** Jobs share a burst only with jobs of the same overrides and chain. */
  group: string;
  /** The chain as it goes into each burst's input, made once. */
  chain?: TargetChoice[];
}

export interface PlanOptions {
  owner: string;
  /** Nodes and spend already in flight per target (running bursts), for quotas. */
  inUse?: Map<string, { nodes: number; costPerHour: number }>;
}

/**
 * Selected jobs → bursts. Per job: which targets can take it (capabilities, overrides, plugin fit)
 * and in what order (the ordering strategy). Jobs going to the same target with the same
 * overrides and the same fallback chain are packed together (pooled, sized to the largest job)
 * or one per job (exclusive), within the burst caps; then target quotas push bursts down their
 * chain. Deterministic: the same jobs and config give the same bursts and names.
 */
export function planBursts(jobs: Job[], config: Config, reg: PluginRegistry, opts: PlanOptions): Plan {
  const overrides = overridesOf(jobs); // bad overrides are input errors, before anything else
  const targets = resolveTargets(config, reg);
  const unfit: Plan['unfit'] = [];
  // Each job's profile by its index in `jobs` (arrays, not maps: 100,000 jobs).
  const profOf: Array<Profile | undefined> = new Array(jobs.length);
  const paramsCache: ParamsCache = new Map();
  // Jobs with the same resource request and override get the same answer: work it out once per
  // profile (a queue of 100,000 jobs has a few hundred), not once per job.
  const profiles = new ProfileTable<Profile | string>();

  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!;
    // Files are checked as they are read; jobs from a Flux or Slurm queue, a watch scan or an
    // addJobs call reach the planner unchecked. A job over the bounds (ids that cannot be paths or
    // routes, counts no worker could honour) fits no target: it is unfit with the reason, and
    // never reaches a worker.
    const bad = outOfBounds(job);
    if (bad) {
      unfit.push({ jobId: job.id, reason: bad });
      continue;
    }
    const o = overrides.size ? overrides.get(job.id) : undefined;
    const okey = o ? overrideKey(o) : '';
    let prof = profiles.get(job, okey);
    if (prof === undefined) {
      const cands: Candidate[] = [];
      const why: string[] = [];
      for (const t of targets) {
        const c = candidateFor(job, t, o, paramsCache);
        if (typeof c === 'string') why.push(`${t.name}: ${c}`);
        else cands.push(c);
      }
      const order = orderCandidates(cands, config.ordering, job);
      let reasonText: string | undefined;
      if (order.ordered.length === 0) {
        if (cands.length && typeof config.ordering === 'object') why.push(`fits only ${cands.map((c) => c.target.name).join(', ')}, not in the fallback chain`);
        prof = `no target fits: ${why.join('; ')}`;
      } else {
        const ordered = order.ordered;
        prof = {
          ordered,
          choice: { shape: ordered[0]!.shape, costPerNodeHour: ordered[0]!.costPerNodeHour },
          // Built on first read (once per profile that gets a burst), then kept.
          reason: () => (reasonText ??= `${order.reason}${why.length ? ` (not: ${why.join('; ')})` : ''}`),
          o,
          group: `${o ? overrideKey(o) : ''}|${ordered.map((c) => c.target.name).join(',')}`,
        };
      }
      profiles.set(job, okey, prof);
    }
    if (typeof prof === 'string') unfit.push({ jobId: job.id, reason: prof });
    else profOf[i] = prof;
  }

  // Every job of a profile has the same nodes, shape, group and exclusivity, so packing works on
  // one representative per profile and then hands each burst its profiles' jobs.
  const members = new Map<Profile, Job[]>();
  for (let i = 0; i < jobs.length; i++) {
    const p = profOf[i];
    if (!p) continue;
    const list = members.get(p);
    if (list) list.push(jobs[i]!);
    else members.set(p, [jobs[i]!]);
  }
  // Representatives (one job per profile) are what packJobs sees.
  const chosen = new Map<Job, Profile>();
  for (const [p, js] of members) chosen.set(js[0]!, p);
  const repsByTarget = new Map<string, Job[]>();
  const repOf = new Map<string, Profile>();
  for (const [p, js] of members) {
    const name = p.ordered[0]!.target.name;
    const reps = repsByTarget.get(name);
    if (reps) reps.push(js[0]!);
    else repsByTarget.set(name, [js[0]!]);
    repOf.set(js[0]!.id, p);
  }
  // Bursts in packing order; a pool that merges several profiles gets its jobs in input order
  // from one pass over the input (not a sort).
  type Draft = { js: Job[]; nodes: number; gangMin: number; costPerHour: number; shape: string; lead: Profile };
  const drafts: Draft[] = [];
  const merged = new Map<Profile, Job[]>();
  for (const target of targets) {
    const reps = repsByTarget.get(target.name);
    if (!reps) continue;
    const packed = packJobs(reps, (job) => chosen.get(job)!.choice, {
      mode: config.grouping,
      maxNodes: config.limits.maxNodes,
      maxCostPerHour: config.limits.maxCostPerHour,
      groupKey: (job) => chosen.get(job)!.group,
    });
    for (const u of packed.unfit) for (const j of members.get(repOf.get(u.jobId)!)!) unfit.push({ jobId: j.id, reason: u.reason });
    for (const b of packed.bursts) {
      const rep = b.jobs[0]!;
      const lead = chosen.get(rep)!;
      if (config.grouping === 'exclusive' || rep.exclusive === true) {
        // One burst per job of the profile, each sized to it.
        for (const j of members.get(lead)!) drafts.push({ js: [j], nodes: b.nodes, gangMin: b.gangMin, costPerHour: b.costPerHour, shape: b.shape, lead });
        continue;
      }
      const d: Draft = { js: b.jobs.length === 1 ? members.get(lead)! : [], nodes: b.nodes, gangMin: b.gangMin, costPerHour: b.costPerHour, shape: b.shape, lead };
      if (b.jobs.length > 1) for (const r of b.jobs) merged.set(chosen.get(r)!, d.js);
      drafts.push(d);
    }
  }
  if (merged.size) {
    for (let i = 0; i < jobs.length; i++) {
      const p = profOf[i];
      if (p) merged.get(p)?.push(jobs[i]!);
    }
  }
  const bursts: PlannedBurst[] = [];
  const used = new Map(opts.inUse ?? []);
  for (const d of drafts) add(d.js, d.nodes, d.gangMin, d.costPerHour, d.shape, d.lead);
  return { bursts, unfit };

  function add(js: Job[], jobNodes: number, gangMin: number, costPerHour: number, shape: string, lead: Profile): void {
    // The burst's size is what its target's plugin will make (a pool may be given more nodes than
    // its largest job, e.g. local `nodes: 4`), and that is the N in the name `<name>-<N>n-<hash>`.
    const nodes = burstNodes(js, jobNodes, lead.ordered[0]!);
    if (nodes !== jobNodes) costPerHour = (costPerHour / jobNodes) * nodes;
    const placed = placeWithinQuota({ nodes, costPerHour }, lead.ordered, used);
    if (typeof placed === 'string') {
      for (const j of js) unfit.push({ jobId: j.id, reason: placed });
      return;
    }
    const first = placed === lead.ordered[0];
    const chain = first ? (lead.chain ??= lead.ordered.map(choiceOf)) : lead.ordered.slice(lead.ordered.indexOf(placed)).map(choiceOf);
    bursts.push({
      id: burstName(config.name, nodes, { jobIds: js.map((j) => j.id), plugins: chain.map((c) => c.name), owner: opts.owner }),
      jobs: js,
      chain,
      target: placed.target.name,
      nodes,
      gangMin,
      shape: first ? shape : placed.shape,
      costPerHour: first ? costPerHour : nodes * placed.costPerNodeHour,
      secondsToReady: placed.secondsToReady,
      reason: `${lead.reason()}${first ? '' : `; quota full on ${lead.ordered[0]!.target.name}, so ${placed.target.name}`}`,
    });
  }

  /** Nodes the target's plugin sizes this burst to (its estimate for the burst's largest job), at least the jobs' own. */
  function burstNodes(js: Job[], jobNodes: number, c: Candidate): number {
    let biggest = js[0]!;
    for (const j of js) if (j.nodes > biggest.nodes) biggest = j;
    const est = c.target.plugin.estimate([biggest], c.params);
    return 'unfit' in est ? jobNodes : Math.max(jobNodes, est.nodes);
  }

  /** The first target in the chain whose quota still has room for this burst, or why none. */
  function placeWithinQuota(b: { nodes: number; costPerHour: number }, ordered: Candidate[], usage: Map<string, { nodes: number; costPerHour: number }>): Candidate | string {
    const full: string[] = [];
    for (const c of ordered) {
      const u = usage.get(c.target.name) ?? { nodes: 0, costPerHour: 0 };
      const cost = c === ordered[0] ? b.costPerHour : b.nodes * c.costPerNodeHour;
      const q = c.target.quota;
      if (q.nodes !== undefined && u.nodes + b.nodes > q.nodes) {
        full.push(`${c.target.name}: quota exhausted (${u.nodes}/${q.nodes} nodes in use, burst needs ${b.nodes})`);
        continue;
      }
      if (q.costPerHour !== undefined && u.costPerHour + cost > q.costPerHour) {
        full.push(`${c.target.name}: quota exhausted ($${u.costPerHour.toFixed(2)}/$${q.costPerHour.toFixed(2)} per hour in use, burst needs $${cost.toFixed(2)})`);
        continue;
      }
      usage.set(c.target.name, { nodes: u.nodes + b.nodes, costPerHour: u.costPerHour + cost });
      return c;
    }
    return `no target has room: ${full.join('; ')}`;
  }
}

export type { Target };
