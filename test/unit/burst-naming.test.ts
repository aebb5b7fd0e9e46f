// Burst names read `<name>-<N>n-<hash>` with N the burst's node count — what its target makes —
// not its largest job (issue 14: a pooled burst that ran on 4 nodes was named `-1n-`).
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Job } from '../../src/core/types.js';
import { planBursts } from '../../src/plan/planner.js';
import { loadRegistry, type PluginRegistry } from '../../src/plugins/registry.js';

let reg: PluginRegistry;
beforeAll(async () => {
  reg = await loadRegistry({ searchPaths: [] });
});

const job = (id: string, nodes = 1): Job => ({ id, name: id, nodes, tasks: nodes, command: ['true'], attributes: { system: { burstable: 1 } } });
const config = (params: Record<string, unknown>) => parseConfig(`name: pool\ntargets:\n  - plugin: local\n    params: ${JSON.stringify({ workdir: '/nonexistent/fb-naming', ...params })}\n`, 't', reg);

describe('burst names count the burst’s nodes', () => {
  it('a pool of 1-node jobs on a 4-node local target is -4n- (and plans 4 nodes)', () => {
    const p = planBursts([job('a'), job('b'), job('c')], config({ nodes: 4 }), reg, { owner: 'tester' });
    expect(p.bursts.map((b) => [b.id, b.nodes])).toEqual([['pool-4n-63cf4e68', 4]]);
  });

  it('without a size set, the largest job sizes the burst', () => {
    const p = planBursts([job('a'), job('b', 3)], config({}), reg, { owner: 'tester' });
    expect(p.bursts.map((b) => [b.id, b.nodes])).toEqual([['pool-3n-b85f3595', 3]]);
  });
});
