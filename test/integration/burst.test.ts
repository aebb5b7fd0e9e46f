import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAgentInfo, nodeDir } from '../../src/plugins/local/layout.js';
import { addJobsUpdate, cancelSignal, interruptionSignal, statusQuery } from '../../workflows/messages.js';
import { client, createCounts, input, job, leftovers, result, start, startWorker, uid, waitFor, workdir } from '../support/harness.js';

const TQ = uid('tq-burst');
let w: Awaited<ReturnType<typeof startWorker>>;
let c: Awaited<ReturnType<typeof client>>;

beforeAll(async () => {
  c = await client();
  w = await startWorker(TQ);
});
afterAll(async () => {
  await w?.stop();
});

async function failureOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WorkflowFailedError);
    return (e as WorkflowFailedError).cause?.message ?? '';
  }
  throw new Error('expected the burst to fail');
}

describe('burst on the local plugin', () => {
  it('selects only burstable jobs, runs them on real processes, returns results and tears down', async () => {
    const dir = workdir();
    const jobs = [
      job('two-nodes', { nodes: 2, tasks: 2, command: ['sh', '-c', 'echo "rank on $FLUXBURST_NODE"'] }),
      job('fails', { command: ['sh', '-c', 'echo oops >&2; exit 3'] }),
      job('not-burstable', { attributes: { system: {} } }),
    ];
    const h = await start(c, TQ, uid('happy'), input(jobs, { workdir: dir }));
    const r = await result(h);
    expect(r.outcome).toBe('completed');
    expect(r.status.jobs.map((j) => j.id).sort()).toEqual(['fails', 'two-nodes']);
    const two = r.status.jobs.find((j) => j.id === 'two-nodes')!;
    expect(two.state).toBe('completed');
    expect(two.result!.tasks.map((t) => t.stdout.trim()).sort()).toEqual(['rank on node-0', 'rank on node-1']);
    const bad = r.status.jobs.find((j) => j.id === 'fails')!;
    expect(bad.state).toBe('failed');
    expect(bad.result!.exitCode).toBe(3);
    expect(bad.result!.tasks[0]!.stderr).toContain('oops');
    expect(r.status.timeline.map((m) => m.phase)).toEqual(['select', 'plan', 'provision', 'join', 'run', 'teardown', 'completed']);
    expect(r.status.resources).toEqual([]);
    expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
    expect([...createCounts(dir).values()]).toEqual([1, 1]);
  });

  it('finishes without provisioning when nothing is burstable', async () => {
    const dir = workdir();
    const r = await result(await start(c, TQ, uid('none'), input([job('x', { attributes: { system: {} } })], { workdir: dir })));
    expect(r.outcome).toBe('nothing-to-do');
    expect(createCounts(dir).size).toBe(0);
  });
});

describe('a fault at each saga step fails the burst naming the step, and leaves nothing', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['plan', { fault: { step: 'plan' } }, 'failed at plan: injected fault at plan'],
    ['provision (third node)', { nodes: 3, fault: { step: 'provision', node: 2 } }, 'failed at provision: injected fault at provision'],
    ['provision, after the node was made', { nodes: 2, fault: { step: 'provision', node: 1, afterCreate: true } }, 'failed at provision'],
    ['join', { nodes: 2, fault: { step: 'join' } }, 'failed at join: injected fault at join'],
    ['run', { fault: { step: 'run' } }, 'failed at run: injected fault at run'],
    ['teardown (every attempt)', { nodes: 2, fault: { step: 'teardown', node: 0 } }, 'failed at teardown: injected fault at teardown; left behind: node-0'],
  ];
  for (const [name, params, message] of cases) {
    it(name, async () => {
      const dir = workdir();
      const h = await start(c, TQ, uid('fault'), input([job('a')], { workdir: dir, ...params }));
      expect(await failureOf(h.result())).toContain(message);
      if (name.startsWith('teardown')) {
        // A teardown that never succeeds must say what it left: exactly the node it could not delete.
        const left = leftovers(dir);
        expect(left.dirs).toHaveLength(1);
        expect(left.processes.length).toBeGreaterThan(0);
        const { localPlugin, localParams } = await import('../../src/plugins/local/plugin.js');
        await localPlugin.teardown({ key: 'node-0', kind: 'node', node: 'node-0' }, undefined, localParams.parse({ workdir: dir }), {
          burstId: h.workflowId, owner: 't', attempt: 1, credentials: {}, signal: new AbortController().signal, heartbeat: () => undefined, log: console,
        });
      }
      expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
      const counts = createCounts(dir);
      for (const n of counts.values()) expect(n).toBe(1);
    });
  }

  it('select: an unreadable jobs source', async () => {
    const dir = workdir();
    const h = await start(c, TQ, uid('fault'), input([], { workdir: dir }, { source: { kind: 'file', path: `${dir}/missing.yaml` } }));
    expect(await failureOf(h.result())).toMatch(/failed at select: invalid jobs file .*missing\.yaml/);
    expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
  });

  it('a transient teardown fault is retried and the burst still ends clean', async () => {
    const dir = workdir();
    const r = await result(await start(c, TQ, uid('fault'), input([job('a')], { workdir: dir, fault: { step: 'teardown', times: 2 } })));
    expect(r.outcome).toBe('completed');
    expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
  });
});

