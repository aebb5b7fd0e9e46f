import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { InputError } from '../core/errors.js';
import { parseOrThrow } from '../core/zod-issues.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { INPUT_LIMITS, readInputFile } from './read-input.js';
import { type Config, configSchema } from './schema.js';

export interface LoadedConfig {
  config: Config;
  /** The file it came from, or undefined for built-in defaults. */
  path?: string;
}

/** Parse config text; every problem names its field path and the file. */
export function parseConfig(text: string, origin: string, reg: PluginRegistry, baseDir = process.cwd()): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new InputError(origin, doc.errors.map((e) => ({ path: '', message: `YAML: ${e.message.split('\n')[0]}` })));
  }
  let raw: unknown;
  try {
    raw = doc.toJS() ?? {};
  } catch (e) {
    // The parser's own guards (an alias bomb: "Excessive alias count…") refuse the file as a whole.
    throw new InputError(origin, [{ path: '', message: `YAML: ${(e as Error).message.split('\n')[0]}` }]);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(origin, [{ path: '', message: 'expected a mapping at the top level' }]);
  const config = parseOrThrow(configSchema(reg), raw, origin);
  if (config.jobs && !isAbsolute(config.jobs)) config.jobs = resolve(baseDir, config.jobs);
  if (config.slurm?.conf && !isAbsolute(config.slurm.conf)) config.slurm.conf = resolve(baseDir, config.slurm.conf);
  if (config.select.kind === 'module' && !isAbsolute(config.select.path)) config.select.path = resolve(baseDir, config.select.path);
  return config;
}

export function loadConfig(path: string | undefined, reg: PluginRegistry): LoadedConfig {
  if (!path) return { config: parseConfig('{}', 'default config', reg) };
  const text = readInputFile(path, `config ${path}`, INPUT_LIMITS.config);
  return { config: parseConfig(text, `config ${path}`, reg, dirname(resolve(path))), path: resolve(path) };
}
