// Jobs that did not come through a jobs file (a Flux or Slurm queue, a watch scan) reach the
// planner without the file reader's checks. The planner holds the same bounds: a job whose id
// cannot be a path or route, or whose counts no worker could honour, is unfit with the reason —
// it never reaches a worker — while the rest of the queue is planned as usual.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Job } from '../../src/core/types.js';
import { chooseAndPlan } from '../../src/plan/choose.js';
import { planBursts } from '../../src/plan/planner.js';
import { allTargets } from '../../src/plan/prepare.js';
import { CapacityError } from '../../src/core/errors.js';
import type { PluginContext } from '../../src/plugins/contract.js';
import { loadRegistry } from '../../src/plugins/registry.js';

const job = (id: string, o: Partial<Job> = {}): Job => ({
  id,
  name: id,
  nodes: 1,
  tasks: 1,
  command: ['true'],
  attributes: { system: { burstable: 1 } },
  ...o,
});

describe('the planner refuses jobs out of bounds, whatever their source', () => {
  it('each bad job is unfit with its reason; the good ones are planned', async () => {
    const reg = await loadRegistry({ searchPaths: [] });
    const config = parseConfig('targets:\n  - plugin: local\n    params: { maxNodes: 8, workdir: /nonexistent/fb-pb }\n', 'test', reg);
    const jobs = [
      job('ok-1'),
      job('huge', { tasks: 1_000_000_000 }),
      job('thin', { nodes: 4, tasks: 2 }),
      job('half', { tasks: 0.5 }),
      job('a/b'),
      job('x'.repeat(241)),
      job('gpus', { gpusPerNode: 10_000 }),
      job('ok-2', { nodes: 2, tasks: 2 }),
    ];
    const plan = planBursts(jobs, config, reg, { owner: 'alice' });
    expect(plan.bursts.flatMap((b) => b.jobs.map((j) => j.id)).sort()).toEqual(['ok-1', 'ok-2']);
    const why = Object.fromEntries(plan.unfit.map((u) => [u.jobId.slice(0, 20), u.reason]));
    expect(Object.keys(why).sort()).toEqual(['a/b', 'gpus', 'half', 'huge', 'thin', 'x'.repeat(20)].sort());
    expect(why.huge).toBe('out of bounds: tasks: 1000000000 tasks on 1 node(s); at most 1024 per node and 1048576 in all');
    expect(why.thin).toMatch(/^out of bounds: tasks: 2 task\(s\) on 4 nodes; .*Flux refuses fewer/);
    expect(why.half).toMatch(/^out of bounds: tasks: 0\.5 tasks/);
    expect(why['a/b']).toMatch(/^out of bounds: job id "a\/b": ASCII letters/);
    expect(why['x'.repeat(20)]).toMatch(/is 241 characters; at most 240/);
    expect(why.gpus).toMatch(/gpusPerNode: 10000 GPUs per node; at most 64/);
  });

  it("the burst's own plan step (a scheduled burst's jobs come straight from the queue) refuses them by name, nothing provisioned", async () => {
    const reg = await loadRegistry({ searchPaths: [] });
    const config = parseConfig('targets:\n  - plugin: local\n    params: { maxNodes: 8, workdir: /nonexistent/fb-pb }\n', 'test', reg);
    const ctx = {
      burstId: 'b',
      owner: 'alice',
      attempt: 1,
      credentials: {},
      signal: new AbortController().signal,
      heartbeat: () => undefined,
      log: { info: () => undefined, warn: () => undefined },
    } as unknown as PluginContext;
    const chain = allTargets(config, reg);
    await expect(chooseAndPlan([job('ok-1')], chain, reg, 8, ctx)).resolves.toMatchObject({ target: 'local' });
    const e = await chooseAndPlan([job('ok-1'), job('huge', { tasks: 1_000_000_000 })], chain, reg, 8, ctx).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CapacityError);
    expect((e as CapacityError).code).toBe('Unfit');
    expect((e as CapacityError).retryable).toBe(false);
    expect((e as Error).message).toBe(
      'nothing provisioned: job huge: out of bounds: tasks: 1000000000 tasks on 1 node(s); at most 1024 per node and 1048576 in all',
    );
  });
});
