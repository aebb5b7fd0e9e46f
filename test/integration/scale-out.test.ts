import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { address, client, input, job, leftovers, result, spawnWorker, start, uid, waitFor, workdir } from '../support/harness.js';

// Scale out: `fluxburst worker` processes on one task queue share the bursts, and a worker that
// gets SIGTERM (what compose, Kubernetes and systemd send) drains: it stops taking work but
// finishes the activities it runs, so a rolling restart neither loses nor repeats a job.

type W = ReturnType<typeof spawnWorker>;
const workers: W[] = [];
let c: Client;

async function newWorker(tq: string): Promise<W> {
  const w = spawnWorker(['--address', address(), '--task-queue', tq]);
  workers.push(w);
  await w.ready;
  return w;
}
const exited = (w: W) => w.exitCode !== null || w.signalCode !== null;
/** The SDK's default worker identity; history events name the worker by it. */
const identityOf = (w: W) => new RegExp(`(^|\\D)${w.pid}@`);

interface Ev {
  eventId?: unknown;
  eventType?: unknown;
  eventTime?: { seconds?: unknown; nanos?: number | null } | null;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  activityTaskStartedEventAttributes?: { scheduledEventId?: unknown; identity?: string | null; attempt?: number | null } | null;
  activityTaskCompletedEventAttributes?: { scheduledEventId?: unknown; identity?: string | null } | null;
}
const evMs = (e: Ev) => Number(String(e.eventTime?.seconds ?? 0)) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;

/** Each activity of a run: its type, who started it, which attempt, and whether/when it completed. */
async function activities(id: string) {
  const events = ((await c.workflow.getHandle(id).fetchHistory()).events ?? []) as Ev[];
  const acts = new Map<string, { type: string; startedBy?: string; attempt?: number; completedBy?: string; completedAt?: number }>();
  const other: string[] = [];
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes) acts.set(String(e.eventId), { type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?' });
    else if (e.activityTaskStartedEventAttributes) {
      const a = acts.get(String(e.activityTaskStartedEventAttributes.scheduledEventId))!;
      a.startedBy = e.activityTaskStartedEventAttributes.identity ?? '';
      a.attempt = e.activityTaskStartedEventAttributes.attempt ?? 1;
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = acts.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId))!;
      a.completedBy = e.activityTaskCompletedEventAttributes.identity ?? '';
      a.completedAt = evMs(e);
    } else if (/ACTIVITY_TASK_(TIMED_OUT|FAILED)/.test(String(e.eventType))) other.push(String(e.eventType));
  }
  return { acts: [...acts.values()], other };
}

beforeAll(async () => {
  c = await client();
});
afterAll(async () => {
  for (const w of workers) {
    if (exited(w)) continue;
    const gone = new Promise((r) => w.once('exit', r));
    w.kill('SIGKILL');
    await gone;
  }
  await c?.connection.close();
});

it('three workers on one task queue share six bursts', async () => {
  const tq = uid('tq-scale');
  const ws = await Promise.all([0, 1, 2].map(() => newWorker(tq)));
  const dir = workdir('scale');
  const ids = Array.from({ length: 6 }, (_, i) => uid(`scale-${i}`));
  const handles = await Promise.all(ids.map((id, i) => start(c, tq, id, input([job(`s${i}`, { command: ['sh', '-c', 'sleep 0.5; echo ok'] })], { workdir: dir }))));
  const results = await Promise.all(handles.map(result));
  for (const r of results) {
    expect(r.outcome).toBe('completed');
    expect(r.status.jobs[0]?.result?.tasks[0]?.stdout).toBe('ok\n');
  }

  const who = new Set<string>();
  for (const id of ids) for (const a of (await activities(id)).acts) who.add(a.startedBy!);
  const byWorker = ws.map((w) => [...who].filter((i) => identityOf(w).test(i)).length);
  // Only our three workers polled this queue, and the work did not all land on one of them.
  expect([...who].every((i) => ws.some((w) => identityOf(w).test(i))), `identities ${[...who].join(', ')}`).toBe(true);
  expect(byWorker.filter((n) => n > 0).length, `activities by worker ${byWorker.join('/')}`).toBeGreaterThan(1);
  await waitFor(() => leftovers(dir).processes.length === 0 || undefined, 10_000, 'node processes gone');
  for (const w of ws) {
    const gone = new Promise((r) => w.once('exit', r));
    w.kill('SIGTERM');
    await gone;
  }
});

it('a worker drained with SIGTERM finishes its running job before it exits; the burst completes on another worker', async () => {
  const tq = uid('tq-drain');
  const ws = await Promise.all([newWorker(tq), newWorker(tq)]);
  const dir = workdir('drain');
  const id = uid('drain');
  const h = await start(c, tq, id, input([job('d', { command: ['sh', '-c', 'sleep 3; echo drained'] })], { workdir: dir }));
  // The server knows which worker holds the job's activity while it runs (history only says so
  // once it closes): that worker is the one to drain.
  const holder = await waitFor(
    async () => {
      const d = await h.describe().catch(() => undefined);
      const run = d?.raw.pendingActivities?.find((p) => p.activityType?.name === 'runJobBatch' && p.lastWorkerIdentity);
      return run ? run.lastWorkerIdentity! : undefined;
    },
    30_000,
    'runJobBatch started',
  );
  const a = ws.find((w) => identityOf(w).test(holder));
  expect(a, `runJobBatch held by ${holder}, one of our workers`).toBeDefined();
  const b = ws.find((w) => w !== a)!;

  let aOut = '';
  a!.stdout!.on('data', (d: Buffer) => (aOut += d.toString()));
  const aExit = new Promise<{ code: number | null; at: number }>((r) => a!.once('exit', (code) => r({ code, at: Date.now() })));
  const sentAt = Date.now();
  a!.kill('SIGTERM');

  const r = await result(h);
  expect(r.outcome).toBe('completed');
  expect(r.status.jobs[0]?.state).toBe('completed');
  expect(r.status.jobs[0]?.result?.tasks[0]?.stdout).toBe('drained\n');
  expect(r.status.jobs[0]?.attempts, 'the job ran once, not again elsewhere').toBe(1);

  const exit = await aExit;
  expect(exit.code, `the drained worker exits cleanly:\n${aOut}`).toBe(0);
  expect(aOut).toContain('fluxburst worker stopped');

  const { acts, other } = await activities(id);
  expect(other, 'no activity timed out or failed').toEqual([]);
  const run = acts.filter((x) => x.type === 'runJobBatch');
  expect(run).toHaveLength(1);
  // The drained worker (draining, not dead) reported the job done, on the first attempt.
  expect(run[0]!.startedBy).toMatch(identityOf(a!));
  expect(run[0]!.attempt).toBe(1);
  expect(run[0]!.completedBy).toMatch(identityOf(a!));
  expect(run[0]!.completedAt!, 'the job finished after SIGTERM was sent').toBeGreaterThan(sentAt);
  expect(exit.at, 'it exited only once its activity had completed').toBeGreaterThanOrEqual(run[0]!.completedAt! - 50);
  // It took no new work while draining: what came after ran on the other worker.
  const teardown = acts.filter((x) => x.type === 'teardownStep');
  expect(teardown.length).toBeGreaterThan(0);
  for (const t of teardown) expect(t.startedBy).toMatch(identityOf(b));
  await waitFor(() => leftovers(dir).processes.length === 0 || undefined, 10_000, 'node processes gone');
});
