import { CapacityError } from '../core/errors.js';
import type { BurstPlan, Job, PluginChoice } from '../core/types.js';
import type { Plugin, PluginContext } from '../plugins/contract.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { parseOrThrow } from '../core/zod-issues.js';

export interface Choice {
  plugin: string;
  params: Record<string, unknown>;
  plan: BurstPlan;
  reason: string;
}

/**
 * in_order (flux-burst's default): the first plugin, in config order, that can take all the jobs.
 * Plugins that cannot are skipped with the reason recorded, so "why this plugin" is answerable.
 */
export async function chooseAndPlan(
  jobs: Job[],
  choices: PluginChoice[],
  reg: PluginRegistry,
  maxNodes: number,
  ctx: PluginContext,
): Promise<Choice> {
  const skipped: string[] = [];
  for (const [i, c] of choices.entries()) {
    const plugin: Plugin = reg.get(c.name);
    const params = parseOrThrow(plugin.params, c.params, 'plugin params', `plugins[${i}].params`) as Record<string, unknown>;
    const est = plugin.estimate(jobs, params);
    if ('unfit' in est) {
      skipped.push(`${c.name}: ${est.unfit}`);
      continue;
    }
    const plan = await plugin.plan(jobs, params, ctx);
    if (plan.nodes > maxNodes) {
      skipped.push(`${c.name}: plan needs ${plan.nodes} nodes, over maxNodes ${maxNodes}`);
      continue;
    }
    const reason = skipped.length ? `in_order: ${c.name} is the first that fits (skipped ${skipped.join('; ')})` : `in_order: ${c.name} is first and fits`;
    return { plugin: c.name, params, plan, reason };
  }
  throw new CapacityError(`no plugin can take these jobs: ${skipped.join('; ') || 'no plugins configured'}`, 'NoPluginFits');
}
