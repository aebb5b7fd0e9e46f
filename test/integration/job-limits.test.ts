// One job's output or time limit stays that job's: huge outputs are kept as a tail in the history
// (the whole output where the user keeps it), a job over its limit fails alone, named with the
// limit, and the burst goes on. Real dev server, real local nodes.
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { historySizes, totals } from '../../testkit/temporal/history-size.js';
import { address, cliAsync, client, historyText, input, job, leftovers, result, start, startWorker, uid, workdir } from '../support/harness.js';

let c: Client;
let w: Awaited<ReturnType<typeof startWorker>>;
const tq = uid('tq-limits');
const dir = workdir('limits');
const out = workdir('limits-out');

beforeAll(async () => {
  c = await client();
  w = await startWorker(tq);
});
afterAll(async () => {
  await w?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

describe('output', () => {
  it('a job printing 50 MB completes; the history keeps only its tail; the whole output is in outputDir', async () => {
    const big = job('big', { command: ['sh', '-c', 'head -c 52428800 /dev/zero | tr "\\\\0" x; echo; echo THE-END'] });
    const id = uid('bigout');
    const h = await start(c, tq, id, input([big], { workdir: dir, outputDir: out }));
    const r = await result(h);
    expect(r.outcome).toBe('completed');
    const js = r.status.jobs.find((j) => j.id === 'big')!;
    expect(js.state).toBe('completed');
    const t0 = js.result!.tasks[0]!;
    expect(t0.stdout.endsWith('THE-END\n')).toBe(true);
    expect(Buffer.byteLength(t0.stdout)).toBeLessThanOrEqual(512);
    expect(t0.stdoutBytes).toBe(52428800 + 9);
    expect(statSync(join(t0.outputPath!, 'stdout')).size).toBe(52428800 + 9);
    const runs = await historySizes(c, id, h.firstExecutionRunId);
    expect(totals(runs).bytes).toBeLessThan(100_000);
    expect(historyText(await h.fetchHistory())).not.toMatch(/x{600}/);
    expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
  }, 180_000);

  it('80 jobs printing 80 KB each end completed, with a small result', async () => {
    const jobs = Array.from({ length: 80 }, (_, k) => job(`o${k}`, { command: ['sh', '-c', `head -c 81920 /dev/zero | tr "\\\\0" y; echo done-${k}`] }));
    const id = uid('manyout');
    const h = await start(c, tq, id, input(jobs, { workdir: dir, nodes: 4 }));
    const r = await result(h);
    expect(r.outcome).toBe('completed');
    expect(r.status.counts).toMatchObject({ total: 80, completed: 80, failed: 0 });
    expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThan(200_000);
    const last = r.status.jobs.find((j) => j.id === 'o79')!;
    expect(last.result!.tasks[0]!.stdout.trim().endsWith('done-79')).toBe(true);
  }, 180_000);
});

describe('time limits', () => {
  it('a job over its walltime fails alone, named with its limit; the others complete; the burst completes with one failed job', async () => {
    const slow = job('slow', { command: ['sleep', '60'], walltimeSeconds: 2 });
    const fast = [job('f1'), job('f2'), job('f3')];
    const t0 = Date.now();
    const h = await start(c, tq, uid('walltime'), input([slow, ...fast], { workdir: dir, nodes: 2 }));
    const r = await result(h);
    expect(Date.now() - t0).toBeLessThan(30_000); // killed at its limit, not at sleep's end
    expect(r.outcome).toBe('completed');
    expect(r.status.counts).toMatchObject({ total: 4, completed: 3, failed: 1 });
    expect(r.status.failures).toEqual([{ i: 0, id: 'slow', exitCode: 124, error: 'exceeded its time limit of 2s (its walltime)' }]);
    expect(r.status.jobs.find((j) => j.id === 'slow')).toMatchObject({ state: 'failed', error: 'exceeded its time limit of 2s (its walltime)' });
    expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
  }, 120_000);

  it('timeouts.jobSeconds limits a job without a walltime, per job (not per attempt)', async () => {
    const inp = input([job('long', { command: ['sleep', '60'] }), job('short')], { workdir: dir, nodes: 1 }, { timeouts: { stepSeconds: 60, heartbeatSeconds: 5, jobSeconds: 3 } });
    const t0 = Date.now();
    const r = await result(await start(c, tq, uid('jobseconds'), inp));
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.status.counts).toMatchObject({ completed: 1, failed: 1 });
    expect(r.status.failures![0]).toMatchObject({ id: 'long', error: 'exceeded its time limit of 3s (timeouts.jobSeconds)' });
  }, 120_000);
});

it('burst --wait exits 1 when one job failed (over its walltime), naming the job and its limit; the other job completed', async () => {
  writeFileSync(join(out, 'jobs.yaml'), ['- {id: slowpoke, command: [sleep, "60"], walltimeSeconds: 1, burstable: true}', '- {id: quick, command: ["true"], burstable: true}'].join('\n'));
  writeFileSync(join(out, 'fb.yaml'), `name: limits\njobs: jobs.yaml\ntargets:\n  - plugin: local\n    params: {workdir: ${dir}, nodes: 2}\n`);
  const r = await cliAsync(['burst', '--wait', '--address', address(), '--task-queue', tq, '--config', join(out, 'fb.yaml'), '--owner', uid('o')]);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/slowpoke\s+slowpoke\s+failed\s+124\s.*exceeded its time limit of 1s \(its walltime\)/);
  expect(r.stdout).toMatch(/quick\s+quick\s+completed\s+0/);
  expect(r.stdout).toContain(': completed'); // the burst itself completed
}, 120_000);
