// Sizing from the shipped GCE catalog: pure and free of @google-cloud/container, so the plugin's
// definition (registered in every CLI process) loads fast.
import type { Catalog, InstanceType } from '../../catalog/types.js';
import type { Estimate, Job } from '../../core/types.js';
import { regionalCatalog } from '../../sizing/catalog.js';
import { burstRequest, cheapestFit, type FitOptions } from '../../sizing/fit.js';
import { overrideOf } from '../../sizing/overrides.js';
import { regionOf, type GkeParams } from './params.js';

export const PROVIDER = 'gce' as const;

const regional = new WeakMap<object, Catalog>();
export function catalogFor(p: GkeParams): Catalog {
  let c = regional.get(p);
  if (!c) regional.set(p, (c = regionalCatalog(PROVIDER, regionOf(p.location))));
  return c;
}

const archOf = (jobs: Job[], p: GkeParams) => jobs.map((j) => overrideOf(j)?.requires?.arch).find(Boolean) ?? p.arch ?? 'x86_64';

function fitOptions(p: GkeParams, arch: 'x86_64' | 'arm64'): FitOptions {
  const forced = p.instanceType ?? p.machineType;
  return { provider: PROVIDER, region: regionOf(p.location), arch, ...(forced ? { instanceType: forced } : {}), ...(p.maxPrice !== undefined ? { maxPrice: p.maxPrice } : {}) };
}

/** The burst's machine type: the forced one (it must fit), else the cheapest catalog type that fits every job. */
export function burstType(jobs: Job[], p: GkeParams): InstanceType | { unfit: string } {
  const req = burstRequest(jobs);
  if ('unfit' in req) return req;
  const r = cheapestFit(catalogFor(p), req, fitOptions(p, archOf(jobs, p)));
  return 'unfit' in r ? { unfit: `gke in ${p.location}: ${r.unfit}` } : r;
}

/** Price per node-hour as asked: on-demand from the catalog, spot as its configured fraction. */
export const nodePrice = (t: InstanceType, p: GkeParams) => (p.spot ? t.pricePerHour * p.spotPriceFactor : t.pricePerHour);

export function shapeOf(job: Job, p: GkeParams): { shape: string; costPerNodeHour: number } | { unfit: string } {
  if (job.nodes > p.maxNodes) return { unfit: `needs ${job.nodes} nodes, gke maxNodes is ${p.maxNodes}` };
  const t = burstType([job], p);
  if ('unfit' in t) return t;
  return { shape: p.spot ? `${t.name} (spot)` : t.name, costPerNodeHour: nodePrice(t, p) };
}

export const burstNodes = (jobs: Job[], p: GkeParams) => p.nodes ?? Math.max(1, ...jobs.map((j) => j.nodes));

export function estimate(jobs: Job[], p: GkeParams): Estimate | { unfit: string } {
  const nodes = burstNodes(jobs, p);
  if (nodes > p.maxNodes) return { unfit: `needs ${nodes} nodes, gke maxNodes is ${p.maxNodes}` };
  const t = burstType(jobs, p);
  if ('unfit' in t) return t;
  // A new cluster's control plane takes ~5 minutes; a node pool on a running cluster ~2.
  return { nodes, costPerHour: nodes * nodePrice(t, p), secondsToReady: (p.mode === 'cluster' ? 330 : 150) + 60 };
}
