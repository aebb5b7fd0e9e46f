import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BurstResult, BurstStatus } from '../../src/core/types.js';
import { type WatchStatus, statusQuery, watchStatusQuery } from '../../workflows/messages.js';
import { address, cliAsync, client, leftovers, spawnWorker, uid, waitFor, workdir } from '../support/harness.js';

// Watch mode end to end on the real dev server: a worker as a child process (so it can be
// SIGKILLed), the watcher started and stopped through the CLI, jobs appearing in the watched file
// over time. Every burstable job must get exactly one burst, whatever restarts happen.

const TQ = uid('tq-watch');
const workers: ReturnType<typeof spawnWorker>[] = [];
async function newWorker() {
  const w = spawnWorker(['--address', address(), '--task-queue', TQ]);
  workers.push(w);
  await w.ready;
  return w;
}
async function kill(w: ReturnType<typeof spawnWorker>) {
  if (w.exitCode !== null || w.signalCode !== null) return;
  const exited = new Promise((r) => w.once('exit', r));
  w.kill('SIGKILL');
  await exited;
}
const alive = () => workers.filter((w) => w.exitCode === null && w.signalCode === null);

let c: Client;
beforeAll(async () => {
  c = await client();
});
const watchers: string[] = [];
afterAll(async () => {
  // A test that failed half-way leaves its watcher open: end it, so nothing keeps scanning.
  for (const id of watchers) await c?.workflow.getHandle(id).terminate('test over').catch(() => undefined);
  for (const w of workers) await kill(w);
  await c?.connection.close();
});

interface Spec {
  id: string;
  burstable?: boolean;
  nodes?: number;
  gpusPerNode?: number;
  sleep?: number;
}
/** Rewrite the jobs file in one step (write + rename), so a scan never reads half a file. */
function writeJobs(file: string, jobs: Spec[]): void {
  const lines = jobs.map((j) =>
    `- ${JSON.stringify({
      id: j.id,
      command: ['sh', '-c', `sleep ${j.sleep ?? 0}; echo done-${j.id}`],
      nodes: j.nodes ?? 1,
      ...(j.gpusPerNode ? { gpusPerNode: j.gpusPerNode } : {}),
      burstable: j.burstable ?? true,
    })}`,
  );
  writeFileSync(`${file}.tmp`, `${lines.join('\n')}\n`);
  renameSync(`${file}.tmp`, file);
}

function setup(tag: string) {
  const dir = workdir(`watch-${tag}`);
  const nodes = workdir(`watch-${tag}`);
  const name = uid(`w${tag}`).slice(0, 32).replace(/-$/, '');
  const owner = uid(`watch-owner-${tag}`);
  const cfg = join(dir, 'fb.yaml');
  writeFileSync(
    cfg,
    [
      `name: ${name}`,
      `owner: ${owner}`,
      // Short heartbeats: work on a killed worker moves to the next one within seconds.
      'timeouts: {stepSeconds: 30, heartbeatSeconds: 2, jobSeconds: 60}',
      'targets:',
      `  - {plugin: local, params: {workdir: ${nodes}}}`,
      '',
    ].join('\n'),
  );
  const jobs = join(dir, 'jobs.yaml');
  const flags = ['--address', address(), '--task-queue', TQ, '--config', cfg];
  watchers.push(`${name}-watch`);
  return { dir, nodes, name, owner, cfg, jobs, flags, watchId: `${name}-watch` };
}

async function watchStatus(id: string): Promise<WatchStatus | undefined> {
  return c.workflow.getHandle(id).query(watchStatusQuery).catch(() => undefined);
}
async function burstPhase(id: string): Promise<BurstStatus['phase'] | undefined> {
  return (await c.workflow.getHandle(id).query(statusQuery).catch(() => undefined))?.phase;
}

/** The bursts of an owner, as the server's visibility lists them (waits for `expected` of them). */
async function burstsOf(owner: string, expected: number): Promise<string[]> {
  return waitFor(
    async () => {
      const ids: string[] = [];
      for await (const w of c.workflow.list({ query: `WorkflowType = 'burstWorkflow' AND FluxburstOwner = '${owner}'` })) ids.push(w.workflowId);
      return ids.length >= expected ? ids.sort() : undefined;
    },
    20_000,
    `${expected} burst(s) of ${owner} listed`,
  );
}

/** Each burst's result; job ids per burst from its final status. */
async function results(ids: string[]): Promise<Map<string, BurstResult>> {
  const out = new Map<string, BurstResult>();
  await Promise.all(ids.map(async (id) => out.set(id, (await c.workflow.getHandle(id).result()) as BurstResult)));
  return out;
}

/** How many bursts each job id appears in. */
function jobCounts(rs: Map<string, BurstResult>): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rs.values()) for (const j of r.status.jobs) m.set(j.id, (m.get(j.id) ?? 0) + 1);
  return m;
}

