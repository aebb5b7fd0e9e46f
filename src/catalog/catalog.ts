// Loads the shipped instance-type catalog. The data files are imported as JSON modules, so tsc
// emits them next to the compiled module (dist/src/catalog/data/*.json) and the same import works
// from the TypeScript sources under vitest and from dist/ under plain Node (>= 20.10).
import { parseOrThrow } from '../core/zod-issues.js';
import awsData from './data/aws.json' with { type: 'json' };
import gceData from './data/gce.json' with { type: 'json' };
import { type Catalog, type CatalogFile, type InstanceType, type Provider, catalogFileSchema } from './types.js';

/** The raw (unvalidated) shipped data files, by provider. */
export const SHIPPED_DATA: Readonly<Record<Provider, unknown>> = { aws: awsData, gce: gceData };

/** Validate one data file; a bad file throws an InputError naming every bad field. */
export function parseCatalogFile(raw: unknown, origin = 'catalog data'): CatalogFile {
  return parseOrThrow(catalogFileSchema, raw, origin);
}

/** A catalog over these files (or bare types). Entries are frozen; the order is kept as given. */
export function makeCatalog(files: ReadonlyArray<CatalogFile>): Catalog {
  const asOf: Catalog['asOf'] = {};
  const types: InstanceType[] = [];
  for (const f of files) {
    if (asOf[f.provider] !== undefined) throw new Error(`catalog: two data files for ${f.provider}`);
    asOf[f.provider] = f.asOf;
    for (const t of f.types) types.push(Object.freeze({ ...t }));
  }
  return Object.freeze({ asOf: Object.freeze(asOf), types: Object.freeze(types) });
}

let shipped: Catalog | undefined;

/** The shipped catalog (src/catalog/data), validated on first use and then memoised. */
export function loadCatalog(): Catalog {
  shipped ??= makeCatalog([parseCatalogFile(awsData, 'catalog data aws.json'), parseCatalogFile(gceData, 'catalog data gce.json')]);
  return shipped;
}

const AWS_SIZES: Record<string, number> = { nano: 0, micro: 1, small: 2, medium: 3, large: 4, xlarge: 5 };

/** AWS `family.size` → [family, rank of size]: large < xlarge < 2xlarge < 48xlarge < metal. */
function awsSize(name: string): [string, number] | undefined {
  const m = /^([^.]+)\.(?:(\d+)(xlarge)|(nano|micro|small|medium|large|xlarge)|(metal.*))$/.exec(name);
  if (!m) return undefined;
  return [m[1]!, m[2] ? 5 + Number(m[2]) : m[4] ? AWS_SIZES[m[4]]! : 1e6];
}

/**
 * Names in a readable, total order: AWS sizes by size (c5.large < c5.xlarge < c5.2xlarge <
 * c5.18xlarge), otherwise digit runs as numbers (n2-standard-8 < n2-standard-16).
 */
export function compareNames(a: string, b: string): number {
  const sa = awsSize(a);
  const sb = awsSize(b);
  if (sa && sb && sa[0] === sb[0] && sa[1] !== sb[1]) return sa[1] - sb[1];
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny && Number(x) !== Number(y)) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length || (a < b ? -1 : a > b ? 1 : 0);
}

const KEY_ORDER = ['provider', 'name', 'region', 'arch', 'vcpus', 'memoryMiB', 'gpus', 'gpuKind', 'efa', 'pricePerHour'] as const;

/**
 * A data file as we write it: header fields one per line, then one type per line (fixed key
 * order), sorted by region and then name, so a refresh gives a readable diff.
 */
export function formatCatalogFile(f: CatalogFile): string {
  const sorted = [...f.types].sort((a, b) => (a.region < b.region ? -1 : a.region > b.region ? 1 : compareNames(a.name, b.name)));
  const line = (t: InstanceType) => {
    const o: Record<string, unknown> = {};
    for (const k of KEY_ORDER) if (t[k] !== undefined) o[k] = t[k];
    return `    ${JSON.stringify(o)}`;
  };
  return [
    '{',
    `  "provider": ${JSON.stringify(f.provider)},`,
    `  "asOf": ${JSON.stringify(f.asOf)},`,
    `  "currency": ${JSON.stringify(f.currency)},`,
    `  "source": ${JSON.stringify(f.source)},`,
    '  "types": [',
    sorted.map(line).join(',\n'),
    '  ]',
    '}',
    '',
  ].join('\n');
}
