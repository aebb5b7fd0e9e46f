import type { Config } from '../config/schema.js';
import type { Job, TargetChoice } from '../core/types.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { burstName } from './naming.js';
import { type JobOverride, overrideKey, overridesOf } from './overrides.js';
import { packJobs } from './pack.js';
import { type Candidate, type Target, candidateFor, choiceOf, orderCandidates, resolveTargets } from './targets.js';

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
  const chosen = new Map<string, { ordered: Candidate[]; reason: string; o?: JobOverride }>();

  for (const job of jobs) {
    const o = overrides.get(job.id);
    const cands: Candidate[] = [];
    const why: string[] = [];
    for (const t of targets) {
      const c = candidateFor(job, t, o);
      if (typeof c === 'string') why.push(`${t.name}: ${c}`);
      else cands.push(c);
    }
    const { ordered, reason } = orderCandidates(cands, config.ordering, job);
    if (ordered.length === 0) {
      if (cands.length && typeof config.ordering === 'object') why.push(`fits only ${cands.map((c) => c.target.name).join(', ')}, not in the fallback chain`);
      unfit.push({ jobId: job.id, reason: `no target fits: ${why.join('; ')}` });
      continue;
    }
    const skipped = why.length ? ` (not: ${why.join('; ')})` : '';
    chosen.set(job.id, { ordered, reason: `${reason}${skipped}`, o });
  }

  // Pack per target; the group key keeps jobs with different overrides or chains apart.
  const byTarget = new Map<string, Job[]>();
  for (const job of jobs) {
    const c = chosen.get(job.id);
    if (!c) continue;
    const name = c.ordered[0]!.target.name;
    byTarget.set(name, [...(byTarget.get(name) ?? []), job]);
  }
  const bursts: PlannedBurst[] = [];
  const used = new Map(opts.inUse ?? []);
  for (const target of targets) {
    const tjobs = byTarget.get(target.name);
    if (!tjobs) continue;
    const first = (job: Job) => chosen.get(job.id)!.ordered[0]!;
    const packed = packJobs(tjobs, (job) => ({ shape: first(job).shape, costPerNodeHour: first(job).costPerNodeHour }), {
      mode: config.grouping,
      maxNodes: config.limits.maxNodes,
      maxCostPerHour: config.limits.maxCostPerHour,
      groupKey: (job) => `${overrideKey(chosen.get(job.id)!.o)}|${chosen.get(job.id)!.ordered.map((c) => c.target.name).join(',')}`,
    });
    unfit.push(...packed.unfit);
    for (const b of packed.bursts) {
      const lead = chosen.get(b.jobs[0]!.id)!;
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
        reason: `${lead.reason}${moved}`,
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
