import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { InputError } from '../../src/core/errors.js';
import type { Job } from '../../src/core/types.js';
import { burstName } from '../../src/plan/naming.js';
import { type Plan, type PlanOptions, planBursts } from '../../src/plan/planner.js';
import { prepareBursts } from '../../src/plan/prepare.js';
import { loadRegistry, type PluginRegistry } from '../../src/plugins/registry.js';
import { selectJobs } from '../../src/select/selectors.js';
import { ROOT, cliAsync } from '../support/harness.js';
import { inputError } from '../support/errors.js';

// Planning is pure: configs come from YAML through the real schema, jobs are built here, and
// planBursts/prepareBursts are called directly. Nothing touches Temporal or the local workdir.

const FIXTURES = join(ROOT, 'test/fixtures');
let reg: PluginRegistry;
let tmp: string;
beforeAll(async () => {
  reg = await loadRegistry({ searchPaths: [] }); // built-ins only
  tmp = mkdtempSync(join(tmpdir(), 'fb-planning-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cfg = (yaml: string, baseDir?: string): Config => parseConfig(yaml, 'test', reg, baseDir);

/** A local target entry as YAML (one list item). */
function target(name: string, params: Record<string, unknown> = {}, extra = ''): string {
  return `  - plugin: local\n    name: ${name}\n    params: ${JSON.stringify({ workdir: '/nonexistent/fb-planning', ...params })}\n${extra}`;
}

function job(id: string, o: Partial<Job> = {}, override?: unknown): Job {
  const system: Record<string, unknown> = { burstable: 1 };
  if (override !== undefined) system.fluxburst = override;
  return { id, name: id, nodes: 1, tasks: 1, command: ['true'], attributes: { system }, ...o };
}

const plan = (jobs: Job[], c: Config, opts: Partial<PlanOptions> = {}): Plan => planBursts(jobs, c, reg, { owner: 'tester', ...opts });

/** job id → the target of the burst it is in. */
const placed = (p: Plan): Record<string, string> => Object.fromEntries(p.bursts.flatMap((b) => b.jobs.map((j) => [j.id, b.target])));
/** Each burst's job ids. */
const groups = (p: Plan): string[][] => p.bursts.map((b) => b.jobs.map((j) => j.id));
const unfitOf = (p: Plan, id: string): string => {
  const u = p.unfit.find((x) => x.jobId === id);
  if (!u) throw new Error(`job ${id} is not unfit: ${JSON.stringify(placed(p))}`);
  return u.reason;
};
const burstOf = (p: Plan, id: string) => {
  const b = p.bursts.find((x) => x.jobs.some((j) => j.id === id));
  if (!b) throw new Error(`job ${id} has no burst: ${JSON.stringify(p.unfit)}`);
  return b;
};

async function inputErrorAsync(fn: () => Promise<unknown>): Promise<InputError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

/** Every job planned exactly once: in one burst or unfit. */
function expectPartition(p: Plan, jobs: Job[]): void {
  const ids = [...p.bursts.flatMap((b) => b.jobs.map((j) => j.id)), ...p.unfit.map((u) => u.jobId)].sort();
  expect(ids).toEqual(jobs.map((j) => j.id).sort());
}

// ---------------------------------------------------------------------------------------------

describe('per-job overrides win over the global config', () => {
  const twoTargets = (ordering = 'cheapest') =>
    cfg(`ordering: ${ordering}\ntargets:\n${target('cheap', { costPerNodeHour: 1, latencyMs: 2000 })}${target('fast', { costPerNodeHour: 5, latencyMs: 0 })}`);

  it('a job asking for target fast goes there; the others follow the ordering (cheapest)', () => {
    const jobs = [job('a'), job('pick-fast', {}, { target: 'fast' }), job('b', { nodes: 2, tasks: 2 })];
    const p = plan(jobs, twoTargets());
    expect(p.unfit).toEqual([]);
    expect(placed(p)).toEqual({ a: 'cheap', b: 'cheap', 'pick-fast': 'fast' });
    expect(groups(p)).toEqual([['a', 'b'], ['pick-fast']]);

    const cheap = burstOf(p, 'a');
    expect(cheap.chain.map((c) => c.name)).toEqual(['cheap', 'fast']);
    expect(cheap.reason).toBe('cheapest: cheap $1.00/h < fast $5.00/h');
    expect(cheap.costPerHour).toBe(2); // pooled: 2 nodes × $1

    const fast = burstOf(p, 'pick-fast');
    expect(fast.chain.map((c) => c.name)).toEqual(['fast']); // the job's own choice: no fallback elsewhere
    expect(fast.reason).toBe('cheapest: fast $5.00/h (not: cheap: job asks for target fast)');
    expect(fast.costPerHour).toBe(5);
    expect(fast.chain[0]!.params).toMatchObject({ costPerNodeHour: 5, latencyMs: 0 });

    // Same under in_order, where cheap comes first too: the override still wins.
    expect(placed(plan(jobs, twoTargets('in_order')))).toEqual({ a: 'cheap', b: 'cheap', 'pick-fast': 'fast' });
    // And a plugin override that every target satisfies changes nothing.
    expect(placed(plan([job('p', {}, { plugin: 'local' })], twoTargets()))).toEqual({ p: 'cheap' });
  });

  it('a job asking for a target that does not exist, or another plugin, is unfit and says so per target', () => {
    const p = plan([job('ghost', {}, { target: 'nowhere' }), job('gke', {}, { plugin: 'gke' })], twoTargets());
    expect(p.bursts).toEqual([]);
    expect(unfitOf(p, 'ghost')).toBe('no target fits: cheap: job asks for target nowhere; fast: job asks for target nowhere');
    expect(unfitOf(p, 'gke')).toBe('no target fits: cheap: job asks for plugin gke; fast: job asks for plugin gke');
  });

  it('an override param the local plugin does not take (maxPrice, namespace) makes the target unfit, naming the param', () => {
    const jobs = [job('price', {}, { maxPrice: 2.5 }), job('ns', {}, { namespace: 'team-a' }), job('both', {}, { target: 'fast', maxPrice: 1 }), job('plain')];
    const p = plan(jobs, twoTargets());
    expectPartition(p, jobs);
    expect(placed(p)).toEqual({ plain: 'cheap' });
    const price = unfitOf(p, 'price');
    expect(price).toMatch(/^no target fits: cheap: plugin local does not take maxPrice from the job \(.+\); fast: plugin local does not take maxPrice from the job/);
    expect(unfitOf(p, 'ns')).toMatch(/^no target fits: cheap: plugin local does not take namespace from the job .*; fast: plugin local does not take namespace/);
    // Target choice is checked first, so the other target says why it was not considered.
    expect(unfitOf(p, 'both')).toMatch(/^no target fits: cheap: job asks for target fast; fast: plugin local does not take maxPrice from the job/);
  });

  it('jobs with different overrides never share a burst, even on the same target with the same shape', () => {
    const jobs = [
      job('none-1'),
      job('to-cheap-1', {}, { target: 'cheap' }),
      job('none-2', { nodes: 3, tasks: 3 }),
      job('x86', {}, { requires: { arch: 'x86_64' } }),
      job('to-cheap-2', { nodes: 2, tasks: 2 }, { target: 'cheap' }),
      job('x86-labels', {}, { requires: { labels: {}, arch: 'x86_64' } }),
    ];
    const p = plan(jobs, twoTargets());
    expect(p.unfit).toEqual([]);
    expect(new Set(Object.values(placed(p)))).toEqual(new Set(['cheap']));
    const sorted = groups(p).map((g) => [...g].sort()).sort((a, b) => a[0]!.localeCompare(b[0]!));
    expect(sorted).toEqual([['none-1', 'none-2'], ['to-cheap-1', 'to-cheap-2'], ['x86'], ['x86-labels']]);
    // Each pool is sized to its own largest job, and every burst has its own id.
    expect(burstOf(p, 'none-1').nodes).toBe(3);
    expect(burstOf(p, 'to-cheap-1').nodes).toBe(2);
    expect(new Set(p.bursts.map((b) => b.id)).size).toBe(p.bursts.length);
  });

  it('the same override written with keys in another order is the same override (one burst)', () => {
    const p = plan(
      [job('a', {}, { target: 'cheap', requires: { arch: 'x86_64', labels: { a: '1', b: '2' } } }), job('b', {}, { requires: { labels: { b: '2', a: '1' }, arch: 'x86_64' }, target: 'cheap' })],
      cfg(`targets:\n${target('cheap', {}, '    capabilities: {labels: {a: "1", b: "2"}}\n')}`),
    );
    expect(groups(p)).toEqual([['a', 'b']]);
  });
});

describe('invalid overrides are input errors', () => {
  const c = () => cfg(`targets:\n${target('one')}`);

  it('names every bad job and field at once, before planning anything', () => {
    const jobs = [
      job('good'),
      job('neg', {}, { maxPrice: -1 }),
      job('typo', {}, { tagret: 'one' }),
      job('upper', {}, { namespace: 'Team-A' }),
      job('scalar', {}, 'gke'),
      job('deep', {}, { requires: { arch: 'sparc' } }),
    ];
    const e = inputError(() => plan(jobs, c()));
    expect(e.origin).toBe('per-job overrides');
    expect(e.issues.map((i) => i.path)).toEqual([
      'job neg: attributes.system.fluxburst.maxPrice',
      'job typo: attributes.system.fluxburst.tagret',
      'job upper: attributes.system.fluxburst.namespace',
      'job scalar: attributes.system.fluxburst',
      'job deep: attributes.system.fluxburst.requires.arch',
    ]);
    expect(e.issues[1]!.message).toContain('unknown field');
    expect(e.issues[2]!.message).toContain('Kubernetes namespace');
    expect(e.message).toContain('job neg: attributes.system.fluxburst.maxPrice');
    expect(e.message).toContain('job upper: attributes.system.fluxburst.namespace');
    expect(e.message).not.toContain('job good');
  });

  it('prepareBursts reports the same error (nothing planned)', async () => {
    const e = await inputErrorAsync(() => prepareBursts({ config: c(), registry: reg, jobs: [job('ok'), job('neg', {}, { maxPrice: -1 })], owner: 'tester' }));
    expect(e.issues.map((i) => i.path)).toEqual(['job neg: attributes.system.fluxburst.maxPrice']);
  });

  it('an invalid override on a job the selector skips is not an error (it is never planned)', async () => {
    const home = { ...job('home', {}, { maxPrice: -1 }), attributes: { system: { fluxburst: { maxPrice: -1 } } } };
    const p = await prepareBursts({ config: c(), registry: reg, jobs: [job('ok'), home], owner: 'tester' });
    expect(p.selection.skipped).toEqual([{ id: 'home', reason: 'not marked burstable' }]);
    expect(groups(p.plan)).toEqual([['ok']]);
  });
});

describe('registry matching', () => {
  const registry = () =>
    cfg(
      [
        'targets:',
        target('cpu'),
        target('gpu1', {}, '    capabilities: {gpus: {max: 1, kinds: [t4]}}\n'),
        target('big', {}, '    capabilities: {gpus: {max: 4, kinds: [a100, h100]}}\n'),
        target('arm', {}, '    capabilities: {architectures: [arm64], labels: {site: lab, tier: gold}}\n'),
      ].join('\n'),
    );

  it('capabilities: GPUs per node, GPU kind, architecture, labels', () => {
    const jobs = [
      job('plain'),
      job('g1', { gpusPerNode: 1 }),
      job('g2', { gpusPerNode: 2 }),
      job('a100', { gpusPerNode: 1 }, { requires: { gpuKind: 'a100' } }),
      job('arm', {}, { requires: { arch: 'arm64' } }),
      job('lab', {}, { requires: { labels: { site: 'lab' }, arch: 'arm64' } }),
      job('x86-lab', {}, { requires: { labels: { site: 'lab' } } }),
    ];
    const p = plan(jobs, registry());
    // A job that names no architecture runs on x86_64: the arm64-only lab cannot take it.
    expect(p.unfit).toEqual([{ jobId: 'x86-lab', reason: expect.stringContaining('arm: needs x86_64; offers arm64') }]);
    expect(placed(p)).toEqual({ plain: 'cpu', g1: 'gpu1', g2: 'big', a100: 'big', arm: 'arm', lab: 'arm' });

    // Where it could also go is its chain; what it could not is in the reason.
    expect(burstOf(p, 'plain').chain.map((c) => c.name)).toEqual(['cpu', 'gpu1', 'big']);
    expect(burstOf(p, 'g1').chain.map((c) => c.name)).toEqual(['gpu1', 'big']);
    const g2 = burstOf(p, 'g2');
    expect(g2.chain.map((c) => c.name)).toEqual(['big']);
    expect(g2.reason).toBe(
      'in_order: big (not: cpu: needs 2 GPU(s) per node; offers at most 0; gpu1: needs 2 GPU(s) per node; offers at most 1; arm: needs 2 GPU(s) per node; offers at most 0)',
    );
    expect(burstOf(p, 'a100').reason).toContain('gpu1: needs GPU kind a100; offers t4');
    expect(burstOf(p, 'arm').reason).toContain('cpu: needs arm64; offers x86_64');
    expect(burstOf(p, 'lab').reason).toContain('big: needs arm64; offers x86_64');
  });

  it('no target fits: the reason lists each target and why', () => {
    const jobs = [job('g8', { gpusPerNode: 8 }), job('v100', { gpusPerNode: 1 }, { requires: { gpuKind: 'v100' } }), job('elsewhere', {}, { requires: { labels: { site: 'cloud' } } })];
    const p = plan(jobs, registry());
    expect(p.bursts).toEqual([]);
    expect(unfitOf(p, 'g8')).toBe(
      'no target fits: cpu: needs 8 GPU(s) per node; offers at most 0; gpu1: needs 8 GPU(s) per node; offers at most 1; big: needs 8 GPU(s) per node; offers at most 4; arm: needs 8 GPU(s) per node; offers at most 0',
    );
    expect(unfitOf(p, 'v100')).toBe(
      'no target fits: cpu: needs 1 GPU(s) per node; offers at most 0; gpu1: needs GPU kind v100; offers t4; big: needs GPU kind v100; offers a100, h100; arm: needs 1 GPU(s) per node; offers at most 0',
    );
    expect(unfitOf(p, 'elsewhere')).toBe(
      'no target fits: cpu: needs label site=cloud; has none; gpu1: needs label site=cloud; has none; big: needs label site=cloud; has none; arm: needs x86_64; offers arm64',
    );
  });

  it("a target's own plugin limits (local maxNodes) count too; the job falls to the next", () => {
    const c = cfg(`targets:\n${target('tiny', { maxNodes: 2 })}${target('roomy')}`);
    const p = plan([job('two', { nodes: 2, tasks: 2 }), job('three', { nodes: 3, tasks: 3 })], c);
    expect(placed(p)).toEqual({ two: 'tiny', three: 'roomy' });
    expect(burstOf(p, 'three').reason).toBe('in_order: roomy (not: tiny: needs 3 nodes, local maxNodes is 2)');
  });

  describe('quota', () => {
    const jobs = () => [job('q1', { nodes: 2, tasks: 2 }), job('q2', { nodes: 2, tasks: 2 }), job('q3', { nodes: 2, tasks: 2 })];

    it('exhausted on the first target: the rest of the bursts fall to the next target in the chain', () => {
      const c = cfg(`grouping: exclusive\ntargets:\n${target('small', {}, '    quota: {nodes: 4}\n')}${target('large')}`);
      const p = plan(jobs(), c);
      expect(p.unfit).toEqual([]);
      expect(placed(p)).toEqual({ q1: 'small', q2: 'small', q3: 'large' });
      const moved = burstOf(p, 'q3');
      expect(moved.reason).toBe('in_order: small, large; quota full on small, so large');
      expect(moved.chain.map((c) => c.name)).toEqual(['large']); // small is full: not a fallback either
      expect(burstOf(p, 'q1').chain.map((c) => c.name)).toEqual(['small', 'large']);
    });

    it('exhausted with nowhere else to go: unfit, with the quota numbers', () => {
      const c = cfg(`grouping: exclusive\ntargets:\n${target('small', {}, '    quota: {nodes: 4}\n')}`);
      const p = plan(jobs(), c);
      expect(placed(p)).toEqual({ q1: 'small', q2: 'small' });
      expect(p.unfit).toEqual([{ jobId: 'q3', reason: 'no target has room: small: quota exhausted (4/4 nodes in use, burst needs 2)' }]);
    });

    it('pooled, the same three jobs share one 2-node burst and fit', () => {
      const c = cfg(`targets:\n${target('small', {}, '    quota: {nodes: 4}\n')}`);
      const p = plan(jobs(), c);
      expect(p.unfit).toEqual([]);
      expect(groups(p)).toEqual([['q1', 'q2', 'q3']]);
      expect(p.bursts[0]!.nodes).toBe(2);
    });

    it('nodes already in flight (inUse) count against the quota', () => {
      const c = cfg(`targets:\n${target('small', {}, '    quota: {nodes: 4}\n')}${target('large')}`);
      const p = plan([job('q1', { nodes: 2, tasks: 2 })], c, { inUse: new Map([['small', { nodes: 3, costPerHour: 0 }]]) });
      expect(placed(p)).toEqual({ q1: 'large' });
      const only = plan([job('q1', { nodes: 2, tasks: 2 })], cfg(`targets:\n${target('small', {}, '    quota: {nodes: 4}\n')}`), { inUse: new Map([['small', { nodes: 3, costPerHour: 0 }]]) });
      expect(only.unfit).toEqual([{ jobId: 'q1', reason: 'no target has room: small: quota exhausted (3/4 nodes in use, burst needs 2)' }]);
    });

    it('a spend quota (costPerHour) works the same way', () => {
      const c = cfg(`grouping: exclusive\ntargets:\n${target('metered', { costPerNodeHour: 2 }, '    quota: {costPerHour: 5}\n')}`);
      const p = plan([job('m1'), job('m2'), job('m3')], c);
      expect(placed(p)).toEqual({ m1: 'metered', m2: 'metered' });
      expect(p.unfit).toEqual([{ jobId: 'm3', reason: 'no target has room: metered: quota exhausted ($4.00/$5.00 per hour in use, burst needs $2.00)' }]);
    });
  });
});

describe('orderings', () => {
  // slow is cheapest, pricey is fastest, mid is in between on both.
  const targets = [
    target('slow', { costPerNodeHour: 1, latencyMs: 5000 }),
    target('pricey', { costPerNodeHour: 9, latencyMs: 0 }, '    capabilities: {labels: {tier: gold}}\n'),
    target('mid', { costPerNodeHour: 3, latencyMs: 1000 }),
  ].join('');
  const withOrdering = (o: string) => cfg(`ordering: ${o}\ntargets:\n${targets}`);
  const one = (o: string, j = job('j')) => {
    const p = plan([j], withOrdering(o));
    expect(p.unfit).toEqual([]);
    return p.bursts[0]!;
  };

  it('in_order: config order', () => {
    const b = one('in_order');
    expect(b.target).toBe('slow');
    expect(b.chain.map((c) => c.name)).toEqual(['slow', 'pricey', 'mid']);
    expect(b.reason).toBe('in_order: slow, pricey, mid');
    // The default ordering is in_order.
    expect(plan([job('j')], cfg(`targets:\n${targets}`)).bursts[0]!.reason).toBe('in_order: slow, pricey, mid');
  });

  it('cheapest: by the job\'s cost per hour (nodes × price), ties in config order', () => {
    const b = one('cheapest', job('j', { nodes: 2, tasks: 2 }));
    expect(b.target).toBe('slow');
    expect(b.chain.map((c) => c.name)).toEqual(['slow', 'mid', 'pricey']);
    expect(b.reason).toBe('cheapest: slow $2.00/h < mid $6.00/h < pricey $18.00/h');
    expect(b.costPerHour).toBe(2);

    const tie = plan([job('t')], cfg(`ordering: cheapest\ntargets:\n${target('b-first', { costPerNodeHour: 2 })}${target('a-second', { costPerNodeHour: 2 })}`));
    expect(tie.bursts[0]!.chain.map((c) => c.name)).toEqual(['b-first', 'a-second']);
  });

  it('fastest: by estimated seconds to ready', () => {
    const b = one('fastest');
    expect(b.target).toBe('pricey');
    expect(b.chain.map((c) => c.name)).toEqual(['pricey', 'mid', 'slow']);
    expect(b.reason).toBe('fastest: pricey 0s < mid 1s < slow 5s');
    expect(b.secondsToReady).toBeCloseTo(0.2);
    expect(b.costPerHour).toBe(9);
  });

  it('fallback: only the listed targets, in that order', () => {
    const b = one('{fallback: [mid, slow]}');
    expect(b.target).toBe('mid');
    expect(b.chain.map((c) => c.name)).toEqual(['mid', 'slow']);
    expect(b.reason).toBe('fallback chain mid → slow');

    // A listed target that cannot take the job is skipped (and named); the next one takes it.
    const p = plan([job('big', { nodes: 3, tasks: 3 })], cfg(`ordering: {fallback: [tiny, mid]}\ntargets:\n${targets}${target('tiny', { maxNodes: 2 })}`));
    expect(placed(p)).toEqual({ big: 'mid' });
    expect(p.bursts[0]!.chain.map((c) => c.name)).toEqual(['mid']);
    expect(p.bursts[0]!.reason).toBe('fallback chain tiny → mid (not: tiny: needs 3 nodes, local maxNodes is 2)');
  });

  it('fallback: a job that fits only an unlisted target is unfit and says so', () => {
    const p = plan([job('gold', {}, { requires: { labels: { tier: 'gold' } } }), job('any')], withOrdering('{fallback: [mid, slow]}'));
    expect(placed(p)).toEqual({ any: 'mid' });
    expect(unfitOf(p, 'gold')).toBe('no target fits: slow: needs label tier=gold; has none; mid: needs label tier=gold; has none; fits only pricey, not in the fallback chain');
  });

  it('a fallback naming an unknown target is a config error', () => {
    const e = inputError(() => withOrdering('{fallback: [mid, nope]}'));
    expect(e.issues).toEqual([{ path: 'ordering.fallback[1]', message: 'no target named "nope" (targets: slow, pricey, mid)' }]);
  });
});

describe('grouping and caps', () => {
  const jobs = () => [job('one'), job('three', { nodes: 3, tasks: 3 }), job('two', { nodes: 2, tasks: 2 })];
  const c = (extra = '') => cfg(`${extra}targets:\n${target('t', { costPerNodeHour: 3 })}`);

  it('pooled: one burst sized to the largest job; its gang is that whole size', () => {
    const p = plan(jobs(), c());
    expect(p.bursts).toHaveLength(1);
    const b = p.bursts[0]!;
    expect(b.jobs.map((j) => j.id)).toEqual(['one', 'three', 'two']);
    expect({ nodes: b.nodes, gangMin: b.gangMin, shape: b.shape, costPerHour: b.costPerHour }).toEqual({ nodes: 3, gangMin: 3, shape: 'process', costPerHour: 9 });
    expect(b.id).toMatch(/^burst-3n-[0-9a-f]{8}$/);
  });

  it('exclusive: one burst per job, each sized to it', () => {
    const p = plan(jobs(), c('grouping: exclusive\n'));
    expect(p.bursts.map((b) => [b.jobs.map((j) => j.id), b.nodes, b.gangMin, b.costPerHour])).toEqual([
      [['one'], 1, 1, 3],
      [['three'], 3, 3, 9],
      [['two'], 2, 2, 6],
    ]);
    expect(new Set(p.bursts.map((b) => b.id)).size).toBe(3);
  });

  it('pooled, a job marked exclusive still gets a burst of its own', () => {
    const p = plan([job('a'), job('solo', { exclusive: true }), job('b')], c());
    expect(groups(p)).toEqual([['a', 'b'], ['solo']]);
  });

  it('limits.maxNodes: a bigger job is unfit with the reason; the rest still plan', () => {
    const p = plan([...jobs(), job('six', { nodes: 6, tasks: 6 })], c('limits: {maxNodes: 4}\n'));
    expect(p.unfit).toEqual([{ jobId: 'six', reason: 'needs 6 nodes, over maxNodes 4' }]);
    expect(groups(p)).toEqual([['one', 'three', 'two']]);
  });

  it('limits.maxCostPerHour: a job whose own burst costs more is unfit with the reason', () => {
    const p = plan(jobs(), c('limits: {maxCostPerHour: 8}\n'));
    expect(p.unfit).toEqual([{ jobId: 'three', reason: '3 × process costs $9/h, over maxCostPerHour $8/h' }]);
    expect(p.bursts.map((b) => [b.jobs.map((j) => j.id), b.nodes, b.costPerHour])).toEqual([[['one', 'two'], 2, 6]]);
  });
});

describe('names and determinism', () => {
  const c = (name = 'nm', ordering = 'in_order') => cfg(`name: ${name}\nordering: ${ordering}\ntargets:\n${target('x', { costPerNodeHour: 2 })}${target('y', { costPerNodeHour: 1 })}`);
  const jobs = () => [job('j1', { nodes: 2, tasks: 2 }), job('j2'), job('gpu', { gpusPerNode: 1 }), job('j3', { nodes: 9, tasks: 9 })];

  it('<name>-<nodes>n-<8 hex>: a hash of the job set, the chain and the owner', () => {
    const p = plan([job('j1', { nodes: 2, tasks: 2 }), job('j2')], c(), { owner: 'alice' });
    const b = p.bursts[0]!;
    expect(b.id).toBe('nm-2n-90da6662'); // pinned: a change of the hash renames every running burst
    const name = (ids: string[], plugins = ['x', 'y'], owner = 'alice') => burstName('nm', 2, { jobIds: ids, plugins, owner });
    expect(b.id).toBe(name(['j1', 'j2']));
    expect(name(['j2', 'j1'])).toBe(b.id); // order of jobs does not matter
    expect(name(['j1', 'j3'])).not.toBe(b.id); // which jobs does
    expect(name(['j1'])).not.toBe(b.id);
    expect(name(['j1', 'j2'], ['y', 'x'])).not.toBe(b.id); // so does the chain
    expect(name(['j1', 'j2'], ['x', 'y'], 'bob')).not.toBe(b.id); // and the owner
    // 20,000 single-job bursts: names spread like a random 32-bit hash (expect ~0 collisions).
    const names = new Set(Array.from({ length: 20_000 }, (_, i) => burstName('nm', 1, { jobIds: [`job-${i}`], plugins: ['x'], owner: 'alice' })));
    expect(names.size).toBeGreaterThanOrEqual(19_998);
  });

  it('the same input gives a deep-equal plan; job order within a burst does not change its name', () => {
    const a = plan(jobs(), c(), { owner: 'alice' });
    const b = plan(jobs(), c(), { owner: 'alice' });
    expect(b).toEqual(a);
    expect(a.unfit.map((u) => u.jobId)).toEqual(['gpu']);
    const reversed = plan([...jobs()].reverse(), c(), { owner: 'alice' });
    expect(reversed.bursts.map((x) => x.id)).toEqual(a.bursts.map((x) => x.id));
  });

  it('different job sets, owners, names or chains give different names', () => {
    const base = plan(jobs(), c(), { owner: 'alice' }).bursts[0]!.id;
    expect(plan(jobs(), c(), { owner: 'bob' }).bursts[0]!.id).not.toBe(base);
    expect(plan(jobs().slice(0, 2), c(), { owner: 'alice' }).bursts[0]!.id).not.toBe(base);
    expect(plan([...jobs(), job('j4')], c(), { owner: 'alice' }).bursts[0]!.id).not.toBe(base);
    expect(plan(jobs(), c('other'), { owner: 'alice' }).bursts[0]!.id).toBe(base.replace(/^nm-/, 'other-'));
    // cheapest puts y first: another chain, so another burst.
    const cheapest = plan(jobs(), c('nm', 'cheapest'), { owner: 'alice' }).bursts[0]!;
    expect(cheapest.chain.map((x) => x.name)).toEqual(['y', 'x']);
    expect(cheapest.id).not.toBe(base);
    expect(cheapest.id).toMatch(/^nm-9n-[0-9a-f]{8}$/);
  });
});

describe('selectors', () => {
  const people = (): Job[] => [
    job('alice-batch', { user: 'alice', queue: 'batch', nodes: 2, tasks: 2, attributes: { system: { burstable: 1 }, user: { project: 'climate' } } }),
    job('bob-debug', { user: 'bob', queue: 'debug', nodes: 4, tasks: 4, attributes: { system: {} } }),
    job('carol-batch', { user: 'carol', queue: 'batch', nodes: 16, tasks: 16, attributes: { system: { burstable: 1 }, user: { project: 'genomics' } } }),
    job('dave-none', { user: 'dave', nodes: 1, attributes: { system: { burstable: 1 } } }),
  ];
  const select = async (yaml: string, jobs = people(), base?: string) => selectJobs(jobs, cfg(yaml, base).select);
  const skipped = (s: Awaited<ReturnType<typeof select>>) => Object.fromEntries(s.skipped.map((x) => [x.id, x.reason]));
  const ids = (s: Awaited<ReturnType<typeof select>>) => s.selected.map((j) => j.id);

  it('burstable (the default): the system attribute', async () => {
    const s = await select('{}');
    expect(ids(s)).toEqual(['alice-batch', 'carol-batch', 'dave-none']);
    expect(skipped(s)).toEqual({ 'bob-debug': 'not marked burstable' });
  });

  it('match all: equals, in, min/max and exists, on job fields and attribute paths, each skip says why', async () => {
    expect(skipped(await select('select: {kind: match, all: [{path: queue, equals: batch}]}'))).toEqual({
      'bob-debug': 'queue is "debug", not "batch"',
      'dave-none': 'queue is undefined, not "batch"',
    });
    expect(skipped(await select('select: {kind: match, all: [{path: user, in: [alice, bob]}]}'))).toEqual({
      'carol-batch': 'user is "carol", not one of ["alice","bob"]',
      'dave-none': 'user is "dave", not one of ["alice","bob"]',
    });
    expect(skipped(await select('select: {kind: match, all: [{path: nodes, min: 2, max: 8}]}'))).toEqual({
      'carol-batch': 'nodes 16 > 8',
      'dave-none': 'nodes 1 < 2',
    });
    expect(skipped(await select('select: {kind: match, all: [{path: attributes.user.project, exists: true}]}'))).toEqual({
      'bob-debug': 'attributes.user.project is missing',
      'dave-none': 'attributes.user.project is missing',
    });
    expect(skipped(await select('select: {kind: match, all: [{path: attributes.user.project, exists: false}]}'))).toEqual({
      'alice-batch': 'attributes.user.project is set',
      'carol-batch': 'attributes.user.project is set',
    });
    expect(skipped(await select('select: {kind: match, all: [{path: attributes.user.project, min: 1}]}'))['alice-batch']).toBe('attributes.user.project is not a number');

    // All conditions must hold; the first that fails is the reason.
    const s = await select(
      'select: {kind: match, all: [{path: queue, equals: batch}, {path: attributes.system.burstable, equals: 1}, {path: nodes, max: 8}, {path: attributes.user.project, in: [climate, genomics]}]}',
    );
    expect(ids(s)).toEqual(['alice-batch']);
    expect(skipped(s)).toEqual({ 'bob-debug': 'queue is "debug", not "batch"', 'carol-batch': 'nodes 16 > 8', 'dave-none': 'queue is undefined, not "batch"' });
  });

  it('match any: at least one holds; otherwise every reason is listed', async () => {
    const s = await select('select: {kind: match, any: [{path: queue, equals: debug}, {path: nodes, min: 10}]}');
    expect(ids(s)).toEqual(['bob-debug', 'carol-batch']);
    expect(skipped(s)).toEqual({
      'alice-batch': 'none of: queue is "batch", not "debug"; nodes 2 < 10',
      'dave-none': 'none of: queue is undefined, not "debug"; nodes 1 < 10',
    });
    // all and any together: all first, then at least one of any.
    const both = await select('select: {kind: match, all: [{path: queue, exists: true}], any: [{path: user, equals: alice}, {path: user, equals: carol}]}');
    expect(ids(both)).toEqual(['alice-batch', 'carol-batch']);
    expect(skipped(both)).toEqual({ 'bob-debug': 'none of: user is "bob", not "alice"; user is "bob", not "carol"', 'dave-none': 'queue is missing' });
  });

  it('prepareBursts plans only the selected jobs and reports the skipped ones', async () => {
    const config = cfg(`select: {kind: match, all: [{path: queue, equals: batch}]}\ntargets:\n${target('t')}`);
    const p = await prepareBursts({ config, registry: reg, jobs: people(), owner: 'tester' });
    expect(p.selection.skipped.map((s) => s.id)).toEqual(['bob-debug', 'dave-none']);
    expect(groups(p.plan)).toEqual([['alice-batch', 'carol-batch']]);
    expect(p.bursts[0]!.input.selector).toEqual({ kind: 'match', all: [{ path: 'queue', equals: 'batch' }] });
    // The burst gets its jobs by reference (inline: small), selected already; the source is only what it was.
    expect(p.bursts[0]!.input.jobs).toEqual({ kind: 'inline', jobs: p.bursts[0]!.jobs });
  });

  describe('module selectors', () => {
    const gpuJobs = () => [job('cpu'), job('gpu', { gpusPerNode: 1 }), job('gpu-wide', { nodes: 2, tasks: 2, gpusPerNode: 2 })];

    it('a module exporting a function (default or named), path relative to the config', async () => {
      const c = cfg('select: {kind: module, path: selectors/gpu-only.mjs}', FIXTURES);
      expect(c.select).toEqual({ kind: 'module', path: join(FIXTURES, 'selectors/gpu-only.mjs'), export: 'default' });
      const s = await selectJobs(gpuJobs(), c.select);
      expect(ids(s)).toEqual(['gpu', 'gpu-wide']);
      expect(s.skipped).toEqual([{ id: 'cpu', reason: 'selector said no' }]);
      const named = await select('select: {kind: module, path: selectors/gpu-only.mjs, export: gpuOnlyNamed}', gpuJobs(), FIXTURES);
      expect(ids(named)).toEqual(['gpu', 'gpu-wide']);
    });

    it('a missing module, a non-function export and a non-boolean answer are input errors naming the field', async () => {
      const missing = await inputErrorAsync(() => select('select: {kind: module, path: selectors/nope.mjs}', gpuJobs(), FIXTURES));
      expect(missing.issues).toHaveLength(1);
      expect(missing.issues[0]!.path).toBe('select.path');
      expect(missing.issues[0]!.message).toContain(`cannot load ${join(FIXTURES, 'selectors/nope.mjs')}`);

      const notFn = await inputErrorAsync(() => select('select: {kind: module, path: selectors/bad.mjs, export: notAFunction}', gpuJobs(), FIXTURES));
      expect(notFn.issues).toEqual([{ path: 'select.export', message: `${join(FIXTURES, 'selectors/bad.mjs')} exports no function "notAFunction"` }]);
      const noExport = await inputErrorAsync(() => select('select: {kind: module, path: selectors/bad.mjs}', gpuJobs(), FIXTURES));
      expect(noExport.issues).toEqual([{ path: 'select.export', message: `${join(FIXTURES, 'selectors/bad.mjs')} exports no function "default"` }]);

      // Fine for a 1-node job (false), a string for the 2-node one: the error names the job.
      const stringly = await inputErrorAsync(() => select('select: {kind: module, path: selectors/bad.mjs, export: stringly}', gpuJobs(), FIXTURES));
      expect(stringly.issues).toHaveLength(1);
      expect(stringly.issues[0]!.path).toMatch(/^select/);
      expect(stringly.issues[0]!.message).toBe(`${join(FIXTURES, 'selectors/bad.mjs')}#stringly returned string for job gpu-wide; it must return true or false`);
    });
  });

  it('bad selector configs are rejected with the field path', () => {
    const cases: Array<[string, string, string]> = [
      ['select: {kind: match}', 'select', 'give `all` or `any`'],
      ['select: {kind: match, all: [{path: queue}]}', 'select.all[0]', 'give exactly one test'],
      ['select: {kind: match, all: [{path: queue, equals: a, in: [b]}]}', 'select.all[0]', 'give exactly one test'],
      ['select: {kind: match, all: [{path: bogus, equals: 1}]}', 'select.all[0].path', 'a job field'],
      ['select: {kind: match, any: [{path: nodes, min: 5, max: 2}]}', 'select.any[0].min', 'min is above max'],
      ['select: {kind: match, all: [{path: queue, equals: a, extra: 1}]}', 'select.all[0].extra', 'unknown field'],
      ['select: {kind: module}', 'select.path', ''],
      ['select: {kind: module, path: x.mjs, export: "1bad"}', 'select.export', ''],
      ['select: {kind: nope}', 'select.kind', ''],
    ];
    for (const [yaml, path, msg] of cases) {
      const e = inputError(() => cfg(yaml));
      expect(e.issues.map((i) => i.path), yaml).toEqual([path]);
      expect(e.issues[0]!.message, yaml).toContain(msg);
    }
  });

  it('fluxburst validate rejects a bad selector (exit 2, path named), including a module that does not load', async () => {
    const bad = join(tmp, 'bad-select.yaml');
    writeFileSync(bad, 'select:\n  kind: match\n  any:\n    - {path: nodes, min: 5, max: 2}\n');
    const r = await cliAsync(['validate', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`invalid config ${resolve(bad)}`);
    expect(r.stderr).toContain('select.any[0].min: min is above max');

    const missing = join(tmp, 'missing-module.yaml');
    writeFileSync(missing, 'select: {kind: module, path: ./no-such-selector.mjs}\n');
    const m = await cliAsync(['validate', '--config', missing]);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain('select.path: cannot load');

    const notFn = join(tmp, 'not-fn.yaml');
    writeFileSync(notFn, `select: {kind: module, path: ${join(FIXTURES, 'selectors/bad.mjs')}, export: notAFunction}\n`);
    const n = await cliAsync(['validate', '--config', notFn]);
    expect(n.code).toBe(2);
    expect(n.stderr).toContain('select.export:');

    const good = join(tmp, 'good.yaml');
    writeFileSync(good, `select: {kind: module, path: ${join(FIXTURES, 'selectors/gpu-only.mjs')}}\n`);
    const g = await cliAsync(['validate', '--config', good]);
    expect(g.stderr).toBe('');
    expect(g.code).toBe(0);
  });
});
