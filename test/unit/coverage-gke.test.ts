// GKE `spotPriceFactor`: a spot burst is estimated (and planned, through `fluxburst plan`) at that
// fraction of the catalog's on-demand price; without `spot` the factor does not apply.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/catalog.js';
import type { Job } from '../../src/core/types.js';
import { gkePlugin } from '../../src/plugins/gke/index.js';
import { gkeParams } from '../../src/plugins/gke/params.js';
import { cli } from '../support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'fb-cov-gke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const params = (over: Record<string, unknown> = {}) => gkeParams.parse({ project: 'my-project', location: 'us-central1-a', ...over });
const job: Job = { id: 'a', name: 'a', nodes: 2, tasks: 16, coresPerNode: 8, command: ['hostname'], attributes: { system: { burstable: 1 } } };
const onDemand = loadCatalog()
  .types.filter((t) => t.provider === 'gce' && t.region === 'us-central1' && t.arch === 'x86_64' && t.gpus === 0 && t.vcpus >= 8)
  .sort((a, b) => a.pricePerHour - b.pricePerHour || (a.name < b.name ? -1 : 1))[0]!;

it('estimate and shape price spot nodes at spotPriceFactor × on-demand; the factor is ignored without spot', () => {
  const e = gkePlugin.estimate([job], params({ spot: true, spotPriceFactor: 0.6 })) as { costPerHour: number };
  expect(e.costPerHour).toBeCloseTo(2 * onDemand.pricePerHour * 0.6, 8);
  expect(gkePlugin.shape!(job, params({ spot: true, spotPriceFactor: 0.6 }))).toMatchObject({ costPerNodeHour: expect.closeTo(onDemand.pricePerHour * 0.6, 8) });
  const od = gkePlugin.estimate([job], params({ spotPriceFactor: 0.6 })) as { costPerHour: number };
  expect(od.costPerHour).toBeCloseTo(2 * onDemand.pricePerHour, 8);
  expect(gkeParams.safeParse({ project: 'my-project', location: 'us-central1-a', spotPriceFactor: 1.5 }).success).toBe(false);
});

it('fluxburst plan: a spot GKE target is priced with its factor and ordered by it (cheapest)', () => {
  writeFileSync(join(dir, 'jobs.yaml'), '- {id: a, command: [hostname], nodes: 2, tasks: 16, coresPerNode: 8, burstable: true}\n');
  writeFileSync(
    join(dir, 'fb.yaml'),
    [
      'name: covgke',
      'jobs: jobs.yaml',
      'ordering: cheapest',
      'targets:',
      '  - {name: od, plugin: gke, params: {project: my-project, location: us-central1-a}}',
      '  - {name: cheap, plugin: gke, params: {project: my-project, location: us-central1-a, spot: true, spotPriceFactor: 0.2}}',
      '',
    ].join('\n'),
  );
  const r = cli(['plan', '--json', '--config', join(dir, 'fb.yaml')]);
  expect(r.code, r.stderr).toBe(0);
  const b = JSON.parse(r.stdout).bursts[0];
  expect(b.target).toBe('cheap');
  expect(b.costPerHour).toBeCloseTo(2 * onDemand.pricePerHour * 0.2, 6);
});
