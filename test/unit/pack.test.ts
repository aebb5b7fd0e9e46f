import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { awsCatalogFromDumps, gceCatalogFromDumps, main as refreshMain } from '../../scripts/refresh-catalog.js';
import { SHIPPED_DATA, compareNames, formatCatalogFile, loadCatalog, makeCatalog, parseCatalogFile } from '../../src/catalog/catalog.js';
import type { Arch, Catalog, InstanceType, Provider } from '../../src/catalog/types.js';
import { InputError } from '../../src/core/errors.js';
import type { Job } from '../../src/core/types.js';
import { type FitOptions, type NodeRequest, cheapestFit, fits, makeChooser, normalizeGpuKind, perNodeRequest } from '../../src/sizing/fit.js';
import { type PackOptions, packJobs } from '../../src/plan/pack.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIX = join(root, 'test/fixtures/catalog');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIX, name), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'fluxburst-pack-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const catalog = loadCatalog();

function job(id: string, o: Partial<Job> = {}): Job {
  return { id, name: id, nodes: 1, tasks: 1, command: ['true'], attributes: { system: { burstable: 1 } }, ...o };
}
const withKind = (kind: string, o: Partial<Job> = {}): Partial<Job> => ({ ...o, attributes: { system: { burstable: 1, fluxburst: { requires: { gpuKind: kind } } } } });
const unfitOf = (r: unknown): string => (r as { unfit: string }).unfit;

