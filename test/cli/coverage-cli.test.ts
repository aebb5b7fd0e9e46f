// README claims about the CLI that no other test drove, each through bin/fluxburst.js against the
// suite's real dev server and one in-process worker: burst --wait's exit codes, retrying a burst
// under its name, list --phase, validate -p, a flux: source, and addJobs refusing duplicates.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addJobsUpdate, statusQuery } from '../../workflows/messages.js';
import { address, cliAsync as cli, client, createCounts, job, leftovers, ROOT, startWorker, uid, waitFor, workdir } from '../support/harness.js';

const TQ = uid('tq-cov-cli');
let w: Awaited<ReturnType<typeof startWorker>>;
let dir: string;
let nodes: string;
let conn: string[];
const owner = uid('cov');

beforeAll(async () => {
  w = await startWorker(TQ);
  dir = mkdtempSync(join(tmpdir(), 'fb-cov-cli-'));
  nodes = workdir('cov-cli');
  conn = ['--address', address(), '--task-queue', TQ];
});
afterAll(async () => {
  // A test that failed half-way may leave a burst running: cancel it so its nodes are torn down.
  const c = await client();
  const running = [];
  for await (const wf of c.workflow.list({ query: `FluxburstOwner = '${owner}' AND ExecutionStatus = 'Running'` })) running.push(wf.workflowId);
  await Promise.all(running.map(async (id) => {
    await c.workflow.getHandle(id).signal('cancel', { reason: 'test cleanup' }).catch(() => undefined);
    await c.workflow.getHandle(id).result().catch(() => undefined);
  }));
  await c.connection.close();
  await w?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(nodes, { recursive: true, force: true });
});

/** A config file with a local target (extra params) and a jobs file; returns --config flags. */
function config(name: string, jobs: string[], params = '', extra = ''): string[] {
  writeFileSync(join(dir, `${name}.jobs.yaml`), `${jobs.join('\n')}\n`);
  writeFileSync(join(dir, `${name}.yaml`), `name: ${name}\njobs: ${name}.jobs.yaml\n${extra}targets:\n  - name: lab\n    plugin: local\n    params: {workdir: ${nodes}${params}}\n`);
  return ['--config', join(dir, `${name}.yaml`)];
}

async function statusOf(id: string) {
  const c = await client();
  return c.workflow.getHandle(id).query(statusQuery);
}

