import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (works from src/ under vitest and from dist/src/ when built). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'workflows'))) return dir;
    dir = dirname(dir);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '../..');
}

/** The Temporal CLI the project installed (scripts/setup.sh), or one named by env. */
export function temporalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLUXBURST_TEMPORAL_CLI) return env.FLUXBURST_TEMPORAL_CLI;
  const local = join(projectRoot(), '.tools', 'venv', 'bin', 'temporal');
  if (existsSync(local)) return local;
  return 'temporal';
}

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.FLUXBURST_STATE_DIR ?? '.fluxburst');
}
