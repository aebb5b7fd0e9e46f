// Two `worker --detach` from one state dir: each keeps its own pid file, so `fluxburst stop` ends
// both (a second used to overwrite worker.pid, and stop missed the first).
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { address, cliAsync, uid } from '../support/harness.js';

const state = mkdtempSync(join(tmpdir(), 'fb-worker-pids-'));
const TQ = uid('tq-worker-pids');
const env = { FLUXBURST_STATE_DIR: state };
const pids: number[] = [];

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterAll(async () => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 50 && pids.some(alive); i++) await sleep(100);
  rmSync(state, { recursive: true, force: true });
});

describe('worker --detach twice, then stop', () => {
  it('each worker has its own pid file and stop ends both', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await cliAsync(['worker', '--detach', '--address', address(), '--task-queue', TQ], env);
      expect(r.code, r.stderr).toBe(0);
      const pid = Number(/pid (\d+)/.exec(r.stdout)?.[1]);
      expect(pid, r.stdout).toBeGreaterThan(0);
      pids.push(pid);
    }
    expect(new Set(pids).size).toBe(2);
    expect(pids.every(alive)).toBe(true);
    expect(readdirSync(state).filter((f) => f.endsWith('.pid')).sort()).toEqual(pids.map((p) => `worker.${p}.pid`).sort());

    const r = await cliAsync(['stop'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/worker: stopped \(2\)/);
    expect(pids.filter(alive)).toEqual([]);
    expect(pids.some((p) => existsSync(join(state, `worker.${p}.pid`)))).toBe(false);
    expect((await cliAsync(['stop'], env)).stdout).toMatch(/worker: not running/);
  });
});
