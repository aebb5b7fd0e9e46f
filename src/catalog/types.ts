// The instance-type catalog: what each cloud machine type offers and what it costs on demand.
// Shipped as data (src/catalog/data/*.json), validated with these schemas when loaded.
import { z } from 'zod';

export type Provider = 'aws' | 'gce';
export type Arch = 'x86_64' | 'arm64';

export interface InstanceType {
  provider: Provider;
  /** The provider's own name: `c5n.18xlarge`, `c2-standard-60`. */
  name: string;
  region: string;
  arch: Arch;
  vcpus: number;
  memoryMiB: number;
  gpus: number;
  /** Canonical GPU kind, e.g. `nvidia-a100`, `nvidia-a100-80gb`, `nvidia-l4` (see normalizeGpuKind). */
  gpuKind?: string;
  /** AWS Elastic Fabric Adapter (the HPC interconnect); always false on GCE. */
  efa: boolean;
  /** On-demand price, USD per hour (Linux, shared tenancy on AWS). */
  pricePerHour: number;
}

export const PROVIDERS = ['aws', 'gce'] as const satisfies readonly Provider[];
export const ARCHES = ['x86_64', 'arm64'] as const satisfies readonly Arch[];

const posInt = z.number().int().positive();

export const instanceTypeSchema = z
  .strictObject({
    provider: z.enum(PROVIDERS),
    name: z.string().min(1),
    region: z.string().regex(/^[a-z]+(-[a-z]+)+-?\d+$/, 'a region name like us-east-1 or europe-west4'),
    arch: z.enum(ARCHES),
    vcpus: posInt,
    memoryMiB: posInt,
    gpus: z.number().int().nonnegative(),
    gpuKind: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lower-case words joined by "-", e.g. nvidia-a100').optional(),
    efa: z.boolean(),
    pricePerHour: z.number().positive().finite(),
  })
  .refine((t) => (t.gpus > 0) === (t.gpuKind !== undefined), { message: 'gpuKind is set exactly when gpus > 0', path: ['gpuKind'] }) satisfies z.ZodType<InstanceType>;

/** One data file: one provider's types, with the date its prices were published. */
export const catalogFileSchema = z
  .strictObject({
    provider: z.enum(PROVIDERS),
    asOf: z.iso.date(),
    currency: z.literal('USD'),
    /** Where the numbers came from (free text). */
    source: z.string(),
    types: z.array(instanceTypeSchema).min(1),
  })
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.types.forEach((t, i) => {
      if (t.provider !== f.provider) ctx.addIssue({ code: 'custom', path: ['types', i, 'provider'], message: `is ${t.provider} in the ${f.provider} file` });
      const key = `${t.region}/${t.name}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['types', i, 'name'], message: `${t.name} in ${t.region} is listed twice` });
      seen.add(key);
    });
  });
export type CatalogFile = z.output<typeof catalogFileSchema>;

/** Every provider's types, read-only. Treat as immutable: lookups are indexed per catalog object. */
export interface Catalog {
  /** Price date per provider file. */
  asOf: Partial<Record<Provider, string>>;
  types: readonly InstanceType[];
}
