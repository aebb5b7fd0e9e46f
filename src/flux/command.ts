// Which `flux` fluxburst runs, and a check that it is a usable flux-core.
//
// Resolution order (the same as scripts/setup.sh's "Flux" section):
//   1. FLUXBURST_FLUX (a path, or a name looked up on PATH)
//   2. <project root>/.tools/flux/bin/flux   (what `scripts/setup.sh --test` builds from source)
//   3. `flux` on PATH
// The instance a command talks to is chosen by FLUX_URI in its environment, as for any flux
// command; the Python subcommands (`flux jobs`, `flux resource`, …) run under the Python the
// flux-core build was configured with, whatever python3 comes first on PATH.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFlux } from '../jobs/flux-source.js';

export { FluxCommandError, runFlux } from '../jobs/flux-source.js';

/** The env var naming the flux executable. */
export const FLUX_ENV = 'FLUXBURST_FLUX';
/** The oldest flux-core the Flux tests and the broker mode are known to work with. */
export const MIN_FLUX = { major: 0, minor: 88 } as const;

let root: string | undefined;
/** The fluxburst project root: the nearest directory above this module with our package.json. */
export function projectRoot(): string {
  if (root) return root;
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(d, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'fluxburst') return (root = d);
      } catch {
        /* not ours */
      }
    }
    const up = dirname(d);
    if (up === d) return (root = process.cwd());
    d = up;
  }
}

/** The project's own build of flux-core (scripts/setup.sh --test). */
export const toolsFlux = () => join(projectRoot(), '.tools', 'flux', 'bin', 'flux');

/** The flux executable to run: FLUXBURST_FLUX, else .tools/flux/bin/flux, else `flux` (PATH). */
export function resolveFlux(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[FLUX_ENV]?.trim();
  if (fromEnv) return fromEnv;
  const tools = toolsFlux();
  if (existsSync(tools)) return tools;
  return 'flux';
}

/** `flux version`'s "commands:" version ("0.88.0"), or undefined when flux cannot be run. */
export function fluxVersion(flux = resolveFlux(), env: NodeJS.ProcessEnv = process.env): string | undefined {
  const r = spawnSync(flux, ['version'], { encoding: 'utf8', env: withoutUri(env), timeout: 30_000 });
  if (r.status !== 0) return undefined;
  return /^commands:\s*(\d+\.\d+\.\d+\S*)/m.exec(r.stdout)?.[1];
}

/** True when `version` is at least MIN_FLUX. */
export function versionOk(version: string): boolean {
  const [maj, min] = version.split('.').map((x) => Number.parseInt(x, 10));
  if (maj === undefined || min === undefined || Number.isNaN(maj) || Number.isNaN(min)) return false;
  return maj > MIN_FLUX.major || (maj === MIN_FLUX.major && min >= MIN_FLUX.minor);
}

/** How to get a flux, for messages. */
export const HOW_TO_GET_FLUX =
  `run scripts/setup.sh --test (it builds flux-core 0.88.0 from ../shared/vendor/flux-core-0.88.0.tar.gz, or the tarball FLUX_CORE_TARBALL names, into .tools/flux), ` +
  `or put a flux-core >= ${MIN_FLUX.major}.${MIN_FLUX.minor} \`flux\` on PATH, or set ${FLUX_ENV}=/path/to/bin/flux`;

/**
 * The flux to use and its version; throws (never skips) when none can be run or it is too old,
 * saying how to provide one. For tests, benchmarks and `make demo`.
 */
export function requireFlux(env: NodeJS.ProcessEnv = process.env): { flux: string; version: string } {
  const flux = resolveFlux(env);
  const version = fluxVersion(flux, env);
  if (!version) throw new Error(`no usable flux: \`${flux} version\` could not be run; ${HOW_TO_GET_FLUX}`);
  if (!versionOk(version)) throw new Error(`${flux} is flux-core ${version}, older than ${MIN_FLUX.major}.${MIN_FLUX.minor}; ${HOW_TO_GET_FLUX}`);
  return { flux, version };
}

/** The environment without FLUX_URI (for commands that must not talk to an instance). */
export function withoutUri(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const e = { ...env };
  delete e.FLUX_URI;
  return e;
}

/** Run `flux ARGS` against the instance at `uri` (or FLUX_URI of `env`). */
export function fluxAt(uri: string | undefined, args: readonly string[], o: { flux?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const env = { ...(o.env ?? process.env) };
  if (uri) env.FLUX_URI = uri;
  return runFlux(o.flux ?? resolveFlux(env), args, { env, ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}) });
}
