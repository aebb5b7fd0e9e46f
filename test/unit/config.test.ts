import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { DEFAULT_WORKDIR } from '../../src/plugins/local/layout.js';
import { loadRegistry, type PluginRegistry } from '../../src/plugins/registry.js';
import { ROOT, cliAsync } from '../support/harness.js';
import { inputError } from '../support/errors.js';

let reg: PluginRegistry;
let dir: string;
beforeAll(async () => {
  reg = await loadRegistry({ searchPaths: [] }); // built-ins only, whatever is installed
  dir = mkdtempSync(join(tmpdir(), 'fb-config-unit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LOCAL_DEFAULTS = { workdir: DEFAULT_WORKDIR, maxNodes: 64, latencyMs: 0, costPerNodeHour: 0, readyTimeoutSeconds: 30 };
const NO_CAPS = { labels: {}, architectures: ['x86_64'], gpus: { max: 0, kinds: [] } };
const LOCAL_TARGET = { plugin: 'local', params: LOCAL_DEFAULTS, capabilities: NO_CAPS, quota: {} };


describe('defaults', () => {
  it('an empty config is the whole default config: one local target, default timeouts', () => {
    const cfg = parseConfig('', 't', reg);
    expect(cfg).toEqual({
      name: 'burst',
      select: { kind: 'burstable' },
      ordering: 'in_order',
      grouping: 'pooled',
      targets: [LOCAL_TARGET],
      limits: { maxNodes: 64 },
      timeouts: { stepSeconds: 900, heartbeatSeconds: 15, jobSeconds: 86400, interruptionPollSeconds: 15 },
      run: { batchMax: 500, batchSeconds: 30, eventsPerRun: 8000, tailBytes: 512, pageSize: 2000 },
      temporal: { taskQueue: 'fluxburst' },
    });
    expect(parseConfig('{}', 't', reg)).toEqual(cfg);
    expect(loadConfig(undefined, reg)).toEqual({ config: cfg });
  });

  it('fills the other timeouts when one is given', () => {
    expect(parseConfig('timeouts: { heartbeatSeconds: 5 }\n', 't', reg).timeouts).toEqual({ stepSeconds: 900, heartbeatSeconds: 5, jobSeconds: 86400, interruptionPollSeconds: 15 });
  });

  it('applies plugin params defaults, with or without a params mapping', () => {
    expect(parseConfig('targets:\n  - plugin: local\n', 't', reg).targets).toEqual([LOCAL_TARGET]);
    expect(parseConfig('targets:\n  - plugin: local\n    params: { latencyMs: 250, fault: { step: join } }\n', 't', reg).targets).toEqual([
      { ...LOCAL_TARGET, params: { ...LOCAL_DEFAULTS, latencyMs: 250, fault: { step: 'join', afterCreate: false } } },
    ]);
  });

  it('keeps the temporal section as given, with the default task queue', () => {
    const cfg = parseConfig('temporal:\n  address: example.org:7233\n  namespace: ns\n  tls: {}\n', 't', reg);
    expect(cfg.temporal).toEqual({ address: 'example.org:7233', namespace: 'ns', taskQueue: 'fluxburst', tls: {} });
  });
});

describe('jobs path', () => {
  it('a relative `jobs:` is resolved against the config file’s directory, not the cwd', () => {
    mkdirSync(join(dir, 'conf'), { recursive: true });
    writeFileSync(join(dir, 'conf', 'fb.yaml'), 'jobs: ../queue/jobs.yaml\n');
    const loaded = loadConfig(join(dir, 'conf', 'fb.yaml'), reg);
    expect(loaded.path).toBe(join(dir, 'conf', 'fb.yaml'));
    expect(loaded.config.jobs).toBe(join(dir, 'queue', 'jobs.yaml'));
    expect(process.cwd()).not.toBe(join(dir, 'conf'));
  });

  it('an absolute `jobs:` is kept; parseConfig resolves against the base dir it is given', () => {
    expect(parseConfig('jobs: /srv/jobs.yaml\n', 't', reg, '/elsewhere').jobs).toBe('/srv/jobs.yaml');
    expect(parseConfig('jobs: j.yaml\n', 't', reg, '/base').jobs).toBe('/base/j.yaml');
  });

  it('examples/local.yaml loads and points at examples/jobs.yaml', () => {
    const { config } = loadConfig(join(ROOT, 'examples', 'local.yaml'), reg);
    expect(config.name).toBe('demo');
    expect(config.jobs).toBe(join(ROOT, 'examples', 'jobs.yaml'));
    expect(config.targets).toEqual([LOCAL_TARGET]);
  });
});

describe('errors name the field path and the file', () => {
  it('names every bad field at once', () => {
    const e = inputError(() => parseConfig('limits: { maxNodes: 0 }\ntargets:\n  - plugin: local\n    params: { latencyMs: -1, bogus: true }\nextra: 1\n', 'config fb.yaml', reg));
    expect(e.issues.map((i) => i.path).sort()).toEqual(['extra', 'limits.maxNodes', 'targets[0].params.bogus', 'targets[0].params.latencyMs']);
    expect(e.message).toMatch(/^invalid config fb\.yaml:\n/);
  });

  it('YAML errors carry the line', () => {
    const e = inputError(() => parseConfig('name: a\nname: b\n', 'config fb.yaml', reg));
    expect(e.issues).toHaveLength(1);
    expect(e.issues[0]!.message).toMatch(/^YAML: Map keys must be unique at line 2, column 1/);
  });

  it('one job source only: jobs, flux or slurm', () => {
    const e = inputError(() => parseConfig('jobs: j.yaml\nslurm: { partitions: [burst] }\n', 'config fb.yaml', reg));
    expect(e.issues).toEqual([{ path: 'slurm', message: 'give one job source: `jobs` or `slurm`, not both' }]);
    const ok = parseConfig('slurm: { conf: etc/slurm.conf }\n', 'config fb.yaml', reg, '/site');
    expect(ok.slurm).toEqual({ squeue: 'squeue', conf: '/site/etc/slurm.conf', partitions: [] });
  });

  it('a missing file is named', () => {
    const e = inputError(() => loadConfig(join(dir, 'nope.yaml'), reg));
    expect(e.message).toBe(`invalid config ${join(dir, 'nope.yaml')}:\n  - (root): cannot read: ENOENT`);
  });
});

describe('schema and plugins commands', () => {
  it('`fluxburst schema` prints a JSON Schema that rejects unknown top-level keys', async () => {
    const r = await cliAsync(['schema']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as {
      $schema: string;
      type: string;
      additionalProperties: unknown;
      properties: Record<string, { default?: unknown; type?: string; items?: { properties?: Record<string, unknown> }; properties?: Record<string, unknown>; additionalProperties?: unknown }>;
    };
    expect(s.$schema).toMatch(/json-schema\.org/);
    expect(s.type).toBe('object');
    expect(s.additionalProperties).toBe(false);
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['targets', 'limits', 'ordering', 'grouping', 'select', 'timeouts', 'temporal', 'name', 'jobs']));
    expect(s.properties.limits!.properties!.maxNodes).toMatchObject({ type: 'integer', default: 64, maximum: 10000 });
    expect(s.properties.targets).toMatchObject({ type: 'array', minItems: 1 });
    // One branch per registered plugin (a single object when only one is registered).
    const items = s.properties.targets!.items as { properties?: Record<string, { const?: string }>; oneOf?: Array<{ properties: Record<string, { const?: string }> }>; anyOf?: Array<{ properties: Record<string, { const?: string }> }> };
    const branches = items.oneOf ?? items.anyOf ?? [items as { properties: Record<string, { const?: string }> }];
    for (const b of branches) expect(Object.keys(b.properties)).toEqual(expect.arrayContaining(['plugin', 'name', 'params', 'capabilities', 'quota', 'credentials']));
    expect(branches.map((b) => b.properties.plugin!.const)).toContain('local');
    expect(s.properties.timeouts!.properties).toEqual(
      expect.objectContaining({ stepSeconds: expect.anything(), heartbeatSeconds: expect.anything(), jobSeconds: expect.anything() }),
    );
    expect(s.properties.timeouts!.additionalProperties).toBe(false);
  });

  it('`fluxburst plugins --json` lists local with its params schema', async () => {
    const r = await cliAsync(['plugins', '--json'], { FLUXBURST_PLUGIN_PATH: '' });
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as { name: string; origin: string; description: string; params: { type: string; additionalProperties: unknown; properties: Record<string, { default?: unknown; enum?: unknown }> } }[];
    const local = list.find((p) => p.name === 'local');
    expect(local).toBeDefined();
    expect(local!.origin).toBe('builtin');
    expect(local!.description).toMatch(/processes/);
    expect(local!.params.type).toBe('object');
    expect(local!.params.additionalProperties).toBe(false);
    expect(Object.keys(local!.params.properties)).toEqual(
      expect.arrayContaining(['workdir', 'nodes', 'maxNodes', 'latencyMs', 'costPerNodeHour', 'readyTimeoutSeconds', 'fault']),
    );
    expect(local!.params.properties.maxNodes!.default).toBe(64);
    expect(local!.params.properties.latencyMs!.default).toBe(0);
    expect((local!.params.properties.fault as { properties: { step: { enum: string[] } } }).properties.step.enum).toEqual(['plan', 'provision', 'join', 'run', 'teardown']);
  });

  it('`fluxburst plugins` (table) shows each param with its default', async () => {
    const r = await cliAsync(['plugins']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^local {2}\(builtin\)/m);
    expect(r.stdout).toMatch(/latencyMs\s+integer\s+0\s/);
  });
});

it('the run defaults a workflow applies to inputs without `run` are the config schema defaults', async () => {
  const { DEFAULT_RUN } = await import('../../workflows/policies.js');
  const { runSection } = await import('../../src/config/schema.js');
  expect(runSection.parse(undefined)).toEqual(DEFAULT_RUN);
});
