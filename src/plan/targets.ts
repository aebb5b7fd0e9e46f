import type { Config, TargetConfig } from '../config/schema.js';
import type { Job, TargetChoice } from '../core/types.js';
import type { Plugin } from '../plugins/contract.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { type JobOverride, overrideKey, overrideParams } from '../sizing/overrides.js';

/** A configured target with its plugin resolved. */
export interface Target {
  name: string;
  plugin: Plugin;
  params: Record<string, unknown>;
  capabilities: TargetConfig['capabilities'];
  quota: TargetConfig['quota'];
  credentials?: TargetChoice['credentials'];
}

export function resolveTargets(config: Config, reg: PluginRegistry): Target[] {
  return (config.targets as TargetConfig[]).map((t) => {
    const out: Target = { name: t.name ?? t.plugin, plugin: reg.get(t.plugin), params: t.params, capabilities: t.capabilities, quota: t.quota };
    if (t.credentials) out.credentials = t.credentials;
    return out;
  });
}

/** A target that can take a job, with what it would cost and how soon. */
export interface Candidate {
  target: Target;
  params: Record<string, unknown>;
  shape: string;
  costPerNodeHour: number;
  secondsToReady: number;
}

/**
 * Can this target take this job? Checks, in order: the job's own target/plugin choice, the
 * capabilities it needs (GPUs, GPU kind, architecture, labels), whether the target's plugin takes
 * the job's param overrides, and the plugin's own fit. Returns the candidate or why not.
 */
/** Parsed params per (target, override): most jobs share both, so each is parsed once per plan. */
export type ParamsCache = Map<string, { params: Record<string, unknown> } | { why: string }>;

export function candidateFor(job: Job, t: Target, o: JobOverride | undefined, cache: ParamsCache = new Map()): Candidate | string {
  if (o?.target && o.target !== t.name) return `job asks for target ${o.target}`;
  if (o?.plugin && o.plugin !== t.plugin.name) return `job asks for plugin ${o.plugin}`;
  const caps = t.capabilities;
  const gpus = job.gpusPerNode ?? 0;
  if (gpus > caps.gpus.max) return `needs ${gpus} GPU(s) per node; offers at most ${caps.gpus.max}`;
  const kind = o?.requires?.gpuKind;
  if (kind && !caps.gpus.kinds.includes(kind)) return `needs GPU kind ${kind}; offers ${caps.gpus.kinds.join(', ') || 'none'}`;
  // A job runs on x86_64 unless it says otherwise (its binaries were built for something).
  const arch = o?.requires?.arch ?? 'x86_64';
  if (!caps.architectures.includes(arch)) return `needs ${arch}; offers ${caps.architectures.join(', ')}`;
  for (const [k, v] of Object.entries(o?.requires?.labels ?? {})) {
    if (caps.labels[k] !== v) return `needs label ${k}=${v}; has ${caps.labels[k] === undefined ? 'none' : `${k}=${caps.labels[k]}`}`;
  }
  const key = `${t.name}|${overrideKey(o)}`;
  let p = cache.get(key);
  if (!p) {
    const parsed = t.plugin.params.safeParse({ ...t.params, ...overrideParams(o) });
    if (parsed.success) p = { params: parsed.data as Record<string, unknown> };
    else {
      const i = parsed.error.issues[0]!;
      const keys = i.code === 'unrecognized_keys' ? (i as { keys: string[] }).keys.join(', ') : i.path.join('.');
      p = { why: `plugin ${t.plugin.name} does not take ${keys} from the job (${i.message})` };
    }
    cache.set(key, p);
  }
  if ('why' in p) return p.why;
  const params = p.params;
  const shape = t.plugin.shape ? t.plugin.shape(job, params) : { shape: 'default', costPerNodeHour: 0 };
  if ('unfit' in shape) return shape.unfit;
  const est = t.plugin.estimate([job], params);
  if ('unfit' in est) return est.unfit;
  return { target: t, params, shape: shape.shape, costPerNodeHour: shape.costPerNodeHour, secondsToReady: est.secondsToReady };
}

export type Ordering = Config['ordering'];

/**
 * Order a job's candidates by the strategy; the first is where it goes. The reason is built only
 * when read (the planner reads it once per burst, not once per job).
 */
export function orderCandidates(cands: Candidate[], ordering: Ordering, job: Job): { ordered: Candidate[]; reason: string } {
  const money = (c: Candidate) => c.costPerNodeHour * job.nodes;
  const list = (cs: Candidate[], f: (c: Candidate) => string) => cs.map(f).join(' < ');
  let ordered: Candidate[];
  let why: () => string;
  if (typeof ordering === 'object') {
    ordered = [];
    for (const n of ordering.fallback) {
      const c = cands.find((x) => x.target.name === n);
      if (c) ordered.push(c);
    }
    why = () => `fallback chain ${ordering.fallback.join(' → ')}`;
  } else if (ordering === 'cheapest') {
    // Array.prototype.sort is stable: ties keep config order.
    ordered = cands.length > 1 ? [...cands].sort((a, b) => money(a) - money(b)) : cands;
    why = () => `cheapest: ${list(ordered, (c) => `${c.target.name} $${money(c).toFixed(2)}/h`)}`;
  } else if (ordering === 'fastest') {
    ordered = cands.length > 1 ? [...cands].sort((a, b) => a.secondsToReady - b.secondsToReady) : cands;
    why = () => `fastest: ${list(ordered, (c) => `${c.target.name} ${c.secondsToReady.toFixed(0)}s`)}`;
  } else {
    ordered = cands;
    why = () => `in_order: ${cands.map((c) => c.target.name).join(', ')}`;
  }
  return {
    ordered,
    get reason() {
      return why();
    },
  };
}

export function choiceOf(c: Candidate): TargetChoice {
  const out: TargetChoice = { name: c.target.name, plugin: c.target.plugin.name, params: c.params };
  if (c.target.credentials) out.credentials = c.target.credentials;
  return out;
}
