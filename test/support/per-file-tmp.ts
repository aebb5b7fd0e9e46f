// A setup file (vitest.config.ts, project dev): each test file gets a TMPDIR of its own inside the
// run's (test/support/leftovers.ts), named after the file, so what a file leaves behind is reported
// under its name at the end of the run. What the harness's workdir() made is removed after the
// file's own afterAll hooks (this one is registered first, so it runs last); the rest is the file's
// to remove.
import { mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll } from 'vitest';
import { removeWorkdirs } from './workdirs.js';
import { RUN_ENV } from './leftovers.js';

const file = (globalThis as { __vitest_worker__?: { filepath?: string } }).__vitest_worker__?.filepath;
const runTmp = process.env[RUN_ENV] && process.env.FLUXBURST_RUN_TMPDIR;
if (file && runTmp) {
  const dir = join(runTmp, relative(process.cwd(), file).replace(/[^A-Za-z0-9.-]+/g, '_'));
  mkdirSync(dir, { recursive: true, mode: 0o1777 });
  process.env.TMPDIR = dir;
  afterAll(() => {
    removeWorkdirs();
    try {
      if (readdirSync(dir).length === 0) rmdirSync(dir);
    } catch {
      /* gone */
    }
  });
}
