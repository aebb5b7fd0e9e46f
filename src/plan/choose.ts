import { CapacityError } from '../core/errors.js';
import type { BurstPlan, Job, TargetChoice } from '../core/types.js';
import type { PlanOptions, PluginContext } from '../plugins/contract.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { parseOrThrow } from '../core/zod-issues.js';
import { outOfBounds } from '../jobs/normalize.js';

export interface Choice {
  target: string;
  plugin: string;
  params: Record<string, unknown>;
  credentials?: TargetChoice['credentials'];
  plan: BurstPlan;
  reason: string;
  /** Whether the plugin runs jobs itself; otherwise the local scheduler runs them on the nodes. */
  runs: boolean;
  /** Whether the plugin can report lost or reclaimed nodes (`interruptions`); the burst polls it. */
  watches: boolean;
}

/**
 * The burst's plan step: the first target of its chain (already in strategy order) whose plugin
 * can take all the jobs now. Targets passed over are named in the reason.
 */
export async function chooseAndPlan(jobs: Job[], chain: TargetChoice[], reg: PluginRegistry, maxNodes: number, ctx: PluginContext, maxCostPerHour?: number, opts?: PlanOptions): Promise<Choice> {
  // The last gate before nodes are made and jobs run: a scheduled burst's jobs come straight from
  // its source (a Flux or Slurm queue), so a job no worker could honour is refused here, by name,
  // rather than taking down every worker that picks its run up.
  const bad: string[] = [];
  for (const j of jobs) {
    const why = outOfBounds(j);
    if (why) bad.push(`job ${j.id}: ${why}`);
    if (bad.length === 3) break;
  }
  if (bad.length) throw new CapacityError(`nothing provisioned: ${bad.join('; ')}${bad.length === 3 ? '; …' : ''}`, 'Unfit');
  const skipped: string[] = [];
  for (const [i, c] of chain.entries()) {
    const plugin = reg.get(c.plugin);
    const params = parseOrThrow(plugin.params, c.params, `target ${c.name} params`, `targets[${i}].params`) as Record<string, unknown>;
    const est = plugin.estimate(jobs, params);
    if ('unfit' in est) {
      skipped.push(`${c.name}: ${est.unfit}`);
      continue;
    }
    const plan = await plugin.plan(jobs, params, ctx, opts);
    if (plan.nodes > maxNodes) {
      skipped.push(`${c.name}: plan needs ${plan.nodes} nodes, over maxNodes ${maxNodes}`);
      continue;
    }
    if (maxCostPerHour !== undefined && plan.estimate.costPerHour > maxCostPerHour) {
      skipped.push(`${c.name}: plan costs $${plan.estimate.costPerHour.toFixed(2)}/h, over limits.maxCostPerHour $${maxCostPerHour}/h`);
      continue;
    }
    const reason = skipped.length ? `${c.name}: first in the chain that fits (skipped ${skipped.join('; ')})` : `${c.name}: first in the chain`;
    const out: Choice = { target: c.name, plugin: c.plugin, params, plan, reason, runs: plugin.runsJobs?.(params) ?? typeof plugin.run === 'function', watches: plugin.watchesNodes?.(params) ?? typeof plugin.interruptions === 'function' };
    if (c.credentials) out.credentials = c.credentials;
    return out;
  }
  throw new CapacityError(`no target can take these jobs: ${skipped.join('; ') || 'no targets given'}`, 'NoTargetFits');
}
