import { z } from 'zod';
import { type FieldIssue, InputError } from '../core/errors.js';
import type { Job } from '../core/types.js';
import { toFieldIssues } from '../core/zod-issues.js';

/**
 * A job's own say over its burst, carried in its jobspec as `attributes.system.fluxburst`
 * (`flux submit --setattr=fluxburst.plugin=gke ...`). Target/plugin narrow where it may go,
 * `requires` adds capability needs, and the rest are plugin params that win over the target's.
 */
export const jobOverrideSchema = z.strictObject({
  target: z.string().min(1).optional().describe('Only this target.'),
  plugin: z.string().min(1).optional().describe('Only targets of this plugin.'),
  instanceType: z.string().min(1).optional().describe('Instance/machine type (plugin param).'),
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a Kubernetes namespace name').optional().describe('Kubernetes namespace (plugin param).'),
  maxPrice: z.number().positive().optional().describe('Highest price per node-hour (plugin param).'),
  labels: z.record(z.string(), z.string()).optional().describe('Labels/tags on what is created (plugin param).'),
  requires: z
    .strictObject({
      labels: z.record(z.string(), z.string()).optional(),
      arch: z.enum(['x86_64', 'arm64']).optional(),
      gpuKind: z.string().min(1).optional(),
    })
    .optional()
    .describe('What a target must offer to take this job.'),
});
export type JobOverride = z.output<typeof jobOverrideSchema>;

/** The params part of an override: merged over the target's params for this job's burst. */
export const PARAM_KEYS = ['instanceType', 'namespace', 'maxPrice', 'labels'] as const;

export function overrideOf(job: Job): JobOverride | undefined {
  const raw = (job.attributes.system as Record<string, unknown> | undefined)?.fluxburst;
  if (raw === undefined) return undefined;
  const r = jobOverrideSchema.safeParse(raw);
  if (!r.success) throw new InputError(`job ${job.id}`, toFieldIssues(r.error, 'attributes.system.fluxburst'));
  return r.data;
}

/** Every job's override, or one error naming each bad job and field. */
export function overridesOf(jobs: Job[]): Map<string, JobOverride> {
  const out = new Map<string, JobOverride>();
  const issues: FieldIssue[] = [];
  for (const job of jobs) {
    try {
      const o = overrideOf(job);
      if (o) out.set(job.id, o);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      issues.push(...e.issues.map((i) => ({ path: `job ${job.id}: ${i.path}`, message: i.message })));
    }
  }
  if (issues.length) throw new InputError('per-job overrides', issues);
  return out;
}

export function overrideParams(o: JobOverride | undefined): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  if (!o) return p;
  for (const k of PARAM_KEYS) if (o[k] !== undefined) p[k] = o[k];
  return p;
}

/** A stable key: jobs with different overrides never share a burst. */
export function overrideKey(o: JobOverride | undefined): string {
  if (!o) return '';
  const sorted = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sorted(x)])) : v;
  return JSON.stringify(sorted(o));
}
