import type { Config } from '../config/schema.js';
import type { Job, TargetChoice } from '../core/types.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { burstName } from './naming.js';
import { type JobOverride, overrideKey, overridesOf } from './overrides.js';
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

interface Profile {
  ordered: Candidate[];
  /** Shape and price on the first target, as packJobs asks for it. */
  choice: { shape: string; costPerNodeHour: number };
  reason: () => string;
  o?: JobOverride;
  /** Jobs share a burst only with jobs of the same overrides and chain. */
  group: string;
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
  // By job object, not id: identity lookups are what 100,000 jobs can afford.
  const chosen = new Map<Job, Profile>();
  const paramsCache: ParamsCache = new Map();
  // Jobs with the same resource request and override get the same answer: work it out once per
  // profile (a queue of 100,000 jobs has a few hundred), not once per job.
  const profiles = new Map<string, Profile | string>();

  for (const job of jobs) {
    const o = overrides.get(job.id);
    const key = `${job.nodes}|${job.tasks}|${job.coresPerNode ?? ''}|${job.gpusPerNode ?? ''}|${job.memoryMiB ?? ''}|${job.exclusive ? 1 : 0}|${o ? overrideKey(o) : ''}`;
    let prof = profiles.get(key);
    if (prof === undefined) {
      const cands: Candidate[] = [];
      const why: string[] = [];
      for (const t of targets) {
        const c = candidateFor(job, t, o, paramsCache);
        if (typeof c === 'string') why.push(`${t.name}: ${c}`);
        else cands.push(c);
      }
      const order = orderCandidates(cands, config.ordering, job);
      if (order.ordered.length === 0) {
        if (cands.length && typeof config.ordering === 'object') why.push(`fits only ${cands.map((c) => c.target.name).join(', ')}, not in the fallback chain`);
        prof = `no target fits: ${why.join('; ')}`;
      } else {
        const ordered = order.ordered;
        prof = {
          ordered,
          choice: { shape: ordered[0]!.shape, costPerNodeHour: ordered[0]!.costPerNodeHour },
          // Reasons are read once per burst; build them only then.
          reason: () => `${order.reason}${why.length ? ` (not: ${why.join('; ')})` : ''}`,
          o,
          group: `${o ? overrideKey(o) : ''}|${ordered.map((c) => c.target.name).join(',')}`,
        };
      }
      profiles.set(key, prof);
    }
    if (typeof prof === 'string') unfit.push({ jobId: job.id, reason: prof });
    else chosen.set(job, prof);
  }

  // Pack per target; the group key keeps jobs with different overrides or chains apart.
  const byTarget = new Map<string, Job[]>();
  for (const [job, c] of chosen) {
    const name = c.ordered[0]!.target.name;
    const list = byTarget.get(name);
    if (list) list.push(job);
    else byTarget.set(name, [job]);
  }
  const bursts: PlannedBurst[] = [];
  const used = new Map(opts.inUse ?? []);
  for (const target of targets) {
    const tjobs = byTarget.get(target.name);
    if (!tjobs) continue;
    const packed = packJobs(tjobs, (job) => chosen.get(job)!.choice, {
      mode: config.grouping,
      maxNodes: config.limits.maxNodes,
      maxCostPerHour: config.limits.maxCostPerHour,
      groupKey: (job) => chosen.get(job)!.group,
    });
    unfit.push(...packed.unfit);
    for (const b of packed.bursts) {
      const lead = chosen.get(b.jobs[0]!)!;
      const placed = placeWithinQuota(b, lead.ordered, used);
      if (typeof placed === 'string') {
        for (const j of b.jobs) unfit.push({ jobId: j.id, reason: placed });
        continue;
      }
      const chain = lead.ordered.slice(lead.ordered.indexOf(placed)).map(choiceOf);
      const moved = placed !== lead.ordered[0] ? `; quota full on ${lead.ordered[0]!.target.name}, so ${placed.target.name}` : '';
      bursts.push({
        id: burstName(config.name, b.nodes, { jobIds: b.jobs.map((j) => j.id), plugins: chain.map((c) => c.name), owner: opts.owner }),
        jobs: b.jobs,
        chain,
        target: placed.target.name,
        nodes: b.nodes,
        gangMin: b.gangMin,
        shape: placed === lead.ordered[0] ? b.shape : placed.shape,
        costPerHour: placed === lead.ordered[0] ? b.costPerHour : b.nodes * placed.costPerNodeHour,
        secondsToReady: placed.secondsToReady,
        reason: `${lead.reason()}${moved}`,
      });
    }
  }
  return { bursts, unfit };

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
