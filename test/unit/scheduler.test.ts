// The run-phase scheduler alone: no Temporal, no processes. Every decision the burst workflow
// carries out is taken here.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Scheduler, initialState, spendAt, spendDeadline, type Batch, type JobEnd, type SchedJob } from '../../src/burst/scheduler.js';

const jobs = (n: number, nodes = 1, from = 0): SchedJob[] => Array.from({ length: n }, (_, k) => ({ i: from + k, id: `j${from + k}`, nodes }));
const started = (s: Scheduler) => s.schedule().filter((d) => d.kind === 'start').map((d) => (d as { batch: Batch }).batch);
const allDone = (b: Batch): JobEnd[] => b.jobs.map((j) => ({ i: j.i, state: 'completed' as const, exitCode: 0 }));

describe('scheduling', () => {
  it('spreads a queue of one-node jobs evenly over the free nodes, in order', () => {
    const s = new Scheduler(initialState(['n0', 'n1', 'n2', 'n3'], 10));
    s.add(jobs(10));
    const bs = started(s);
    expect(bs.map((b) => b.nodes)).toEqual([['n0'], ['n1'], ['n2'], ['n3']]);
    // Each batch takes an even share of what waits per free node.
    expect(bs.map((b) => b.jobs.map((j) => j.i))).toEqual([[0, 1, 2], [3, 4, 5], [6, 7], [8, 9]]);
    expect(s.freeNodes()).toEqual([]);
    expect(s.runningJobs()).toBe(10);
    expect(s.s.queue).toEqual([]);
  });

  it('caps a batch at maxBatch', () => {
    const s = new Scheduler(initialState(['n0'], 50), { maxBatch: 7 });
    s.add(jobs(50));
    const [b] = started(s);
    expect(b!.jobs).toHaveLength(7);
  });

  it('a multi-node job waits at the head for enough free nodes (order kept), then gets them together', () => {
    const s = new Scheduler(initialState(['n0', 'n1', 'n2'], 3));
    s.add([{ i: 0, id: 'a', nodes: 2 }, { i: 1, id: 'b', nodes: 3 }, { i: 2, id: 'c', nodes: 1 }]);
    const first = started(s);
    expect(first.map((b) => [b.nodes, b.jobs.map((j) => j.id)])).toEqual([[['n0', 'n1'], ['a']]]);
    expect(s.schedule()).toEqual([]); // b needs 3: c (1 node) does not jump the queue
    s.batchEnded(first[0]!.id, allDone(first[0]!));
    const second = started(s);
    expect(second.map((b) => [b.nodes, b.jobs.map((j) => j.id)])).toEqual([[['n0', 'n1', 'n2'], ['b']]]);
  });

  it('a job larger than the burst fails with the reason, the others run', () => {
    const s = new Scheduler(initialState(['n0', 'n1'], 2));
    s.add([{ i: 0, id: 'big', nodes: 3 }, { i: 1, id: 'ok', nodes: 1 }]);
    const ds = s.schedule();
    expect(ds[0]).toMatchObject({ kind: 'fail', job: { id: 'big' }, reason: 'needs 3 nodes; only 2 left in the burst' });
    expect(ds[1]).toMatchObject({ kind: 'start', batch: { jobs: [{ id: 'ok' }] } });
    expect(s.s.counts.failed).toBe(1);
    expect(s.s.failures).toEqual([{ i: 0, id: 'big', error: 'needs 3 nodes; only 2 left in the burst' }]);
  });
});

