import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { slurmNodesQuery, type SlurmNodesStatus } from '../../workflows/messages.js';
import { CLI, address, client, createCounts, leftovers, spawnWorker, uid, waitFor, workdir } from '../support/harness.js';
import { powerSaveWrappers, type Slurm, startSlurm, stopMunge } from '../../testkit/slurm/local-cluster.js';

// The worker dies (SIGKILL) while the resumed node boots: the workflow resumes on a new worker,
// the node is made once, and the Slurm job still runs and completes.
const TQ = uid('tq-slurmkill');
const name = `k${Date.now().toString(36)}`;
const dir = workdir('slurmkill');
const workers: ReturnType<typeof spawnWorker>[] = [];
let slurm: Slurm;
let nodes: string;


const newWorker = async () => {
  const w = spawnWorker(['--address', address(), '--task-queue', TQ]);
  workers.push(w);
  await w.ready;
  return w;
};

beforeAll(async () => {
  nodes = workdir('slurmkill');
  // Slow provisioning (2 s) with a short heartbeat timeout: the kill lands mid-boot and the retry comes fast.
  writeFileSync(
    join(dir, 'fb.yaml'),
    `name: ${name}\nowner: slurmkill\ntargets:\n  - plugin: local\n    params: { workdir: ${nodes}, latencyMs: 2000 }\ntimeouts: { heartbeatSeconds: 3 }\ntemporal: { taskQueue: ${TQ} }\n`,
  );
  slurm = await startSlurm({ cloudNodes: 1, ...powerSaveWrappers(dir, { cli: CLI, env: { TEMPORAL_ADDRESS: address(), FLUXBURST_CONFIG: join(dir, 'fb.yaml') } }), suspendTime: 5, resumeTimeout: 90 });
  writeFileSync(join(dir, 'conf-path'), slurm.conf);
}, 120_000);

// Registered first, so it runs last: this file's munged outlives every Slurm it served, then stops.
afterAll(() => stopMunge());
afterAll(async () => {
  await slurm?.stop();
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
});

it('a worker SIGKILLed while the node boots: the burst resumes, the node is made once, the job completes', async () => {
  let w = await newWorker();
  const out = join(dir, 'job.out');
  const id = slurm.sbatch(`#!/bin/sh\necho "ran on $SLURMD_NODENAME" > ${out}\n`, 'cloud');
  const c = await client();
  const h = c.workflow.getHandle(`slurm-${name}-cloud1`);
  await waitFor(async () => ((await h.query(slurmNodesQuery).catch(() => undefined))?.phase === 'provision' ? true : undefined), 60_000, 'node provisioning');
  w.kill('SIGKILL');
  await new Promise((r) => w.once('exit', r));
  w = await newWorker();

  const jobs = () => (JSON.parse(slurm.squeue()) as { jobs: { job_id: number; job_state: string }[] }).jobs;
  try {
    await waitFor(() => (jobs().find((j) => String(j.job_id) === id)?.job_state === 'COMPLETED' ? true : undefined), 180_000, `job ${id} completed`);
  } catch (e) {
    // Under a loaded CI run this once timed out; say what Slurm and the workflow were doing.
    const st = await h.query(slurmNodesQuery).catch((x: unknown) => String(x));
    const hist = await h.fetchHistory().catch(() => undefined);
    const events = (hist?.events ?? []).map((ev) => `${ev.eventId} ${ev.eventType} ${ev.eventTime?.seconds ?? ''}`);
    const logs = ['resume.log', 'suspend.log', 'resume-fail.log'].map((f) => `${f}: ${existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '(none)'}`);
    process.stderr.write(`${JSON.stringify(st)}\n${events.join('\n')}\n${logs.join('\n')}\n${slurm.sinfo(['-N', '-h', '-o', '%N|%T|%E'])}\n${slurm.log().split('\n').slice(-50).join('\n')}\n`);
    throw e;
  }
  const r = (await h.result()) as SlurmNodesStatus;
  expect(r.phase).toBe('completed');
  expect([...createCounts(nodes).values()]).toEqual([1]);
  expect(leftovers(nodes)).toEqual({ processes: [], dirs: [] });
}, 300_000);
