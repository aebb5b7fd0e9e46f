// Fault injection for tests, kept out of the product: `faulty(inner)` wraps any plugin and fails
// one saga step on purpose, so the rollback, retry and replacement paths can be driven without a
// fault knob in a production plugin's params. A test's worker registers the wrapper (under its own
// name, e.g. `faulty-local`) next to the built-ins; a target then reads
//
//   { plugin: 'faulty-local', params: { ...the local plugin's params, fault: { step: 'join' } } }
//
// The fault is raised as a FluxburstError of type InjectedFault: non-retryable unless `times` makes
// it transient (fail the first N attempts, then let the call through).
import { z } from 'zod';
import { FluxburstError } from '../../src/core/errors.js';
import type { ProvisionStep } from '../../src/core/types.js';
import type { Plugin, PluginContext } from '../../src/plugins/contract.js';
import type { PluginRegistry } from '../../src/plugins/registry.js';

export const FAULT_STEPS = ['plan', 'provision', 'join', 'run', 'teardown'] as const;
export type FaultStep = (typeof FAULT_STEPS)[number];

export const faultSchema = z.strictObject({
  step: z.enum(FAULT_STEPS).describe('The saga step that fails.'),
  node: z.number().int().nonnegative().optional().describe('Only the node of this rank fails (provision, teardown), and its replacements.'),
  replacement: z.boolean().optional().describe('Only replacement nodes fail (provision, teardown).'),
  times: z.number().int().positive().optional().describe('Fail only the first N attempts (a transient fault); default: every attempt.'),
  afterCreate: z.boolean().default(false).describe('provision: fail after the resource was made, as if the worker died before answering.'),
});
export type Fault = z.output<typeof faultSchema>;

/**
 * The wrapper's params: the inner plugin's own, plus `fault`. Flat, so that parsing parsed params
 * again (the planner parses, then each activity) gives the same params.
 */
export type FaultyParams<P> = P & { fault?: Fault };
const innerOf = <P>(fp: FaultyParams<P>): P => {
  const { fault: _fault, ...rest } = fp as FaultyParams<P> & Record<string, unknown>;
  return rest as P;
};

/** A fault injected on purpose at `step`. */
export class InjectedFault extends FluxburstError {
  readonly step: FaultStep;
  constructor(step: FaultStep, retryable: boolean) {
    super('InjectedFault', `injected fault at ${step}`, { retryable });
    this.step = step;
  }
}

function maybeFault(fault: Fault | undefined, step: FaultStep, ctx: PluginContext, at?: ProvisionStep): void {
  if (!fault || fault.step !== step) return;
  if (fault.node !== undefined && at?.rank !== undefined && fault.node !== at.rank) return;
  if (fault.replacement && !at?.replaces) return;
  if (fault.times !== undefined && ctx.attempt > fault.times) return;
  throw new InjectedFault(step, fault.times !== undefined);
}

function paramsOf<P>(inner: Plugin<P>): z.ZodType<FaultyParams<P>> {
  return z.looseObject({ fault: faultSchema.optional() }).transform((all, ctx) => {
    const { fault, ...rest } = all;
    const r = inner.params.safeParse(rest);
    if (!r.success) {
      for (const i of r.error.issues) ctx.addIssue({ ...i, code: 'custom', message: i.message, path: i.path });
      return z.NEVER;
    }
    return { ...(r.data as object), ...(fault ? { fault } : {}) };
  }) as unknown as z.ZodType<FaultyParams<P>>;
}

/** `inner` with a `fault` param; named `faulty-<inner>` unless told otherwise. */
export function faulty<P>(inner: Plugin<P>, name = `faulty-${inner.name}`): Plugin<FaultyParams<P>> {
  const p: Plugin<FaultyParams<P>> = {
    name,
    description: `${inner.description}, with a fault injected on purpose (test kit)`,
    params: paramsOf(inner),
    estimate: (jobs, fp) => inner.estimate(jobs, innerOf(fp)),
    async plan(jobs, fp, ctx, opts) {
      maybeFault(fp.fault, 'plan', ctx);
      return inner.plan(jobs, innerOf(fp), ctx, opts);
    },
    async provision(step, plan, fp, ctx) {
      if (!fp.fault?.afterCreate) maybeFault(fp.fault, 'provision', ctx, step);
      const ref = await inner.provision(step, plan, innerOf(fp), ctx);
      if (fp.fault?.afterCreate) maybeFault(fp.fault, 'provision', ctx, step);
      return ref;
    },
    async join(resources, fp, ctx, broker) {
      maybeFault(fp.fault, 'join', ctx);
      return inner.join(resources, innerOf(fp), ctx, broker);
    },
    async teardown(step, ref, fp, ctx) {
      maybeFault(fp.fault, 'teardown', ctx, step);
      return inner.teardown(step, ref, innerOf(fp), ctx);
    },
    owned: (fp, ctx) => inner.owned(innerOf(fp), ctx),
  };
  if (inner.shape) p.shape = (job, fp) => inner.shape!(job, innerOf(fp));
  if (inner.preflight) p.preflight = (jobs, fp, ctx) => inner.preflight!(jobs, innerOf(fp), ctx);
  if (inner.releaseNode) p.releaseNode = (node, ref, fp, ctx) => inner.releaseNode!(node, ref, innerOf(fp), ctx);
  if (inner.run)
    p.run = async (job, nodes, fp, ctx) => {
      maybeFault(fp.fault, 'run', ctx);
      return inner.run!(job, nodes, innerOf(fp), ctx);
    };
  if (inner.runsJobs) p.runsJobs = (fp) => inner.runsJobs!(innerOf(fp));
  if (inner.watchesNodes) p.watchesNodes = (fp) => inner.watchesNodes!(innerOf(fp));
  if (inner.interruptions) p.interruptions = (resources, fp, ctx) => inner.interruptions!(resources, innerOf(fp), ctx);
  if (inner.destroy) p.destroy = (r, fp, ctx) => inner.destroy!(r, innerOf(fp), ctx);
  return p;
}

/** Register `faulty-<name>` for each named plugin of `reg` (default: every one registered). */
export function registerFaulty(reg: PluginRegistry, names: string[] = reg.names()): PluginRegistry {
  for (const n of names) reg.register(faulty(reg.get(n)), 'testkit');
  return reg;
}
