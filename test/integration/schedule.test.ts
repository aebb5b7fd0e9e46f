import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BurstResult } from '../../src/core/types.js';
import { address, cli, client, leftovers, startWorker, uid, waitFor, workdir } from '../support/harness.js';

const TQ = uid('tq-sched');
let w: Awaited<ReturnType<typeof startWorker>>;
beforeAll(async () => {
  w = await startWorker(TQ);
});
afterAll(async () => {
  await w?.stop();
});

it('a cron schedule fires and starts a burst that reads the jobs file at firing time', async () => {
  const dir = workdir('sched');
  const nodes = workdir('sched');
  writeFileSync(join(dir, 'jobs.yaml'), `- {id: cron-job, command: [echo, fired], burstable: true}\n`);
  writeFileSync(join(dir, 'fluxburst.yaml'), `name: nightly\njobs: jobs.yaml\ntargets:\n  - plugin: local\n    params: {workdir: ${nodes}}\n`);
  const id = uid('sched');
  const flags = ['--address', address(), '--task-queue', TQ, '--config', join(dir, 'fluxburst.yaml')];
  // Seven fields: Temporal reads the first as seconds, so this fires every 2 seconds.
  const created = cli(['schedule', 'create', id, '--cron', '*/2 * * * * * *', ...flags]);
  expect(created.stderr).toBe('');
  expect(created.code).toBe(0);
  const listed = cli(['schedule', 'list', '--json', ...flags]);
  expect(JSON.parse(listed.stdout).map((s: { id: string }) => s.id)).toContain(id);

  const c = await client();
  const run = await waitFor(async () => {
    for await (const x of c.workflow.list({ query: `WorkflowType = 'burstWorkflow' AND WorkflowId STARTS_WITH 'nightly-sched-${id}'` })) return x;
    return undefined;
  }, 30_000, 'a scheduled burst');
  const deleted = cli(['schedule', 'delete', id, ...flags]);
  expect(deleted.code).toBe(0);

  const r = (await c.workflow.getHandle(run.workflowId, run.runId).result()) as BurstResult;
  expect(r.outcome).toBe('completed');
  expect(r.status.jobs[0]!.result!.tasks[0]!.stdout.trim()).toBe('fired');
  expect(leftovers(nodes)).toEqual({ processes: [], dirs: [] });
  expect(cli(['schedule', 'delete', id, ...flags]).code).toBe(1); // already gone: says so
});
