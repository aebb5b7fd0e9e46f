import { z } from 'zod';

// Flux job ids are 64-bit; above 2^53 the parser hands them over as bigint, kept exact as text.
const id = z.union([z.string().min(1), z.number().int().nonnegative(), z.bigint().nonnegative()]).transform(String);
const command = z.array(z.string().min(1)).min(1, 'must name a program to run');
const count = z.number().int().positive();

/** Flux jobspec v1 resource vertex (node → slot → core/gpu), as `flux job info jobspec` prints it. */
export type ResourceVertex = {
  type: string;
  count: number | { min: number; max?: number };
  exclusive?: boolean;
  label?: string;
  unit?: string;
  with?: ResourceVertex[];
};
export const resourceVertex: z.ZodType<ResourceVertex> = z.lazy(() =>
  z.looseObject({
    type: z.string(),
    count: z.union([count, z.looseObject({ min: count, max: count.optional() })]),
    exclusive: z.boolean().optional(),
    label: z.string().optional(),
    unit: z.string().optional(),
    with: z.array(resourceVertex).optional(),
  }),
);

export const jobspec = z.looseObject({
  version: z.literal(1).optional(),
  resources: z.array(resourceVertex).min(1, 'a jobspec needs at least one resource'),
  tasks: z
    .array(z.looseObject({ command, slot: z.string().optional(), count: z.record(z.string(), z.number()).optional() }))
    .min(1, 'a jobspec needs at least one task'),
  attributes: z
    .looseObject({
      system: z.record(z.string(), z.unknown()).optional(),
      user: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});
export type Jobspec = z.infer<typeof jobspec>;

/**
 * The job dict flux-burst's client hands to a selector: the job-list record merged with the
 * jobspec under `spec` (seed 001). Flux prints many more keys than we read, so extra keys pass.
 */
export const fluxJobinfo = z.looseObject({
  id,
  name: z.string().optional(),
  userid: z.union([z.number(), z.string()]).optional(),
  username: z.string().optional(),
  nnodes: count.optional(),
  ntasks: count.optional(),
  queue: z.string().optional(),
  spec: jobspec,
});
export type FluxJobinfo = z.infer<typeof fluxJobinfo>;

/** fluxburst's own short form, for hand-written job files. Strict: typos are errors. */
export const simpleJob = z.strictObject({
  id,
  name: z.string().min(1).optional(),
  user: z.string().optional(),
  command,
  nodes: count.default(1),
  tasks: count.optional(),
  coresPerNode: count.optional(),
  gpusPerNode: z.number().int().nonnegative().optional(),
  memoryMiB: count.optional(),
  walltimeSeconds: z.number().nonnegative().optional(),
  exclusive: z.boolean().optional(),
  burstable: z.boolean().default(false),
  attributes: z.record(z.string(), z.unknown()).optional(),
});
export type SimpleJob = z.infer<typeof simpleJob>;
