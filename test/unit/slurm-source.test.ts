import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gpusIn, parseSqueueJson, readSlurmJobs, SlurmCommandError } from '../../src/jobs/slurm-source.js';
import { readSource } from '../../src/jobs/sources.js';
import { isBurstable } from '../../src/select/selectors.js';
import { startSlurm, stopMunge } from '../../testkit/slurm/local-cluster.js';
import { thrown } from '../support/errors.js';

/** Real `squeue --json` of Slurm 22.05.8 (test/fixtures/slurm/capture.ts made it from the harness). */
const FIXTURE = readFileSync(join(import.meta.dirname, '../fixtures/slurm/squeue-22.05.json'), 'utf8');

const work = mkdtempSync(join(tmpdir(), 'fluxburst-slurm-src-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const slurmError = (f: () => unknown): SlurmCommandError => thrown(SlurmCommandError, f);

describe('parseSqueueJson on real Slurm 22.05 output', () => {
  const jobs = parseSqueueJson(FIXTURE);

  it('keeps pending, not held jobs only (squeue --json lists completed and running ones too)', () => {
    const all = JSON.parse(FIXTURE).jobs as Array<{ job_id: number; job_state: string }>;
    expect(all.map((j) => j.job_state)).toEqual(expect.arrayContaining(['COMPLETED', 'RUNNING', 'PENDING']));
    expect(jobs.map((j) => j.name)).toEqual(['waiting', 'exclusive', 'gpu-job', 'mpi']);
  });

  it('normalises each field', () => {
    const [waiting, exclusive, gpu, mpi] = jobs;
    expect(waiting).toMatchObject({ id: '3', user: 'root', queue: 'static', nodes: 1, tasks: 1, coresPerNode: 1, memoryMiB: 64, walltimeSeconds: 7200 });
    expect(waiting!.exclusive).toBeUndefined();
    expect(waiting!.command[0]).toMatch(/\.sh$/);
    expect(exclusive).toMatchObject({ id: '4', exclusive: true, walltimeSeconds: 86400 });
    // -N 2 --ntasks-per-node=2 -c 2 --gres=gpu:2 --mem-per-cpu=1000 -t 45
    expect(gpu).toMatchObject({ id: '5', queue: 'gpu', nodes: 2, tasks: 4, coresPerNode: 4, gpusPerNode: 2, memoryMiB: 4000, walltimeSeconds: 2700 });
    // -n 12 on 8-CPU nodes: Slurm chose 2 nodes
    expect(mpi).toMatchObject({ id: '6', nodes: 2, tasks: 12, coresPerNode: 6 });
    expect(mpi!.walltimeSeconds).toBeUndefined();
    expect(mpi!.gpusPerNode).toBeUndefined();
  });

  it('marks burstable by comment (burstable / fluxburst) or by partition', () => {
    const burstable = (js: typeof jobs) => js.filter((j) => (j.attributes.system as Record<string, unknown>).burstable === 1).map((j) => j.name);
    expect(burstable(jobs)).toEqual(['waiting', 'gpu-job']);
    expect(burstable(parseSqueueJson(FIXTURE, { partitions: ['gpu'] }))).toEqual(['waiting', 'gpu-job', 'mpi']);
    // and the burstable selector agrees
    expect(jobs.filter(isBurstable).map((j) => j.name)).toEqual(['waiting', 'gpu-job']);
  });

  it('keeps what Slurm said under attributes.system.slurm', () => {
    expect(jobs[1]!.attributes).toMatchObject({ system: { queue: 'static', slurm: { state: 'PENDING', reason: 'Resources' } } });
    expect(jobs[2]!.attributes).toMatchObject({ system: { slurm: { tresPerNode: 'gres:gpu:2', comment: 'fluxburst' } } });
  });
});

describe('parseSqueueJson odd cases', () => {
  const rec = (over: Record<string, unknown>) => ({ job_id: 9, name: 'x', job_state: 'PENDING', ...over });
  const one = (over: Record<string, unknown>) => parseSqueueJson(JSON.stringify({ jobs: [rec(over)] }));

  it('an empty queue', () => {
    expect(parseSqueueJson('{"meta":{},"errors":[],"jobs":[]}')).toEqual([]);
  });

  it('nulls, NO_VAL and missing fields fall back to sane defaults', () => {
    expect(one({ node_count: null, tasks: null, time_limit: 4294967295, memory_per_node: 0xfffffffe, user_name: null })).toEqual([
      { id: '9', name: 'x', nodes: 1, tasks: 1, command: [], attributes: { system: { queue: '', slurm: { state: 'PENDING', reason: '', comment: '' } } } },
    ]);
    expect(one({ name: '' })[0]!.name).toBe('9');
  });

  it('GPUs from tres_per_node or tres_per_job, typed or not', () => {
    expect(gpusIn('gres:gpu:2')).toBe(2);
    expect(gpusIn('gres/gpu:a100:4')).toBe(4);
    expect(gpusIn('gres:gpu')).toBe(1);
    expect(gpusIn('gres:license:1,gres:gpu:tesla:3')).toBe(3);
    expect(gpusIn('')).toBe(0);
    expect(one({ node_count: 2, tres_per_job: 'gres:gpu:6' })[0]!.gpusPerNode).toBe(3);
  });

  it('comment words: burstable counts, "nonburstable" does not', () => {
    const b = (comment: string) => (one({ comment })[0]!.attributes.system as Record<string, unknown>).burstable;
    expect(b('please BURSTABLE')).toBe(1);
    expect(b('fluxburst,gpu')).toBe(1);
    expect(b('nonburstable')).toBeUndefined();
  });

  it('multi-partition jobs: burstable when any partition is listed', () => {
    const j = parseSqueueJson(JSON.stringify({ jobs: [rec({ partition: 'a,cloud' })] }), { partitions: ['cloud'] })[0]!;
    expect(j.queue).toBe('a,cloud');
    expect((j.attributes.system as Record<string, unknown>).burstable).toBe(1);
  });

  it('malformed output names the command and the field', () => {
    expect(slurmError(() => parseSqueueJson('')).message).toMatch(/squeue --json.*\n.*no output/);
    expect(slurmError(() => parseSqueueJson('squeue: error: Invalid user')).message).toMatch(/not JSON/);
    expect(slurmError(() => parseSqueueJson('[]')).code).toBe('SlurmOutputInvalid');
    const e = slurmError(() => parseSqueueJson(JSON.stringify({ jobs: [rec({}), { job_id: 'x', job_state: 'PENDING' }, rec({ node_count: 'two' })] })));
    expect(e.issues.map((i) => i.path)).toEqual(['jobs[1].job_id', 'jobs[2].node_count']);
    expect(e.retryable).toBe(false);
  });
});

describe('readSlurmJobs runs squeue', () => {
  it('a missing squeue is SlurmNotFound; a failing one is retryable', async () => {
    await expect(readSlurmJobs({ squeue: join(work, 'nope') })).rejects.toMatchObject({ code: 'SlurmNotFound' });
    const failing = join(work, 'squeue-fail');
    writeFileSync(failing, '#!/bin/sh\necho "slurm_load_jobs error: Unable to contact slurm controller" >&2\nexit 1\n');
    chmodSync(failing, 0o755);
    await expect(readSlurmJobs({ squeue: failing })).rejects.toMatchObject({ code: 'SlurmCommandFailed', retryable: true, message: expect.stringMatching(/Unable to contact/) });
  });

  it('against a real slurmctld, through readSource', async () => {
    const s = await startSlurm({ cloudNodes: 1 });
    try {
      const id = s.sbatch('sleep 60', 'static', ['-J', 'later', '--begin=now+3600', '--comment=burstable', '-t', '5']);
      const prev = process.env.SLURM_CONF;
      process.env.SLURM_CONF = s.conf;
      try {
        const jobs = await readSource({ kind: 'slurm', squeue: '/usr/bin/squeue' });
        expect(jobs).toEqual([expect.objectContaining({ id, name: 'later', queue: 'static', walltimeSeconds: 300, attributes: expect.objectContaining({ system: expect.objectContaining({ burstable: 1 }) }) })]);
      } finally {
        if (prev === undefined) delete process.env.SLURM_CONF;
        else process.env.SLURM_CONF = prev;
      }
    } finally {
      await s.stop();
      await stopMunge();
    }
  });
});
