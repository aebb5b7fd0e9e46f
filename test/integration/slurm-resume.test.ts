import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliAsync } from '../support/harness.js';
import type { SlurmNodesStatus } from '../../workflows/messages.js';
import { CLI, address, client, createCounts, leftovers, startWorker, uid, waitFor, workdir } from '../support/harness.js';
import { powerSaveWrappers, type Slurm, startSlurm, stopMunge } from '../../testkit/slurm/local-cluster.js';

// The whole power-save loop on a real slurmctld: a job in the cloud partition → slurmctld runs
// ResumeProgram (fluxburst) → a workflow provisions local nodes, registers them and starts their
// slurmd → the job runs there → after SuspendTime, SuspendProgram → teardown, nothing left.
const TQ = uid('tq-slurm');
const name = `s${Date.now().toString(36)}`;
let w: Awaited<ReturnType<typeof startWorker>>;
let slurm: Slurm;
let nodes: string;
const dir = workdir('slurmres');


beforeAll(async () => {
  nodes = workdir('slurm');
  writeFileSync(join(dir, 'fb.yaml'), `name: ${name}\nowner: slurmtest\ntargets:\n  - plugin: local\n    params: { workdir: ${nodes} }\ntemporal: { taskQueue: ${TQ} }\n`);
  w = await startWorker(TQ);
  slurm = await startSlurm({ cloudNodes: 2, ...powerSaveWrappers(dir, { cli: CLI, env: { TEMPORAL_ADDRESS: address(), FLUXBURST_CONFIG: join(dir, 'fb.yaml') } }), suspendTime: 5, resumeTimeout: 20 });
  writeFileSync(join(dir, 'conf-path'), slurm.conf);
}, 120_000);

// Registered first, so it runs last: this file's munged outlives every Slurm it served, then stops.
afterAll(() => stopMunge());
afterAll(async () => {
  await slurm?.stop();
  await w?.stop();
});

/** What a failed wait needs to be understood: the job, the nodes, our programs' logs, slurmctld's log. */
function diagnose(id: string): void {
  const out = [spawnSync('/usr/bin/scontrol', ['show', 'job', id], { env: { ...process.env, ...slurm.env }, encoding: 'utf8' }).stdout, slurm.sinfo(['-N', '-h', '-o', '%N|%T|%E'])];
  for (const f of ['resume.log', 'resume-fail.log', 'suspend.log']) out.push(`${f}:\n${existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '(none)'}`);
  out.push(slurm.log().split('\n').slice(-60).join('\n'));
  process.stderr.write(`${out.join('\n')}\n`);
}

const jobState = (id: string) => {
  const jobs = (JSON.parse(slurm.squeue()) as { jobs: { job_id: number; job_state: string }[] }).jobs;
  return jobs.find((j) => String(j.job_id) === id)?.job_state;
};

it('a cloud job resumes nodes through a burst, runs there, and the nodes are torn down after SuspendTime', async () => {
  const out = join(dir, 'job.out');
  const id = slurm.sbatch(`#!/bin/sh\necho "ran on $SLURMD_NODENAME" > ${out}\n`, 'cloud');
  await waitFor(() => (jobState(id) === 'COMPLETED' ? true : undefined), 90_000, `job ${id} completed`);

  const c = await client();
  const wf = c.workflow.getHandle(`slurm-${name}-cloud1`);
  const d = await wf.describe();
  expect(d.type).toBe('slurmNodesWorkflow');
  // The node came from a local agent, made once, and the job ran on it.
  expect([...createCounts(nodes).entries()]).toEqual([[`slurm-${name}-cloud1/cloud1`, 1]]);

  // SuspendTime later, SuspendProgram releases the node and the workflow tears it down.
  const r = (await wf.result()) as SlurmNodesStatus;
  expect(r.phase).toBe('completed');
  expect(r.released).toEqual(['cloud1']);
  expect(leftovers(nodes)).toEqual({ processes: [], dirs: [] });
  // Powered down (or powering down: `%`) again, ready for the next job.
  expect(slurm.sinfo(['-N', '-h', '-o', '%N %T', '-n', 'cloud1']).trim()).toMatch(/^cloud1 idle[~%]?$/);
}, 150_000);

