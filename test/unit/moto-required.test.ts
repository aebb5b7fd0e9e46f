import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');

// The chaos tests used to run without their EC2 bursts when moto was missing, and pass. Now a
// missing moto is a failure naming what is missing, before any burst starts.
it('the chaos tests fail, naming the missing interpreter, when moto cannot start', () => {
  for (const file of ['test/chaos/chaos.test.ts', 'test/chaos/cluster-chaos.test.ts']) {
    const r = spawnSync(process.execPath, [join(repo, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/fixtures/no-global-setup.config.ts', file], {
      cwd: repo,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, FLUXBURST_MOTO_PYTHON: '/nonexistent/python' },
    });
    const out = r.stdout + r.stderr;
    expect(r.status, out).toBe(1);
    expect(out).toMatch(/moto cannot start: \/nonexistent\/python/);
    expect(out).toMatch(/tests: 0 passed, 1 failed, 0 skipped/);
  }
});
