// Fault injection from the test kit (testkit/plugins/faulty.ts), not from a production plugin's
// params: the worker registers `faulty-local` (the local plugin wrapped) and each burst fails at
// the step it names, naming it, and leaves nothing behind; a transient fault is retried through.
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/plugins/registry.js';
import { registerFaulty } from '../../testkit/plugins/faulty.js';
import { client, createCounts, input, job, leftovers, result, start, startWorker, uid, workdir } from '../support/harness.js';

const TQ = uid('tq-faulty');
let w: Awaited<ReturnType<typeof startWorker>>;
let c: Awaited<ReturnType<typeof client>>;

beforeAll(async () => {
  c = await client();
  w = await startWorker(TQ, { registry: registerFaulty(await loadRegistry(), ['local']) });
});
afterAll(async () => {
  await w?.stop();
});

const faultyInput = (params: Record<string, unknown>) =>
  input([job('a')], params, { targets: [{ name: 'local', plugin: 'faulty-local', params }] });

async function failureOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(WorkflowFailedError);
  return (e as WorkflowFailedError).cause?.message ?? '';
}

describe('faulty-local: a fault at each saga step fails the burst naming the step, and leaves nothing', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['plan', { fault: { step: 'plan' } }, 'failed at plan: injected fault at plan'],
    ['provision (third node)', { nodes: 3, fault: { step: 'provision', node: 2 } }, 'failed at provision: injected fault at provision'],
    ['provision, after the node was made', { nodes: 2, fault: { step: 'provision', node: 1, afterCreate: true } }, 'failed at provision'],
    ['join', { nodes: 2, fault: { step: 'join' } }, 'failed at join: injected fault at join'],
    ['run', { fault: { step: 'run' } }, 'failed at run: injected fault at run'],
  ];
  for (const [name, params, message] of cases) {
    it(name, async () => {
      const dir = workdir();
      const h = await start(c, TQ, uid('faulty'), faultyInput({ workdir: dir, ...params }));
      expect(await failureOf(h.result())).toContain(message);
      expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
      for (const n of createCounts(dir).values()) expect(n).toBe(1);
    });
  }

  it('a transient teardown fault is retried and the burst still ends clean', async () => {
    const dir = workdir();
    const r = await result(await start(c, TQ, uid('faulty'), faultyInput({ workdir: dir, fault: { step: 'teardown', times: 2 } })));
    expect(r.outcome).toBe('completed');
    expect(leftovers(dir)).toEqual({ processes: [], dirs: [] });
  });
});
