// Refreshes the shipped instance-type catalog (src/catalog/data/<provider>.json) from the
// providers' own dumps, offline: fetch the inputs yourself, then convert them here.
//
//   npx tsc -p tsconfig.json
//   node dist/scripts/refresh-catalog.js aws --types types.json --prices prices.json [...]
//   node dist/scripts/refresh-catalog.js gce --machine-types machine-types.json --skus skus.json [...]
//
// AWS inputs
//   --types FILE   `aws ec2 describe-instance-types --region R --output json` (the CLI follows the
//                  pages itself). Specs do not depend on the region; give one file per region or
//                  just one. `--instance-types a b c` narrows it to the types you want.
//   --prices FILE  Either the Price List bulk offer file for a region
//                  (offers/v1.0/aws/AmazonEC2/current/<region>/index.json; large: several hundred
//                  MB, must fit in memory) or, much smaller, the output of
//                    aws pricing get-products --region us-east-1 --service-code AmazonEC2 --output json \
//                      --filters Type=TERM_MATCH,Field=regionCode,Value=<region> \
//                                Type=TERM_MATCH,Field=operatingSystem,Value=Linux \
//                                Type=TERM_MATCH,Field=tenancy,Value=Shared \
//                                Type=TERM_MATCH,Field=preInstalledSw,Value=NA \
//                                Type=TERM_MATCH,Field=capacitystatus,Value=Used
//                  (the Pricing API answers in us-east-1 whatever region you price). Repeat per region.
//   Kept: Linux, shared tenancy, no pre-installed software, capacitystatus Used, the on-demand
//   hourly rate. A type is listed in every region that has such a price for it.
//
// GCE inputs
//   --machine-types FILE  `gcloud compute machine-types list --format=json
//                          --filter="zone ~ ^(us-central1|europe-west4)-"` (one entry per zone;
//                          the region is the zone less its letter). Shared-core and deprecated
//                          types are left out.
//   --skus FILE           Cloud Billing Catalog SKUs of Compute Engine (service 6F81-5844-456A):
//                          GET https://cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus
//                          (?key=API_KEY or a bearer token; pageSize=5000; one file per page,
//                          following nextPageToken).
//   A machine type's price is vCPUs × its family's on-demand "Instance Core" SKU + GiB × its
//   "Instance Ram" SKU + GPUs × the GPU's SKU, in the region (the SKU whose serviceRegions are
//   fewest wins when several cover it).
//
// Common options
//   --regions r1,r2     only these regions
//   --only n1,n2        only these type names;  --subset-of FILE  only the names in that catalog file
//                       (e.g. the current src/catalog/data/aws.json: refresh prices, keep the set)
//   --as-of YYYY-MM-DD  price date (default: from the dumps, else today)
//   --out FILE | -      default src/catalog/data/<provider>.json in this project; '-' = stdout
//
// The output is validated with the catalog's own schema before it is written.
import { readFileSync, realpathSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { formatCatalogFile, parseCatalogFile } from '../src/catalog/catalog.js';
import type { Arch, CatalogFile, InstanceType, Provider } from '../src/catalog/types.js';
import { normalizeGpuKind } from '../src/sizing/fit.js';

export interface RefreshOptions {
  regions?: string[];
  only?: string[];
  asOf?: string;
}

export interface RefreshResult {
  file: CatalogFile;
  warnings: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);
const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
const today = () => new Date().toISOString().slice(0, 10);

function keep(name: string, region: string, o: RefreshOptions): boolean {
  return (!o.regions || o.regions.includes(region)) && (!o.only || o.only.includes(name));
}

function listSome(xs: string[], n = 8): string {
  const s = [...new Set(xs)].sort();
  return s.length > n ? `${s.slice(0, n).join(', ')} and ${s.length - n} more` : s.join(', ');
}

// ---------------------------------------------------------------------------------------------
// AWS

interface AwsSpec {
  vcpus: number;
  memoryMiB: number;
  arch: Arch;
  gpus: number;
  gpuKind?: string;
  efa: boolean;
}

/** Older offer files have no regionCode; their location names, for the regions we use most. */
const AWS_LOCATIONS: Record<string, string> = {
  'US East (N. Virginia)': 'us-east-1',
  'US East (Ohio)': 'us-east-2',
  'US West (N. California)': 'us-west-1',
  'US West (Oregon)': 'us-west-2',
  'EU (Ireland)': 'eu-west-1',
  'EU (Frankfurt)': 'eu-central-1',
  'EU (Stockholm)': 'eu-north-1',
  'Asia Pacific (Tokyo)': 'ap-northeast-1',
};

/** DescribeInstanceTypes entries → specs by type name. */
function awsSpecs(dumps: unknown[], warnings: string[]): Map<string, AwsSpec> {
  const specs = new Map<string, AwsSpec>();
  const noArch: string[] = [];
  for (const d of dumps) {
    const list = Array.isArray(d) ? d : arr(obj(d).InstanceTypes);
    if (!Array.isArray(d) && !Array.isArray(obj(d).InstanceTypes)) throw new Error('an AWS --types file is not DescribeInstanceTypes output (no InstanceTypes array)');
    for (const raw of list) {
      const t = obj(raw);
      const name = str(t.InstanceType);
      const vcpus = num(obj(t.VCpuInfo).DefaultVCpus);
      const memoryMiB = num(obj(t.MemoryInfo).SizeInMiB);
      if (!name || !vcpus || !memoryMiB) {
        warnings.push(`AWS: skipped an instance type entry without InstanceType/VCpuInfo.DefaultVCpus/MemoryInfo.SizeInMiB (${name ?? '?'})`);
        continue;
      }
      const archs = arr(obj(t.ProcessorInfo).SupportedArchitectures);
      const arch: Arch | undefined = archs.includes('arm64') ? 'arm64' : archs.includes('x86_64') ? 'x86_64' : undefined;
      if (!arch) {
        noArch.push(name);
        continue;
      }
      const spec: AwsSpec = { vcpus, memoryMiB, arch, gpus: 0, efa: obj(t.NetworkInfo).EfaSupported === true };
      const kinds = new Set<string>();
      for (const g of arr(obj(t.GpuInfo).Gpus)) {
        spec.gpus += num(obj(g).Count) ?? 0;
        const kind = normalizeGpuKind(`${str(obj(g).Manufacturer) ?? ''} ${str(obj(g).Name) ?? ''}`);
        if (kind) kinds.add(kind);
      }
      if (spec.gpus > 0) {
        const [first, ...rest] = [...kinds].sort();
        spec.gpuKind = first ?? 'unknown';
        if (rest.length) warnings.push(`AWS: ${name} has GPUs of several kinds (${[...kinds].join(', ')}); listed as ${spec.gpuKind}`);
      }
      specs.set(name, spec);
    }
  }
  if (noArch.length) warnings.push(`AWS: skipped ${noArch.length} type(s) that are neither x86_64 nor arm64: ${listSome(noArch)}`);
  return specs;
}

interface AwsProduct {
  sku: string;
  productFamily?: string;
  attributes: Obj;
  /** The product's OnDemand terms: term code → term. */
  onDemand: Obj;
}

/** Products with their on-demand terms, from a bulk offer file or `aws pricing get-products` output. */
function awsProducts(dump: unknown): { products: AwsProduct[]; published?: string } {
  const d = obj(dump);
  if (isObj(d.products)) {
    const od = obj(obj(d.terms).OnDemand);
    const products = Object.entries(d.products).map(([sku, p]) => ({
      sku,
      productFamily: str(obj(p).productFamily),
      attributes: obj(obj(p).attributes),
      onDemand: obj(od[sku]),
    }));
    return { products, published: str(d.publicationDate) };
  }
  if (Array.isArray(d.PriceList)) {
    let published: string | undefined;
    const products = d.PriceList.map((item) => {
      const e = obj(typeof item === 'string' ? JSON.parse(item) : item);
      const p = obj(e.product);
      const pub = str(e.publicationDate);
      if (pub && (!published || pub > published)) published = pub;
      return { sku: str(p.sku) ?? '?', productFamily: str(p.productFamily), attributes: obj(p.attributes), onDemand: obj(obj(e.terms).OnDemand) };
    });
    return { products, published };
  }
  throw new Error('an AWS --prices file is neither a Price List offer file (products/terms) nor `aws pricing get-products` output (PriceList)');
}

/** The on-demand hourly USD rate of a product, or undefined. */
function hourlyUsd(onDemand: Obj): number | undefined {
  let best: number | undefined;
  for (const term of Object.values(onDemand)) {
    for (const dim of Object.values(obj(obj(term).priceDimensions))) {
      if (str(obj(dim).unit) !== 'Hrs') continue;
      const usd = num(obj(obj(dim).pricePerUnit).USD);
      if (usd !== undefined && usd > 0 && (best === undefined || usd < best)) best = usd;
    }
  }
  return best;
}

/** A Linux, shared-tenancy, on-demand compute product, as (region, type). */
function awsLinuxOnDemand(p: AwsProduct): { region: string; name: string } | undefined {
  const a = p.attributes;
  if (!p.productFamily?.startsWith('Compute Instance')) return undefined;
  if (a.operatingSystem !== 'Linux' || a.tenancy !== 'Shared' || a.preInstalledSw !== 'NA') return undefined;
  if (a.capacitystatus !== undefined && a.capacitystatus !== 'Used') return undefined;
  if (a.licenseModel !== undefined && a.licenseModel !== 'No License required') return undefined;
  if (a.marketoption !== undefined && a.marketoption !== 'OnDemand') return undefined;
  const name = str(a.instanceType);
  const region = str(a.regionCode) ?? AWS_LOCATIONS[str(a.location) ?? ''];
  return name && region ? { region, name } : undefined;
}

/** DescribeInstanceTypes dumps + Price List dumps → our data file. */
export function awsCatalogFromDumps(typeDumps: unknown[], priceDumps: unknown[], o: RefreshOptions = {}): RefreshResult {
  const warnings: string[] = [];
  const specs = awsSpecs(typeDumps, warnings);
  const prices = new Map<string, { region: string; name: string; price: number }>();
  let published: string | undefined;
  const unpriced: string[] = [];
  const unspecified: string[] = [];
  for (const dump of priceDumps) {
    const got = awsProducts(dump);
    if (got.published && (!published || got.published > published)) published = got.published;
    for (const p of got.products) {
      const id = awsLinuxOnDemand(p);
      if (!id || !keep(id.name, id.region, o)) continue;
      if (!specs.has(id.name)) {
        unspecified.push(id.name);
        continue;
      }
      const price = hourlyUsd(p.onDemand);
      if (price === undefined) {
        unpriced.push(`${id.name} (${id.region})`);
        continue;
      }
      const k = `${id.region}/${id.name}`;
      const had = prices.get(k);
      if (had && had.price !== price) warnings.push(`AWS: ${id.name} in ${id.region} has two Linux on-demand rates ($${had.price}, $${price}); kept the lower`);
      if (!had || price < had.price) prices.set(k, { ...id, price });
    }
  }
  if (unpriced.length) warnings.push(`AWS: ${unpriced.length} product(s) had no hourly on-demand USD rate: ${listSome(unpriced)}`);
  if (unspecified.length && typeDumps.length) {
    warnings.push(`AWS: ${new Set(unspecified).size} priced type(s) are not in the --types dump, left out: ${listSome(unspecified)}`);
  }
  const types: InstanceType[] = [];
  for (const { region, name, price } of prices.values()) {
    const s = specs.get(name)!;
    const t: InstanceType = { provider: 'aws', name, region, arch: s.arch, vcpus: s.vcpus, memoryMiB: s.memoryMiB, gpus: s.gpus, efa: s.efa, pricePerHour: price };
    if (s.gpuKind) t.gpuKind = s.gpuKind;
    types.push(t);
  }
  const pricedNames = new Set(types.map((t) => t.name));
  const never = [...specs.keys()].filter((n) => !pricedNames.has(n) && (!o.only || o.only.includes(n)));
  if (never.length) warnings.push(`AWS: ${never.length} type(s) have no Linux on-demand price in the --prices dumps, left out: ${listSome(never)}`);
  const asOf = o.asOf ?? published?.slice(0, 10) ?? today();
  return { file: finish('aws', asOf, 'AWS Price List (AmazonEC2, Linux, shared tenancy, on-demand) + EC2 DescribeInstanceTypes', types), warnings };
}

// ---------------------------------------------------------------------------------------------
// GCE

/** Families whose SKUs are not named "<FAMILY> ... Instance Core/Ram". */
const GCE_SKU_NAMES: Record<string, RegExp> = {
  c2: /^Compute optimized (Core|Ram) running in /,
  m1: /^Memory-optimized Instance (Core|Ram) running in /,
};
/** Families that are arm64, for dumps without the `architecture` field. */
const GCE_ARM_FAMILIES = new Set(['t2a', 'c4a', 'n4a']);
/** Words in a SKU description that mean it is not the plain on-demand rate. */
const GCE_NOT_ON_DEMAND = /custom|sole tenancy|preemptible|spot|commit|reserv|dws|calendar|flex|extended|premium|licen/i;

function skuRe(family: string): RegExp {
  return GCE_SKU_NAMES[family] ?? new RegExp(`^${family.toUpperCase()} (?:[A-Za-z]+ )*?Instance (Core|Ram) running in `);
}

interface GcePrice {
  price: number;
  /** How many regions the SKU covers: the narrowest wins. */
  breadth: number;
}

interface GceSku {
  description: string;
  regions: string[];
  unit: string;
  price: number;
  effective?: string;
}

function gceSkus(dumps: unknown[]): GceSku[] {
  const out: GceSku[] = [];
  const pages = dumps.flatMap((d) => (Array.isArray(d) && d.every((x) => isObj(x) && Array.isArray(x.skus)) ? d : [d]));
  for (const page of pages) {
    const list = Array.isArray(page) ? page : obj(page).skus;
    if (!Array.isArray(list)) throw new Error('a GCE --skus file is not a Cloud Billing Catalog skus.list response (no skus array)');
    for (const raw of list) {
      const s = obj(raw);
      const cat = obj(s.category);
      if (cat.resourceFamily !== 'Compute' || cat.usageType !== 'OnDemand') continue;
      const description = str(s.description) ?? '';
      if (GCE_NOT_ON_DEMAND.test(description)) continue;
      const info = arr(s.pricingInfo);
      const pi = obj(info[info.length - 1]);
      const expr = obj(pi.pricingExpression);
      const tiers = arr(expr.tieredRates).map(obj).sort((a, b) => (num(a.startUsageAmount) ?? 0) - (num(b.startUsageAmount) ?? 0));
      const up = obj(tiers[0]?.unitPrice);
      if (up.currencyCode !== undefined && up.currencyCode !== 'USD') continue;
      const price = (num(up.units) ?? 0) + (num(up.nanos) ?? 0) / 1e9;
      if (!(price > 0)) continue;
      out.push({ description, regions: arr(s.serviceRegions).filter((r): r is string => typeof r === 'string'), unit: str(expr.usageUnit) ?? '', price, effective: str(pi.effectiveTime) });
    }
  }
  return out;
}

function cheapestNarrowest(cands: GcePrice[]): number | undefined {
  let best: GcePrice | undefined;
  for (const c of cands) if (!best || c.breadth < best.breadth || (c.breadth === best.breadth && c.price < best.price)) best = c;
  return best?.price;
}

interface GceMachine {
  name: string;
  region: string;
  vcpus: number;
  memoryMiB: number;
  arch: Arch;
  gpus: number;
  accel?: string;
}

function gceMachines(dumps: unknown[], o: RefreshOptions, warnings: string[]): GceMachine[] {
  const byKey = new Map<string, GceMachine>();
  const shared: string[] = [];
  const gone: string[] = [];
  for (const d of dumps) {
    let list: unknown[];
    if (Array.isArray(d)) list = d;
    else if (Array.isArray(obj(d).items)) list = obj(d).items as unknown[];
    else if (isObj(obj(d).items)) list = Object.values(obj(d).items as Obj).flatMap((z) => arr(obj(z).machineTypes));
    else throw new Error('a GCE --machine-types file is not `gcloud compute machine-types list --format=json` output');
    for (const raw of list) {
      const m = obj(raw);
      const name = str(m.name);
      const zone = (str(m.zone) ?? '').split('/').pop() ?? '';
      const region = zone.replace(/-[a-z]$/, '');
      const vcpus = num(m.guestCpus);
      const memoryMiB = num(m.memoryMb);
      if (!name || !region || !vcpus || !memoryMiB) continue;
      if (!keep(name, region, o)) continue;
      if (m.isSharedCpu === true) {
        shared.push(name);
        continue;
      }
      const dep = str(obj(m.deprecated).state);
      if (dep && dep !== 'ACTIVE') {
        gone.push(name);
        continue;
      }
      const archField = str(m.architecture);
      const family = name.split('-')[0]!;
      const arch: Arch = archField === 'ARM64' ? 'arm64' : archField === 'X86_64' ? 'x86_64' : GCE_ARM_FAMILIES.has(family) ? 'arm64' : 'x86_64';
      const accels = arr(m.accelerators).map(obj);
      const gpus = accels.reduce((n, a) => n + (num(a.guestAcceleratorCount) ?? 0), 0);
      const mt: GceMachine = { name, region, vcpus, memoryMiB, arch, gpus };
      const accel = str(accels[0]?.guestAcceleratorType);
      if (gpus > 0 && accel) mt.accel = accel;
      const k = `${region}/${name}`;
      const had = byKey.get(k);
      if (had && (had.vcpus !== vcpus || had.memoryMiB !== memoryMiB || had.gpus !== gpus)) warnings.push(`GCE: ${name} differs between zones of ${region}; kept the first`);
      if (!had) byKey.set(k, mt);
    }
  }
  if (shared.length) warnings.push(`GCE: left out ${new Set(shared).size} shared-core type(s): ${listSome(shared)}`);
  if (gone.length) warnings.push(`GCE: left out ${new Set(gone).size} deprecated type(s): ${listSome(gone)}`);
  return [...byKey.values()];
}

/** machine-types list dumps + Cloud Billing Catalog SKU dumps → our data file. */
export function gceCatalogFromDumps(machineTypeDumps: unknown[], skuDumps: unknown[], o: RefreshOptions = {}): RefreshResult {
  const warnings: string[] = [];
  const machines = gceMachines(machineTypeDumps, o, warnings);
  const skus = gceSkus(skuDumps);
  let effective: string | undefined;
  for (const s of skus) if (s.effective && (!effective || s.effective > effective)) effective = s.effective;

  const memo = new Map<string, number | undefined>();
  const unitPrice = (kind: 'Core' | 'Ram', family: string, region: string): number | undefined => {
    const k = `${kind}/${family}/${region}`;
    if (memo.has(k)) return memo.get(k);
    const re = skuRe(family);
    const want = kind === 'Core' ? 'h' : 'GiBy.h';
    const cands = skus.filter((s) => s.unit === want && s.regions.includes(region) && re.exec(s.description)?.[1] === kind).map((s) => ({ price: s.price, breadth: s.regions.length }));
    const p = cheapestNarrowest(cands);
    memo.set(k, p);
    return p;
  };
  const gpuPrice = (accel: string, region: string): number | undefined => {
    const k = `GPU/${accel}/${region}`;
    if (memo.has(k)) return memo.get(k);
    const want = normalizeGpuKind(accel);
    const cands = skus
      .filter((s) => s.unit === 'h' && s.regions.includes(region))
      .filter((s) => {
        const m = /^Nvidia (.+?) GPU running in /i.exec(s.description);
        return m !== null && normalizeGpuKind(`nvidia ${m[1]}`) === want;
      })
      .map((s) => ({ price: s.price, breadth: s.regions.length }));
    const p = cheapestNarrowest(cands);
    memo.set(k, p);
    return p;
  };

  const types: InstanceType[] = [];
  const missing: string[] = [];
  for (const m of machines) {
    const family = m.name.split('-')[0]!;
    const core = unitPrice('Core', family, m.region);
    const ram = unitPrice('Ram', family, m.region);
    const gpu = m.gpus > 0 ? (m.accel ? gpuPrice(m.accel, m.region) : undefined) : 0;
    if (core === undefined || ram === undefined || gpu === undefined) {
      const what = [core === undefined && `${family.toUpperCase()} Core`, ram === undefined && `${family.toUpperCase()} Ram`, gpu === undefined && `GPU ${m.accel ?? '?'}`].filter(Boolean).join(', ');
      missing.push(`${m.name} in ${m.region} (no SKU for ${what})`);
      continue;
    }
    const t: InstanceType = {
      provider: 'gce',
      name: m.name,
      region: m.region,
      arch: m.arch,
      vcpus: m.vcpus,
      memoryMiB: m.memoryMiB,
      gpus: m.gpus,
      efa: false,
      pricePerHour: r6(m.vcpus * core + (m.memoryMiB / 1024) * ram + m.gpus * gpu),
    };
    if (m.gpus > 0) t.gpuKind = normalizeGpuKind(m.accel!);
    types.push(t);
  }
  if (missing.length) warnings.push(`GCE: left out ${missing.length} machine type(s) without on-demand SKUs: ${listSome(missing, 12)}`);
  const asOf = o.asOf ?? effective?.slice(0, 10) ?? today();
  return { file: finish('gce', asOf, 'Cloud Billing Catalog (Compute Engine on-demand vCPU/RAM/GPU SKUs) + gcloud compute machine-types list', types), warnings };
}

function finish(provider: Provider, asOf: string, source: string, types: InstanceType[]): CatalogFile {
  if (types.length === 0) throw new Error(`no ${provider} types came out of the dumps (check the inputs and the --regions/--only filters)`);
  return parseCatalogFile({ provider, asOf, currency: 'USD', source, types }, `refreshed ${provider} catalog`);
}

// ---------------------------------------------------------------------------------------------
// CLI

const USAGE = `usage:
  refresh-catalog aws --types FILE... --prices FILE... [options]
  refresh-catalog gce --machine-types FILE... --skus FILE... [options]
options: --regions r1,r2  --only name1,name2  --subset-of CATALOG.json  --as-of YYYY-MM-DD  --out FILE|-
(see the top of scripts/refresh-catalog.ts for how to fetch each input)`;

/** This project's root: the nearest folder up from this script with fluxburst's package.json. */
export function projectRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'fluxburst') return dir;
    if (dirname(dir) === dir) throw new Error('cannot find the fluxburst project root; pass --out');
  }
}

