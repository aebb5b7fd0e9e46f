// The test kit's cluster itself: four temporal-server processes on a private PostgreSQL, the
// namespace and fluxburst's search attributes registered as the README says, every service
// killed with SIGKILL and restarted, PostgreSQL restarted, and nothing left afterwards.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SA_OWNER, SEARCH_ATTRIBUTES } from '../../src/core/search-attributes.js';
import { searchAttributeSpecs } from '../../src/temporal/cluster.js';
import { temporalCliPath } from '../../src/temporal/paths.js';
import { SERVICES, startTestCluster, type TestCluster } from '../../testkit/temporal-cluster/index.js';

let tc: TestCluster;
beforeAll(async () => {
  tc = await startTestCluster();
}, 120_000);
afterAll(async () => {
  if (!tc) return;
  // Stopped as a failed chaos run stops it: nothing left but the logs, copied out first.
  const keep = mkdtempSync(join(tmpdir(), 'fb-cluster-logs-'));
  try {
    expect(await tc.stop({ keepLogsIn: keep })).toEqual({ processes: [], dir: false, ports: [] });
    expect(readdirSync(keep).sort()).toEqual(['cluster-frontend.log', 'cluster-history.log', 'cluster-matching.log', 'cluster-postgres.log', 'cluster-worker.log']);
  } finally {
    rmSync(keep, { recursive: true, force: true });
  }
});

function ps(pid: number): string {
  return spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
}

it('runs the four services as separate processes on PostgreSQL, from deploy/temporal/config/cluster.yaml', () => {
  const args = SERVICES.map((s) => ps(tc.cluster.child(s)!.pid!));
  for (const [i, s] of SERVICES.entries()) {
    expect(args[i]).toContain(`--service ${s}`);
    expect(args[i]).toMatch(/--config config --env cluster/);
  }
  expect(new Set(SERVICES.map((s) => tc.cluster.child(s)!.pid)).size).toBe(4);
  expect(ps(tc.cluster.postgresPid()!)).toMatch(/postgres/);
});

it('has the namespace and exactly the search attributes the code defines, as listed by the temporal CLI', () => {
  const r = spawnSync(temporalCliPath(), ['operator', 'search-attribute', 'list', '--address', tc.address, '--namespace', 'default', '-o', 'json'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const listed = JSON.parse(r.stdout) as { customAttributes?: Record<string, string> };
  const custom = listed.customAttributes ?? {};
  expect(Object.keys(custom).sort()).toEqual(SEARCH_ATTRIBUTES.map((a) => a.name).sort());
  for (const s of searchAttributeSpecs()) expect(custom[s.name]).toMatch(new RegExp(s.type.replace(/([a-z])([A-Z])/g, '$1_$2'), 'i'));
});

it('refuses more search attributes of one type than PostgreSQL visibility has columns for', () => {
  const many = Array.from({ length: 4 }, (_, i) => ({ name: `L${i}`, type: 'KEYWORD_LIST' }));
  expect(() => searchAttributeSpecs(many)).toThrow(/4 KeywordList search attributes, but SQL visibility \(PostgreSQL\) allows 3/);
  expect(() => searchAttributeSpecs([{ name: 'x', type: 'Nope' }])).toThrow(/no column/);
});

it('a workflow started before each service and PostgreSQL are killed and restarted is still there and queryable by search attribute after', async () => {
  const connection = await Connection.connect({ address: tc.address });
  const c = new Client({ connection });
  try {
    const h = await c.workflow.start('neverRuns', { taskQueue: 'nobody', workflowId: `probe-${Date.now()}`, typedSearchAttributes: [{ key: SA_OWNER, value: 'cluster-test' }] });
    for (const s of SERVICES) await tc.bounce(s, 200);
    await tc.cluster.restartPostgres();
    const d = await h.describe();
    expect(d.status.name).toBe('RUNNING');
    // Right after PostgreSQL's restart a query by a custom search attribute can be refused for a
    // moment ("not a valid search attribute") until the frontend reloads its namespace data.
    let n = 0;
    let last: unknown;
    for (const deadline = Date.now() + 20_000; n === 0 && Date.now() < deadline; ) {
      n = await c.workflow.count(`FluxburstOwner = 'cluster-test'`).then((r) => r.count, (e: unknown) => ((last = e), 0));
      if (!n) await new Promise((r) => setTimeout(r, 200));
    }
    expect(n, String(last)).toBe(1);
    await h.terminate('done');
  } finally {
    await connection.close();
  }
}, 120_000);
