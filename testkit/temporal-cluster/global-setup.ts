// Global setup of the `cluster` vitest project (vitest.config.ts): the same whole-burst test files
// the `dev` project runs against `temporal server start-dev`, here against a real four-service
// Temporal cluster on PostgreSQL. It provides the same inject keys as test/support/global-setup.ts
// (temporalAddress, temporalUiUrl, stateDir), so the test files themselves do not change.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startTestCluster } from './index.js';

export default async function setup(project: TestProject) {
  if (!process.env.FLUXBURST_SKIP_BUILD && !process.env.FLUXBURST_BUILT) {
    execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
    process.env.FLUXBURST_BUILT = '1';
  }
  const t0 = Date.now();
  const tc = await startTestCluster();
  process.stderr.write(`[cluster] Temporal ${tc.address} on PostgreSQL up in ${Date.now() - t0} ms (${tc.stateDir})\n`);
  const stateDir = mkdtempSync(join(tmpdir(), 'fluxburst-test-cluster-'));
  project.provide('temporalAddress', tc.address);
  // No UI on the test cluster: the UI test stays in the dev project.
  project.provide('temporalUiUrl', '');
  project.provide('stateDir', stateDir);
  return async () => {
    const left = await tc.stop();
    rmSync(stateDir, { recursive: true, force: true });
    if (left.processes.length || left.dir || left.ports.length) throw new Error(`the test cluster left ${JSON.stringify(left)}`);
  };
}
