// The test kit's fault wrapper (testkit/plugins/faulty.ts) on a recording fake plugin: which call
// fails, when it is transient, and that the inner plugin sees its own params only.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { BurstPlan, ProvisionStep } from '../../src/core/types.js';
import { definePlugin, type PluginContext } from '../../src/plugins/contract.js';
import { loadRegistry } from '../../src/plugins/registry.js';
import { faulty, registerFaulty } from '../../testkit/plugins/faulty.js';

const calls: Array<[string, unknown]> = [];
const inner = definePlugin({
  name: 'fake',
  description: 'records calls',
  params: z.strictObject({ size: z.number().int().positive().default(1) }),
  estimate: (_jobs, p) => ({ nodes: p.size, costPerHour: 0, secondsToReady: 0 }),
  async plan(_jobs, p) {
    calls.push(['plan', p]);
    return { plugin: 'fake', nodes: p.size, groups: [], steps: [], estimate: { nodes: p.size, costPerHour: 0, secondsToReady: 0 } };
  },
  async provision(step, _plan, p) {
    calls.push(['provision', p]);
    return { key: step.key, kind: step.kind, id: step.key };
  },
  async join(_r, p) {
    calls.push(['join', p]);
  },
  async teardown(step, _ref, p) {
    calls.push(['teardown', [step.key, p]]);
  },
  owned: async () => [],
});
const wrapped = faulty(inner);
const ctx = (attempt = 1): PluginContext => ({
  burstId: 'b',
  owner: 'o',
  attempt,
  credentials: {},
  signal: new AbortController().signal,
  heartbeat: () => undefined,
  log: { info: () => undefined, warn: () => undefined },
});
const plan = {} as BurstPlan;
const step = (rank: number, replaces = false): ProvisionStep => ({
  key: `node-${rank}${replaces ? '-r1' : ''}`,
  kind: 'node',
  node: `node-${rank}`,
  rank,
  ...(replaces ? { replacement: 1, replaces: { node: `node-${rank}`, kind: 'node-lost' as const } } : {}),
});
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as { code: string; retryable: boolean; message: string },
  );

describe('faulty(plugin)', () => {
  it('is named after the plugin it wraps, passes the inner params through, and parses idempotently', async () => {
    expect(wrapped.name).toBe('faulty-fake');
    const p = wrapped.params.parse({ size: 2, fault: { step: 'join' } });
    expect(p).toEqual({ size: 2, fault: { step: 'join', afterCreate: false } });
    expect(wrapped.params.parse(p)).toEqual(p);
    calls.length = 0;
    await wrapped.plan([], p, ctx());
    expect(calls).toEqual([['plan', { size: 2 }]]);
  });

  it("reports the inner plugin's param errors by path", () => {
    const r = wrapped.params.safeParse({ size: -1, fault: { step: 'explode' } });
    expect(r.success).toBe(false);
    const paths = r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    expect(paths).toContain('fault.step');
    expect(wrapped.params.safeParse({ size: -1 }).error?.issues.map((i) => i.path.join('.'))).toEqual(['size']);
  });

  it('fails the named step only, as a non-retryable InjectedFault', async () => {
    const p = wrapped.params.parse({ fault: { step: 'join' } });
    await wrapped.plan([], p, ctx());
    await wrapped.provision(step(0), plan, p, ctx());
    expect(await failure(wrapped.join([], p, ctx()))).toMatchObject({
      code: 'InjectedFault',
      retryable: false,
      message: 'injected fault at join',
    });
  });

  it('`node` picks the rank, `replacement` only replacements', async () => {
    const byRank = wrapped.params.parse({ fault: { step: 'provision', node: 1 } });
    expect(await failure(wrapped.provision(step(0), plan, byRank, ctx()))).toBeUndefined();
    expect(await failure(wrapped.provision(step(1), plan, byRank, ctx()))).toMatchObject({ code: 'InjectedFault' });
    const repl = wrapped.params.parse({ fault: { step: 'teardown', replacement: true } });
    expect(await failure(wrapped.teardown(step(0), undefined, repl, ctx()))).toBeUndefined();
    expect(await failure(wrapped.teardown(step(0, true), undefined, repl, ctx()))).toMatchObject({ code: 'InjectedFault' });
  });

  it('`times` makes it transient: retryable, and gone after that many attempts', async () => {
    const p = wrapped.params.parse({ fault: { step: 'teardown', times: 2 } });
    expect(await failure(wrapped.teardown(step(0), undefined, p, ctx(1)))).toMatchObject({ retryable: true });
    expect(await failure(wrapped.teardown(step(0), undefined, p, ctx(2)))).toMatchObject({ retryable: true });
    expect(await failure(wrapped.teardown(step(0), undefined, p, ctx(3)))).toBeUndefined();
  });

  it('`afterCreate`: the inner provision ran, then the call fails (the answer is lost)', async () => {
    const p = wrapped.params.parse({ fault: { step: 'provision', afterCreate: true } });
    calls.length = 0;
    expect(await failure(wrapped.provision(step(0), plan, p, ctx()))).toMatchObject({ code: 'InjectedFault' });
    expect(calls.map(([k]) => k)).toEqual(['provision']);
  });

  it('registerFaulty adds faulty-<name> next to the built-ins', async () => {
    const reg = registerFaulty(await loadRegistry(), ['local']);
    expect(reg.names()).toEqual(expect.arrayContaining(['local', 'faulty-local']));
    const p = reg.get('faulty-local').params.parse({ workdir: '/tmp/x', fault: { step: 'run' } }) as Record<string, unknown>;
    expect(p).toMatchObject({ workdir: '/tmp/x', fault: { step: 'run' } });
  });
});