describe('burst --wait exit codes, and retrying under the same name', () => {
  it('exit 1 when a job fails (the burst itself completes)', async () => {
    const cfg = config('jobfail', ['- {id: ok, command: ["true"], burstable: true}', '- {id: bad, command: [sh, -c, "exit 7"], burstable: true}']);
    const r = await cli(['burst', '--wait', '--json', '--owner', owner, ...conn, ...cfg]);
    expect(r.code, r.stderr).toBe(1);
    const b = JSON.parse(r.stdout).bursts[0];
    expect(b.outcome).toBe('completed');
    expect(b.status.jobs.map((j: { id: string; state: string }) => `${j.id}:${j.state}`).sort()).toEqual(['bad:failed', 'ok:completed']);
    expect(leftovers(nodes)).toEqual({ processes: [], dirs: [] });
  });

  it('exit 1 when the burst fails; the failed burst is retried under the same name (a new run)', async () => {
    const cfg = config('provfail', ['- {id: p1, command: ["true"], burstable: true}'], ', fault: {step: provision}');
    const first = await cli(['burst', '--wait', '--owner', owner, ...conn, ...cfg]);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toMatch(/failed at provision: injected fault at provision/);
    const id = /started burst (\S+):/.exec(first.stdout)![1]!;
    const c = await client();
    const run1 = (await c.workflow.getHandle(id).describe()).runId;
    const again = await cli(['burst', '--json', '--owner', owner, ...conn, ...cfg]);
    expect(again.code, again.stderr).toBe(0);
    const b = JSON.parse(again.stdout).bursts[0];
    expect(b.burstId).toBe(id);
    expect(b.started).toBe(true);
    const d = await c.workflow.getHandle(id).describe();
    expect(d.runId).not.toBe(run1);
    await c.workflow.getHandle(id).result().catch(() => undefined);
  });

  it('exit 3 when the burst is cancelled while --wait follows it; list --phase finds it running then cancelled; addJobs refuses duplicate ids; not re-run under its name', async () => {
    const cfg = config('cancelme', ['- {id: long, command: [sleep, "60"], burstable: true}']);
    const waiting = cli(['burst', '--wait', '--owner', owner, ...conn, ...cfg]);
    const c = await client();
    const id = await waitFor(async () => {
      const l = await cli(['list', '--json', '--owner', owner, '--phase', 'run', ...conn]);
      const ids = (JSON.parse(l.stdout || '[]') as Array<{ burstId: string }>).map((b) => b.burstId).filter((x) => x.startsWith('cancelme-'));
      return ids[0];
    }, 60_000, 'burst in phase run (list --phase)');
    await waitFor(async () => ((await statusOf(id)).jobs[0]?.state === 'running' ? true : undefined), 30_000, 'job running');
    // Another phase filters it out.
    const other = await cli(['list', '--json', '--owner', owner, '--phase', 'provision', ...conn]);
    expect(other.code).toBe(0);
    expect(JSON.parse(other.stdout).map((b: { burstId: string }) => b.burstId)).not.toContain(id);

    // addJobs: an id already in the burst, and the same new id twice, are refused; nothing is added.
    const h = c.workflow.getHandle(id);
    await expect(h.executeUpdate(addJobsUpdate, { args: [[job('long')]] })).rejects.toThrow(WorkflowUpdateFailedError);
    const dup = await h.executeUpdate(addJobsUpdate, { args: [[job('n1'), job('n1')]] }).catch((e: Error) => e);
    expect(dup).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((dup as WorkflowUpdateFailedError).cause?.message)).toMatch(/n1/);
    expect((await statusOf(id)).jobs.map((j) => j.id)).toEqual(['long']);

    const cancel = await cli(['cancel', id, '--reason', 'coverage', ...conn]);
    expect(cancel.code, cancel.stderr).toBe(0);
    const r = await waiting;
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toContain(`burst ${id}: cancelled`);
    const l = await cli(['list', '--json', '--owner', owner, '--phase', 'cancelled', ...conn]);
    expect(JSON.parse(l.stdout).map((b: { burstId: string }) => b.burstId)).toContain(id);
    expect(leftovers(nodes)).toEqual({ processes: [], dirs: [] });

    // A burst cancelled with `fluxburst cancel` ended its run normally (outcome cancelled): it is
    // not run again under its name (README: only failed or Temporal-cancelled runs are retried).
    const again = await cli(['burst', '--json', '--owner', owner, ...conn, ...cfg]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).bursts[0]).toMatchObject({ burstId: id, started: false });
  });

  it('a burst cancelled through Temporal (the UI button, temporal workflow cancel) is retried under the same name', async () => {
    const cfg = config('tcancel', ['- {id: t1, command: [sleep, "60"], burstable: true}']);
    const first = await cli(['burst', '--json', '--owner', owner, ...conn, ...cfg]);
    expect(first.code, first.stderr).toBe(0);
    const id = JSON.parse(first.stdout).bursts[0].burstId as string;
    const c = await client();
    const h = c.workflow.getHandle(id);
    await waitFor(async () => ((await statusOf(id)).jobs[0]?.state === 'running' ? true : undefined), 30_000, 'job running');
    const run1 = (await h.describe()).runId;
    await h.cancel();
    await h.result().catch(() => undefined);
    expect((await h.describe()).status.name).toBe('CANCELLED');
    const again = await cli(['burst', '--json', '--owner', owner, ...conn, ...cfg]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).bursts[0]).toMatchObject({ burstId: id, started: true });
    expect((await h.describe()).runId).not.toBe(run1);
    await cli(['cancel', id, '--wait', ...conn]);
    expect(leftovers(nodes)).toEqual({ processes: [], dirs: [] });
  });
});

describe('validate -p', () => {
  it('checks as if only that target were configured', async () => {
    writeFileSync(join(dir, 'two.jobs.yaml'), '- {id: wide, command: ["true"], nodes: 3, burstable: true}\n');
    writeFileSync(
      join(dir, 'two.yaml'),
      `name: two\njobs: two.jobs.yaml\ntargets:\n  - {name: big, plugin: local, params: {workdir: ${nodes}}}\n  - {name: small, plugin: local, params: {workdir: ${nodes}, maxNodes: 2}}\n`,
    );
    const cfg = ['--config', join(dir, 'two.yaml')];
    const all = await cli(['validate', '--json', ...cfg]);
    expect(all.code, all.stderr).toBe(0);
    const big = await cli(['validate', '--json', '-p', 'big', ...cfg]);
    expect(big.code, big.stderr).toBe(0);
    expect(JSON.parse(big.stdout)).toMatchObject({ ok: true, selected: 1 });
    const small = await cli(['validate', '-p', 'small', ...cfg]);
    expect(small.code).toBe(2);
    expect(small.stderr).toMatch(/job wide/);
    expect(small.stderr).toMatch(/small/);
  });
});

