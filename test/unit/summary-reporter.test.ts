import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');

it('a file or suite whose beforeAll threw counts as failed and is named; only a skip marker counts as skipped', () => {
  const r = spawnSync(process.execPath, [join(repo, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'vitest.config.ts', '--root', 'test/fixtures/reporter'], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 90_000,
  });
  const out = r.stdout + r.stderr;
  expect(r.status, out).toBe(1);
  expect(out).toMatch(/^tests: 1 passed, 3 failed, 1 skipped$/m);
  expect(out).toMatch(/^failed before its tests ran \(a hook threw\): test\/fixtures\/reporter\/hook-threw\.fixture\.ts \(2 tests not run\)$/m);
  expect(out).toMatch(/^failed before its tests ran \(a hook threw\): test\/fixtures\/reporter\/suite-hook-threw\.fixture\.ts \(1 test not run\)$/m);
});
