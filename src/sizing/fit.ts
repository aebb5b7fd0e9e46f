// Which instance type a job's nodes should be: the cheapest on-demand type in the catalog that
// fits one node's request. Pure and deterministic (ties on price go to the name that sorts
// first), and fast: each catalog gets, once, a price-sorted list per (provider, region), and
// every answer is memoised by its request key, so a queue of many similar jobs costs a few map
// lookups per job.
import type { Arch, Catalog, InstanceType, Provider } from '../catalog/types.js';
import type { Job } from '../core/types.js';

/** What one node of a job needs. */
export interface NodeRequest {
  cores: number;
  memoryMiB: number;
  gpus: number;
  /** Canonical GPU kind; when set, only types with GPUs of this kind fit (see gpuKindMatches). */
  gpuKind?: string;
}

export interface FitOptions {
  provider: Provider;
  region: string;
  arch?: Arch;
  /** Forced by a per-job override: this type or nothing (it must fit, else the answer is unfit). */
  instanceType?: string;
  /** Highest acceptable on-demand price per node-hour, USD. */
  maxPrice?: number;
}

export type FitResult = InstanceType | { unfit: string };

/**
 * One node's request: cores are `coresPerNode`, or the job's tasks spread evenly over its nodes;
 * memory and GPUs per node as given (0 when absent). The GPU kind comes from the job's override,
 * `attributes.system.fluxburst.requires.gpuKind` (see src/sizing/overrides.ts).
 */
export function perNodeRequest(job: Job): NodeRequest {
  const nodes = job.nodes > 0 ? job.nodes : 1;
  const r: NodeRequest = {
    cores: job.coresPerNode ?? Math.ceil(job.tasks / nodes),
    memoryMiB: job.memoryMiB ?? 0,
    gpus: job.gpusPerNode ?? 0,
  };
  const kind = requestedGpuKind(job);
  if (kind) r.gpuKind = kind;
  return r;
}

function requestedGpuKind(job: Job): string | undefined {
  const fb = (job.attributes.system as Record<string, unknown> | undefined)?.fluxburst;
  const requires = fb && typeof fb === 'object' ? (fb as Record<string, unknown>).requires : undefined;
  const kind = requires && typeof requires === 'object' ? (requires as Record<string, unknown>).gpuKind : undefined;
  if (typeof kind !== 'string' || !kind.trim()) return undefined;
  let n = normalized.get(kind);
  if (n === undefined) {
    n = normalizeGpuKind(kind);
    if (normalized.size < 1000) normalized.set(kind, n);
  }
  return n;
}
const normalized = new Map<string, string>();

/** One node's request covering every job of the burst. */
export function burstRequest(jobs: Job[]): NodeRequest | { unfit: string } {
  const r: NodeRequest = { cores: 1, memoryMiB: 0, gpus: 0 };
  for (const j of jobs) {
    const q = perNodeRequest(j);
    r.cores = Math.max(r.cores, q.cores);
    r.memoryMiB = Math.max(r.memoryMiB, q.memoryMiB);
    r.gpus = Math.max(r.gpus, q.gpus);
    if (q.gpuKind) {
      if (r.gpuKind && r.gpuKind !== q.gpuKind) return { unfit: `jobs ask for different GPU kinds (${r.gpuKind}, ${q.gpuKind}); a burst has one node shape` };
      r.gpuKind = q.gpuKind;
    }
  }
  return r;
}

/**
 * Canonical GPU kind: lower case, words joined by '-', the "tesla" brand dropped, so GCE's
 * `nvidia-tesla-a100`, AWS's `NVIDIA` + `A100` and a user's "NVIDIA A100" all read `nvidia-a100`.
 */
export function normalizeGpuKind(s: string): string {
  return s
    .trim()
    .toLowerCase()
    .split(/[\s_-]+/)
    .filter((w) => w && w !== 'tesla')
    .join('-');
}

