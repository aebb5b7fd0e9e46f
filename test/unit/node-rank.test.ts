// A node's rank travels in its provision step and survives replacements (issue 14: the local
// plugin read it back from the name, so a fault aimed at node 1 hit node 2 for `node-1-r2`).
import { expect, it } from 'vitest';
import { localPlugin, nodeIndexOf } from '../../src/plugins/local/plugin.js';

it('the rank comes from the step; old steps fall back to the first number in the name', () => {
  expect(nodeIndexOf({ key: 'node-1-r2', kind: 'node', node: 'node-1-r2', rank: 1, replacement: 2 })).toBe(1);
  expect(nodeIndexOf({ key: 'node-1-r2', kind: 'node', node: 'node-1-r2' })).toBe(1);
  expect(nodeIndexOf({ key: 'node-3', kind: 'node', node: 'node-3' })).toBe(3);
});

it('the local plan gives every node step its rank', async () => {
  const params = localPlugin.params.parse({ nodes: 3, workdir: '/tmp/unused' });
  const plan = await localPlugin.plan([{ id: 'a', name: 'a', nodes: 1, tasks: 1, command: ['true'], attributes: {} }], params, {} as never);
  expect(plan.steps.map((s) => [s.node, s.rank])).toEqual([['node-0', 0], ['node-1', 1], ['node-2', 2]]);
});
