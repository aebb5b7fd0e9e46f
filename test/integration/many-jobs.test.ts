// Bounded history at any job count (issue 13): thousands of jobs in one burst, batched, with the
// history of every run under Temporal's warning threshold and the status query answering while
// it runs. Real dev server, real local nodes.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { jobsRef } from '../../src/jobs/spool.js';
import type { BurstStatus, Job } from '../../src/core/types.js';
import { statusQuery } from '../../workflows/messages.js';
import { burstWorkflow } from '../../workflows/burst.js';
import { historySizes, totals } from '../../testkit/temporal/history-size.js';
import { address, cliAsync, client, input, leftovers, startWorker, uid, workdir } from '../support/harness.js';
import { cancelSignal } from '../../workflows/messages.js';

const N = Number(process.env.FLUXBURST_MANY_JOBS ?? 20_000);
let c: Client;
let w: Awaited<ReturnType<typeof startWorker>>;
const tq = uid('tq-many');
const dir = workdir('many');
const spool = workdir('spool');

beforeAll(async () => {
  process.env.FLUXBURST_SPOOL = spool;
  c = await client();
  w = await startWorker(tq);
});
afterAll(async () => {
  await w?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(spool, { recursive: true, force: true });
});

const trueJob = (i: number): Job => ({ id: `j${i}`, name: `j${i}`, nodes: 1, tasks: 1, command: ['true'], attributes: { system: { burstable: 1 } } });

describe('many jobs in one burst', () => {
  it(`${N} one-node jobs complete on 4 nodes; no run's history passes 10,240 events; status answers while it runs`, async () => {
    const jobs = Array.from({ length: N }, (_, i) => trueJob(i));
    const ref = jobsRef(jobs, { inlineLimit: N >= 5000 ? undefined : 0 });
    expect(ref.kind).toBe('spool'); // the list does not travel in the workflow input
    const inp = { ...input([], { workdir: dir, nodes: 4 }), jobs: ref, run: { eventsPerRun: 150 } }; // small, so the burst continues as new several times
    const id = uid('many');
    const h = await c.workflow.start(burstWorkflow, { workflowId: id, taskQueue: tq, args: [inp] });
    const seen: BurstStatus[] = [];
    let done = false;
    const result = h.result().finally(() => (done = true));
    while (!done) {
      const s = await h.query(statusQuery).catch(() => undefined);
      if (s?.phase === 'run' && s.counts) seen.push(s);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const r = await result;
    expect(r.outcome).toBe('completed');
    expect(r.status.counts).toMatchObject({ total: N, completed: N, failed: 0, cancelled: 0 });
    // The query answered mid-run with progress that moved.
    const mid = seen.filter((s) => s.counts!.completed > 0 && s.counts!.completed < N);
    if (N >= 2000) expect(mid.length).toBeGreaterThan(0); // (a quick local run with few jobs may finish between two queries)
    // The result is a page plus counts, not every job.
    expect(r.status.jobs.length).toBeLessThanOrEqual(100);
    const runs = await historySizes(c, id, h.firstExecutionRunId);
    const t = totals(runs);
    process.stdout.write(`many-jobs: ${N} jobs, ${t.runs} runs, ${t.events} events (${(t.events / N).toFixed(3)}/job), ${t.bytes} bytes (${(t.bytes / N).toFixed(1)}/job), largest run ${t.maxRunEvents} events\n`);
    expect(t.maxRunEvents).toBeLessThan(10_240);
    expect(t.runs).toBeGreaterThan(1); // continued as new, counts and resources carried
    expect(r.status.run).toBe(t.runs);
    expect(t.events / N).toBeLessThan(1);
    expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
  }, 900_000);
});

describe('big job files', () => {
  it('a file of 25,000 jobs starts its burst through the CLI: the workflow input holds a spool reference, not the jobs', async () => {
    const file = join(spool, 'jobs-25k.json');
    writeFileSync(file, JSON.stringify(Array.from({ length: 25_000 }, (_, i) => ({ ...trueJob(i), burstable: true, attributes: undefined }))));
    writeFileSync(join(spool, 'fb.yaml'), `name: big\ntargets:\n  - plugin: local\n    params: {workdir: ${dir}, nodes: 4}\n`);
    const r = await cliAsync(['burst', '--json', '--jobs', file, '--address', address(), '--task-queue', tq, '--config', join(spool, 'fb.yaml')], { FLUXBURST_SPOOL: spool });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [b] = JSON.parse(r.stdout).bursts;
    expect(b.started).toBe(true);
    const h = c.workflow.getHandle(b.burstId);
    const first = (await h.fetchHistory()).events![0]!;
    const size = first.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!.length;
    expect(size).toBeLessThan(20_000); // 25,000 jobs would be megabytes
    await h.signal(cancelSignal, { reason: 'test done' });
    const res = await h.result();
    expect(res.outcome).toBe('cancelled');
    expect(res.status.counts!.total).toBe(25_000);
    expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
  }, 300_000);
});
