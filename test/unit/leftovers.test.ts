import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

/** Not a zombie (this container's PID 1 may not reap what it inherits). */
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs one fixture file under the suite's leftover check (test/support/leftovers.ts) in a child vitest. */
function run(fixture: string) {
  // The child vitest keeps its own transformed files under TMPDIR: give it one of its own, removed here.
  const tmp = mkdtempSync(join(tmpdir(), 'fb-child-vitest-'));
  const r = spawnSync(process.execPath, [join(repo, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'vitest.config.ts', '--root', 'test/fixtures/leftovers'], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, LEFTOVER_FIXTURE: fixture, TMPDIR: tmp },
  });
  rmSync(tmp, { recursive: true, force: true });
  return { status: r.status, out: r.stdout + r.stderr };
}

it('a run whose test leaves a daemon and a temp dir fails, naming the process, its port and the path; both are removed', () => {
  const { status, out } = run('leaks.fixture.ts');
  const m = /LEAKED pid (\d+) port (\d+)/.exec(out);
  expect(m, out).not.toBeNull();
  const [, pid, port] = m!;
  expect(status, out).toBe(1);
  expect(out).toMatch(/the tests left 1 process\(es\) and 1 temp path\(s\) behind/);
  expect(out).toMatch(new RegExp(`process ${pid} listening on ${port}: \\S*python3 -c import socket`));
  const path = /temp path: (\S*\/fbt-\w+\/fb-munge-\w+)/.exec(out);
  expect(path, out).not.toBeNull();
  expect(alive(Number(pid))).toBe(false);
  expect(existsSync(path![1]!)).toBe(false);
});

it('a run that cleans up after itself passes', () => {
  const { status, out } = run('clean.fixture.ts');
  expect(status, out).toBe(0);
  expect(out).not.toMatch(/left .* behind/);
});
