import { z } from 'zod';
import type { ProvisionStep } from '../src/core/types.js';
import { definePlugin } from '../src/plugins/contract.js';

/**
 * A zero-latency plugin for the benchmark only: every method answers at once and makes nothing,
 * so a burst on it measures fluxburst's own orchestration (the saga, status, search attributes)
 * against a bare workflow with the same activities. The local plugin's numbers, which include
 * starting a real process per node, are reported beside it.
 */
export const noopPlugin = definePlugin({
  name: 'noop',
  description: 'benchmark only: does nothing, instantly',
  params: z.strictObject({}),
  estimate: (jobs) => ({ nodes: Math.max(1, ...jobs.map((j) => j.nodes)), costPerHour: 0, secondsToReady: 0 }),
  async plan(jobs) {
    const nodes = Math.max(1, ...jobs.map((j) => j.nodes));
    const steps: ProvisionStep[] = Array.from({ length: nodes }, (_, i) => ({ key: `node-${i}`, kind: 'node', node: `node-${i}` }));
    return { plugin: 'noop', nodes, groups: [{ name: 'noop', count: nodes, shape: 'none', gangMin: nodes }], steps, estimate: { nodes, costPerHour: 0, secondsToReady: 0 } };
  },
  async provision(step) {
    return { key: step.key, kind: 'node', id: step.key, node: step.node };
  },
  async join() {},
  async run(job, nodes) {
    return { jobId: job.id, exitCode: 0, tasks: [{ rank: 0, node: nodes[0]!.node!, exitCode: 0, stdout: 'hi\n', stderr: '' }] };
  },
  async teardown() {},
  async owned() {
    return [];
  },
});
