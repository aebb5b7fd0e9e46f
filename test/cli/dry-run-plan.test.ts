// Planning is decided once: `burst --dry-run` runs the workflow's own plan step, so what it shows
// is what the burst makes (nodes, steps, target), node for node.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { address, cliAsync as cli, startWorker, uid, workdir } from '../support/harness.js';

const TQ = uid('tq-dry');
let w: Awaited<ReturnType<typeof startWorker>>;
const dir = mkdtempSync(join(tmpdir(), 'fb-dry-'));
const nodes = workdir('dry');

beforeAll(async () => {
  w = await startWorker(TQ);
});
afterAll(async () => {
  await w?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(nodes, { recursive: true, force: true });
});

it('the dry run shows the plan the burst then carries out (params.nodes overrides the job-sized estimate)', async () => {
  writeFileSync(join(dir, 'jobs.yaml'), ['- {id: a, command: ["true"], nodes: 1, burstable: true}', '- {id: b, command: ["true"], nodes: 1, burstable: true}'].join('\n'));
  writeFileSync(join(dir, 'fb.yaml'), `name: dry\njobs: jobs.yaml\ntargets:\n  - plugin: local\n    params: {workdir: ${nodes}, nodes: 3}\n`);
  const flags = ['--address', address(), '--task-queue', TQ, '--config', join(dir, 'fb.yaml'), '--owner', uid('o')];
  const dry = await cli(['burst', '--dry-run', '--json', ...flags]);
  expect(dry.stderr).toBe('');
  expect(dry.code).toBe(0);
  const [plan] = JSON.parse(dry.stdout).bursts;
  expect(plan).toMatchObject({ nodes: 3, steps: ['node-0', 'node-1', 'node-2'], target: 'local' });
  const run = await cli(['burst', '--wait', '--json', ...flags]);
  expect(run.code).toBe(0);
  const [b] = JSON.parse(run.stdout).bursts;
  expect(b.burstId).toBe(plan.burstId);
  expect(b.status.plan.nodes).toBe(plan.nodes);
  expect(b.status.plan.steps.map((s: { key: string }) => s.key)).toEqual(plan.steps);
});
