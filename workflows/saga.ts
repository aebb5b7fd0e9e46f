// The saga both burst workflows share (a burst, and Slurm's power-save node groups). Pure
// workflow code: the callers pass their activities in, so the order of commands stays theirs.
import type { ProvisionStep, ResourceRef } from '../src/core/types.js';

/** A created (or maybe-created) resource and how to undo it: the saga's compensation entry. */
export interface Undo {
  step: ProvisionStep;
  ref?: ResourceRef;
}

export class Saga {
  /** Newest first. */
  readonly undo: Undo[] = [];

  /**
   * Provision one step. Its compensation is recorded *before* the activity runs: the activity may
   * create the resource and then lose its answer (worker died), and it must still be deleted.
   */
  async provision(step: ProvisionStep, make: (s: ProvisionStep) => Promise<ResourceRef>): Promise<ResourceRef> {
    const entry: Undo = { step };
    this.undo.unshift(entry);
    entry.ref = await make(step);
    return entry.ref;
  }

  /**
   * Run every compensation, newest first, to the end of the list whatever fails; returns the
   * entries that could not be undone with their errors.
   */
  async compensate(teardown: (u: Undo) => Promise<void>): Promise<Array<{ undo: Undo; error: unknown }>> {
    const left: Array<{ undo: Undo; error: unknown }> = [];
    while (this.undo.length) {
      const u = this.undo.shift()!;
      try {
        await teardown(u);
      } catch (error) {
        left.push({ undo: u, error });
      }
    }
    return left;
  }
}
