// Which jobs may burst: the selector and its conditions, as a zod schema (the config file's
// `select:`, its JSON Schema, and the CLI's checks) and as the types derived from it, which
// core/types.ts re-exports for BurstInput and the workflows. One source: no hand-written copy of
// these types exists. Pure (zod only), so workflow code may import its types.
import { z } from 'zod';

const scalar = z.union([z.string(), z.number(), z.boolean()]);
export const JOB_FIELDS = [
  'id',
  'name',
  'user',
  'queue',
  'nodes',
  'tasks',
  'coresPerNode',
  'gpusPerNode',
  'memoryMiB',
  'walltimeSeconds',
  'exclusive',
] as const;
export const conditionSchema = z
  .strictObject({
    path: z.string().refine((p) => (JOB_FIELDS as readonly string[]).includes(p) || /^attributes(\.[\w-]+)+$/.test(p), {
      message: `a job field (${JOB_FIELDS.join(', ')}) or an attribute path like attributes.system.queue`,
    }),
    equals: scalar.optional(),
    in: z.array(scalar).min(1).optional(),
    exists: z.boolean().optional(),
    min: z.number().optional(),
    max: z.number().optional(),
  })
  .refine(
    (c) =>
      [c.equals !== undefined, c.in !== undefined, c.exists !== undefined, c.min !== undefined || c.max !== undefined].filter(Boolean)
        .length === 1,
    {
      message: 'give exactly one test: equals, in, exists, or a min/max range',
    },
  )
  .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, { message: 'min is above max', path: ['min'] });

export const selectorSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('burstable') }),
    z
      .strictObject({
        kind: z.literal('match'),
        all: z.array(conditionSchema).min(1).optional().describe('Every condition must hold.'),
        any: z.array(conditionSchema).min(1).optional().describe('At least one must hold.'),
      })
      .refine((m) => m.all || m.any, { message: 'give `all` or `any` conditions' }),
    z.strictObject({
      kind: z.literal('module'),
      path: z.string().min(1).describe('JS module (relative to this config) exporting (job) => boolean.'),
      export: z
        .string()
        .regex(/^[A-Za-z_$][\w$]*$/)
        .default('default'),
    }),
  ])
  .prefault({ kind: 'burstable' });

/** One test on a job field or attribute path, e.g. `{path: 'attributes.system.queue', in: ['gpu']}`. */
export type Condition = z.output<typeof conditionSchema>;
/** A selector after parsing (defaults applied): burstable, match conditions, or a module. */
export type SelectorSpec = z.output<typeof selectorSchema>;
