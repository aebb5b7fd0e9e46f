// The activities through which a burst follows the jobs Flux runs (types in src/core/flux.ts; the
// workflow side is workflows/burst-flux.ts). Thin: the logic is in src/flux/jobs.ts.
//
// Which flux and which instance: the source's `flux` (else FLUXBURST_FLUX, .tools/flux, PATH) and
// FLUX_URI from the worker's environment — the same as the Flux source that selected the jobs.
import { Context } from '@temporalio/activity';
import type { FluxActivities, FluxJobOutcome } from '../src/core/flux.js';
import type { SourceSpec } from '../src/core/types.js';
import { resolveFlux } from '../src/flux/command.js';
import { type FluxCli, drainHosts, followJobs, resubmitJob, undrainHosts } from '../src/flux/jobs.js';
import { InputError } from '../src/core/errors.js';
import { mapError } from './index.js';

export type { FluxJobOutcome };

function cliOf(source: SourceSpec): FluxCli {
  if (source.kind !== 'flux') throw new InputError('the Flux activities\' input', [{ path: 'source.kind', message: `needs a flux source, got "${source.kind}"` }]);
  return { flux: source.flux && source.flux !== 'flux' ? source.flux : resolveFlux(), env: process.env };
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    mapError(e);
  }
}

/** Heartbeat every second while `fn` runs (a flux command may take a while on a busy instance). */
async function beating<T>(fn: () => Promise<T>): Promise<T> {
  const c = Context.current();
  const t = setInterval(() => c.heartbeat(), 1000);
  try {
    return await fn();
  } finally {
    clearInterval(t);
  }
}

export function createFluxActivities(): FluxActivities {
  return {
    async followFluxJobs(input) {
      const c = Context.current();
      return guarded(() =>
        followJobs(cliOf(input.source), input.ids, {
          waitSeconds: input.waitSeconds,
          ...(input.pollMs !== undefined ? { pollMs: input.pollMs } : {}),
          signal: c.cancellationSignal,
          onPoll: (p) => c.heartbeat(p),
        }),
      );
    },
    async resubmitFluxJob(input) {
      return guarded(() => beating(async () => ({ newId: (await resubmitJob(cliOf(input.source), input.id, input.attempt)).newId })));
    },
    async drainFluxNodes(input) {
      return guarded(() => beating(() => drainHosts(cliOf(input.source), input.hosts, input.reason)));
    },
    async undrainFluxNodes(input) {
      return guarded(() => beating(() => undrainHosts(cliOf(input.source), input.hosts)));
    },
  };
}