const readJson = (path: string): unknown => {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
};
const list = (s: string | undefined) => (s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter(Boolean));

export function main(argv: string[], io: { out: (s: string) => void; err: (s: string) => void } = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): number {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        types: { type: 'string', multiple: true },
        prices: { type: 'string', multiple: true },
        'machine-types': { type: 'string', multiple: true },
        skus: { type: 'string', multiple: true },
        regions: { type: 'string' },
        only: { type: 'string' },
        'subset-of': { type: 'string' },
        'as-of': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const v = args.values;
  const provider = args.positionals[0];
  if (v.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  if ((provider !== 'aws' && provider !== 'gce') || args.positionals.length !== 1) {
    io.err(`give one provider, aws or gce\n${USAGE}\n`);
    return 2;
  }
  try {
    const o: RefreshOptions = {};
    const regions = list(v.regions);
    if (regions) o.regions = regions;
    let only = list(v.only);
    if (v['subset-of']) {
      const names = parseCatalogFile(readJson(v['subset-of']), v['subset-of']).types.map((t) => t.name);
      only = only ? only.filter((n) => names.includes(n)) : [...new Set(names)];
    }
    if (only) o.only = only;
    if (v['as-of']) o.asOf = v['as-of'];
    let r: RefreshResult;
    if (provider === 'aws') {
      if (!v.types?.length || !v.prices?.length) throw new Error('aws needs --types and --prices');
      r = awsCatalogFromDumps(v.types.map(readJson), v.prices.map(readJson), o);
    } else {
      if (!v['machine-types']?.length || !v.skus?.length) throw new Error('gce needs --machine-types and --skus');
      r = gceCatalogFromDumps(v['machine-types'].map(readJson), v.skus.map(readJson), o);
    }
    for (const w of r.warnings) io.err(`warning: ${w}\n`);
    const text = formatCatalogFile(r.file);
    const names = new Set(r.file.types.map((t) => t.name)).size;
    const regionsOut = [...new Set(r.file.types.map((t) => t.region))].sort().join(', ');
    if (v.out === '-') io.out(text);
    else {
      const out = resolve(v.out ?? join(projectRoot(), 'src', 'catalog', 'data', `${provider}.json`));
      writeFileSync(out, text);
      io.err(`wrote ${out}: ${r.file.types.length} entries, ${names} types, regions ${regionsOut}, as of ${r.file.asOf}\n`);
    }
    return 0;
  } catch (e) {
    io.err(`refresh-catalog: ${(e as Error).message}\n`);
    return 1;
  }
}

function invokedDirectly(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}
if (invokedDirectly()) process.exitCode = main(process.argv.slice(2));
