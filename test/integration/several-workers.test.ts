import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { statusQuery } from '../../workflows/messages.js';
import { address, client, createCounts, input, job, leftovers, result, spawnWorker, start, uid, waitFor, workdir } from '../support/harness.js';

// Several `fluxburst worker` processes share bursts while one of them is SIGKILLed in the middle
// of a provision step and another is drained with SIGTERM: every burst completes, every node is
// made once, every job runs once. Runs on start-dev and on the real cluster (vitest.config.ts).

type W = ReturnType<typeof spawnWorker>;
const workers: W[] = [];
let c: Client;

async function newWorker(tq: string): Promise<W> {
  const w = spawnWorker(['--address', address(), '--task-queue', tq]);
  workers.push(w);
  await w.ready;
  return w;
}
const alive = (w: W) => w.exitCode === null && w.signalCode === null;
const pidOf = (identity: string | null | undefined) => Number(/^(\d+)@/.exec(identity ?? '')?.[1] ?? NaN);

beforeAll(async () => {
  c = await client();
});
afterAll(async () => {
  for (const w of workers) if (alive(w)) w.kill('SIGKILL');
  await c?.connection.close();
});

it('three workers share four bursts; one SIGKILLed mid-provision, one drained with SIGTERM: every burst completes once', async () => {
  const tq = uid('tq-several');
  const ws = await Promise.all([0, 1, 2].map(() => newWorker(tq)));
  const dir = workdir('several');
  const ids = Array.from({ length: 4 }, (_, i) => uid(`several-${i}`));
  const handles = await Promise.all(
    ids.map((id, i) =>
      start(
        c,
        tq,
        id,
        input([job(`w${i}`, { nodes: 2, tasks: 2, command: ['sh', '-c', 'sleep 2; echo done'] })], { workdir: dir, latencyMs: 800 }, { timeouts: { stepSeconds: 60, heartbeatSeconds: 3, jobSeconds: 120 } }),
      ),
    ),
  );

  /** The worker process that the server says runs a started activity of this type right now. */
  const holderOf = async (type: RegExp) => {
    for (const h of handles) {
      const d = await h.describe().catch(() => undefined);
      for (const p of d?.raw.pendingActivities ?? []) {
        const started = ['2', 'PENDING_ACTIVITY_STATE_STARTED'].includes(String(p.state));
        if (!started || !type.test(p.activityType?.name ?? '')) continue;
        const w = ws.find((x) => x.pid === pidOf(p.lastWorkerIdentity) && alive(x));
        if (w) return w;
      }
    }
    return undefined;
  };

  // SIGKILL a worker while it is making a node (latencyMs keeps each provision step busy).
  const killed = await waitFor(() => holderOf(/^provision/), 60_000, 'a provision step running on one of our workers');
  killed.kill('SIGKILL');
  await new Promise((r) => killed.once('exit', r));

  // Drain another one while it runs a job (or, if the jobs are past, whatever it holds).
  const drained = await waitFor(() => holderOf(/^runJob/), 60_000, 'a job running on a surviving worker');
  let out = '';
  drained.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((r) => drained.once('exit', (code) => r(code)));
  drained.kill('SIGTERM');

  const results = await Promise.all(handles.map(result));
  for (const [i, r] of results.entries()) {
    expect(r.outcome, ids[i]).toBe('completed');
    expect(r.status.jobs.map((j) => [j.state, j.attempts]), ids[i]).toEqual([['completed', 1]]);
    expect(r.status.jobs[0]!.result!.tasks.map((t) => t.stdout.trim())).toEqual(['done', 'done']);
  }
  expect(await exit, `the drained worker exits cleanly:\n${out}`).toBe(0);
  expect(out).toContain('fluxburst worker stopped');
  // Each burst's two nodes were made exactly once, across all the retries.
  const counts = createCounts(dir);
  expect(counts.size).toBe(8);
  expect([...counts.values()].every((n) => n === 1), JSON.stringify([...counts])).toBe(true);
  expect(ws.filter(alive)).toHaveLength(1);
  // A query on any burst is still answered by the one worker left (replay from history).
  expect((await handles[0]!.query(statusQuery)).phase).toBe('completed');
  await waitFor(() => (leftovers(dir).processes.length === 0 && leftovers(dir).dirs.length === 0) || undefined, 15_000, 'nothing left');
});
