import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { client, cliAsync as cli } from '../support/harness.js';

// `fluxburst plan` is a dry run: it reads the config and jobs, plans, prints, and creates nothing
// (no workflow on the server, nothing in the local plugin's workdir).
let dir: string;
let nodes: string;
let config: string;
// Fixed, so the burst names below can be pinned (plan creates nothing under it; checked below).
const owner = 'plan-pinned-owner';

interface PlannedJson {
  burstId: string;
  target: string;
  nodes: number;
  gangMin: number;
  shape: string;
  costPerHour: number;
  secondsToReady: number;
  jobs: string[];
  chain: string[];
  reason: string;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fb-plan-'));
  nodes = join(dir, 'nodes'); // not created: the plan must not create it either
  writeFileSync(
    join(dir, 'jobs.yaml'),
    [
      '- {id: wide, command: [echo, wide], nodes: 2, burstable: true}',
      '- {id: narrow, command: [echo, narrow], burstable: true}',
      '- {id: urgent, command: [echo, urgent], burstable: true, attributes: {system: {fluxburst: {target: fast}}}}',
      '- {id: home, command: [echo, home]}',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'unfit.yaml'),
    [
      '- {id: ok, command: [echo, ok], burstable: true}',
      '- {id: gpu, command: [echo, gpu], gpusPerNode: 1, burstable: true}',
      '- {id: huge, command: [echo, huge], nodes: 100, burstable: true}',
    ].join('\n'),
  );
  config = join(dir, 'fb.yaml');
  writeFileSync(
    config,
    [
      'name: plantest',
      'jobs: jobs.yaml',
      'ordering: cheapest',
      'targets:',
      `  - {plugin: local, name: cheap, params: {workdir: ${nodes}, costPerNodeHour: 1.5, latencyMs: 3000}}`,
      `  - {plugin: local, name: fast, params: {workdir: ${nodes}, costPerNodeHour: 4}}`,
      '',
    ].join('\n'),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('plan --json prints each burst (target, nodes, shape, cost, jobs, reason) and the total', async () => {
  const r = await cli(['plan', '--json', '--config', config, '--owner', owner]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { bursts: PlannedJson[]; unfit: unknown[]; skipped: unknown[]; totalCostPerHour: number };
  expect(out.unfit).toEqual([]);
  expect(out.skipped).toEqual([{ id: 'home', reason: 'not marked burstable' }]);
  expect(out.bursts).toEqual([
    {
      burstId: 'plantest-2n-f2a27996',
      target: 'cheap',
      nodes: 2,
      gangMin: 2,
      shape: 'process',
      costPerHour: 3,
      secondsToReady: expect.closeTo(6.2, 5),
      jobs: ['wide', 'narrow'],
      chain: ['cheap', 'fast'],
      reason: 'cheapest: cheap $3.00/h < fast $8.00/h',
    },
    {
      burstId: 'plantest-1n-650b6d54',
      target: 'fast',
      nodes: 1,
      gangMin: 1,
      shape: 'process',
      costPerHour: 4,
      secondsToReady: expect.closeTo(0.2, 5),
      jobs: ['urgent'],
      chain: ['fast'],
      reason: 'cheapest: fast $4.00/h (not: cheap: job asks for target fast)',
    },
  ]);
  expect(out.totalCostPerHour).toBe(7);
  for (const b of out.bursts) expect(b.burstId).toMatch(/^plantest-\dn-[0-9a-f]{8}$/);

  // The same dry run again: the same plan, names included.
  const again = await cli(['plan', '--json', '--config', config, '--owner', owner]);
  expect(JSON.parse(again.stdout)).toEqual(out);
  // --plugin narrows to one target: everything goes there (urgent still apart: it has an override).
  const narrowed = JSON.parse((await cli(['plan', '--json', '--config', config, '--owner', owner, '--plugin', 'fast'])).stdout) as { bursts: PlannedJson[] };
  expect(narrowed.bursts.map((b) => [b.target, b.jobs, b.costPerHour])).toEqual([
    ['fast', ['wide', 'narrow'], 8],
    ['fast', ['urgent'], 4],
  ]);

  // Nothing was created: no workflow for this owner on the server, no node directory.
  expect(existsSync(nodes)).toBe(false);
  const c = await client();
  try {
    await sleep(1000); // visibility lags a moment behind starts
    const found: string[] = [];
    for await (const w of c.workflow.list({ query: `FluxburstOwner = '${owner}'` })) found.push(w.workflowId);
    expect(found).toEqual([]);
    for (const b of out.bursts) {
      await expect(c.workflow.getHandle(b.burstId).describe()).rejects.toThrow(/not found/i);
    }
  } finally {
    await c.connection.close();
  }
});

it('the table form shows each burst and the total per hour', async () => {
  const r = await cli(['plan', '--config', config, '--owner', owner]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const lines = r.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^BURST\s+TARGET\s+NODES\s+SHAPE\s+\$\/HOUR\s+JOBS\s+WHY$/);
  expect(lines[1]).toMatch(/^plantest-2n-[0-9a-f]{8}\s+cheap\s+2\s+process\s+3\.00\s+wide,narrow\s+cheapest: cheap \$3\.00\/h < fast \$8\.00\/h$/);
  expect(lines[2]).toMatch(/^plantest-1n-[0-9a-f]{8}\s+fast\s+1\s+process\s+4\.00\s+urgent\s+cheapest: fast \$4\.00\/h \(not: cheap: job asks for target fast\)$/);
  expect(lines[3]).toBe('2 burst(s), ~$7.00/hour; 1 job(s) not selected');
  expect(lines).toHaveLength(4);
  expect(existsSync(nodes)).toBe(false);
});

it('unfit jobs: exit 2, each with its reason (table and JSON); the rest is still shown', async () => {
  const jobs = join(dir, 'unfit.yaml');
  const t = await cli(['plan', '--config', config, '--jobs', jobs, '--owner', owner]);
  expect(t.code).toBe(2);
  expect(t.stdout).toContain('1 burst(s), ~$1.50/hour; 0 job(s) not selected');
  expect(t.stdout).toContain('unfit: job gpu: no target fits: cheap: needs 1 GPU(s) per node; offers at most 0; fast: needs 1 GPU(s) per node; offers at most 0');
  expect(t.stdout).toContain('unfit: job huge: no target fits: cheap: needs 100 nodes, local maxNodes is 64; fast: needs 100 nodes, local maxNodes is 64');

  const j = await cli(['plan', '--json', '--config', config, '--jobs', jobs, '--owner', owner]);
  expect(j.code).toBe(2);
  const out = JSON.parse(j.stdout) as { bursts: PlannedJson[]; unfit: Array<{ jobId: string; reason: string }> };
  expect(out.bursts.map((b) => b.jobs)).toEqual([['ok']]);
  expect(out.unfit.map((u) => u.jobId)).toEqual(['gpu', 'huge']);
  expect(out.unfit[0]!.reason).toMatch(/^no target fits: cheap: needs 1 GPU/);
  expect(existsSync(nodes)).toBe(false);
});

it('bad input in the jobs file: exit 2 naming the field, nothing printed on stdout', async () => {
  const jobs = join(dir, 'bad.yaml');
  writeFileSync(jobs, '- {id: x, command: [echo], burstable: true, attributes: {system: {fluxburst: {maxPrice: -1}}}}\n');
  const r = await cli(['plan', '--json', '--config', config, '--jobs', jobs]);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain('job x: attributes.system.fluxburst.maxPrice');
  expect(existsSync(nodes) ? readdirSync(nodes) : []).toEqual([]);
});
