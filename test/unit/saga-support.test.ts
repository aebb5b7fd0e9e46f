import { expect, it } from 'vitest';
import type { Plugin, PluginContext } from '../../src/plugins/contract.js';
import { runSaga } from '../support/saga.js';

// A two-step plugin that records what it provisions and tears down.
function recorder() {
  const log: string[] = [];
  const plugin = {
    name: 'rec',
    plan: async () => ({ steps: [{ key: 'a', kind: 'a' }, { key: 'b', kind: 'b' }] }),
    provision: async (s: { key: string }) => {
      log.push(`+${s.key}`);
      return { key: s.key, kind: s.key, id: s.key, nodes: [] };
    },
    teardown: async (s: { key: string }) => void log.push(`-${s.key}`),
  } as unknown as Plugin<object>;
  return { plugin, log };
}
const c = {} as PluginContext;

it('an assertion that fails inside `between` fails the caller (after the rollback), even if the caller never looks at `error`', async () => {
  const { plugin, log } = recorder();
  await expect(
    runSaga(plugin, [], {}, c, async () => {
      expect(['burst-0-0']).toEqual(['nonsense']);
    }),
  ).rejects.toThrow(/nonsense/);
  expect(log).toEqual(['+a', '+b', '-b', '-a']);
});

it('a product error thrown inside `between` is still returned as `error`', async () => {
  const { plugin, log } = recorder();
  const { error } = await runSaga(plugin, [], {}, c, async () => {
    throw new Error('join failed: burst-0-1 is Failed');
  });
  expect(String(error)).toMatch(/burst-0-1 is Failed/);
  expect(log).toEqual(['+a', '+b', '-b', '-a']);
});
