import { pathToFileURL } from 'node:url';
import { InputError } from '../core/errors.js';
import type { Condition, Job, SelectorSpec } from '../core/types.js';

export interface Selection {
  selected: Job[];
  skipped: { id: string; reason: string }[];
}

export type Selector = (job: Job) => boolean | string;

/**
 * flux-burst's default: the jobspec carries the `burstable` system attribute — key presence,
 * exactly flux-burst's `"burstable" in attributes.system`, so `burstable: 0` is burstable too
 * (README, Selecting jobs). The short form sets the key only for `burstable: true`.
 */
export function isBurstable(job: Job): boolean {
  const system = job.attributes.system as Record<string, unknown> | undefined;
  return !!system && typeof system === 'object' && Object.hasOwn(system, 'burstable');
}

/** A job field, or a dotted path under `attributes` (`attributes.system.queue`). */
export function valueAt(job: Job, path: string): unknown {
  if (!path.startsWith('attributes.')) return (job as unknown as Record<string, unknown>)[path];
  let v: unknown = job.attributes;
  for (const k of path.split('.').slice(1)) {
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** true, or why not (the reason a skipped job shows). */
export function test(job: Job, c: Condition): true | string {
  const v = valueAt(job, c.path);
  if (c.exists !== undefined) return (v !== undefined) === c.exists || `${c.path} ${c.exists ? 'is missing' : 'is set'}`;
  if (c.equals !== undefined) return v === c.equals || `${c.path} is ${JSON.stringify(v)}, not ${JSON.stringify(c.equals)}`;
  if (c.in !== undefined) return c.in.includes(v as never) || `${c.path} is ${JSON.stringify(v)}, not one of ${JSON.stringify(c.in)}`;
  if (typeof v !== 'number') return `${c.path} is not a number`;
  if (c.min !== undefined && v < c.min) return `${c.path} ${v} < ${c.min}`;
  if (c.max !== undefined && v > c.max) return `${c.path} ${v} > ${c.max}`;
  return true;
}

function matcher(all: Condition[] = [], any: Condition[] = []): Selector {
  return (job) => {
    for (const c of all) {
      const r = test(job, c);
      if (r !== true) return r;
    }
    if (any.length === 0) return true;
    const why: string[] = [];
    for (const c of any) {
      const r = test(job, c);
      if (r === true) return true;
      why.push(r);
    }
    return `none of: ${why.join('; ')}`;
  };
}

/** A selector written as code: a module exporting `(job) => boolean`. */
export async function loadModuleSelector(path: string, name: string): Promise<Selector> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    throw new InputError('selector', [{ path: 'select.path', message: `cannot load ${path}: ${(e as Error).message.split('\n')[0]}` }]);
  }
  const fn = mod[name];
  if (typeof fn !== 'function') throw new InputError('selector', [{ path: 'select.export', message: `${path} exports no function "${name}"` }]);
  return (job) => {
    let r: unknown;
    try {
      r = (fn as (j: Job) => unknown)(job);
    } catch (e) {
      throw new InputError('selector', [{ path: 'select.export', message: `${path}#${name} threw for job ${job.id}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` }]);
    }
    if (r === true || r === false) return r;
    throw new InputError('selector', [{ path: 'select.export', message: `${path}#${name} returned ${typeof r} for job ${job.id}; it must return true or false` }]);
  };
}

export async function makeSelector(spec: SelectorSpec): Promise<Selector> {
  switch (spec.kind) {
    case 'burstable':
      return (job) => isBurstable(job) || 'not marked burstable';
    case 'match':
      return matcher(spec.all, spec.any);
    case 'module':
      return loadModuleSelector(spec.path, spec.export);
  }
}

export function applySelector(jobs: Job[], selector: Selector): Selection {
  const selected: Job[] = [];
  const skipped: Selection['skipped'] = [];
  for (const job of jobs) {
    const r = selector(job);
    if (r === true) selected.push(job);
    else skipped.push({ id: job.id, reason: r === false ? 'selector said no' : r });
  }
  return { selected, skipped };
}

export async function selectJobs(jobs: Job[], spec: SelectorSpec): Promise<Selection> {
  return applySelector(jobs, await makeSelector(spec));
}
