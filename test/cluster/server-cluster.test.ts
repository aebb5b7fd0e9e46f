// `fluxburst server --cluster --detach`: the user's real cluster on one machine (temporal-server's
// four services, a private PostgreSQL, the UI), from the CLI as a user runs it; its data survives
// `fluxburst stop` and a second start; `fluxburst stop` leaves no process behind.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, expect, it } from 'vitest';
import { clusterPortsFor } from '../../src/cli/commands/server-cluster.js';
import type { ClusterInfo } from '../../src/temporal/cluster.js';
import { cli } from '../support/harness.js';

const state = mkdtempSync(join(tmpdir(), 'fb-server-cluster-'));
chmodSync(state, 0o755); // PostgreSQL runs as the postgres user and must enter it
const env = { FLUXBURST_STATE_DIR: state };
const pids: number[] = [];

const bindable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

async function freeBase(): Promise<number> {
  for (;;) {
    const p = 12_000 + Math.floor(Math.random() * 18_000);
    const ports = Object.values(clusterPortsFor(p, p + 1000));
    if ((await Promise.all(ports.map(bindable))).every(Boolean)) return p;
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterAll(() => {
  cli(['stop'], env);
  for (const p of pids.filter(alive)) process.kill(p, 'SIGKILL');
  rmSync(state, { recursive: true, force: true });
});

it('refuses flags it cannot honour: --ip other than loopback, a port whose membership ports would not fit PostgreSQL', () => {
  for (const flags of [['--ip', '0.0.0.0'], ['--port', '40000']]) {
    const r = cli(['server', '--cluster', ...flags], env);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(flags[0]);
  }
});

it('starts the cluster with the UI, keeps its data over stop and start, and stop ends every process', async () => {
  const port = await freeBase();
  const up = cli(['server', '--cluster', '--detach', '--port', String(port), '--codec-endpoint', 'http://127.0.0.1:18888', '--json'], env);
  expect(up.code, up.stderr).toBe(0);
  const info = JSON.parse(up.stdout) as ClusterInfo;
  expect(info.address).toBe(`127.0.0.1:${port}`);
  expect(Object.keys(info.pids).sort()).toEqual(['frontend', 'history', 'matching', 'ui', 'worker']);
  pids.push(...Object.values(info.pids));
  for (const [s, pid] of Object.entries(info.pids)) {
    if (s === 'ui') continue;
    expect(spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).stdout).toContain(`--service ${s}`);
  }
  const page = await fetch(info.uiUrl!);
  expect(page.status).toBe(200);
  expect(await page.text()).toMatch(/<html/i);
  // The UI is on this cluster, and sends payloads to the codec server it was given.
  const settings = (await (await fetch(`${info.uiUrl}/api/v1/settings`)).json()) as { Codec?: { Endpoint?: string } };
  expect(settings.Codec?.Endpoint).toBe('http://127.0.0.1:18888');

  // Asked again: it says it runs, starts nothing.
  const again = cli(['server', '--cluster', '--port', String(port), '--json'], env);
  expect(JSON.parse(again.stdout).pids).toEqual(info.pids);

  let connection = await Connection.connect({ address: info.address });
  const id = `kept-${Date.now()}`;
  await new Client({ connection }).workflow.start('nobodyRunsThis', { taskQueue: 'none', workflowId: id });
  await connection.close();

  const stop = cli(['stop'], env);
  expect(stop.stdout).toContain('cluster: stopped');
  expect(Object.values(info.pids).filter(alive)).toEqual([]);
  expect(spawnSync('pgrep', ['-f', join(state, 'cluster', 'pgdata')]).status, 'postgres is gone').toBe(1);

  const up2 = cli(['server', '--cluster', '--detach', '--headless', '--port', String(port), '--json'], env);
  expect(up2.code, up2.stderr).toBe(0);
  const info2 = JSON.parse(up2.stdout) as ClusterInfo;
  pids.push(...Object.values(info2.pids));
  connection = await Connection.connect({ address: info2.address });
  const d = await new Client({ connection }).workflow.getHandle(id).describe();
  expect(d.status.name).toBe('RUNNING');
  await connection.close();
  expect(cli(['stop'], env).stdout).toContain('cluster: stopped');
  expect(Object.values(info2.pids).filter(alive)).toEqual([]);
}, 180_000);
