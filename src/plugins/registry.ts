import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PluginLoadError } from '../core/errors.js';
import type { Plugin } from './contract.js';
import { awsEc2Plugin } from './aws-ec2/index.js';
import { kubernetesPlugin } from './kubernetes/index.js';
import { gkePlugin } from './gke/index.js';
import { localPlugin } from './local/plugin.js';

/** npm's spelling of flux-burst's `fluxburst_<name>` discovery prefix. */
export const PLUGIN_PREFIX = 'fluxburst-plugin-';

const REQUIRED_METHODS = ['estimate', 'plan', 'provision', 'join', 'teardown', 'owned'] as const;

export interface PluginInfo {
  plugin: Plugin;
  /** `builtin` or the package directory it came from. */
  origin: string;
}

export class PluginRegistry {
  private readonly plugins = new Map<string, PluginInfo>();

  register(plugin: Plugin, origin = 'builtin'): void {
    checkShape(plugin, origin);
    const had = this.plugins.get(plugin.name);
    if (had) throw new PluginLoadError(`plugin "${plugin.name}" from ${origin} clashes with the one from ${had.origin}`);
    this.plugins.set(plugin.name, { plugin, origin });
  }

  get(name: string): Plugin {
    const p = this.plugins.get(name);
    if (!p) throw new PluginLoadError(`unknown plugin "${name}" (known: ${this.names().join(', ') || 'none'})`);
    return p.plugin;
  }

  has(name: string): boolean {
    return this.plugins.has(name);
  }

  names(): string[] {
    return [...this.plugins.keys()];
  }

  list(): PluginInfo[] {
    return [...this.plugins.values()];
  }
}

function checkShape(p: unknown, origin: string): asserts p is Plugin {
  const o = p as Record<string, unknown> | null;
  if (!o || typeof o !== 'object') throw new PluginLoadError(`${origin}: does not export a plugin object`);
  if (typeof o.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(o.name)) throw new PluginLoadError(`${origin}: plugin "name" must be a lowercase word`);
  const params = o.params as { safeParse?: unknown } | undefined;
  if (!params || typeof params.safeParse !== 'function') throw new PluginLoadError(`${origin}: plugin "${o.name}" has no zod "params" schema`);
  for (const m of REQUIRED_METHODS) {
    if (typeof o[m] !== 'function') throw new PluginLoadError(`${origin}: plugin "${o.name}" lacks method "${m}" required by the plugin contract`);
  }
}

/** node_modules folders searched for `fluxburst-plugin-*` packages, most specific first. */
export function pluginSearchPaths(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string[] {
  const own = resolve(dirname(fileURLToPath(import.meta.url)), '../../..', 'node_modules');
  const fromEnv = (env.FLUXBURST_PLUGIN_PATH ?? '').split(delimiter).filter(Boolean);
  const paths = [...fromEnv, join(cwd, 'node_modules'), own].map((p) => resolve(p));
  return [...new Set(paths)];
}

/** Installed package directories whose name (or scoped name) starts with the prefix. */
export function findPluginPackages(searchPaths: string[]): { pkg: string; dir: string }[] {
  const found: { pkg: string; dir: string }[] = [];
  const seen = new Set<string>();
  const consider = (pkg: string, dir: string) => {
    if (seen.has(pkg)) return; // the first search path wins, like Node's resolution
    seen.add(pkg);
    found.push({ pkg, dir });
  };
  for (const base of searchPaths) {
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base)) {
      if (entry.startsWith(PLUGIN_PREFIX)) consider(entry, join(base, entry));
      else if (entry.startsWith('@')) {
        for (const sub of readdirSync(join(base, entry))) {
          if (sub.startsWith(PLUGIN_PREFIX)) consider(`${entry}/${sub}`, join(base, entry, sub));
        }
      }
    }
  }
  return found;
}

function entryFile(dir: string): string {
  const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { main?: string; exports?: unknown };
  const ex = pj.exports;
  const pick = (v: unknown): string | undefined => {
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      return pick(o['.']) ?? pick(o.import) ?? pick(o.default) ?? pick(o.require) ?? pick(o.node);
    }
    return undefined;
  };
  return join(dir, pick(ex) ?? pj.main ?? 'index.js');
}

export async function loadPluginPackage(pkg: string, dir: string): Promise<Plugin> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(entryFile(dir)).href)) as Record<string, unknown>;
  } catch (e) {
    throw new PluginLoadError(`cannot load plugin package ${pkg} (${dir}): ${(e as Error).message}`, e);
  }
  const candidate = (mod.plugin ?? mod.default ?? (mod.default as Record<string, unknown> | undefined)?.plugin) as unknown;
  checkShape(candidate, `package ${pkg}`);
  const expected = pkg.split('/').pop()!.slice(PLUGIN_PREFIX.length);
  if (candidate.name !== expected) {
    throw new PluginLoadError(`package ${pkg}: plugin is named "${candidate.name}" but the package name says "${expected}"`);
  }
  return candidate;
}

/** Built-ins plus every installed `fluxburst-plugin-<name>` package. */
export async function loadRegistry(opts: { searchPaths?: string[] } = {}): Promise<PluginRegistry> {
  const reg = new PluginRegistry();
  reg.register(localPlugin);
  reg.register(awsEc2Plugin);
  reg.register(kubernetesPlugin);
  reg.register(gkePlugin);
  for (const { pkg, dir } of findPluginPackages(opts.searchPaths ?? pluginSearchPaths())) {
    reg.register(await loadPluginPackage(pkg, dir), `package ${pkg}`);
  }
  return reg;
}
