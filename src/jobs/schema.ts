import { z } from 'zod';
import { MAX_CORES_PER_NODE, MAX_GPUS_PER_NODE, MAX_MEMORY_MIB, MAX_NODES, MAX_TASKS, jobIdProblem } from '../core/limits.js';

// Flux job ids are 64-bit; above 2^53 the parser hands them over as bigint, kept exact as text.
// Ids become node-side paths and routes: checked here, the job named in the message.
const id = z
  .union([z.string().min(1), z.number().int().nonnegative(), z.bigint().nonnegative()])
  .transform(String)
  .superRefine((v, ctx) => {
    const why = jobIdProblem(v);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  });
// A NUL byte cannot be passed to exec: refused here rather than when the node tries to start it.
const command = z
  .array(z.string().min(1).refine((a) => !a.includes('\0'), 'an argument contains a NUL byte'))
  .min(1, 'must name a program to run');
const count = z.number().int().positive();
/** A whole number from 1 to max: counts are bounded where they enter. */
const bounded = (max: number) => count.max(max);

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
    count: z.union([bounded(MAX_TASKS), z.looseObject({ min: bounded(MAX_TASKS), max: count.optional() })]),
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
    .array(
      z.looseObject({
        command,
        slot: z.string().optional(),
        // Flux's task count: per_slot or total, whole numbers >= 1.
        count: z.looseObject({ per_slot: bounded(MAX_TASKS).optional(), total: bounded(MAX_TASKS).optional() }).optional(),
      }),
    )
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
  nnodes: bounded(MAX_NODES).optional(),
  ntasks: bounded(MAX_TASKS).optional(),
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
  nodes: bounded(MAX_NODES).default(1),
  tasks: bounded(MAX_TASKS).optional(),
  coresPerNode: bounded(MAX_CORES_PER_NODE).optional(),
  gpusPerNode: z.number().int().nonnegative().max(MAX_GPUS_PER_NODE).optional(),
  memoryMiB: bounded(MAX_MEMORY_MIB).optional(),
  walltimeSeconds: z.number().nonnegative().optional(),
  exclusive: z.boolean().optional(),
  burstable: z.boolean().default(false),
  attributes: z.record(z.string(), z.unknown()).optional(),
});
export type SimpleJob = z.infer<typeof simpleJob>;
