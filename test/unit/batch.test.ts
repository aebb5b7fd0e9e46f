// The worker side of a batch, with a plugin made up here: per-job limits, tails within budget,
// resuming after a retried call, a lost node cutting the batch short, a stop handing back.
import { describe, expect, it } from 'vitest';
import { BATCH_TAIL_BUDGET, runBatch, type BatchJob } from '../../src/burst/batch.js';
import { NodeLostError } from '../../src/core/errors.js';
import type { Job, JobResult } from '../../src/core/types.js';
import type { Plugin, PluginContext } from '../../src/plugins/contract.js';

const job = (id: string, over: Partial<Job> = {}): Job => ({ id, name: id, nodes: 1, tasks: 1, command: ['x'], attributes: {}, ...over });
const items = (n: number, over: Partial<Job> = {}): BatchJob[] => Array.from({ length: n }, (_, i) => ({ i, job: job(`j${i}`, over), attempt: 1 }));

function ctx(signal = new AbortController().signal): PluginContext & { beats: unknown[] } {
  const beats: unknown[] = [];
  return { burstId: 'b', owner: 'o', attempt: 1, credentials: {}, signal, heartbeat: (d) => beats.push(d), log: { info: () => undefined, warn: () => undefined }, beats };
}

function plugin(run: (j: Job, c: PluginContext) => Promise<JobResult>): Plugin {
  return { name: 'fake', run: (j: Job, _n: unknown, _p: unknown, c: PluginContext) => run(j, c) } as unknown as Plugin;
}

const ok = (j: Job, out = ''): JobResult => ({ jobId: j.id, exitCode: 0, tasks: [{ rank: 0, node: 'n0', exitCode: 0, stdout: out, stderr: '' }] });
const opts = { jobSeconds: 60, batchSeconds: 60, tailBytes: 512 };

describe('runBatch', () => {
  it('each job runs under its own limit (its walltime when shorter than jobSeconds); the others go on', async () => {
    const p = plugin(async (j, c) => {
      if (j.id === 'j1') await new Promise((_, rej) => c.signal.addEventListener('abort', () => rej(new Error('killed'))));
      return ok(j);
    });
    const r = await runBatch(p, items(3).map((x) => (x.i === 1 ? { ...x, job: job('j1', { walltimeSeconds: 0.2 }) } : x)), [], {}, ctx(), opts);
    expect(r.ends.map((e) => [e.i, e.state, e.error])).toEqual([
      [0, 'completed', undefined],
      [1, 'failed', 'exceeded its time limit of 0.2s (its walltime)'],
      [2, 'completed', undefined],
    ]);
  });

  it('keeps output tails within the batch budget, whatever tailBytes × jobs is; sizes stay', async () => {
    const big = 'y'.repeat(70_000);
    const r = await runBatch(plugin(async (j) => ok(j, big)), items(100), [], {}, ctx(), { ...opts, tailBytes: 64 * 1024 });
    const kept = r.ends.reduce((a, e) => a + (e.tasks?.[0]?.stdout.length ?? 0), 0);
    expect(kept).toBeLessThanOrEqual(BATCH_TAIL_BUDGET);
    expect(kept).toBeGreaterThan(0);
    expect(r.ends.every((e) => e.bytes === 70_000)).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThan(1_000_000);
  });

  it('a retried call skips the jobs an earlier try reported in its heartbeats', async () => {
    const ran: string[] = [];
    const r = await runBatch(plugin(async (j) => (ran.push(j.id), ok(j))), items(3), [], {}, ctx(), { ...opts, done: [{ i: 0, state: 'completed', exitCode: 0 }] });
    expect(ran).toEqual(['j1', 'j2']);
    expect(r.ends.map((e) => e.i)).toEqual([0, 1, 2]);
  });

  it('a lost node ends the batch: that job is lost, the rest unstarted', async () => {
    const r = await runBatch(plugin(async (j) => { if (j.id === 'j1') throw new NodeLostError('n0', 'gone'); return ok(j); }), items(3), [], {}, ctx(), opts);
    expect(r).toMatchObject({ lost: 'n0', ends: [{ i: 0, state: 'completed' }, { i: 1, state: 'lost' }] });
    expect(r.ends).toHaveLength(2);
  });

  it('stopped by the burst: hands back what it finished, the job it was on marked lost', async () => {
    const ac = new AbortController();
    const p = plugin(async (j, c) => {
      if (j.id === 'j1') {
        ac.abort();
        await new Promise((_, rej) => (c.signal.aborted ? rej(new Error('stopped')) : c.signal.addEventListener('abort', () => rej(new Error('stopped')))));
      }
      return ok(j);
    });
    const r = await runBatch(p, items(3), [], {}, ctx(ac.signal), opts);
    expect(r).toMatchObject({ stopped: true, ends: [{ i: 0, state: 'completed' }, { i: 1, state: 'lost' }] });
  });

  it('hands back what it has not started after batchSeconds', async () => {
    const r = await runBatch(plugin(async (j) => (await new Promise((res) => setTimeout(res, 30)), ok(j))), items(50), [], {}, ctx(), { ...opts, batchSeconds: 0.1 });
    expect(r.ends.length).toBeGreaterThan(0);
    expect(r.ends.length).toBeLessThan(50);
  });
});