describe('batch ends', () => {
  it('counts completed and failed, keeps the first failures only, and frees the nodes', () => {
    const s = new Scheduler(initialState(['n0'], 5), { maxFailures: 2 });
    s.add(jobs(5));
    const [b] = started(s);
    s.batchEnded(b!.id, b!.jobs.map((j) => ({ i: j.i, state: 'failed' as const, exitCode: 3 })));
    expect(s.s.counts).toMatchObject({ failed: 5, completed: 0 });
    expect(s.s.failures).toHaveLength(2);
    expect(s.freeNodes()).toEqual(['n0']);
    expect(s.idle()).toBe(true);
  });

  it('jobs a batch never started go back to the head of the queue without using an attempt', () => {
    const s = new Scheduler(initialState(['n0'], 4));
    s.add(jobs(4));
    const [b] = started(s);
    s.batchEnded(b!.id, [{ i: 0, state: 'completed', exitCode: 0 }]);
    expect(s.s.queue.map((j) => [j.i, j.attempts])).toEqual([[1, 0], [2, 0], [3, 0]]);
    const [b2] = started(s);
    expect(b2!.jobs.map((j) => [j.i, j.attempts])).toEqual([[1, 1], [2, 1], [3, 1]]);
  });

  it('a lost job is requeued first, and fails once it has used maxAttempts', () => {
    const s = new Scheduler(initialState(['n0', 'n1'], 2), { maxAttempts: 2 });
    s.add(jobs(2));
    const [b0, b1] = started(s);
    s.batchEnded(b0!.id, [{ i: 0, state: 'lost', error: 'node gone' }]);
    expect(s.s.counts.requeued).toBe(1);
    expect(s.s.queue[0]).toMatchObject({ i: 0, attempts: 1 });
    const [again] = started(s);
    expect(again!.jobs[0]).toMatchObject({ i: 0, attempts: 2 });
    const ds = s.batchEnded(again!.id, [{ i: 0, state: 'lost', error: 'again' }]);
    expect(ds).toEqual([{ kind: 'fail', job: expect.objectContaining({ i: 0 }), reason: 'lost its node 2 times (last: again)' }]);
    s.batchEnded(b1!.id, allDone(b1!));
    expect(s.s.counts).toMatchObject({ completed: 1, failed: 1 });
    expect(s.idle()).toBe(true);
  });

  it('an unknown batch id changes nothing (a late answer after continue-as-new)', () => {
    const s = new Scheduler(initialState(['n0'], 1));
    s.add(jobs(1));
    started(s);
    const before = JSON.stringify(s.s);
    expect(s.batchEnded('b999', [])).toEqual([]);
    expect(JSON.stringify(s.s)).toBe(before);
  });
});

describe('drain and replacement', () => {
  it('drains a node: its batches are to be stopped, no new work goes there, a replacement is allowed within the budget', () => {
    const s = new Scheduler(initialState(['n0', 'n1'], 4), { maxReplacements: 1 });
    s.add(jobs(4));
    const [b0] = started(s);
    const d = s.drain('n0');
    expect(d).toEqual({ stop: [b0!.id], replace: true, known: true });
    s.batchEnded(b0!.id, [{ i: b0!.jobs[0]!.i, state: 'lost' }]);
    expect(s.freeNodes()).toEqual([]); // n0 stays drained, n1 busy
    expect(s.liveNodes()).toEqual(['n1']);
    expect(s.drain('n0')).toEqual({ stop: [], replace: false, known: true }); // twice: nothing more
    expect(s.drain('n1').replace).toBe(false); // budget used up
    expect(s.drain('nope')).toEqual({ stop: [], replace: false, known: false });
  });

  it('a replacement that joins takes the requeued job', () => {
    const s = new Scheduler(initialState(['n0'], 1), { maxReplacements: 2 });
    s.add(jobs(1));
    const [b] = started(s);
    s.drain('n0');
    s.batchEnded(b!.id, [{ i: 0, state: 'lost' }]);
    expect(started(s)).toEqual([]);
    s.nodeJoined('n0-r1');
    const [b2] = started(s);
    expect(b2).toMatchObject({ nodes: ['n0-r1'], jobs: [{ i: 0, attempts: 2 }] });
  });

  it('a job waits for a replacement on its way, and fails once the replacement cannot be made', () => {
    const s = new Scheduler(initialState(['n0'], 1), { maxReplacements: 1 });
    s.add(jobs(1));
    const [b] = started(s);
    expect(s.drain('n0').replace).toBe(true);
    s.batchEnded(b!.id, [{ i: 0, state: 'lost' }]);
    expect(s.schedule()).toEqual([]); // waits: a node is coming
    s.replacementFailed();
    expect(s.schedule()).toEqual([{ kind: 'fail', job: { i: 0, id: 'j0', nodes: 1, attempts: 1 }, reason: 'needs 1 nodes; only 0 left in the burst' }]);
  });

  it('when nodes are gone for good, jobs too big for what is left fail with the reason', () => {
    const s = new Scheduler(initialState(['n0', 'n1'], 1));
    s.add([{ i: 0, id: 'two', nodes: 2 }]);
    s.drain('n1');
    expect(s.schedule()).toEqual([{ kind: 'fail', job: { i: 0, id: 'two', nodes: 2 }, reason: 'needs 2 nodes; only 1 left in the burst' }]);
  });
});

