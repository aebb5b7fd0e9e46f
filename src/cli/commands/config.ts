import type { Command } from 'commander';
import { z } from 'zod';
import { configSchema } from '../../config/schema.js';
import { prepareBurst } from '../../plan/prepare.js';
import { loadRegistry } from '../../plugins/registry.js';
import { type CommonOpts, prepare, printJson } from '../common.js';
import { table } from '../render.js';

export function registerConfigCommands(program: Command): void {
  program
    .command('validate')
    .description('Check a config (and jobs file) without starting anything; exit 2 names every bad field.')
    .option('-c, --config <file>', 'fluxburst config (YAML)')
    .option('-j, --jobs <file>', 'jobs file to check too')
    .option('-p, --plugin <name>', 'check as if only this plugin were configured')
    .option('--json', 'machine-readable output')
    .action(async (o: CommonOpts & { jobs?: string; plugin?: string }) => {
      const ctx = await prepare(o);
      const cfg = ctx.loaded.config;
      const report: Record<string, unknown> = { config: ctx.loaded.path ?? '(defaults)', plugins: cfg.plugins.map((p) => p.name), connection: { address: ctx.conn.address, namespace: ctx.conn.namespace, taskQueue: ctx.conn.taskQueue } };
      if (o.jobs || cfg.jobs || o.plugin) {
        const p = await prepareBurst({ config: cfg, registry: ctx.registry, jobsPath: o.jobs, plugin: o.plugin });
        Object.assign(report, { burstId: p.id, selected: p.selection.selected.length, skipped: p.selection.skipped.length, plugin: p.plugin, estimate: p.estimate });
      }
      if (o.json) printJson({ ok: true, ...report });
      else process.stdout.write(`ok: ${Object.entries(report).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ')}\n`);
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
