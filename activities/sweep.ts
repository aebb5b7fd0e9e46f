import { Context } from '@temporalio/activity';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { TargetChoice } from '../src/core/types.js';
import { parseOrThrow } from '../src/core/zod-issues.js';
import type { OwnedResource, PluginContext } from '../src/plugins/contract.js';
import type { PluginRegistry } from '../src/plugins/registry.js';
import { keepalive, mapError, resolveCredentials } from './index.js';

/** Who the sweep's plugin calls are for: no burst, so resources are tagged only with this. */
export const SWEEP_BURST_ID = 'fluxburst-sweep';

export interface DestroyResult {
  removed: OwnedResource[];
  failed: { resource: OwnedResource; error: string }[];
}

function sweepContext(target: TargetChoice): PluginContext {
  const c = Context.current();
  return {
    burstId: SWEEP_BURST_ID,
    owner: 'fluxburst',
    credentials: resolveCredentials(target.credentials),
    attempt: c.info.attempt,
    signal: c.cancellationSignal,
    heartbeat: (d) => c.heartbeat(d),
    log: { info: (m, meta) => c.log.info(m, meta), warn: (m, meta) => c.log.warn(m, meta) },
  };
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    mapError(e);
  }
}


/**
 * The orphan sweep's activities. `client` answers which bursts still run: a burst's workflow id
 * is its burst id, which is what every resource is tagged with.
 */
export function createSweepActivities(reg: PluginRegistry, client: Client) {
  const plugin = (t: TargetChoice) => {
    const p = reg.get(t.plugin);
    return { p, params: parseOrThrow(p.params, t.params, `target ${t.name} params`, 'params') };
  };
  return {
    async listOwned(input: { target: TargetChoice }): Promise<OwnedResource[]> {
      return guarded(() =>
        keepalive(async () => {
          const { p, params } = plugin(input.target);
          return p.owned(params, sweepContext(input.target));
        }),
      );
    },

    /** The ids whose workflow execution is RUNNING; a workflow the server never heard of is not. */
    async burstsRunning(input: { burstIds: string[] }): Promise<string[]> {
      return guarded(async () => {
        const c = Context.current();
        const running: string[] = [];
        for (const id of [...new Set(input.burstIds)]) {
          try {
            const d = await client.workflow.getHandle(id).describe();
            if (d.status.name === 'RUNNING') running.push(id);
          } catch (e) {
            if (!(e instanceof WorkflowNotFoundError)) throw e;
          }
          c.heartbeat({ checked: id });
        }
        return running;
      });
    },

    /**
     * Delete each resource on its own: one that fails is reported and the rest still go. Order is
     * the caller's (the plugin's `owned` order); each delete copes with what an earlier one took.
     */
    async destroyOwned(input: { target: TargetChoice; resources: OwnedResource[] }): Promise<DestroyResult> {
      return guarded(async () => {
        const { p, params } = plugin(input.target);
        const ctx = sweepContext(input.target);
        const out: DestroyResult = { removed: [], failed: [] };
        for (const r of input.resources) {
          if (ctx.signal.aborted) break;
          try {
            if (!p.destroy) throw new Error(`plugin ${p.name} cannot delete what the sweep finds (no destroy)`);
            await p.destroy(r, params, ctx);
            out.removed.push(r);
          } catch (e) {
            ctx.log.warn('sweep could not delete', { kind: r.kind, id: r.id, burstId: r.burstId, error: (e as Error).message });
            out.failed.push({ resource: r, error: (e as Error).message });
          }
          ctx.heartbeat({ removed: out.removed.length, failed: out.failed.length });
        }
        return out;
      });
    },
  };
}

export type SweepActivities = ReturnType<typeof createSweepActivities>;
