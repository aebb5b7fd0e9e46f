// The activities through which a burst follows jobs that Flux runs (implemented in
// activities/flux.ts on the worker). Pure types: workflows import this file.
import type { SourceSpec } from './types.js';

export interface FluxJobOutcome {
  id: string;
  result: 'COMPLETED' | 'FAILED' | 'CANCELED' | 'TIMEOUT';
  returncode?: number;
  exception?: { type: string; note: string };
  nodelist?: string;
  /** Flux failed the job because a node under it failed (a lost broker, a reclaimed instance). */
  nodeFailure: boolean;
}

export interface FluxActivities {
  /** Long-polls Flux for these job ids; returns as soon as one is inactive, or after waitSeconds. */
  followFluxJobs(input: { source: SourceSpec; ids: string[]; waitSeconds: number; pollMs?: number }): Promise<{ done: FluxJobOutcome[]; running: Array<{ id: string; nodelist: string }> }>;
  /** Submit an inactive job again with its original jobspec. */
  resubmitFluxJob(input: { source: SourceSpec; id: string; attempt: number }): Promise<{ newId: string }>;
  drainFluxNodes(input: { source: SourceSpec; hosts: string[]; reason: string }): Promise<void>;
  undrainFluxNodes(input: { source: SourceSpec; hosts: string[] }): Promise<void>;
}
