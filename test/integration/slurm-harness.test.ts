// The Slurm test harness itself (testkit/slurm/local-cluster.ts) on the real Slurm 22.05: a static node
// runs jobs, a job for the cloud partition makes slurmctld call the ResumeProgram with the
// node's name and SLURM_RESUME_FILE, and stop() leaves no process behind (not even one the
// ResumeProgram detached, which slurmctld started with a bare environment).
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { processesWithEnv } from '../../src/plugins/local/layout.js';
import { MARKER_ENV, startSlurm, stopMunge } from '../../testkit/slurm/local-cluster.js';

const work = mkdtempSync(join(tmpdir(), 'fb-slurm-harness-'));
afterAll(async () => {
  await stopMunge();
  rmSync(work, { recursive: true, force: true });
});

async function until<T>(what: string, f: () => T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Processes whose command line mentions `text` (the harness's conf path). */
function processesMentioning(text: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(text)) out.push(`${e}: ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

it('runs jobs on the static node, calls the ResumeProgram for cloud nodes, and cleans up', async () => {
  const calls = join(work, 'resume.log');
  // The ResumeProgram leaves a detached process behind (as one starting slurmd would): stop() ends it.
  const LONG = 6000 + Math.floor(Math.random() * 1000);
  const resume = join(work, 'resume.sh');
  writeFileSync(resume, `#!/bin/sh\n{ echo "args=$*"; echo "file=$(cat "$SLURM_RESUME_FILE")"; } >> ${calls}\nsetsid sleep ${LONG} </dev/null >/dev/null 2>&1 &\n`);
  chmodSync(resume, 0o755);

  const t0 = Date.now();
  const s = await startSlurm({ cloudNodes: 2, resumeProgram: resume, resumeTimeout: 30 });
  const started = Date.now() - t0;
  let conf = '';
  try {
    conf = s.conf;
    expect(s.sinfo().trim().split('\n')).toEqual(['cloud1 idle~', 'cloud2 idle~', expect.stringMatching(/^static1 unk/)]);
    await s.startSlurmd('static1');
    await until('static1 idle', () => /static1 idle\n/.test(s.sinfo()));
    const idle = Date.now() - t0;

    const done = s.sbatch('echo hi', 'static');
    await until('job COMPLETED', () => s.scontrol(['show', 'job', done]).includes('JobState=COMPLETED'));
    const running = s.sbatch('sleep 300', 'static'); // still running at stop(): stop() must end it
    await until('job RUNNING', () => s.scontrol(['show', 'job', running]).includes('JobState=RUNNING'));

    const ran = Date.now() - t0;
    const cloudJob = s.sbatch('true', 'cloud');
    const submitted = Date.now();
    const lines = await until('ResumeProgram call', () => existsSync(calls) && readFileSync(calls, 'utf8').trim().split('\n'));
    const resumed = Date.now() - submitted;
    expect(lines[0]).toBe('args=cloud1');
    await until('the detached process', () => processesMentioning(`sleep ${LONG}`).length > 0);
    expect(JSON.parse(lines[1]!.slice('file='.length))).toEqual({ jobs: [{ job_id: Number(cloudJob), nodes: 'cloud1' }], all_nodes: 'cloud1' });
    // squeue --json sees all of them, whatever their state
    const states = (JSON.parse(s.squeue()).jobs as Array<{ job_id: number; job_state: string }>).map((j) => [String(j.job_id), j.job_state]);
    expect(states).toEqual(expect.arrayContaining([[done, 'COMPLETED'], [running, 'RUNNING']]));
    expect(processesWithEnv(MARKER_ENV, s.dir).length).toBeGreaterThan(0);
    console.log(`slurmctld answered ${started} ms, static1 idle ${idle} ms, jobs ran ${ran} ms, submit→ResumeProgram ${resumed} ms`);
  } finally {
    const t1 = Date.now();
    await s.stop();
    console.log(`stop() ${Date.now() - t1} ms`);
  }
  expect(processesWithEnv(MARKER_ENV, s.dir)).toEqual([]);
  expect(processesMentioning(conf)).toEqual([]);
  expect(processesMentioning(`sleep ${LONG}`)).toEqual([]);
  expect(existsSync(s.dir)).toBe(false);
});