it('jobs added over time each get exactly one burst, across a worker SIGKILL; watch --stop ends the watcher', async () => {
  const t = setup('kill');
  if (alive().length === 0) await newWorker();

  // First batch: two burstable jobs, one that stays home, one nothing can take.
  let jobs: Spec[] = [{ id: 'b1', sleep: 2 }, { id: 'b2', sleep: 2, nodes: 2 }, { id: 'h1', burstable: false }, { id: 'gpu', gpusPerNode: 1 }];
  writeJobs(t.jobs, jobs);
  const started = await cliAsync(['watch', '--jobs', t.jobs, '--interval', '1', ...t.flags]);
  expect(started.stderr).toBe('');
  expect(started.code).toBe(0);
  expect(started.stdout).toContain(`watching ${t.jobs} every 1s as ${t.watchId}`);

  // Starting it again does not start a second watcher.
  const again = await cliAsync(['watch', '--jobs', t.jobs, '--interval', '1', '--json', ...t.flags]);
  expect(again.code).toBe(0);
  expect(JSON.parse(again.stdout)).toMatchObject({ watcher: t.watchId, started: false });

  await waitFor(async () => ((await watchStatus(t.watchId))?.seen === 2 ? true : undefined), 30_000, 'first batch seen');

  // Second batch while the first bursts run.
  jobs = [...jobs, { id: 'b3', sleep: 3 }, { id: 'h2', burstable: false }, { id: 'b4', sleep: 3, nodes: 2 }];
  writeJobs(t.jobs, jobs);
  const s2 = await waitFor(async () => {
    const s = await watchStatus(t.watchId);
    return s && s.seen === 4 ? s : undefined;
  }, 30_000, 'second batch seen');

  // Kill the worker mid-way: bursts are provisioning or running (every call in flight heartbeats),
  // and the watcher has just finished a scan (so no scan is lost in flight).
  await waitFor(async () => {
    const phases = await Promise.all(s2.started.map(burstPhase));
    return phases.every((p) => p && !['pending', 'select', 'plan'].includes(p)) && phases.some((p) => p === 'run' || p === 'join' || p === 'provision') ? true : undefined;
  }, 30_000, 'bursts past planning');
  const scans = (await watchStatus(t.watchId))!.scans;
  await waitFor(async () => ((await watchStatus(t.watchId))!.scans > scans ? true : undefined), 10_000, 'a fresh scan');
  for (const w of alive()) await kill(w);

  // Jobs keep arriving while no worker runs; then a new worker picks everything up.
  jobs = [...jobs, { id: 'b5', sleep: 1 }, { id: 'h3', burstable: false }, { id: 'b6' }];
  writeJobs(t.jobs, jobs);
  await newWorker();
  const final = await waitFor(async () => {
    const s = await watchStatus(t.watchId);
    return s && s.seen === 6 ? s : undefined;
  }, 45_000, 'third batch seen');
  // A few more scans with nothing new: still nothing started twice.
  await waitFor(async () => ((await watchStatus(t.watchId))!.scans >= final.scans + 2 ? true : undefined), 15_000, 'two more scans');

  const status = await cliAsync(['watch-status', '--json', ...t.flags]);
  expect(status.code).toBe(0);
  const ws = JSON.parse(status.stdout) as WatchStatus;
  expect(ws.seen).toBe(6);
  expect(ws.unfit).toEqual([{ jobId: 'gpu', reason: expect.stringMatching(/^no target fits: local: needs 1 GPU\(s\) per node/) }]);
  expect(new Set(ws.started).size).toBe(ws.started.length);

  // What the server holds for this owner: exactly the bursts the watcher started, all completed.
  const ids = await burstsOf(t.owner, ws.started.length);
  expect(ids).toEqual([...ws.started].sort());
  const rs = await results(ids);
  for (const [id, r] of rs) {
    expect(r.outcome, id).toBe('completed');
    expect(r.status.jobs.every((j) => j.state === 'completed' && j.result?.exitCode === 0), id).toBe(true);
    for (const j of r.status.jobs) expect(j.result!.tasks[0]!.stdout.trim()).toBe(`done-${j.id}`);
  }
  const counts = jobCounts(rs);
  expect(Object.fromEntries(counts)).toEqual({ b1: 1, b2: 1, b3: 1, b4: 1, b5: 1, b6: 1 });
  for (const home of ['h1', 'h2', 'h3', 'gpu']) expect(counts.has(home)).toBe(false);
  // Pooled per scan: at least one burst per batch, never more bursts than jobs.
  expect(ids.length).toBeGreaterThanOrEqual(3);
  expect(ids.length).toBeLessThanOrEqual(6);
  for (const id of ids) expect(id).toMatch(new RegExp(`^${t.name}-\\dn-[0-9a-f]{8}$`));

  await waitFor(() => {
    const l = leftovers(t.nodes);
    return l.processes.length === 0 && l.dirs.length === 0 ? true : undefined;
  }, 15_000, 'no leftovers');
  expect(leftovers(t.nodes)).toEqual({ processes: [], dirs: [] });

  // Stop: the watcher's workflow completes, saying it was stopped.
  const stop = await cliAsync(['watch', '--stop', ...t.flags]);
  expect(stop.code).toBe(0);
  expect(stop.stdout).toBe(`stop sent to ${t.watchId}\n`);
  const end = (await c.workflow.getHandle(t.watchId).result()) as WatchStatus;
  expect(end.stopping).toBe(true);
  expect(end.seen).toBe(6);
  expect((await c.workflow.getHandle(t.watchId).describe()).status.name).toBe('COMPLETED');
  // Stopping a watcher that is no longer running says so.
  const stopped = await cliAsync(['watch', '--stop', ...t.flags]);
  expect(stopped.code).toBe(1);
  expect(stopped.stderr).toContain(`no watcher "${t.watchId}" running`);
}, 90_000);