/** The oracle: scan every type, no index, no memo. */
function bruteForce(types: readonly InstanceType[], r: NodeRequest, o: FitOptions): InstanceType | undefined {
  let best: InstanceType | undefined;
  for (const t of types) {
    if (t.provider !== o.provider || t.region !== o.region) continue;
    if (o.arch && t.arch !== o.arch) continue;
    if (t.vcpus < r.cores || t.memoryMiB < r.memoryMiB || t.gpus < r.gpus) continue;
    if (r.gpuKind && !(t.gpuKind === r.gpuKind || t.gpuKind?.startsWith(`${r.gpuKind}-`))) continue;
    if (!best || t.pricePerHour < best.pricePerHour || (t.pricePerHour === best.pricePerHour && t.name < best.name)) best = t;
  }
  return best;
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const a = [...xs];
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

// ---------------------------------------------------------------------------------------------

describe('catalog', () => {
  it('loads both shipped files once, validated, with a price date', () => {
    expect(loadCatalog()).toBe(catalog);
    expect(catalog.asOf).toEqual({ aws: expect.stringMatching(/^\d{4}-\d\d-\d\d$/), gce: expect.stringMatching(/^\d{4}-\d\d-\d\d$/) });
    for (const p of ['aws', 'gce'] as const) {
      const names = new Set(catalog.types.filter((t) => t.provider === p).map((t) => t.name));
      expect(names.size).toBeGreaterThanOrEqual(40);
      expect(names.size).toBeLessThanOrEqual(80);
      expect(new Set(catalog.types.filter((t) => t.provider === p).map((t) => t.region)).size).toBeGreaterThanOrEqual(2);
    }
    expect(Object.isFrozen(catalog.types)).toBe(true);
    expect(Object.isFrozen(catalog.types[0])).toBe(true);
  });

  it('covers the families HPC bursting needs', () => {
    const has = (p: Provider, pred: (t: InstanceType) => boolean) => catalog.types.some((t) => t.provider === p && pred(t));
    for (const n of ['hpc6a.48xlarge', 'hpc7g.16xlarge', 'c5n.18xlarge', 'hpc7a.96xlarge']) expect(has('aws', (t) => t.name === n && t.efa)).toBe(true);
    for (const k of ['nvidia-a100', 'nvidia-h100', 'nvidia-a10g', 'nvidia-l4']) expect(has('aws', (t) => t.gpuKind === k)).toBe(true);
    for (const k of ['nvidia-a100', 'nvidia-a100-80gb', 'nvidia-l4', 'nvidia-h100-80gb']) expect(has('gce', (t) => t.gpuKind === k)).toBe(true);
    expect(has('aws', (t) => t.name.startsWith('c7g.') && t.arch === 'arm64')).toBe(true);
    expect(has('gce', (t) => t.name.startsWith('t2a-') && t.arch === 'arm64')).toBe(true);
    expect(has('gce', (t) => t.efa)).toBe(false);
  });

  it('is internally consistent: within a family and region, a bigger size never costs less', () => {
    const family = (t: InstanceType) => (t.provider === 'aws' ? t.name.split('.')[0]! : t.name.replace(/-\d+g?$/, ''));
    const groups = new Map<string, InstanceType[]>();
    for (const t of catalog.types) {
      const k = `${t.provider}/${t.region}/${family(t)}`;
      groups.set(k, [...(groups.get(k) ?? []), t]);
    }
    for (const [k, ts] of groups) {
      const s = [...ts].sort((a, b) => a.vcpus - b.vcpus || a.memoryMiB - b.memoryMiB || a.gpus - b.gpus);
      for (let i = 1; i < s.length; i++) expect(s[i]!.pricePerHour, `${k}: ${s[i]!.name} vs ${s[i - 1]!.name}`).toBeGreaterThanOrEqual(s[i - 1]!.pricePerHour);
    }
  });

  it('the shipped files are in the refresh script’s own format', () => {
    for (const p of ['aws', 'gce'] as const) {
      const text = readFileSync(join(root, `src/catalog/data/${p}.json`), 'utf8');
      expect(formatCatalogFile(parseCatalogFile(JSON.parse(text)))).toBe(text);
      expect(SHIPPED_DATA[p]).toEqual(JSON.parse(text));
    }
    expect(['c5.18xlarge', 'c5.large', 'c5.2xlarge', 'c5.xlarge', 'c5.metal'].sort(compareNames)).toEqual(['c5.large', 'c5.xlarge', 'c5.2xlarge', 'c5.18xlarge', 'c5.metal']);
    expect(['n2-standard-16', 'n2-standard-2', 'n2-highmem-8'].sort(compareNames)).toEqual(['n2-highmem-8', 'n2-standard-2', 'n2-standard-16']);
  });

  it('rejects bad data, naming each field', () => {
    const good = { provider: 'aws', name: 'x.large', region: 'us-east-1', arch: 'x86_64', vcpus: 2, memoryMiB: 4096, gpus: 0, efa: false, pricePerHour: 0.1 };
    const file = (types: unknown[], asOf = '2024-11-01') => ({ provider: 'aws', asOf, currency: 'USD', source: 't', types });
    const issues = (raw: unknown) => {
      try {
        parseCatalogFile(raw, 'catalog data test');
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as InputError).issues;
      }
      throw new Error('parsed');
    };
    const fields = issues(file([good, { ...good, name: 'g.x', gpus: 1 }, { ...good, name: 'z.x', pricePerHour: 0, arch: 'sparc', region: 'Virginia' }], '2024-13-01'));
    expect(fields.map((i) => i.path).sort()).toEqual(['asOf', 'types[1].gpuKind', 'types[2].arch', 'types[2].pricePerHour', 'types[2].region']);
    // Cross-entry checks (run once every entry is well-formed).
    const cross = issues(file([good, good, { ...good, name: 'p.x', provider: 'gce' }]));
    expect(cross).toEqual([
      { path: 'types[1].name', message: 'x.large in us-east-1 is listed twice' },
      { path: 'types[2].provider', message: 'is gce in the aws file' },
    ]);
  });

  it('works from tsc output: the JSON is emitted next to the compiled module, and the compiled refresh script runs', () => {
    const out = join(root, 'test/.artifacts/catalog-build');
    rmSync(out, { recursive: true, force: true });
    mkdirSync(dirname(out), { recursive: true });
    const cfg = join(root, 'test/.artifacts/tsconfig.catalog-build.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: { outDir: './catalog-build', rootDir: '../..', sourceMap: false },
        files: ['../../src/catalog/catalog.ts', '../../scripts/refresh-catalog.ts'],
        include: [],
      }),
    );
    onTestFinished(() => rmSync(out, { recursive: true, force: true }));
    onTestFinished(() => rmSync(cfg, { force: true }));
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', cfg], { cwd: root, stdio: 'pipe' });
    // Same layout as dist/: dist/src/catalog/catalog.js beside dist/src/catalog/data/*.json.
    expect(existsSync(join(out, 'src/catalog/data/aws.json'))).toBe(true);
    expect(existsSync(join(out, 'src/catalog/data/gce.json'))).toBe(true);
    const mod = join(out, 'src/catalog/catalog.js');
    const got = execFileSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(mod)}); const c = m.loadCatalog(); console.log(JSON.stringify({ n: c.types.length, asOf: c.asOf }))`], { cwd: tmp, encoding: 'utf8' });
    expect(JSON.parse(got)).toEqual({ n: catalog.types.length, asOf: catalog.asOf });

    const script = join(out, 'scripts/refresh-catalog.js');
    const text = execFileSync(process.execPath, [script, 'gce', '--machine-types', join(FIX, 'gce-machine-types.json'), '--skus', join(FIX, 'gce-skus.json'), '--out', '-'], { cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(parseCatalogFile(JSON.parse(text)).types.map((t) => t.name)).toContain('a2-highgpu-1g');
  });
});

// ---------------------------------------------------------------------------------------------

describe('refresh-catalog', () => {
  const awsTypes = [fixture('aws-describe-instance-types.json')];
  const awsPrices = [fixture('aws-price-list-us-east-1.json'), fixture('aws-get-products-us-west-2.json')];
  const gceMt = [fixture('gce-machine-types.json')];
  const gceSkus = [fixture('gce-skus.json')];

  it('AWS: DescribeInstanceTypes + offer file + get-products → Linux on-demand entries per region', () => {
    const { file, warnings } = awsCatalogFromDumps(awsTypes, awsPrices);
    expect(file.asOf).toBe('2024-11-01');
    const by = (region: string, name: string) => file.types.find((t) => t.region === region && t.name === name);
    expect(file.types.map((t) => `${t.region}/${t.name}`).sort()).toEqual(
      ['us-east-1/c5.large', 'us-east-1/c7g.16xlarge', 'us-east-1/g5.xlarge', 'us-east-1/hpc7g.16xlarge', 'us-east-1/p4d.24xlarge', 'us-west-2/c5.large', 'us-west-2/g5.xlarge', 'us-west-2/p4d.24xlarge'].sort(),
    );
    // Windows, dedicated, unused-reservation and SQL-licensed rows of c5.large are not its price.
    expect(by('us-east-1', 'c5.large')).toEqual({ provider: 'aws', name: 'c5.large', region: 'us-east-1', arch: 'x86_64', vcpus: 2, memoryMiB: 4096, gpus: 0, efa: false, pricePerHour: 0.085 });
    expect(by('us-east-1', 'p4d.24xlarge')).toMatchObject({ vcpus: 96, memoryMiB: 1179648, gpus: 8, gpuKind: 'nvidia-a100', efa: true, pricePerHour: 32.7726 });
    expect(by('us-east-1', 'hpc7g.16xlarge')).toMatchObject({ arch: 'arm64', efa: true, pricePerHour: 1.6832 });
    expect(by('us-west-2', 'g5.xlarge')).toMatchObject({ gpus: 1, gpuKind: 'nvidia-a10g', pricePerHour: 1.006 });
    expect(warnings.join('\n')).toMatch(/neither x86_64 nor arm64: mac1\.metal/);
    expect(warnings.join('\n')).toMatch(/not in the --types dump, left out: m5\.large/);
  });

  it('GCE: machine-types list + billing SKUs → vCPU × core + GiB × RAM + GPUs × GPU', () => {
    const { file, warnings } = gceCatalogFromDumps(gceMt, gceSkus);
    expect(file.asOf).toBe('2024-11-01');
    const by = (region: string, name: string) => file.types.find((t) => t.region === region && t.name === name);
    expect(by('us-central1', 'n2-standard-2')).toEqual({ provider: 'gce', name: 'n2-standard-2', region: 'us-central1', arch: 'x86_64', vcpus: 2, memoryMiB: 8192, gpus: 0, efa: false, pricePerHour: 0.097118 });
    expect(by('europe-west4', 'n2-standard-2')?.pricePerHour).toBe(0.106832); // the Netherlands SKU, not the Americas one
    expect(by('us-central1', 'a2-highgpu-1g')).toMatchObject({ gpus: 1, gpuKind: 'nvidia-a100', pricePerHour: 3.673385 });
    expect(by('us-central1', 'g2-standard-8')).toMatchObject({ gpuKind: 'nvidia-l4', pricePerHour: 0.85364 });
    expect(by('us-central1', 'c2-standard-60')?.pricePerHour).toBe(3.1308); // "Compute optimized" SKUs
    expect(by('us-central1', 't2a-standard-4')).toMatchObject({ arch: 'arm64', pricePerHour: 0.154 });
    expect(by('us-central1', 'e2-micro')).toBeUndefined();
    expect(file.types.filter((t) => t.name === 'n2-standard-2' && t.region === 'us-central1')).toHaveLength(1); // two zones, one entry
    expect(warnings.join('\n')).toMatch(/shared-core type\(s\): e2-micro/);
    expect(warnings.join('\n')).toMatch(/c2-standard-60 in europe-west4 \(no SKU for C2 Core, C2 Ram\)/);
  });

  it('what it makes from the fixture dumps agrees with the shipped catalog', () => {
    const made = [...awsCatalogFromDumps(awsTypes, awsPrices).file.types, ...gceCatalogFromDumps(gceMt, gceSkus).file.types];
    for (const t of made) {
      const shipped = catalog.types.find((s) => s.provider === t.provider && s.region === t.region && s.name === t.name);
      expect(shipped, `${t.provider} ${t.region} ${t.name}`).toEqual(t);
    }
  });

  it('CLI: writes the data file, with region/name filters and the price date', () => {
    const out = join(tmp, 'aws.json');
    const err: string[] = [];
    const rc = refreshMain(
      ['aws', '--types', join(FIX, 'aws-describe-instance-types.json'), '--prices', join(FIX, 'aws-price-list-us-east-1.json'), '--prices', join(FIX, 'aws-get-products-us-west-2.json'), '--regions', 'us-west-2', '--only', 'c5.large,p4d.24xlarge', '--as-of', '2025-01-15', '--out', out],
      { out: () => {}, err: (s) => err.push(s) },
    );
    expect(rc).toBe(0);
    const f = parseCatalogFile(JSON.parse(readFileSync(out, 'utf8')));
    expect(f.asOf).toBe('2025-01-15');
    expect(f.types.map((t) => `${t.region}/${t.name}`)).toEqual(['us-west-2/c5.large', 'us-west-2/p4d.24xlarge']);
    expect(err.join('')).toContain(`wrote ${out}: 2 entries, 2 types, regions us-west-2`);
  });

  it('CLI: --subset-of keeps the current set of names', () => {
    const subset = join(tmp, 'subset.json');
    writeFileSync(subset, formatCatalogFile({ provider: 'gce', asOf: '2024-01-01', currency: 'USD', source: 's', types: [{ provider: 'gce', name: 'g2-standard-8', region: 'us-central1', arch: 'x86_64', vcpus: 8, memoryMiB: 32768, gpus: 1, gpuKind: 'nvidia-l4', efa: false, pricePerHour: 1 }] }));
    const out: string[] = [];
    const rc = refreshMain(['gce', '--machine-types', join(FIX, 'gce-machine-types.json'), '--skus', join(FIX, 'gce-skus.json'), '--subset-of', subset, '--out', '-'], { out: (s) => out.push(s), err: () => {} });
    expect(rc).toBe(0);
    expect(parseCatalogFile(JSON.parse(out.join(''))).types.map((t) => t.name)).toEqual(['g2-standard-8']);
  });

  it('CLI: says what is wrong with its input', () => {
    const err: string[] = [];
    const io = { out: () => {}, err: (s: string) => err.push(s) };
    expect(refreshMain([], io)).toBe(2);
    expect(refreshMain(['azure'], io)).toBe(2);
    expect(refreshMain(['aws', '--types', join(FIX, 'gce-skus.json'), '--prices', join(FIX, 'aws-price-list-us-east-1.json')], io)).toBe(1);
    expect(err.join('')).toContain('is not DescribeInstanceTypes output');
    expect(refreshMain(['gce', '--machine-types', join(FIX, 'gce-machine-types.json'), '--skus', join(FIX, 'gce-skus.json'), '--regions', 'asia-east1'], io)).toBe(1);
    expect(err.join('')).toContain('no gce types came out of the dumps');
    expect(refreshMain(['aws', '--types', join(FIX, 'nope.json'), '--prices', 'x'], io)).toBe(1);
    expect(err.join('')).toMatch(/cannot read .*nope\.json/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('cheapestFit', () => {
  const aws1: FitOptions = { provider: 'aws', region: 'us-east-1' };

  it('per-node request: coresPerNode, else tasks spread over nodes; GPU kind from the job override', () => {
    expect(perNodeRequest(job('a', { nodes: 4, tasks: 10 }))).toEqual({ cores: 3, memoryMiB: 0, gpus: 0 });
    expect(perNodeRequest(job('b', { nodes: 2, tasks: 10, coresPerNode: 16, memoryMiB: 65536, gpusPerNode: 2 }))).toEqual({ cores: 16, memoryMiB: 65536, gpus: 2 });
    expect(perNodeRequest(job('c', withKind('NVIDIA Tesla A100', { gpusPerNode: 8 })))).toEqual({ cores: 1, memoryMiB: 0, gpus: 8, gpuKind: 'nvidia-a100' });
    expect(normalizeGpuKind('nvidia-tesla-a100')).toBe('nvidia-a100');
  });

  it('picks the cheapest type that fits', () => {
    expect(cheapestFit(catalog, { cores: 2, memoryMiB: 4096, gpus: 0 }, aws1)).toMatchObject({ name: 't3.medium' });
    expect(cheapestFit(catalog, { cores: 2, memoryMiB: 4096, gpus: 0 }, { ...aws1, arch: 'arm64' })).toMatchObject({ name: 'c7g.large' });
    expect(cheapestFit(catalog, { cores: 64, memoryMiB: 131072, gpus: 0 }, { ...aws1, arch: 'arm64' })).toMatchObject({ name: 'hpc7g.16xlarge', efa: true });
    expect(cheapestFit(catalog, { cores: 8, memoryMiB: 0, gpus: 8, gpuKind: 'nvidia-a100' }, aws1)).toMatchObject({ name: 'p4d.24xlarge' });
    // A variant of the kind fits a request for the kind; not the other way round.
    expect(cheapestFit(catalog, { cores: 1, memoryMiB: 0, gpus: 1, gpuKind: 'nvidia-a100' }, { provider: 'gce', region: 'us-central1' })).toMatchObject({ name: 'a2-highgpu-1g' });
    expect(cheapestFit(catalog, { cores: 1, memoryMiB: 0, gpus: 1, gpuKind: 'nvidia-a100-80gb' }, { provider: 'gce', region: 'us-central1' })).toMatchObject({ name: 'a2-ultragpu-1g' });
    expect(cheapestFit(catalog, { cores: 1, memoryMiB: 0, gpus: 8, gpuKind: 'nvidia-h100' }, { provider: 'gce', region: 'europe-west4' })).toMatchObject({ name: 'a3-highgpu-8g' });
  });

  it('breaks price ties by name, whatever the catalog order', () => {
    const t = (name: string, price: number): InstanceType => ({ provider: 'aws', name, region: 'us-east-1', arch: 'x86_64', vcpus: 4, memoryMiB: 8192, gpus: 0, efa: false, pricePerHour: price });
    const types = [t('m.b', 1), t('m.c', 1), t('m.a', 1), t('m.z', 0.5)];
    const req = { cores: 2, memoryMiB: 0, gpus: 0 };
    for (const order of [types, [...types].reverse(), shuffled(types, 7)]) {
      const c: Catalog = { asOf: {}, types: order };
      expect(cheapestFit(c, req, aws1)).toMatchObject({ name: 'm.z' });
      expect(cheapestFit(c, req, { ...aws1, maxPrice: 0.4 })).toHaveProperty('unfit');
      const without = { asOf: {}, types: order.filter((x) => x.name !== 'm.z') };
      expect(cheapestFit(without, req, aws1)).toMatchObject({ name: 'm.a' });
    }
  });

  it('says why nothing fits', () => {
    const why = (r: NodeRequest, o: FitOptions) => unfitOf(cheapestFit(catalog, r, o));
    expect(why({ cores: 8, memoryMiB: 0, gpus: 16, gpuKind: 'nvidia-h100' }, aws1)).toBe('no aws type in us-east-1 has 16 GPUs of kind nvidia-h100 (most: 8)');
    expect(why({ cores: 8, memoryMiB: 0, gpus: 1, gpuKind: 'nvidia-h100' }, { provider: 'gce', region: 'us-central1', arch: 'arm64' })).toBe(
      'no gce arm64 type in us-central1 has 1 GPU of kind nvidia-h100 (kinds here: none)',
    );
    expect(why({ cores: 1, memoryMiB: 0, gpus: 1, gpuKind: 'amd-mi300x' }, aws1)).toBe(
      'no aws type in us-east-1 has 1 GPU of kind amd-mi300x (kinds here: nvidia-a100, nvidia-a10g, nvidia-h100, nvidia-l4, nvidia-t4, nvidia-v100)',
    );
    expect(why({ cores: 512, memoryMiB: 8 * 1024 * 1024, gpus: 0 }, aws1)).toBe('no aws type in us-east-1 has 512 vCPUs (most: 192), nor 8192 GiB of memory (most: 4096 GiB)');
    expect(why({ cores: 192, memoryMiB: 4096 * 1024, gpus: 0 }, aws1)).toBe('no aws type in us-east-1 has 192 vCPUs and 4096 GiB of memory together');
    expect(why({ cores: 1, memoryMiB: 0, gpus: 0 }, { provider: 'aws', region: 'eu-west-9' })).toBe('the catalog has no aws types in eu-west-9 (aws regions: us-east-1, us-east-2, us-west-2)');
    expect(why({ cores: 1, memoryMiB: 0, gpus: 0 }, { ...aws1, maxPrice: 0.01 })).toBe('the cheapest aws type in us-east-1 that fits, c7g.medium, costs $0.0363/h, over maxPrice $0.01/h');
  });

  it('a chooser memoises per request, and takes per-job options (e.g. a forced type)', () => {
    const choose = makeChooser(catalog, (j) => ({ ...aws1, ...(j.name === 'forced' ? { instanceType: 'c5n.18xlarge' } : {}) }));
    expect(choose(job('a', { coresPerNode: 2 }))).toMatchObject({ shape: 't3.medium', costPerNodeHour: 0.0416 });
    expect(choose(job('b', { name: 'forced', coresPerNode: 2 }))).toMatchObject({ shape: 'c5n.18xlarge', costPerNodeHour: 3.888 });
    expect(choose(job('c', { name: 'forced', coresPerNode: 100 }))).toEqual({ unfit: 'aws c5n.18xlarge in us-east-1 does not fit the job: it needs 100 vCPUs (has 72)' });
    const fixed = makeChooser(catalog, aws1);
    const x = fixed(job('d', { nodes: 2, tasks: 8, memoryMiB: 8192 }));
    expect(fixed(job('e', { nodes: 4, tasks: 16, memoryMiB: 8192 }))).toBe(x); // same per-node request, same answer object
    expect(fixed(job('f', { coresPerNode: 1.5, memoryMiB: 0.5 }))).toMatchObject({ shape: (cheapestFit(catalog, { cores: 1.5, memoryMiB: 0.5, gpus: 0 }, aws1) as InstanceType).name }); // odd numbers take the general path
  });

  it('a forced instance type must fit', () => {
    const why = (r: NodeRequest, o: FitOptions) => unfitOf(cheapestFit(catalog, r, o));
    expect(cheapestFit(catalog, { cores: 2, memoryMiB: 0, gpus: 0 }, { ...aws1, instanceType: 'c5n.18xlarge' })).toMatchObject({ name: 'c5n.18xlarge' });
    expect(why({ cores: 8, memoryMiB: 16384, gpus: 1, gpuKind: 'nvidia-a100' }, { ...aws1, instanceType: 'c5.large' })).toBe(
      'aws c5.large in us-east-1 does not fit the job: it needs 8 vCPUs (has 2), 16 GiB of memory (has 4 GiB), 1 GPU (has 0), GPUs of kind nvidia-a100 (has none)',
    );
    expect(why({ cores: 1, memoryMiB: 0, gpus: 0 }, { ...aws1, instanceType: 'hpc6a.48xlarge' })).toBe('aws type hpc6a.48xlarge is not in the catalog for us-east-1 (it is in us-east-2)');
    expect(why({ cores: 1, memoryMiB: 0, gpus: 0 }, { ...aws1, instanceType: 'c7g.large', arch: 'x86_64' })).toBe('aws c7g.large in us-east-1 is arm64, not x86_64');
    expect(why({ cores: 1, memoryMiB: 0, gpus: 0 }, { ...aws1, instanceType: 'p5.48xlarge', maxPrice: 50 })).toBe('aws p5.48xlarge in us-east-1 costs $98.32/h, over maxPrice $50/h');
  });
});

// ---------------------------------------------------------------------------------------------

describe('packJobs', () => {
  const flat = (shape: string, cost = 1) => () => ({ shape, costPerNodeHour: cost });

  it('pools jobs of one shape into a burst sized to the largest; exclusive jobs get their own', () => {
    const jobs = [job('a', { nodes: 2 }), job('b', { nodes: 4 }), job('c', { nodes: 3, exclusive: true }), job('d', { nodes: 1 })];
    const r = packJobs(jobs, flat('c5.large', 0.085), { mode: 'pooled', maxNodes: 8 });
    expect(r.unfit).toEqual([]);
    expect(r.bursts.map((b) => ({ shape: b.shape, nodes: b.nodes, gangMin: b.gangMin, jobs: b.jobs.map((j) => j.id) }))).toEqual([
      { shape: 'c5.large', nodes: 4, gangMin: 4, jobs: ['a', 'b', 'd'] },
      { shape: 'c5.large', nodes: 3, gangMin: 3, jobs: ['c'] },
    ]);
    expect(r.bursts[0]!.costPerHour).toBeCloseTo(0.34, 10);
    const ex = packJobs(jobs, flat('c5.large'), { mode: 'exclusive', maxNodes: 8 });
    expect(ex.bursts.map((b) => [b.jobs[0]!.id, b.nodes])).toEqual([['a', 2], ['b', 4], ['c', 3], ['d', 1]]);
  });

  it('orders bursts by shape, then first job; groups apart by groupKey', () => {
    const shapeOf: Record<string, string> = { a: 'z.large', b: 'a.large', c: 'z.large', d: 'a.large', e: 'z.large' };
    const jobs = ['a', 'b', 'c', 'd', 'e'].map((id) => job(id, { queue: id === 'e' ? 'gpu' : 'batch' }));
    const r = packJobs(jobs, (j) => ({ shape: shapeOf[j.id]!, costPerNodeHour: 1 }), { mode: 'pooled', maxNodes: 8, groupKey: (j) => j.queue ?? '' });
    expect(r.bursts.map((b) => `${b.shape}:${b.jobs.map((j) => j.id).join('')}`)).toEqual(['a.large:bd', 'z.large:ac', 'z.large:e']);
  });

  it('says why a job is left out', () => {
    const jobs = [job('big', { nodes: 10 }), job('dear', { nodes: 4 }), job('none'), job('ok', { nodes: 2 })];
    const choose = (j: Job) => (j.id === 'none' ? { unfit: 'no aws type in us-east-1 has 16 GPUs' } : { shape: 'p4d.24xlarge', costPerNodeHour: 32.7726 });
    const r = packJobs(jobs, choose, { mode: 'pooled', maxNodes: 8, maxCostPerHour: 100 });
    expect(r.unfit).toEqual([
      { jobId: 'big', reason: 'needs 10 nodes, over maxNodes 8' },
      { jobId: 'dear', reason: '4 × p4d.24xlarge costs $131.0904/h, over maxCostPerHour $100/h' },
      { jobId: 'none', reason: 'no aws type in us-east-1 has 16 GPUs' },
    ]);
    expect(r.bursts.map((b) => [b.shape, b.nodes, b.jobs.map((j) => j.id)])).toEqual([['p4d.24xlarge', 2, ['ok']]]);
  });

  it('refuses a chooser that prices one shape two ways', () => {
    let n = 0;
    expect(() => packJobs([job('a'), job('b')], () => ({ shape: 's', costPerNodeHour: ++n }), { mode: 'pooled', maxNodes: 4 })).toThrow(/priced shape s at \$1 and at \$2/);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over generated job sets and the real shipped catalog.

const targets: FitOptions[] = [...new Set(catalog.types.map((t) => `${t.provider}/${t.region}`))].sort().map((k) => {
  const [provider, region] = k.split('/') as [Provider, string];
  return { provider, region };
});
const KINDS = [...new Set(catalog.types.map((t) => t.gpuKind).filter((k): k is string => !!k)), 'nvidia-h100', 'nvidia-a100', 'amd-mi300x'];

const maybe = <T>(none: number, ...some: Array<{ weight: number; arbitrary: fc.Arbitrary<T> }>) => fc.oneof({ weight: none, arbitrary: fc.constant(undefined) }, ...some);
const jobShapeArb = fc.record({
  nodes: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 8 }) }, { weight: 1, arbitrary: fc.integer({ min: 9, max: 40 }) }),
  tasksPerNode: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 17, max: 200 })),
  coresPerNode: maybe(2, { weight: 3, arbitrary: fc.integer({ min: 1, max: 64 }) }, { weight: 1, arbitrary: fc.integer({ min: 65, max: 256 }) }),
  memoryMiB: maybe(4, { weight: 4, arbitrary: fc.integer({ min: 256, max: 64 * 1024 }) }, { weight: 1, arbitrary: fc.integer({ min: 64 * 1024, max: 5 * 1024 * 1024 }) }),
  gpu: maybe(
    6,
    { weight: 3, arbitrary: fc.record({ n: fc.integer({ min: 0, max: 8 }), kind: maybe(1, { weight: 1, arbitrary: fc.constantFrom(...KINDS) }) }) },
    { weight: 1, arbitrary: fc.record({ n: fc.integer({ min: 9, max: 17 }), kind: maybe(1, { weight: 1, arbitrary: fc.constantFrom(...KINDS) }) }) },
  ),
  exclusive: maybe(2, { weight: 1, arbitrary: fc.boolean() }),
  queue: fc.constantFrom('batch', 'debug'),
});
type JobShape = typeof jobShapeArb extends fc.Arbitrary<infer T> ? T : never;
function toJob(g: JobShape, i: number): Job {
  const j = job(`j${i}`, { nodes: g.nodes, tasks: g.nodes * g.tasksPerNode, queue: g.queue });
  if (g.coresPerNode !== undefined) j.coresPerNode = g.coresPerNode;
  if (g.memoryMiB !== undefined) j.memoryMiB = g.memoryMiB;
  if (g.gpu) j.gpusPerNode = g.gpu.n;
  if (g.gpu?.kind) j.attributes = { system: { burstable: 1, fluxburst: { requires: { gpuKind: g.gpu.kind } } } };
  if (g.exclusive !== undefined) j.exclusive = g.exclusive;
  return j;
}
const jobsArb = fc.array(jobShapeArb, { maxLength: 60, size: 'medium' }).map((gs) => gs.map(toJob));
const fitOptsArb = fc.record(
  {
    target: fc.constantFrom(...targets),
    arch: fc.option(fc.constantFrom<Arch>('x86_64', 'arm64'), { freq: 3 }),
    maxPrice: fc.option(fc.double({ min: 0.05, max: 120, noNaN: true }), { freq: 3 }),
  },
  { requiredKeys: ['target'] },
).map((g): FitOptions => {
  const o: FitOptions = { ...g.target };
  if (g.arch != null) o.arch = g.arch;
  if (g.maxPrice != null) o.maxPrice = g.maxPrice;
  return o;
});
const packOptsArb = fc.record(
  {
    mode: fc.constantFrom<PackOptions['mode']>('pooled', 'exclusive'),
    maxNodes: fc.integer({ min: 1, max: 32 }),
    maxCostPerHour: fc.option(fc.double({ min: 0.5, max: 800, noNaN: true }), { freq: 2 }),
  },
  { requiredKeys: ['mode', 'maxNodes'] },
).map((g): PackOptions => {
  const o: PackOptions = { mode: g.mode, maxNodes: g.maxNodes, groupKey: (j) => j.queue ?? '' };
  if (g.maxCostPerHour != null) o.maxCostPerHour = g.maxCostPerHour;
  return o;
});

describe('properties (fast-check, shipped catalog)', () => {
  const RUNS = { numRuns: 300 };

  it('the choice is the cheapest fitting type (brute-force scan), and it fits', () => {
    const seen = { fit: 0, unfit: 0, gpu: 0 };
    fc.assert(
      fc.property(jobsArb, fitOptsArb, (jobs, o) => {
        const choose = makeChooser(catalog, o);
        for (const j of jobs) {
          const c = choose(j);
          const req = perNodeRequest(j);
          const best = bruteForce(catalog.types, req, o);
          if (!best || (o.maxPrice !== undefined && best.pricePerHour > o.maxPrice)) {
            seen.unfit++;
            expect('unfit' in c ? c.unfit : '').not.toBe('');
            continue;
          }
          if ('unfit' in c) throw new Error(`unfit (${c.unfit}) but ${best.name} fits ${JSON.stringify(req)}`);
          seen.fit++;
          if (c.type.gpus > 0 && req.gpus > 0) seen.gpu++;
          expect(c.type).toBe(best);
          expect(c.shape).toBe(best.name);
          expect(c.costPerNodeHour).toBe(best.pricePerHour);
          expect(fits(c.type, req)).toBe(true);
          expect(c.type.vcpus).toBeGreaterThanOrEqual(req.cores);
          expect(c.type.memoryMiB).toBeGreaterThanOrEqual(req.memoryMiB);
          expect(c.type.gpus).toBeGreaterThanOrEqual(req.gpus);
        }
      }),
      RUNS,
    );
    // The generators reach both outcomes, GPU types included (else the property proves little).
    expect(seen.fit).toBeGreaterThan(seen.unfit / 4);
    expect(seen.unfit).toBeGreaterThan(100);
    expect(seen.gpu).toBeGreaterThan(50);
    console.log(`cheapestFit property: ${seen.fit} fitted, ${seen.unfit} unfit, ${seen.gpu} GPU fits`);
  });

  it('bursts respect the caps, every job lands exactly once, and the order is the documented one', () => {
    fc.assert(
      fc.property(jobsArb, fitOptsArb, packOptsArb, (jobs, fo, po) => {
        const choose = makeChooser(catalog, fo);
        const r = packJobs(jobs, choose, po);
        const seen = new Map<Job, number>();
        for (const b of r.bursts) for (const j of b.jobs) seen.set(j, (seen.get(j) ?? 0) + 1);
        for (const u of r.unfit) {
          const j = jobs.find((x) => x.id === u.jobId)!;
          seen.set(j, (seen.get(j) ?? 0) + 1);
          expect(u.reason).not.toBe('');
        }
        expect(seen.size).toBe(jobs.length);
        for (const j of jobs) expect(seen.get(j)).toBe(1);

        const index = new Map(jobs.map((j, i) => [j, i]));
        for (const b of r.bursts) {
          expect(b.nodes).toBeLessThanOrEqual(po.maxNodes);
          if (po.maxCostPerHour !== undefined) expect(b.costPerHour).toBeLessThanOrEqual(po.maxCostPerHour);
          expect(b.gangMin).toBe(b.nodes);
          expect(b.nodes).toBe(Math.max(...b.jobs.map((j) => j.nodes)));
          for (const j of b.jobs) {
            const c = choose(j);
            if ('unfit' in c) throw new Error(`unfit job ${j.id} in a burst`);
            expect(c.shape).toBe(b.shape); // and the shape is a type that fits the job
            expect(fits(c.type, perNodeRequest(j))).toBe(true);
            expect(b.costPerHour).toBeCloseTo(b.nodes * c.costPerNodeHour, 9);
          }
          if (po.mode === 'exclusive' || b.jobs.some((j) => j.exclusive)) expect(b.jobs).toHaveLength(1);
          const ix = b.jobs.map((j) => index.get(j)!);
          expect(ix).toEqual([...ix].sort((x, y) => x - y));
          expect(new Set(b.jobs.map((j) => j.queue)).size).toBe(1);
        }
        for (let i = 1; i < r.bursts.length; i++) {
          const a = r.bursts[i - 1]!;
          const b = r.bursts[i]!;
          expect(a.shape < b.shape || (a.shape === b.shape && index.get(a.jobs[0]!)! < index.get(b.jobs[0]!)!)).toBe(true);
        }
        const unfitIx = r.unfit.map((u) => jobs.findIndex((j) => j.id === u.jobId));
        expect(unfitIx).toEqual([...unfitIx].sort((x, y) => x - y));
      }),
      RUNS,
    );
  });

  it('is deterministic: same input → same output; catalog order does not change any choice', () => {
    fc.assert(
      fc.property(jobsArb, fitOptsArb, packOptsArb, fc.integer(), (jobs, fo, po, seed) => {
        const one = packJobs(jobs, makeChooser(catalog, fo), po);
        const two = packJobs(jobs, makeChooser(catalog, fo), po);
        expect(two).toEqual(one);
        const reordered: Catalog = makeCatalog([
          { ...parseCatalogFile(SHIPPED_DATA.gce), types: shuffled(catalog.types.filter((t) => t.provider === 'gce'), seed) },
          { ...parseCatalogFile(SHIPPED_DATA.aws), types: shuffled(catalog.types.filter((t) => t.provider === 'aws'), seed ^ 0x5bd1e995) },
        ]);
        const a = makeChooser(catalog, fo);
        const b = makeChooser(reordered, fo);
        for (const j of jobs) {
          const x = a(j);
          const y = b(j);
          expect('unfit' in y ? y : { shape: y.shape, cost: y.costPerNodeHour }).toEqual('unfit' in x ? x : { shape: x.shape, cost: x.costPerNodeHour });
        }
        const three = packJobs(jobs, makeChooser(reordered, fo), po);
        const summary = (r: typeof one) => ({ bursts: r.bursts.map((x) => ({ ...x, jobs: x.jobs.map((j) => j.id) })), unfit: r.unfit });
        expect(summary(three)).toEqual(summary(one));
      }),
      { numRuns: 100 },
    );
  });
});
