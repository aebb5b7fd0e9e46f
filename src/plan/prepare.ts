import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { InputError } from '../core/errors.js';
import { parseOrThrow } from '../core/zod-issues.js';
import type { BurstInput, Job, SelectorSpec, SourceSpec, TargetChoice } from '../core/types.js';
import { readJobsFile } from '../jobs/file-source.js';
import { jobsRef } from '../jobs/spool.js';
import { configSource, readSource } from '../jobs/sources.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { type Selection, selectJobs } from '../select/selectors.js';
import { type Plan, type PlannedBurst, planBursts } from './planner.js';
import { choiceOf, resolveTargets, type Target } from './targets.js';

/** $FLUXBURST_OWNER, $USER or the login name, made fit for a tag (odd characters become '-'). */
export function defaultOwner(env = process.env): string {
  let name: string;
  try {
    name = env.FLUXBURST_OWNER || env.USER || userInfo().username;
  } catch {
    name = 'unknown';
  }
  return name.replace(/[^\w.:-]/g, '-').slice(0, 64) || 'unknown';
}

/** `--target NAME` (or a plugin name) narrows the config's targets to that one. */
export function narrowTargets(config: Config, reg: PluginRegistry, only?: string): Config {
  if (!only) return config;
  const all = resolveTargets(config, reg);
  const keep = all.filter((t) => t.name === only || t.plugin.name === only).map((t) => t.name);
  if (keep.length === 0) {
    if (!reg.has(only)) throw new InputError('flags', [{ path: '--plugin', message: `no target or plugin "${only}" (targets: ${all.map((t) => t.name).join(', ')}; plugins: ${reg.names().join(', ')})` }]);
    // A known plugin that is not configured: burst onto it with default params.
    // A plugin that is not configured: its defaults must be enough (aws-ec2's are not).
    const params = parseOrThrow(reg.get(only).params, {}, `plugin ${only} with no configured target`, `--plugin ${only}: params`);
    return { ...config, ordering: 'in_order', targets: [{ plugin: only, params, capabilities: { labels: {}, architectures: ['x86_64'], gpus: { max: 0, kinds: [] } }, quota: {} }] as never };
  }
  const targets = (config.targets as Array<{ name?: string; plugin: string }>).filter((t) => keep.includes(t.name ?? t.plugin));
  const ordering = typeof config.ordering === 'object' ? 'in_order' : config.ordering;
  return { ...config, ordering, targets: targets as never };
}

/**
 * A burst's workflow input. With `jobs` (already selected), the list travels by reference: inline
 * when small, else a spool file (src/jobs/spool.ts) — never as a payload that outgrows Temporal.
 */
export function burstInput(config: Config, o: { owner: string; source?: SourceSpec; jobs?: Job[]; targets: TargetChoice[]; selector?: SelectorSpec; reason?: string }): BurstInput {
  return {
    ...(o.reason ? { reason: o.reason } : {}),
    owner: o.owner,
    ...(o.jobs ? { jobs: jobsRef(o.jobs) } : {}),
    source: o.source ?? { kind: 'inline', jobs: [], selected: true },
    selector: o.selector ?? config.select,
    targets: o.targets,
    maxNodes: config.limits.maxNodes,
    ...(config.limits.maxCostPerHour !== undefined || config.limits.maxSpend !== undefined
      ? { budget: { ...(config.limits.maxCostPerHour !== undefined ? { maxCostPerHour: config.limits.maxCostPerHour } : {}), ...(config.limits.maxSpend !== undefined ? { maxSpend: config.limits.maxSpend } : {}) } }
      : {}),
    timeouts: config.timeouts,
    run: config.run,
  };
}

/** All configured targets in config order: the chain of a burst planned inside the workflow. */
export function allTargets(config: Config, reg: PluginRegistry): TargetChoice[] {
  return resolveTargets(config, reg).map((t: Target) => choiceOf({ target: t, params: t.params, shape: '', costPerNodeHour: 0, secondsToReady: 0 }));
}

export interface Prepared {
  owner: string;
  selection: Selection;
  plan: Plan;
  /** One workflow per planned burst. */
  bursts: Array<PlannedBurst & { input: BurstInput }>;
}

/**
 * Everything checked before any workflow starts: config, jobs, overrides, selection, a target
 * for every job. Bad input throws InputError here, so nothing is created for it.
 */
export async function prepareBursts(o: { config: Config; registry: PluginRegistry; jobsPath?: string; jobs?: Job[]; target?: string; owner?: string }): Promise<Prepared> {
  const config = narrowTargets(o.config, o.registry, o.target);
  let jobs = o.jobs;
  let src: SourceSpec | undefined;
  if (!jobs) {
    src = o.jobsPath ? { kind: 'file' as const, path: resolve(o.jobsPath) } : configSource(config, (p) => resolve(p));
    if (!src) throw new InputError('flags', [{ path: '--jobs', message: 'no jobs: pass --jobs FILE or set `jobs:`, `flux:` or `slurm:` in the config' }]);
    jobs = src.kind === 'file' ? await readJobsFile(src.path) : await readSource(src);
  }
  const owner = o.owner ?? config.owner ?? defaultOwner();
  const selection = await selectJobs(jobs, config.select);
  const plan = planBursts(selection.selected, config, o.registry, { owner });
  const bursts = plan.bursts.map((b) => ({
    ...b,
    // The source goes along for what it tells the burst (Flux: follow the jobs there), not for its jobs.
    input: burstInput(config, { owner, jobs: b.jobs, ...(src ? { source: src } : {}), targets: b.chain, reason: b.reason }),
  }));
  return { owner, selection, plan, bursts };
}
