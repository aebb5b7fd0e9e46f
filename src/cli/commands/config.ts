import type { Command } from 'commander';
import { z } from 'zod';
import { configSchema } from '../../config/schema.js';
import { prepareBursts } from '../../plan/prepare.js';
import { applyExecutionPlanToConfig, readExecutionPlan } from '../../plugins/aws-ec2/execution-plan.js';
import { InputError } from '../../core/errors.js';
import { makeSelector } from '../../select/selectors.js';
import { loadRegistry } from '../../plugins/registry.js';
import { type CommonOpts, configOption, prepare, printJson } from '../common.js';
import { table } from '../render.js';
import { fluxTargetIssues } from './flux.js';

export function registerConfigCommands(program: Command): void {
  program
    .command('validate')
    .description('Check a config (and jobs file) without starting anything; exit 2 names every bad field.')
    .addOption(configOption())
    .option('-j, --jobs <file>', 'jobs file to check too')
    .option('-p, --plugin <name>', 'check as if only this target (or plugin) were configured')
    .option('--plan <file>', 'execution plan (JSON, aws-slurm-burst format) to check against the config')
    .option('--json', 'machine-readable output')
    .action(async (o: CommonOpts & { jobs?: string; plugin?: string; plan?: string }) => {
      const ctx = await prepare(o);
      let cfg = ctx.loaded.config;
      const execPlan = o.plan ? await readExecutionPlan(o.plan) : undefined;
      if (execPlan) cfg = applyExecutionPlanToConfig(cfg, ctx.registry, execPlan);
      const report: Record<string, unknown> = {
        config: ctx.loaded.path ?? '(defaults)',
        targets: (cfg.targets as Array<{ name?: string; plugin: string }>).map((t) => t.name ?? t.plugin),
        connection: { address: ctx.conn.address, namespace: ctx.conn.namespace, taskQueue: ctx.conn.taskQueue },
        ...(execPlan ? { plan: execPlan.path } : {}),
      };
      if (cfg.select.kind === 'module') await makeSelector(cfg.select); // the module loads and exports a function
      // Targets whose brokers join a Flux lead: their broker config must match the running lead's.
      const fluxIssues = await fluxTargetIssues(cfg.targets as Array<{ plugin: string; params?: Record<string, unknown> }>);
      if (fluxIssues.length) throw new InputError('flux broker settings', fluxIssues);
      if (o.jobs || cfg.jobs) {
        const p = await prepareBursts({ config: cfg, registry: ctx.registry, jobsPath: o.jobs, target: o.plugin });
        if (p.plan.unfit.length) throw new InputError('plan', p.plan.unfit.map((u) => ({ path: `job ${u.jobId}`, message: u.reason })));
        Object.assign(report, { selected: p.selection.selected.length, skipped: p.selection.skipped.length, bursts: p.bursts.map((b) => b.id) });
      }
      if (o.json) printJson({ ok: true, ...report });
      else process.stdout.write(`ok: ${Object.entries(report).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ')}\n`);
    });

  program
    .command('plan')
    .description('Dry run: the bursts a jobs file would make (targets, nodes, types, cost per hour). Creates nothing.')
    .addOption(configOption())
    .option('-j, --jobs <file>', 'jobs file (default: config jobs)')
    .option('-p, --plugin <name>', 'only this target (or plugin)')
    .option('--owner <name>', 'owner (part of each burst name)')
    .option('--plan <file>', 'execution plan (JSON, aws-slurm-burst format) overriding the target\'s params')
    .option('--json', 'machine-readable output')
    .action(async (o: CommonOpts & { jobs?: string; plugin?: string; owner?: string; plan?: string }) => {
      const ctx = await prepare(o);
      const config = o.plan ? applyExecutionPlanToConfig(ctx.loaded.config, ctx.registry, await readExecutionPlan(o.plan)) : ctx.loaded.config;
      const p = await prepareBursts({ config, registry: ctx.registry, jobsPath: o.jobs, target: o.plugin, owner: o.owner });
      const bursts = p.bursts.map((b) => ({ burstId: b.id, target: b.target, nodes: b.nodes, gangMin: b.gangMin, shape: b.shape, costPerHour: b.costPerHour, secondsToReady: b.secondsToReady, jobs: b.jobs.map((j) => j.id), chain: b.chain.map((c) => c.name), reason: b.reason }));
      if (o.json) {
        printJson({ bursts, unfit: p.plan.unfit, skipped: p.selection.skipped, totalCostPerHour: bursts.reduce((a, b) => a + b.costPerHour, 0) });
      } else {
        process.stdout.write(
          table(
            ['BURST', 'TARGET', 'NODES', 'SHAPE', '$/HOUR', 'JOBS', 'WHY'],
            bursts.map((b) => [b.burstId, b.target, String(b.nodes), b.shape, b.costPerHour.toFixed(2), b.jobs.join(','), b.reason]),
          ),
        );
        process.stdout.write(`${bursts.length} burst(s), ~$${bursts.reduce((a, b) => a + b.costPerHour, 0).toFixed(2)}/hour; ${p.selection.skipped.length} job(s) not selected\n`);
        for (const u of p.plan.unfit) process.stdout.write(`unfit: job ${u.jobId}: ${u.reason}\n`);
      }
      if (p.plan.unfit.length) {
        // stdout keeps the plan (a pipe reads it); the reason for exit 2 goes where errors go.
        const list = p.plan.unfit.map((u) => `job ${u.jobId}: ${u.reason}`).join('; ');
        process.stderr.write(`error: ${p.plan.unfit.length} job(s) fit no target: ${list}\n`);
        process.exitCode = 2;
      }
    });

  program
    .command('schema')
    .description('Print the JSON Schema of the config file (generated from the same zod schema that validates it).')
    .action(async () => {
      const reg = await loadRegistry();
      printJson(z.toJSONSchema(configSchema(reg), { io: 'input', unrepresentable: 'any' }));
    });

  program
    .command('plugins')
    .description('List plugins (built-in and installed fluxburst-plugin-* packages) and their params.')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const reg = await loadRegistry();
      const out = reg.list().map(({ plugin, origin }) => ({
        name: plugin.name,
        origin,
        description: plugin.description,
        params: z.toJSONSchema(plugin.params as z.ZodType, { io: 'input', unrepresentable: 'any' }),
      }));
      if (o.json) return printJson(out);
      for (const p of out) {
        process.stdout.write(`${p.name}  (${p.origin})\n  ${p.description}\n`);
        const props = (p.params as { properties?: Record<string, { type?: string; description?: string; default?: unknown }> }).properties ?? {};
        process.stdout.write(
          table(
            ['  PARAM', 'TYPE', 'DEFAULT', 'DESCRIPTION'],
            Object.entries(props).map(([k, v]) => [`  ${k}`, String(v.type ?? 'object'), v.default === undefined ? '-' : JSON.stringify(v.default), v.description ?? '']),
          ),
        );
      }
    });
}
