import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { address, cliAsync as cli, leftovers, startWorker, uid, waitFor, workdir } from '../support/harness.js';

// The CLI end to end, as a user runs it, against the suite's real dev server.
const TQ = uid('tq-cli');
let w: Awaited<ReturnType<typeof startWorker>>;
let dir: string;
let nodes: string;
let flags: string[];
const owner = uid('owner');

beforeAll(async () => {
  w = await startWorker(TQ);
  dir = workdir('cli');
  nodes = workdir('cli');
  writeFileSync(
    join(dir, 'jobs.yaml'),
    ['- {id: a, command: [echo, alpha], nodes: 2, burstable: true}', '- {id: b, command: [sh, -c, "echo beta; sleep 1"], burstable: true}', '- {id: c, command: [echo, home]}'].join('\n'),
  );
  writeFileSync(join(dir, 'fb.yaml'), `name: clitest\njobs: jobs.yaml\ntargets:\n  - plugin: local\n    params: {workdir: ${nodes}}\n`);
  flags = ['--address', address(), '--task-queue', TQ, '--config', join(dir, 'fb.yaml')];
});
afterAll(async () => {
  await w?.stop();
});

it('burst --wait --json runs the burstable jobs and prints results; a second start is not a second burst', async () => {
  const r = await cli(['burst', '--wait', '--json', '--owner', owner, ...flags]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const { bursts } = JSON.parse(r.stdout);
  expect(bursts).toHaveLength(1);
  const out = bursts[0];
  expect(out.burstId).toMatch(/^clitest-2n-[0-9a-f]{8}$/);
  expect(out.outcome).toBe('completed');
  expect(out.url).toContain(`/namespaces/default/workflows/${out.burstId}`);
  expect(out.status.jobs.map((j: { id: string; state: string }) => `${j.id}:${j.state}`)).toEqual(['a:completed', 'b:completed']);
  expect(leftovers(nodes)).toEqual({ processes: [], dirs: [] });

  // Same jobs, same owner, same plugins: same id, and the finished burst is not run again.
  const again = await cli(['burst', '--json', '--owner', owner, ...flags]);
  expect(again.code).toBe(0);
  const second = JSON.parse(again.stdout).bursts[0];
  expect(second.burstId).toBe(out.burstId);
  expect(second.started).toBe(false);

  const status = await cli(['status', out.burstId, ...flags]);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/phase: completed\s+plugin: local\s+target: local/);
  for (const phase of ['select', 'plan', 'provision', 'join', 'run', 'teardown']) expect(status.stdout).toMatch(new RegExp(`^${phase}\\s`, 'm'));

  const list = await cli(['list', '--json', '--owner', owner, '--plugin', 'local', ...flags]);
  expect(list.code).toBe(0);
  expect(JSON.parse(list.stdout).map((b: { burstId: string }) => b.burstId)).toEqual([out.burstId]);
});

it('cancel stops a running burst and tears it down', async () => {
  const jobs = join(dir, 'long.yaml');
  writeFileSync(jobs, '- {id: long, command: [sleep, "60"], burstable: true}\n');
  const started = await cli(['burst', '--json', '--jobs', jobs, '--owner', owner, ...flags]);
  expect(started.code).toBe(0);
  const { burstId } = JSON.parse(started.stdout).bursts[0];
  await waitFor(async () => {
    const s = await cli(['status', burstId, '--json', ...flags]);
    return JSON.parse(s.stdout).status?.jobs?.[0]?.state === 'running' || undefined;
  }, 30_000, 'job running');
  const c = await cli(['cancel', burstId, '--reason', 'test over', '--wait', ...flags]);
  expect(c.code).toBe(0);
  expect(c.stdout).toContain(`burst ${burstId}: cancelled; resources left: 0`);
  expect(leftovers(nodes)).toEqual({ processes: [], dirs: [] });
  const s = JSON.parse((await cli(['status', burstId, '--json', ...flags])).stdout);
  expect(s.status.cancelReason).toBe('test over');
});

it('a burst with nothing burstable starts nothing and says so', async () => {
  const jobs = join(dir, 'home.yaml');
  writeFileSync(jobs, '- {id: h, command: [echo, home]}\n');
  const r = await cli(['burst', '--jobs', jobs, ...flags]);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('no burstable jobs (1 skipped); nothing started');
});
