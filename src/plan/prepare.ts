import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { InputError } from '../core/errors.js';
import type { BurstInput, Estimate, Job, PluginChoice } from '../core/types.js';
import { parseOrThrow } from '../core/zod-issues.js';
import { readJobsFile } from '../jobs/file-source.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { type Selection, selectJobs } from '../select/selectors.js';
import { burstName } from './naming.js';

export interface PreparedBurst {
  /** Workflow id: `<name>-<nodes>n-<hash>`. */
  id: string;
  input: BurstInput;
  selection: Selection;
  plugin?: string;
  estimate?: Estimate;
  /** Why each plugin before the chosen one was passed over. */
  skipped: string[];
}

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

/** `--plugin name` narrows the config's list to that plugin (its params from config if listed). */
export function pluginChoices(config: Config, reg: PluginRegistry, only?: string): PluginChoice[] {
  const listed = config.plugins as PluginChoice[];
  if (!only) return listed;
  if (!reg.has(only)) throw new InputError('flags', [{ path: '--plugin', message: `unknown plugin "${only}" (known: ${reg.names().join(', ')})` }]);
  const fromConfig = listed.find((p) => p.name === only);
  const plugin = reg.get(only);
  return [{ name: only, params: fromConfig?.params ?? (parseOrThrow(plugin.params, {}, `plugin ${only} params`, 'params') as Record<string, unknown>) }];
}

export function burstInput(config: Config, plugins: PluginChoice[], source: BurstInput['source'], owner?: string): BurstInput {
  return {
    owner: owner ?? config.owner ?? defaultOwner(),
    source,
    selector: { kind: config.select.kind },
    ordering: config.ordering,
    plugins,
    maxNodes: config.maxNodes,
    timeouts: config.timeouts,
  };
}

/**
 * Everything checked before a workflow starts: config, jobs, selection, a plugin that fits.
 * Bad input throws InputError here, so nothing is created for it.
 */
export async function prepareBurst(o: { config: Config; registry: PluginRegistry; jobsPath?: string; jobs?: Job[]; plugin?: string; owner?: string }): Promise<PreparedBurst> {
  const plugins = pluginChoices(o.config, o.registry, o.plugin);
  let jobs = o.jobs;
  if (!jobs) {
    const path = o.jobsPath ?? o.config.jobs;
    if (!path) throw new InputError('flags', [{ path: '--jobs', message: 'no jobs: pass --jobs FILE or set `jobs:` in the config' }]);
    jobs = await readJobsFile(resolve(path));
  }
  const input = burstInput(o.config, plugins, { kind: 'inline', jobs }, o.owner);
  const selection = selectJobs(jobs, input.selector);
  const skipped: string[] = [];
  let chosen: { plugin: string; estimate: Estimate } | undefined;
  for (const c of plugins) {
    const est = o.registry.get(c.name).estimate(selection.selected, c.params);
    if ('unfit' in est) skipped.push(`${c.name}: ${est.unfit}`);
    else if (est.nodes > o.config.maxNodes) skipped.push(`${c.name}: needs ${est.nodes} nodes, over maxNodes ${o.config.maxNodes}`);
    else {
      chosen = { plugin: c.name, estimate: est };
      break;
    }
  }
  if (selection.selected.length > 0 && !chosen) {
    throw new InputError('burst', [{ path: 'plugins', message: `no plugin can take the selected jobs: ${skipped.join('; ')}` }]);
  }
  const nodes = chosen?.estimate.nodes ?? 0;
  const id = burstName(o.config.name, nodes, { jobIds: selection.selected.map((j) => j.id), plugins: plugins.map((p) => p.name), owner: input.owner });
  const out: PreparedBurst = { id, input, selection, skipped };
  if (chosen) {
    out.plugin = chosen.plugin;
    out.estimate = chosen.estimate;
  }
  return out;
}