describe('cancel, spend cap and idle', () => {
  it('cancelling counts what waits (and what was never loaded) as cancelled', () => {
    const s = new Scheduler(initialState(['n0'], 10), { maxBatch: 2 });
    s.add(jobs(4));
    started(s);
    s.cancelQueued();
    s.cancelUnloaded(6);
    expect(s.s.counts.cancelled).toBe(8);
    expect(s.s.queue).toEqual([]);
  });

  it('the spend cap deadline and the spend so far', () => {
    expect(spendDeadline(1000, 2, 1)).toBe(1000 + 1_800_000); // $1 at $2/h: half an hour
    expect(spendDeadline(0, 0, 1)).toBeUndefined(); // free nodes never reach a cap
    expect(spendDeadline(0, 2, undefined)).toBeUndefined();
    expect(spendAt(0, 1_800_000, 2)).toBe(1);
    expect(spendAt(undefined, 5, 2)).toBe(0);
  });

  it('idle only when nothing waits and nothing runs', () => {
    const s = new Scheduler(initialState(['n0'], 1));
    expect(s.idle()).toBe(true);
    s.add(jobs(1));
    expect(s.idle()).toBe(false);
    const [b] = started(s);
    expect(s.idle()).toBe(false);
    s.batchEnded(b!.id, allDone(b!));
    expect(s.idle()).toBe(true);
  });
});

describe('properties', () => {
  it('whatever ends and interruptions happen, every job ends exactly once, no node runs two batches, and the state survives JSON (continue-as-new)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.tuple(fc.constantFrom('completed', 'failed', 'lost', 'unstarted', 'drain'), fc.nat()), { maxLength: 200 }),
        (sizes, nodeCount, script) => {
          const nodes = Array.from({ length: nodeCount }, (_, k) => `n${k}`);
          let s = new Scheduler(initialState(nodes, sizes.length), { maxReplacements: 3, maxAttempts: 3, maxBatch: 4 });
          s.add(sizes.map((n, i) => ({ i, id: `j${i}`, nodes: n })));
          let joined = 0;
          const run = () => s.schedule();
          run();
          for (const [what, k] of script) {
            // Round-trip the state as continue-as-new would.
            s = new Scheduler(JSON.parse(JSON.stringify(s.s)), s.limits);
            const busy = s.s.running.flatMap((b) => b.nodes);
            expect(new Set(busy).size).toBe(busy.length);
            if (what === 'drain') {
              const live = s.liveNodes();
              if (!live.length) continue;
              const d = s.drain(live[k % live.length]!);
              for (const id of d.stop) {
                const b = s.s.running.find((x) => x.id === id)!;
                s.batchEnded(id, b.jobs.slice(0, 1).map((j) => ({ i: j.i, state: 'lost' as const })));
              }
              if (d.replace) s.nodeJoined(`r${++joined}`);
            } else if (s.s.running.length) {
              const b = s.s.running[k % s.s.running.length]!;
              s.batchEnded(b.id, b.jobs.map((j, x) => ({ i: j.i, state: x === 0 ? (what as JobEnd['state']) : 'completed' }) as JobEnd));
            }
            run();
          }
          // Finish whatever is left.
          for (let guard = 0; guard < 500 && !s.idle(); guard++) {
            for (const b of [...s.s.running]) s.batchEnded(b.id, allDone(b));
            run();
            if (!s.liveNodes().length) break;
          }
          const c = s.s.counts;
          const waiting = s.s.queue.length;
          expect(c.completed + c.failed + c.cancelled + waiting).toBe(sizes.length);
          if (s.liveNodes().length >= 3) expect(waiting).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