describe('cancel, interruptions and added jobs', () => {
  const long = (id: string, seconds = 30) => job(id, { command: ['sleep', String(seconds)] });

  async function running(h: Awaited<ReturnType<typeof start>>, jobId: string) {
    return waitFor(async () => {
      const s = await h.query(statusQuery).catch(() => undefined);
      return s?.jobs.find((j) => j.id === jobId && j.state === 'running') ? s : undefined;
    }, 30_000, `${jobId} running`);
  }

  it('cancel signal during run stops the job and tears everything down', async () => {
    const dir = workdir();
    const h = await start(c, TQ, uid('cancel'), input([long('sleeper')], { workdir: dir }));
    await running(h, 'sleeper');
    await waitFor(() => leftovers(dir).processes.length >= 2 || undefined, 10_000, 'agent and sleep running');
    await h.signal(cancelSignal, { reason: 'user said stop' });
    const r = await result(h);
    expect(r.outcome).toBe('cancelled');
    expect(r.status.cancelReason).toBe('user said stop');
    expect(r.status.jobs[0]!.state).toBe('cancelled');
    expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
  });

  it('a Temporal cancellation request (UI button) ends the burst Canceled, torn down', async () => {
    const dir = workdir();
    const h = await start(c, TQ, uid('cancel'), input([long('sleeper')], { workdir: dir, nodes: 2 }));
    await running(h, 'sleeper');
    await h.cancel();
    await expect(h.result()).rejects.toThrow(/cancel/i);
    expect((await h.describe()).status.name).toBe('CANCELLED');
    expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
  });

  it('a spot interruption notice requeues the job onto a replacement node; nothing is lost', async () => {
    const dir = workdir();
    const h = await start(c, TQ, uid('spot'), input([long('victim', 3)], { workdir: dir }));
    await running(h, 'victim');
    await h.signal(interruptionSignal, { node: 'node-0', kind: 'spot-interruption', reason: 'two-minute warning' });
    const r = await result(h);
    const v = r.status.jobs[0]!;
    expect(v.state).toBe('completed');
    expect(v.attempts).toBe(2);
    expect(v.assigned).toEqual(['node-0-r1']);
    expect(r.status.interruptions).toEqual([{ node: 'node-0', kind: 'spot-interruption', reason: 'two-minute warning' }]);
    expect([...createCounts(dir).keys()].map((k) => k.split('/')[1]).sort()).toEqual(['node-0', 'node-0-r1']);
    expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
  });

  it('a replacement that cannot be made does not fail the burst: the job that no longer fits fails with the reason, nothing is left', async () => {
    const dir = workdir();
    // Only the replacement (node-0-r1, rank 0 like the node it replaces) fails, on every attempt.
    const h = await start(c, TQ, uid('noreplace'), input([long('victim', 3)], { workdir: dir, fault: { step: 'provision', replacement: true } }));
    await running(h, 'victim');
    await h.signal(interruptionSignal, { node: 'node-0', kind: 'spot-interruption', reason: 'two-minute warning' });
    const r = await result(h);
    expect(r.outcome).toBe('completed');
    const v = r.status.jobs[0]!;
    expect(v.state).toBe('failed');
    expect(v.error).toMatch(/needs 1 nodes; only 0 left in the burst \(no replacement: node-0-r1: .*injected fault at provision\)/);
    expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
  });

  it('a node that dies mid-job (agent SIGKILLed) is treated as lost and the job reruns', async () => {
    const dir = workdir();
    const h = await start(c, TQ, uid('lost'), input([long('victim', 3)], { workdir: dir }));
    await running(h, 'victim');
    const info = readAgentInfo(nodeDir(dir, h.workflowId, 'node-0'))!;
    process.kill(info.pid, 'SIGKILL');
    const r = await result(h);
    expect(r.status.jobs[0]!.state).toBe('completed');
    expect(r.status.jobs[0]!.attempts).toBe(2);
    expect(r.status.interruptions[0]).toMatchObject({ node: 'node-0', kind: 'node-lost' });
    expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
  });

  it('jobs added by update run in the same burst; bad ones are rejected by the validator', async () => {
    const dir = workdir();
    const h = await start(c, TQ, uid('add'), input([long('first', 2)], { workdir: dir }));
    await running(h, 'first');
    const rejected = await h.executeUpdate(addJobsUpdate, { args: [[job('too-big', { nodes: 5 })]] }).catch((e: Error) => e);
    expect((rejected as Error & { cause?: Error }).cause?.message).toMatch(/needs 5 nodes; this burst has 1/);
    const badId = await h.executeUpdate(addJobsUpdate, { args: [[job('has space')]] }).catch((e: Error) => e);
    expect((badId as Error & { cause?: Error }).cause?.message).toMatch(/job id "has space": ASCII letters/);
    const accepted = await h.executeUpdate(addJobsUpdate, { args: [[job('second')]] });
    expect(accepted).toEqual({ accepted: ['second'] });
    const r = await result(h);
    expect(r.status.jobs.map((j) => [j.id, j.state])).toEqual([
      ['first', 'completed'],
      ['second', 'completed'],
    ]);
    expect(r.status.jobs[1]!.result!.tasks[0]!.stdout.trim()).toBe('hello-second');
  });
});
