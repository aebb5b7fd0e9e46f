// A command the local node agent cannot start (no such program, a NUL byte in an argument) ends
// with 127 AND the reason in its stderr — before, the task came back 127 with empty output.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/harness.js';

const AGENT = join(ROOT, 'dist/src/plugins/local/agent.js');
let work: string;
let agent: ChildProcess;
let port = 0;

async function task(key: string, command: string[]): Promise<{ state: string; exitCode?: number; stderr: string }> {
  const r = await fetch(`http://127.0.0.1:${port}/tasks/${key}?waitMs=10000`, { method: 'PUT', body: JSON.stringify({ command }) });
  return (await r.json()) as { state: string; exitCode?: number; stderr: string };
}

describe('local agent: a command that cannot start says why', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'fb-agent-start-'));
    const nodeDir = join(work, 'b', 'node-0');
    mkdirSync(nodeDir, { recursive: true });
    agent = spawn(process.execPath, [AGENT, nodeDir, 'node-0', 'b', work], { stdio: 'ignore' });
    const info = join(nodeDir, 'agent.json');
    for (let i = 0; i < 100 && !existsSync(info); i++) await sleep(100);
    port = (JSON.parse(readFileSync(info, 'utf8')) as { port: number }).port;
  });

  afterAll(async () => {
    if (agent?.exitCode === null) {
      const gone = new Promise((r) => agent.once('exit', r));
      agent.kill('SIGTERM');
      await gone;
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('a missing program: 127 and "no such program"', async () => {
    const t = await task('missing.0.0', ['fluxburst-no-such-program-xyz', 'arg']);
    expect(t).toMatchObject({ state: 'exited', exitCode: 127 });
    expect(t.stderr).toContain('cannot start "fluxburst-no-such-program-xyz": no such program');
  });

  it('a NUL byte in an argument: 127 and the reason', async () => {
    const t = await task('nul.0.0', ['echo', 'a\u0000b']);
    expect(t).toMatchObject({ state: 'exited', exitCode: 127 });
    expect(t.stderr).toMatch(/cannot start "echo": .*null bytes/i);
  });

  it('a program that is not executable: 127 and "permission denied"', async () => {
    const t = await task('noexec.0.0', [join(ROOT, 'package.json')]);
    expect(t).toMatchObject({ state: 'exited', exitCode: 127 });
    expect(t.stderr).toContain('permission denied');
  });

  it('a program that starts still reports its own exit and output', async () => {
    const t = await task('ok.0.0', ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(t).toMatchObject({ state: 'exited', exitCode: 3 });
    expect(t.stderr).toBe('err\n');
  });
});
