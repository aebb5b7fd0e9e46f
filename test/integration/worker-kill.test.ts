import { afterAll, beforeAll, expect, it } from 'vitest';
import { statusQuery } from '../../workflows/messages.js';
import { address, client, createCounts, input, job, leftovers, result, spawnWorker, start, uid, waitFor, workdir } from '../support/harness.js';

const TQ = uid('tq-kill');
const workers: ReturnType<typeof spawnWorker>[] = [];
const newWorker = async () => {
  const w = spawnWorker(['--address', address(), '--task-queue', TQ]);
  workers.push(w);
  await w.ready;
  return w;
};

let c: Awaited<ReturnType<typeof client>>;
beforeAll(async () => {
  c = await client();
});
afterAll(() => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
});

it('a worker SIGKILLed mid-provision and again mid-run: the burst completes, each node made once', async () => {
  const dir = workdir('kill');
  let w = await newWorker();
  const jobs = [job('wide', { nodes: 4, tasks: 4, command: ['sh', '-c', 'sleep 2; echo ok'] }), job('after', { command: ['echo', 'second'] })];
  const h = await start(c, TQ, uid('kill'), input(jobs, { workdir: dir, latencyMs: 700 }, { timeouts: { stepSeconds: 60, heartbeatSeconds: 3, jobSeconds: 120 } }));

  // Kill while the nodes are being made (a burst makes its node steps together: all four are in
  // flight, each node process possibly started, no answer back yet).
  await waitFor(async () => {
    const s = await h.query(statusQuery).catch(() => undefined);
    return s && s.phase === 'provision' ? s : undefined;
  }, 30_000, 'provisioning');
  await new Promise((r) => setTimeout(r, 400));
  expect((await h.query(statusQuery)).phase).toBe('provision');
  w.kill('SIGKILL');
  await new Promise((r) => w.once('exit', r));
  w = await newWorker();

  // Kill again while the 4-node job runs.
  await waitFor(async () => {
    const s = await h.query(statusQuery).catch(() => undefined);
    return s?.jobs.some((j) => j.id === 'wide' && j.state === 'running') ? s : undefined;
  }, 60_000, 'job running');
  w.kill('SIGKILL');
  await new Promise((r) => w.once('exit', r));
  await newWorker();

  const r = await result(h);
  expect(r.outcome).toBe('completed');
  expect(r.status.jobs.map((j) => [j.id, j.state])).toEqual([
    ['wide', 'completed'],
    ['after', 'completed'],
  ]);
  // The job's tasks were re-attached to, not restarted: one run, all four ranks done.
  expect(r.status.jobs[0]!.attempts).toBe(1);
  expect(r.status.jobs[0]!.result!.tasks.map((t) => t.stdout.trim())).toEqual(['ok', 'ok', 'ok', 'ok']);
  const counts = createCounts(dir);
  expect([...counts.keys()].map((k) => k.split('/')[1]).sort()).toEqual(['node-0', 'node-1', 'node-2', 'node-3']);
  expect([...counts.values()]).toEqual([1, 1, 1, 1]);
  expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
});