describe('a flux: source in the config, through burst', () => {
  it('reads the pending Flux jobs (fake flux), bursts the burstable one and runs it', async () => {
    const spec = (cmd: string[], burstable: boolean) => ({
      version: 1,
      resources: [{ type: 'slot', count: 1, label: 'task', with: [{ type: 'core', count: 1 }] }],
      tasks: [{ command: cmd, slot: 'task', count: { per_slot: 1 } }],
      attributes: { system: burstable ? { duration: 60, burstable: 1 } : { duration: 60 } },
    });
    const rec = (id: number, name: string, jobspec: object) => ({ id, userid: 1001, username: 'alice', state: 'SCHED', status: 'SCHED', name, ntasks: 1, nnodes: 1, t_submit: 1791485339.8, jobspec });
    const scenario = join(dir, 'flux-scenario.json');
    const log = join(dir, 'flux.log');
    writeFileSync(log, '');
    writeFileSync(scenario, JSON.stringify({ jobs: [rec(12420793761792, 'fromflux', spec(['echo', 'from-flux'], true)), rec(91096977768448, 'stays', spec(['true'], false))] }));
    writeFileSync(join(dir, 'flux.yaml'), `name: fluxsrc\nflux: {command: ${join(ROOT, 'test/fixtures/flux/fake-flux.mjs')}}\ntargets:\n  - {name: lab, plugin: local, params: {workdir: ${nodes}}}\n`);
    const env = { FAKE_FLUX_SCENARIO: scenario, FAKE_FLUX_LOG: log };
    const r = await cli(['burst', '--wait', '--json', '--owner', owner, ...conn, '--config', join(dir, 'flux.yaml')], env);
    expect(r.code, r.stderr).toBe(0);
    const b = JSON.parse(r.stdout).bursts[0];
    expect(b.burstId).toMatch(/^fluxsrc-1n-/);
    expect(b.outcome).toBe('completed');
    expect(b.status.jobs.map((j: { id: string; state: string }) => `${j.id}:${j.state}`)).toEqual(['12420793761792:completed']);
    expect(leftovers(nodes)).toEqual({ processes: [], dirs: [] });
  });
});

describe('--plan without --dry-run', () => {
  it('plan --plan and burst --plan take the execution plan (target; the burst gets instance_count nodes)', async () => {
    writeFileSync(join(dir, 'xp.jobs.yaml'), '- {id: x1, command: [echo, planned], burstable: true}\n');
    writeFileSync(
      join(dir, 'xp.yaml'),
      `name: xp\njobs: xp.jobs.yaml\ntargets:\n  - {name: first, plugin: local, params: {workdir: ${nodes}}}\n  - {name: here, plugin: local, params: {workdir: ${nodes}}}\n`,
    );
    const xplan = join(dir, 'xp-plan.json');
    writeFileSync(xplan, JSON.stringify({ should_burst: true, target: 'here', instance_count: 3 }));
    const cfg = ['--config', join(dir, 'xp.yaml')];

    const without = await cli(['plan', '--json', ...cfg]);
    expect(without.code, without.stderr).toBe(0);
    expect(JSON.parse(without.stdout).bursts[0]).toMatchObject({ target: 'first', nodes: 1 });
    const planned = await cli(['plan', '--json', '--plan', xplan, ...cfg]);
    expect(planned.code, planned.stderr).toBe(0);
    // The plan picks the target; `plan` still sizes by the largest job (1), the burst by instance_count.
    expect(JSON.parse(planned.stdout).bursts[0]).toMatchObject({ target: 'here', chain: ['here'] });

    const r = await cli(['burst', '--wait', '--json', '--plan', xplan, '--owner', owner, ...conn, ...cfg]);
    expect(r.code, r.stderr).toBe(0);
    const b = JSON.parse(r.stdout).bursts[0];
    expect(b.outcome).toBe('completed');
    expect(b.status.target).toBe('here');
    // The local plugin's ledger: three nodes made for this burst.
    expect([...createCounts(nodes).keys()].filter((k) => k.startsWith(`${b.burstId}/`))).toHaveLength(3);
    expect(b.status.jobs.map((j: { id: string; state: string }) => `${j.id}:${j.state}`)).toEqual(['x1:completed']);
    expect(leftovers(nodes)).toEqual({ processes: [], dirs: [] });
  });
});