/**
 * A type's GPU kind satisfies a wanted kind when it is that kind or a variant of it: asking for
 * `nvidia-a100` accepts `nvidia-a100-80gb`; asking for `nvidia-a100-80gb` does not accept the
 * 40 GB `nvidia-a100`.
 */
export function gpuKindMatches(have: string | undefined, want: string): boolean {
  return have !== undefined && (have === want || have.startsWith(`${want}-`));
}

/** Does one node of this type cover the request? */
export function fits(t: InstanceType, r: NodeRequest): boolean {
  return t.vcpus >= r.cores && t.memoryMiB >= r.memoryMiB && t.gpus >= r.gpus && (r.gpuKind === undefined || gpuKindMatches(t.gpuKind, r.gpuKind));
}

/** Cheapest first; equal prices by name (code-unit order), so the order never depends on input order. */
export function byPriceThenName(a: InstanceType, b: InstanceType): number {
  return a.pricePerHour - b.pricePerHour || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// Per-catalog index

interface RegionIndex {
  /** Every type of the provider in the region, cheapest first. */
  sorted: InstanceType[];
  byName: Map<string, InstanceType>;
}

interface CatalogIndex {
  regions: Map<string, RegionIndex>;
  /** Regions per provider, sorted (for messages). */
  regionNames: Map<Provider, string[]>;
  memo: Map<string, FitResult>;
}

/** Keyed by catalog object: a catalog is treated as immutable once it has been looked at. */
const indexes = new WeakMap<Catalog, CatalogIndex>();
/** Past this many distinct requests the memo starts over (bounds memory on adversarial input). */
const MEMO_MAX = 50_000;

const regionKey = (provider: string, region: string) => `${provider}\u0000${region}`;

function indexOf(catalog: Catalog): CatalogIndex {
  let ix = indexes.get(catalog);
  if (ix) return ix;
  const regions = new Map<string, RegionIndex>();
  const names = new Map<Provider, Set<string>>();
  for (const t of catalog.types) {
    const k = regionKey(t.provider, t.region);
    let r = regions.get(k);
    if (!r) regions.set(k, (r = { sorted: [], byName: new Map() }));
    r.sorted.push(t);
    const seen = r.byName.get(t.name);
    // Duplicates cannot come from validated files; if a hand-made catalog has them, keep the cheaper.
    if (!seen || byPriceThenName(t, seen) < 0) r.byName.set(t.name, t);
    let s = names.get(t.provider);
    if (!s) names.set(t.provider, (s = new Set()));
    s.add(t.region);
  }
  for (const r of regions.values()) r.sorted.sort(byPriceThenName);
  const regionNames = new Map<Provider, string[]>();
  for (const [p, s] of names) regionNames.set(p, [...s].sort());
  ix = { regions, regionNames, memo: new Map() };
  indexes.set(catalog, ix);
  return ix;
}

/** The memo key of one question (request + options). */
export function requestKey(r: NodeRequest, o: FitOptions): string {
  return `${o.provider}|${o.region}|${o.arch ?? ''}|${o.instanceType ?? ''}|${o.maxPrice ?? ''}|${r.cores}|${r.memoryMiB}|${r.gpus}|${r.gpuKind ?? ''}`;
}

/**
 * The cheapest on-demand type that fits one node of the request (vcpus ≥ cores, memory ≥
 * memoryMiB, gpus ≥ gpus and of the asked kind), in the given provider and region (and
 * architecture, if asked); ties on price go to the name that sorts first. With `instanceType`
 * that type is the answer if it fits, else unfit. Over `maxPrice` is unfit. An unfit answer says
 * which constraint could not be met and what the region offers instead.
 */
export function cheapestFit(catalog: Catalog, request: NodeRequest, opts: FitOptions): FitResult {
  const ix = indexOf(catalog);
  const key = requestKey(request, opts);
  let r = ix.memo.get(key);
  if (r === undefined) {
    r = computeFit(ix, request, opts);
    if (ix.memo.size >= MEMO_MAX) ix.memo.clear();
    ix.memo.set(key, r);
  }
  return r;
}

function computeFit(ix: CatalogIndex, req: NodeRequest, o: FitOptions): FitResult {
  const rx = ix.regions.get(regionKey(o.provider, o.region));
  if (!rx) {
    const known = ix.regionNames.get(o.provider);
    return unfit(known ? `the catalog has no ${o.provider} types in ${o.region} (${o.provider} regions: ${known.join(', ')})` : `the catalog has no ${o.provider} types`);
  }
  if (o.instanceType !== undefined) return forced(ix, rx, req, o, o.instanceType);
  for (const t of rx.sorted) {
    if (o.arch !== undefined && t.arch !== o.arch) continue;
    if (!fits(t, req)) continue;
    if (o.maxPrice !== undefined && t.pricePerHour > o.maxPrice) {
      return unfit(`the cheapest ${where(o)} that fits, ${t.name}, costs $${t.pricePerHour}/h, over maxPrice $${o.maxPrice}/h`);
    }
    return t;
  }
  return unfit(explain(rx, req, o));
}

function forced(ix: CatalogIndex, rx: RegionIndex, req: NodeRequest, o: FitOptions, name: string): FitResult {
  const t = rx.byName.get(name);
  if (!t) {
    const elsewhere = (ix.regionNames.get(o.provider) ?? []).filter((r) => ix.regions.get(regionKey(o.provider, r))?.byName.has(name));
    return unfit(`${o.provider} type ${name} is not in the catalog for ${o.region}${elsewhere.length ? ` (it is in ${elsewhere.join(', ')})` : ''}`);
  }
  if (o.arch !== undefined && t.arch !== o.arch) return unfit(`${o.provider} ${name} in ${o.region} is ${t.arch}, not ${o.arch}`);
  if (!fits(t, req)) {
    const short: string[] = [];
    if (t.vcpus < req.cores) short.push(`${req.cores} vCPUs (has ${t.vcpus})`);
    if (t.memoryMiB < req.memoryMiB) short.push(`${mem(req.memoryMiB)} of memory (has ${mem(t.memoryMiB)})`);
    if (t.gpus < req.gpus) short.push(`${gpus(req.gpus)} (has ${t.gpus})`);
    if (req.gpuKind !== undefined && !gpuKindMatches(t.gpuKind, req.gpuKind)) short.push(`GPUs of kind ${req.gpuKind} (has ${t.gpuKind ?? 'none'})`);
    return unfit(`${o.provider} ${name} in ${o.region} does not fit the job: it needs ${short.join(', ')}`);
  }
  if (o.maxPrice !== undefined && t.pricePerHour > o.maxPrice) return unfit(`${o.provider} ${name} in ${o.region} costs $${t.pricePerHour}/h, over maxPrice $${o.maxPrice}/h`);
  return t;
}

/** Why nothing fits: each constraint no type meets on its own, or else that none meets all at once. */
function explain(rx: RegionIndex, req: NodeRequest, o: FitOptions): string {
  const pool = o.arch === undefined ? rx.sorted : rx.sorted.filter((t) => t.arch === o.arch);
  if (pool.length === 0) return `the catalog has no ${where(o).replace(/ type in /, ' types in ')}`;
  const most = (f: (t: InstanceType) => number, ts: InstanceType[]) => ts.reduce((m, t) => Math.max(m, f(t)), 0);
  const missing: string[] = [];
  if (req.gpuKind !== undefined) {
    const ofKind = pool.filter((t) => gpuKindMatches(t.gpuKind, req.gpuKind!));
    const n = Math.max(req.gpus, 1);
    if (ofKind.length === 0) {
      const kinds = [...new Set(pool.map((t) => t.gpuKind).filter((k) => k !== undefined))].sort();
      missing.push(`${gpus(n)} of kind ${req.gpuKind} (kinds here: ${kinds.join(', ') || 'none'})`);
    } else if (most((t) => t.gpus, ofKind) < n) {
      missing.push(`${gpus(n)} of kind ${req.gpuKind} (most: ${most((t) => t.gpus, ofKind)})`);
    }
  } else if (req.gpus > 0 && most((t) => t.gpus, pool) < req.gpus) {
    missing.push(`${gpus(req.gpus)} (most: ${most((t) => t.gpus, pool)})`);
  }
  if (most((t) => t.vcpus, pool) < req.cores) missing.push(`${req.cores} vCPUs (most: ${most((t) => t.vcpus, pool)})`);
  if (most((t) => t.memoryMiB, pool) < req.memoryMiB) missing.push(`${mem(req.memoryMiB)} of memory (most: ${mem(most((t) => t.memoryMiB, pool))})`);
  if (missing.length) return `no ${where(o)} has ${missing.join(', nor ')}`;
  const all = [`${req.cores} vCPUs`, `${mem(req.memoryMiB)} of memory`];
  if (req.gpus > 0 || req.gpuKind !== undefined) all.push(`${gpus(Math.max(req.gpus, 1))}${req.gpuKind ? ` of kind ${req.gpuKind}` : ''}`);
  return `no ${where(o)} has ${all.slice(0, -1).join(', ')} and ${all[all.length - 1]} together`;
}

const where = (o: FitOptions) => `${o.provider}${o.arch ? ` ${o.arch}` : ''} type in ${o.region}`;
const gpus = (n: number) => `${n} GPU${n === 1 ? '' : 's'}`;
const mem = (m: number) => (m % 1024 === 0 ? `${m / 1024} GiB` : `${m} MiB`);
const unfit = (reason: string): { unfit: string } => Object.freeze({ unfit: reason });

// ---------------------------------------------------------------------------------------------

export type Choice = { shape: string; costPerNodeHour: number; type: InstanceType } | { unfit: string };

/**
 * A chooser for packJobs: each job's node request → the cheapest fitting type (shape = its name,
 * cost = its on-demand price), memoised per distinct request. `opts` may depend on the job (e.g.
 * a per-job instanceType override); then the options are part of the memo key too.
 */
export function makeChooser(catalog: Catalog, opts: FitOptions | ((job: Job) => FitOptions)): (job: Job) => Choice {
  const memo = new Map<string, Choice>();
  const answer = (key: string, req: NodeRequest, o: FitOptions): Choice => {
    let c = memo.get(key);
    if (c === undefined) {
      const r = cheapestFit(catalog, req, o);
      c = 'unfit' in r ? r : Object.freeze({ shape: r.name, costPerNodeHour: r.pricePerHour, type: r });
      if (memo.size >= MEMO_MAX) memo.clear();
      memo.set(key, c);
    }
    return c;
  };
  if (typeof opts === 'function') {
    return (job) => {
      const req = perNodeRequest(job);
      const o = opts(job);
      return answer(requestKey(req, o), req, o);
    };
  }
  // Fixed options, the common case: most jobs ask for small whole numbers and no GPU kind, so
  // they are memoised under one number (no request object, no key string).
  const small = new Map<number, Choice>();
  return (job) => {
    const cores = job.coresPerNode ?? Math.ceil(job.tasks / (job.nodes > 0 ? job.nodes : 1));
    const memoryMiB = job.memoryMiB ?? 0;
    const g = job.gpusPerNode ?? 0;
    if (Number.isInteger(cores) && Number.isInteger(memoryMiB) && Number.isInteger(g) && cores >= 0 && cores < 4096 && memoryMiB >= 0 && memoryMiB < 2 ** 32 && g >= 0 && g < 64 && requestedGpuKind(job) === undefined) {
      const key = (memoryMiB * 4096 + cores) * 64 + g;
      let c = small.get(key);
      if (c === undefined) {
        c = answer(`${cores}|${memoryMiB}|${g}|`, { cores, memoryMiB, gpus: g }, opts);
        if (small.size >= MEMO_MAX) small.clear();
        small.set(key, c);
      }
      return c;
    }
    const req = perNodeRequest(job);
    return answer(`${req.cores}|${req.memoryMiB}|${req.gpus}|${req.gpuKind ?? ''}`, req, opts);
  };
}
