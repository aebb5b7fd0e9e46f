// `burst` with a job that fits no target bursts what fits, lists the unfit jobs with their reasons
// on stderr and exits 4 (some were left); --strict starts nothing and exits 2. `plan` says why on
// stderr when it exits 2 for an unfit job.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, address, client, uid } from '../support/harness.js';

const RUN = uid('unfit');
const TQ = `${RUN}-tq`; // no worker polls it: a started burst does nothing until terminated
let dir: string;
const started: string[] = [];

const JOBS = `- id: fits\n  command: [echo, hi]\n  burstable: true\n- id: gpu4\n  command: [echo, hi]\n  gpusPerNode: 4\n  burstable: true\n`;

function cli(args: string[]) {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('TEMPORAL_') && k !== 'FLUXBURST_CONFIG') env[k] = v;
  env.FLUXBURST_STATE_DIR = join(dir, '.state');
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('burst with a job that fits no target', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fb-unfit-'));
    writeFileSync(join(dir, 'jobs.yaml'), JOBS);
  });
  afterAll(async () => {
    const c = await client();
    for (const id of started) await c.workflow.getHandle(id).terminate('burst-unfit test').catch(() => undefined);
    await c.connection.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bursts what fits, lists the unfit job with its reason on stderr, exits 4', async () => {
    const r = cli(['burst', '-j', 'jobs.yaml', '--owner', `${RUN}-a`, '--task-queue', TQ, '--address', address(), '--json']);
    const out = JSON.parse(r.stdout) as { bursts: { burstId: string; started: boolean; jobs: string[] }[]; unfit: { jobId: string; reason: string }[] };
    started.push(...out.bursts.map((b) => b.burstId));
    expect(r.code, r.stderr).toBe(4);
    expect(out.bursts.map((b) => [b.started, b.jobs])).toEqual([[true, ['fits']]]);
    expect(out.unfit.map((u) => u.jobId)).toEqual(['gpu4']);
    expect(r.stderr).toMatch(/^warning: 1 job\(s\) fit no target and were left/);
    expect(r.stderr).toMatch(/left: job gpu4: no target fits: local: .*GPU/);
    const c = await client();
    expect((await c.workflow.getHandle(out.bursts[0]!.burstId).describe()).status.name).toBe('RUNNING');
    await c.connection.close();
  });

  it('--strict: starts nothing, exits 2 naming the unfit job', async () => {
    const owner = `${RUN}-strict`;
    const r = cli(['burst', '-j', 'jobs.yaml', '--owner', owner, '--task-queue', TQ, '--address', address(), '--strict']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: invalid plan: job gpu4: no target fits/);
    const c = await client();
    expect((await c.workflow.count(`FluxburstOwner = '${owner}'`)).count).toBe(0);
    await c.connection.close();
  });

  it('plan: exits 2 with the reason on stderr (the table stays on stdout)', () => {
    const r = cli(['plan', '-j', 'jobs.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: 1 job\(s\) fit no target: job gpu4: no target fits/);
    expect(r.stdout).toContain('unfit: job gpu4');
  });
});