const config = (params: string) =>
  writeFileSync(join(dir, 'fb.yaml'), `name: ${name}\nowner: slurmtest\ntargets:\n  - plugin: local\n    params: { workdir: ${nodes}${params} }\ntemporal: { taskQueue: ${TQ} }\n`);
const flags = () => ['--address', address(), '--config', join(dir, 'fb.yaml'), '--slurm-conf', slurm.conf];

it('provisioning fails: the node goes DOWN with the cause at once, the job is requeued, and runs once capacity works again', async () => {
  config(', fault: { step: provision }');
  const id = slurm.sbatch('#!/bin/sh\ntrue\n', 'cloud');
  const started = Date.now();
  const reason = await waitFor(() => {
    const line = slurm.sinfo(['-N', '-h', '-R', '-o', '%N|%T|%E']).split('\n').find((l) => l.includes('fluxburst'));
    return line;
  }, 60_000, 'a node DOWN with a fluxburst reason');
  // Fail fast: well before ResumeTimeout (20 s here), with the cause in the reason.
  expect(Date.now() - started).toBeLessThan(20_000);
  expect(reason).toMatch(/^cloud\d\|down.*\|fluxburst: .*injected fault at provision/);
  expect(jobState(id)).toMatch(/PENDING|CONFIGURING/); // requeued, not lost
  expect(leftovers(nodes).processes).toEqual([]); // the failed attempt left nothing
  // Capacity works again. At ResumeTimeout slurmctld calls ResumeFailProgram, which powers the
  // node down (idle~); the requeued job, eligible again (slurmctld 22.05 holds a requeued job
  // back ~120 s: EligibleTime = requeue + 2 min), resumes a node and runs.
  config('');
  try {
    await waitFor(() => (jobState(id) === 'COMPLETED' ? true : undefined), 280_000, `requeued job ${id} completed`);
  } finally {
    if (jobState(id) !== 'COMPLETED') {
      diagnose(id);
      spawnSync('/usr/bin/scancel', [id], { env: { ...process.env, ...slurm.env } });
    }
  }
  const log = readFileSync(join(dir, 'resume-fail.log'), 'utf8');
  expect(log).toMatch(/powered down, ready for the next resume/);
  await waitFor(() => (leftovers(nodes).processes.length === 0 ? true : undefined), 60_000, 'nodes torn down after SuspendTime');
}, 400_000);

it('resume twice for the same nodes makes one burst; suspend for nodes no burst holds succeeds', async () => {
  const first = await cliAsync(['slurm', 'resume', 'cloud2', ...flags()]);
  expect(first.stderr).toBe('');
  const second = await cliAsync(['slurm', 'resume', 'cloud2', ...flags()]);
  expect(first.stdout).toMatch(/resume cloud2: (started|already coming up)/);
  expect(second.stdout).toBe('resume cloud2: already coming up\n');
  const c = await client();
  const h = c.workflow.getHandle(`slurm-${name}-cloud2`);
  await waitFor(async () => ((await h.describe()).status.name === 'RUNNING' ? true : undefined), 30_000, 'resume workflow running');
  // Another cluster (another config) has a `cloud2` too: its SuspendProgram must not touch ours.
  const other = join(dir, 'other.yaml');
  writeFileSync(other, `name: other${name}\nowner: slurmtest\ntargets:\n  - plugin: local\n    params: { workdir: ${nodes} }\ntemporal: { taskQueue: ${TQ} }\n`);
  const foreign = await cliAsync(['slurm', 'suspend', 'cloud2', '--address', address(), '--config', other, '--slurm-conf', slurm.conf]);
  expect(foreign.stdout).toBe('suspend cloud2: nothing holds these nodes\n');
  expect((await h.describe()).status.name).toBe('RUNNING');
  const s1 = await cliAsync(['slurm', 'suspend', 'cloud2', ...flags()]);
  expect(s1.stdout).toBe('suspend cloud2: released from 1 burst(s)\n');
  await h.result();
  const s2 = await cliAsync(['slurm', 'suspend', 'cloud[2-9]', ...flags()]);
  expect(s2.code).toBe(0);
  expect(s2.stdout).toBe('suspend cloud[2-9]: nothing holds these nodes\n');
  expect(leftovers(nodes)).toEqual({ processes: [], dirs: [] });
}, 120_000);
