// Sizing from the shipped catalog: pure, and free of the AWS SDK, so the plugin's definition
// (registered in every CLI process) loads fast; the SDK-using parts load on first use.
import type { Catalog, InstanceType } from '../../catalog/types.js';
import type { Estimate, Job } from '../../core/types.js';
import { regionalCatalog } from '../../sizing/catalog.js';
import { burstRequest, cheapestFit, fits, makeChooser, type NodeRequest } from '../../sizing/fit.js';
import { overrideOf } from '../../sizing/overrides.js';
import type { AwsEc2Params } from './params.js';

export const PROVIDER = 'aws' as const;

// ---------------------------------------------------------------------------------------------
// Sizing from the catalog

/** The catalog narrowed to this target's region (and `instanceTypes`, when given); one per params object. */
const narrowed = new WeakMap<object, Catalog>();
export function catalogFor(p: AwsEc2Params): Catalog {
  let c = narrowed.get(p);
  if (!c) narrowed.set(p, (c = regionalCatalog(PROVIDER, p.region, p.instanceTypes)));
  return c;
}

export const archOf = (job: Job | undefined, p: AwsEc2Params) => (job ? overrideOf(job)?.requires?.arch : undefined) ?? p.arch ?? 'x86_64';

export function fitOptions(p: AwsEc2Params, arch: 'x86_64' | 'arm64') {
  return {
    provider: PROVIDER,
    region: p.region,
    arch,
    ...(p.instanceType ? { instanceType: p.instanceType } : {}),
    // On-demand prices are what the catalog knows; a spot max price does not bound them.
    ...(p.maxPrice !== undefined && p.capacityType === 'on-demand' ? { maxPrice: p.maxPrice } : {}),
  };
}

const choosers = new WeakMap<object, ReturnType<typeof makeChooser>>();
export function shapeOf(job: Job, p: AwsEc2Params): { shape: string; costPerNodeHour: number } | { unfit: string } {
  if (job.nodes > p.maxNodes) return { unfit: `needs ${job.nodes} nodes, aws-ec2 maxNodes is ${p.maxNodes}` };
  let c = choosers.get(p);
  if (!c) choosers.set(p, (c = makeChooser(catalogFor(p), (j: Job) => fitOptions(p, archOf(j, p)))));
  const r = c(job);
  if ('unfit' in r) return p.instanceTypes ? { unfit: `${r.unfit} (instanceTypes: ${p.instanceTypes.join(', ')})` } : r;
  return { shape: r.shape, costPerNodeHour: r.costPerNodeHour };
}

/** The burst's node type: the cheapest that fits every job. */
export function burstType(jobs: Job[], p: AwsEc2Params): InstanceType | { unfit: string } {
  const req = burstRequest(jobs);
  if ('unfit' in req) return req;
  const arches = new Set(jobs.map((j) => archOf(j, p)));
  if (arches.size > 1) return { unfit: 'jobs ask for different architectures; a burst has one node shape' };
  const r = cheapestFit(catalogFor(p), req, fitOptions(p, [...arches][0] ?? archOf(undefined, p)));
  return 'unfit' in r && p.instanceTypes ? { unfit: `${r.unfit} (instanceTypes: ${p.instanceTypes.join(', ')})` } : r;
}

/**
 * The fleet's candidate types, preferred first: the planned shape, then (Karpenter-style
 * flexibility for capacity fallback) other types at least as big in every dimension, up to 1.5x
 * its price, or, with `instanceTypes`, those of them that are at least as big. A pure function of
 * the plan and the params, so every try of a step asks for the same offerings.
 */
export function fleetTypes(p: AwsEc2Params, shape: string): string[] {
  if (p.instanceType) return [p.instanceType];
  const cat = catalogFor(p);
  const base = cat.types.find((t) => t.name === shape);
  if (!base) return [shape];
  const need: NodeRequest = { cores: base.vcpus, memoryMiB: base.memoryMiB, gpus: base.gpus, ...(base.gpuKind ? { gpuKind: base.gpuKind } : {}) };
  const bigger = cat.types
    .filter((t) => t.name !== shape && t.arch === base.arch && fits(t, need) && (p.instanceTypes || t.pricePerHour <= base.pricePerHour * 1.5))
    .sort((a, b) => a.pricePerHour - b.pricePerHour || (a.name < b.name ? -1 : 1))
    .map((t) => t.name);
  return [shape, ...(p.instanceTypes ? bigger : bigger.slice(0, p.alternatives))];
}

export function estimate(jobs: Job[], p: AwsEc2Params): Estimate | { unfit: string } {
  const nodes = p.nodes ?? Math.max(1, ...jobs.map((j) => j.nodes));
  if (nodes > p.maxNodes) return { unfit: `needs ${nodes} nodes, aws-ec2 maxNodes is ${p.maxNodes}` };
  let perNode = 0;
  for (const j of jobs) {
    const s = shapeOf(j, p);
    if ('unfit' in s) return s;
    perNode = Math.max(perNode, s.costPerNodeHour);
  }
  // Instant fleets answer in seconds; instances take a minute or two to reach `running`.
  return { nodes, costPerHour: nodes * perNode, secondsToReady: 90 + (p.placementGroup ? 15 : 0) + (p.efa ? 30 : 0) };
}

