// Jobs → bursts. Pure and deterministic: the same jobs, chooser and options give the same bursts
// in the same order, whatever order maps happen to iterate in.
import type { Job } from '../core/types.js';

export interface PackedBurst {
  shape: string;
  nodes: number;
  /** The gang: this many nodes must be up before any job of the burst starts. */
  gangMin: number;
  jobs: Job[];
  costPerHour: number;
}

export type ShapeChoice = { shape: string; costPerNodeHour: number } | { unfit: string };

export interface PackOptions {
  /** pooled: jobs of one shape (and group) share a burst; exclusive: one burst per job. */
  mode: 'pooled' | 'exclusive';
  maxNodes: number;
  maxCostPerHour?: number;
  /** Keeps jobs apart that must not share a burst even with the same shape. Default: ''. */
  groupKey?: (job: Job) => string;
}

export interface PackResult {
  bursts: PackedBurst[];
  unfit: { jobId: string; reason: string }[];
}

interface Bin {
  shape: string;
  nodes: number;
  costPerNodeHour: number;
  jobs: Job[];
  /** Index of its first job in the input, for the output order. */
  first: number;
}

/**
 * Each job's shape comes from `choose`. A job that is unfit there, that needs more than
 * `maxNodes`, or whose own burst would cost more than `maxCostPerHour` (nodes × cost per node-hour)
 * is unfit, with the reason. In `exclusive` mode, and for any job with `exclusive: true`, a job
 * gets a burst of its own sized to it. In `pooled` mode the other jobs with the same shape and
 * group share one burst sized to the largest of them (flux-burst's rule: the jobs then run in
 * turn on it), whose gang is that whole size; since each job passed the caps at that size, so does
 * the pool. Bursts come out ordered by shape, then by their first job's place in the input; unfit
 * jobs in input order. Every job is in exactly one burst or in `unfit`.
 */
export function packJobs(jobs: Job[], choose: (job: Job) => ShapeChoice, opts: PackOptions): PackResult {
  const unfit: PackResult['unfit'] = [];
  const bins: Bin[] = [];
  const pools = new Map<string, Bin>();
  const groupKey = opts.groupKey;
  const cap = opts.maxCostPerHour;

  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!;
    const c = choose(job);
    if ('unfit' in c) {
      unfit.push({ jobId: job.id, reason: c.unfit });
      continue;
    }
    const nodes = job.nodes;
    if (!Number.isInteger(nodes) || nodes < 1) {
      unfit.push({ jobId: job.id, reason: `needs ${nodes} nodes: not a positive whole number` });
      continue;
    }
    if (nodes > opts.maxNodes) {
      unfit.push({ jobId: job.id, reason: `needs ${nodes} nodes, over maxNodes ${opts.maxNodes}` });
      continue;
    }
    const cost = nodes * c.costPerNodeHour;
    if (cap !== undefined && cost > cap) {
      unfit.push({ jobId: job.id, reason: `${nodes} × ${c.shape} costs $${round(cost)}/h, over maxCostPerHour $${cap}/h` });
      continue;
    }
    if (opts.mode === 'exclusive' || job.exclusive === true) {
      bins.push({ shape: c.shape, nodes, costPerNodeHour: c.costPerNodeHour, jobs: [job], first: i });
      continue;
    }
    const key = groupKey ? `${c.shape}\u0000${groupKey(job)}` : c.shape;
    const pool = pools.get(key);
    if (!pool) {
      const bin: Bin = { shape: c.shape, nodes, costPerNodeHour: c.costPerNodeHour, jobs: [job], first: i };
      pools.set(key, bin);
      bins.push(bin);
      continue;
    }
    if (pool.costPerNodeHour !== c.costPerNodeHour) {
      throw new Error(`packJobs: choose() priced shape ${c.shape} at $${pool.costPerNodeHour} and at $${c.costPerNodeHour} per node-hour`);
    }
    pool.jobs.push(job);
    if (nodes > pool.nodes) pool.nodes = nodes;
  }

  bins.sort((a, b) => (a.shape < b.shape ? -1 : a.shape > b.shape ? 1 : a.first - b.first));
  const bursts = bins.map((b): PackedBurst => ({ shape: b.shape, nodes: b.nodes, gangMin: b.nodes, jobs: b.jobs, costPerHour: b.nodes * b.costPerNodeHour }));
  return { bursts, unfit };
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
