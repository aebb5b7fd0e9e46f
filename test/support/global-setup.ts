import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../../src/temporal/dev-server.js';
import { freePort, onFreePort } from '../../src/temporal/ports.js';
import { failOnLeftovers, watchLeftovers } from './leftovers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalUiUrl: string;
    stateDir: string;
  }
}

/**
 * One real Temporal dev server (SQLite, UI on) shared by the suite; tests that restart a server
 * start their own. The build must be current: local nodes run the compiled agent and CLI tests
 * run bin/fluxburst.js. At the end, anything a test left behind (processes, temp paths) fails the
 * run (test/support/leftovers.ts).
 */
export default async function setup(project: TestProject) {
  if (!process.env.FLUXBURST_SKIP_BUILD) execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const stateDir = mkdtempSync(join(tmpdir(), 'fluxburst-test-'));
  // The dev server cannot bind port 0 and say which it got: a port taken in between is retried.
  const { child, info } = await onFreePort(async (port) => startDevServer({ stateDir, port, uiPort: await freePort() }));
  project.provide('temporalAddress', info.address);
  project.provide('temporalUiUrl', info.uiUrl!);
  project.provide('stateDir', stateDir);
  // From here on every test worker, and everything it starts, carries the run's marker and TMPDIR.
  const watch = watchLeftovers();
  return async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(stateDir, { recursive: true, force: true });
    // Every test cleans up what it starts: a process or temp path still here fails the run (and is removed).
    // vitest keeps each project's transformed files in a TMPDIR entry of its own and removes it itself.
    await failOnLeftovers(watch, project.vitest.projects.map((x) => basename(x.tmpDir)));
  };
}