it('watch --once does a single scan; a second --once starts nothing new for the same jobs', async () => {
  const t = setup('once');
  if (alive().length === 0) await newWorker();
  writeJobs(t.jobs, [{ id: 'o1' }, { id: 'o2', nodes: 2 }, { id: 'home', burstable: false }]);

  const r = await cliAsync(['watch', '--once', '--json', '--jobs', t.jobs, '--interval', '1', ...t.flags]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as WatchStatus & { watcher: string; url: string };
  expect(out.watcher).toBe(t.watchId);
  expect(out.scans).toBe(1);
  expect(out.seen).toBe(2);
  expect(out.unfit).toEqual([]);
  expect(out.started).toHaveLength(1); // pooled: both jobs in one 2-node burst
  expect(out.started[0]).toMatch(new RegExp(`^${t.name}-2n-[0-9a-f]{8}$`));
  expect((await c.workflow.getHandle(t.watchId).describe()).status.name).toBe('COMPLETED');

  const [id] = await burstsOf(t.owner, 1);
  expect(id).toBe(out.started[0]);
  const rs = await results([id!]);
  expect(rs.get(id!)!.outcome).toBe('completed');
  expect(rs.get(id!)!.status.jobs.map((j) => [j.id, j.state])).toEqual([
    ['o1', 'completed'],
    ['o2', 'completed'],
  ]);

  // A fresh watcher forgets what the last one saw, but the burst id comes from the jobs: the
  // finished burst is not run again.
  const second = await cliAsync(['watch', '--once', '--json', '--jobs', t.jobs, '--interval', '1', ...t.flags]);
  expect(second.code).toBe(0);
  const out2 = JSON.parse(second.stdout) as WatchStatus;
  expect(out2.scans).toBe(1);
  expect(out2.started).toEqual([]);
  expect(out2.seen).toBe(2);
  expect(await burstsOf(t.owner, 1)).toEqual([id]);

  await waitFor(() => {
    const l = leftovers(t.nodes);
    return l.processes.length === 0 && l.dirs.length === 0 ? true : undefined;
  }, 15_000, 'no leftovers');

  // The plain text form.
  const third = await cliAsync(['watch', '--once', '--jobs', t.jobs, ...t.flags]);
  expect(third.code).toBe(0);
  expect(third.stdout).toBe('scan done: 0 burst(s) started\n');
}, 90_000);

// A fresh run of the watcher (each --once is one) starts from the seen set the last run returned,
// so a new job next to jobs that already ran gets a burst of its own; the old ones do not run again.
it('a fresh watcher --once with a new job next to already-burst ones bursts only the new job', async () => {
  const t = setup('gap');
  if (alive().length === 0) await newWorker();
  writeJobs(t.jobs, [{ id: 'o1' }, { id: 'o2', nodes: 2 }]);
  const first = await cliAsync(['watch', '--once', '--jobs', t.jobs, ...t.flags]);
  expect(first.stdout).toBe('scan done: 1 burst(s) started\n');
  await results(await burstsOf(t.owner, 1));

  writeJobs(t.jobs, [{ id: 'o1' }, { id: 'o2', nodes: 2 }, { id: 'o3' }]);
  const second = await cliAsync(['watch', '--once', '--jobs', t.jobs, ...t.flags]);
  expect(second.code).toBe(0);
  const ids = await burstsOf(t.owner, 2);
  expect(ids).toHaveLength(2);
  const counts = jobCounts(await results(ids)); // every burst has completed (and torn down)
  expect(Object.fromEntries(counts)).toEqual({ o1: 1, o2: 1, o3: 1 });
}, 90_000);
