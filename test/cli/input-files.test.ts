// Files a user points the CLI at: `validate` and `plan` read the config FLUXBURST_CONFIG names, as
// `burst` does (they checked the built-in defaults instead, so validate passed what burst then
// refused); and a config or jobs file that never ends (/dev/zero) is refused at once, exit 2.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'fb-input-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'jobs.yaml'), '- id: a\n  command: [echo, hi]\n  burstable: true\n');
writeFileSync(join(dir, 'bad.yaml'), 'limits: { maxNodes: 0 }\n');

function run(args: string[], env: Record<string, string> = {}) {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('TEMPORAL_') && k !== 'FLUXBURST_CONFIG') base[k] = v;
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    env: { ...base, FLUXBURST_STATE_DIR: join(dir, '.state'), ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectInputError(r: { code: number | null; stderr: string }, ...says: (string | RegExp)[]) {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  for (const s of says) expect(lines[0]).toMatch(s);
}

describe('config and jobs files given to the CLI', () => {
  for (const cmd of ['validate', 'plan']) {
    it(`${cmd} reads the config FLUXBURST_CONFIG names (a missing one is an error, not the defaults)`, () => {
      expectInputError(
        run([cmd, '-j', 'jobs.yaml'], { FLUXBURST_CONFIG: join(dir, 'nope.yaml') }),
        `invalid config ${join(dir, 'nope.yaml')}: cannot read: ENOENT`,
      );
      expectInputError(
        run([cmd, '-j', 'jobs.yaml'], { FLUXBURST_CONFIG: join(dir, 'bad.yaml') }),
        /limits\.maxNodes: .*>=1|limits\.maxNodes: .*>0/,
      );
    });
  }

  it('-c /dev/zero and -j /dev/zero are refused at once as too big', () => {
    const t0 = Date.now();
    expectInputError(run(['validate', '-c', '/dev/zero']), 'invalid config /dev/zero: more than 4 MiB');
    expectInputError(run(['plan', '-j', '/dev/zero']), 'invalid jobs file /dev/zero: more than 256 MiB');
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 90_000);
});
