import type { BurstPlan, Job, ResourceRef } from '../../src/core/types.js';
import type { Plugin, PluginContext } from '../../src/plugins/contract.js';
import { Saga } from '../../workflows/saga.js';

/** An `expect(...)` failure (chai's AssertionError, as vitest throws it): the test's own verdict, never the product's error. */
export function isAssertionError(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AssertionError' || e.constructor?.name === 'AssertionError');
}

/**
 * A plugin driven as the burst workflow drives it, without Temporal: plan, provision each step
 * with its compensation recorded first (the workflows' own Saga), run `between`, then undo every
 * step newest first. A provision failure (or a plugin error thrown inside `between`) is returned
 * as `error`; an assertion that failed inside `between` is rethrown once the rollback ran, so a
 * wrong expectation there fails the test whether or not the caller looks at `error`. A teardown
 * failure is thrown.
 */
export async function runSaga<P>(
  plugin: Plugin<P>,
  jobs: Job[],
  p: P,
  c: PluginContext,
  between?: (refs: ResourceRef[], plan: BurstPlan) => Promise<void>,
): Promise<{ plan: BurstPlan; refs: ResourceRef[]; error: unknown }> {
  const plan = await plugin.plan(jobs, p, c);
  const saga = new Saga();
  const refs: ResourceRef[] = [];
  let error: unknown;
  try {
    for (const s of plan.steps) refs.push(await saga.provision(s, (x) => plugin.provision(x, plan, p, c)));
    await between?.(refs, plan);
  } catch (e) {
    error = e;
  }
  const left = await saga.compensate((u) => plugin.teardown(u.step, u.ref, p, c));
  if (isAssertionError(error)) throw error;
  if (left.length) throw left[0]!.error;
  return { plan, refs, error };
}
