// Estimates and shapes: pure and free of @kubernetes/client-node, so the registry's definition
// (loaded by every CLI command) stays light.
import type { Estimate, Job } from '../../core/types.js';
import type { KubernetesParams } from './params.js';

export function shapeOf(job: Job, p: KubernetesParams): { shape: string; costPerNodeHour: number } | { unfit: string } {
  if (job.nodes > p.maxSize) return { unfit: `needs ${job.nodes} nodes, kubernetes maxSize is ${p.maxSize}` };
  if (p.maxPrice !== undefined && p.costPerNodeHour > p.maxPrice) return { unfit: `costPerNodeHour ${p.costPerNodeHour} is over maxPrice ${p.maxPrice}` };
  const res = [p.cpu && `cpu=${p.cpu}`, p.memory && `memory=${p.memory}`].filter(Boolean).join(',');
  const shape = `${p.instanceType ?? 'pod'}${res ? `(${res})` : ''}`;
  return { shape, costPerNodeHour: p.costPerNodeHour };
}

export function burstSize(jobs: Job[], p: KubernetesParams): number {
  return p.size ?? Math.max(1, ...jobs.map((j) => j.nodes));
}

export function estimate(jobs: Job[], p: KubernetesParams): Estimate | { unfit: string } {
  const nodes = burstSize(jobs, p);
  if (nodes > p.maxSize) return { unfit: `needs ${nodes} nodes, kubernetes maxSize is ${p.maxSize}` };
  for (const j of jobs) {
    const s = shapeOf(j, p);
    if ('unfit' in s) return s;
  }
  return { nodes, costPerHour: nodes * p.costPerNodeHour, secondsToReady: p.secondsToReady };
}
