import { z } from 'zod';
import { MAX_GPUS_PER_NODE, MAX_NODES } from '../core/limits.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { selectorSchema } from '../core/selector.js';

export const DEFAULT_TASK_QUEUE = 'fluxburst';

/** Owners are tags and a Keyword search attribute: keep them to what filters and labels accept. */
export const ownerSchema = z.string().regex(/^[\w.:-]{1,64}$/, 'letters, digits and . _ : - only, 1 to 64 of them');

export const temporalSection = z
  .strictObject({
    address: z.string().min(1).optional().describe('host:port of the Temporal frontend (default: the local dev server, localhost:7233).'),
    namespace: z.string().min(1).optional().describe('Temporal namespace (default: "default").'),
    taskQueue: z.string().min(1).default(DEFAULT_TASK_QUEUE).describe('Task queue workers poll and bursts run on.'),
    apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name').optional().describe('Name of the env var holding an API key (the key itself never goes in a file).'),
    tls: z
      .strictObject({
        certFile: z.string().min(1).optional().describe('Client certificate (PEM) for mTLS.'),
        keyFile: z.string().min(1).optional().describe('Client private key (PEM) for mTLS.'),
        caFile: z.string().min(1).optional().describe('CA bundle that signed the server certificate.'),
        serverName: z.string().min(1).optional().describe('Server name to verify (SNI).'),
      })
      .refine((t) => !!t.certFile === !!t.keyFile, { message: 'certFile and keyFile go together', path: ['keyFile'] })
      .optional()
      .describe('TLS to the server; an empty mapping means TLS with system CAs.'),
  })
  .prefault({});

const duration = (max: number, def: number, what: string) => z.number().positive().max(max).default(def).describe(what);

export const timeoutsSection = z
  .strictObject({
    stepSeconds: duration(6 * 3600, 900, 'Longest one provision, join or teardown call may take.'),
    heartbeatSeconds: duration(600, 15, 'Heartbeat timeout of long calls: how soon work on a dead worker is retried elsewhere.'),
    jobSeconds: duration(30 * 86400, 86400, 'Longest one job may run.'),
    interruptionPollSeconds: duration(3600, 15, "How often a running burst asks its plugin for lost or reclaimed nodes (spot notices also arrive at once through `fluxburst interruptions`)."),
  })
  .prefault({});

export const runSection = z
  .strictObject({
    batchMax: z.number().int().positive().max(10_000).default(500).describe('Most jobs one batch (one activity call) runs, one after another, on its nodes.'),
    batchSeconds: duration(3600, 30, 'A batch hands back the jobs it has not started after this long, so the burst stays responsive.'),
    eventsPerRun: z.number().int().min(500).max(40_000).default(8000).describe('A burst continues as new once a run\'s history has this many events (Temporal warns at 10,240 and stops a run at 51,200).'),
    tailBytes: z.number().int().min(64).max(64 * 1024).default(512).describe('Bytes of each job\'s output (its ranks together) kept in the history; the whole output stays with the plugin (local: `outputDir`).'),
    pageSize: z.number().int().min(10).max(50_000).default(2000).describe('Jobs the burst loads from its job list at a time.'),
  })
  .prefault({})
  .describe('How a running burst hands out jobs and keeps its history small.');

const targetName = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, 'lowercase letters, digits and dashes, at most 32');

export const capabilitiesSchema = z
  .strictObject({
    labels: z.record(z.string(), z.string()).default({}).describe('What this target offers, matched against jobs\' required labels.'),
    architectures: z.array(z.enum(['x86_64', 'arm64'])).min(1).default(['x86_64']).describe('CPU architectures it can run.'),
    gpus: z
      .strictObject({
        max: z.number().int().nonnegative().max(MAX_GPUS_PER_NODE).describe('Most GPUs one node can have.'),
        kinds: z.array(z.string().min(1)).default([]).describe('GPU kinds on offer (empty: any kind asked for is refused).'),
      })
      .default({ max: 0, kinds: [] })
      .describe('GPUs per node on offer.'),
  })
  .prefault({});

const credentialRef = z.union([
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name') }),
  z.strictObject({ file: z.string().min(1) }),
]);

/**
 * One target entry (rainbow's cluster registry): a plugin, its params checked by the plugin's own
 * zod schema, what it offers, how much of it we may use, and credentials by reference only.
 */
function targetEntries(reg: PluginRegistry) {
  const branches = reg.list().map(({ plugin }) =>
    z.strictObject({
      plugin: z.literal(plugin.name),
      name: targetName.optional().describe('Target name (default: the plugin name).'),
      params: (plugin.params as z.ZodType).prefault({}),
      capabilities: capabilitiesSchema,
      quota: z
        .strictObject({
          nodes: z.number().int().positive().max(MAX_NODES).optional().describe('Most nodes in flight on this target at once.'),
          costPerHour: z.number().positive().optional().describe('Most estimated spend per hour on this target at once.'),
        })
        .prefault({}),
      credentials: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'credential names are identifiers'), credentialRef).optional().describe('Secrets by reference: {env: NAME} or {file: path}.'),
    }),
  );
  if (branches.length === 0) throw new Error('no plugins registered');
  if (branches.length === 1) return branches[0]!;
  // zod's own message for an unknown discriminator quotes differently from its enum messages; say it like an enum.
  const known = reg.names().map((n) => `"${n}"`).join('|');
  return z.discriminatedUnion('plugin', branches as never, {
    error: (iss) => (iss.code === 'invalid_union' ? `Invalid option: expected one of ${known}` : undefined),
  });
}

// The selector schema lives in src/core/selector.ts: the types workflows see are derived from it.
export { conditionSchema, selectorSchema } from '../core/selector.js';

export const orderingSchema = z
  .union([
    z.enum(['in_order', 'cheapest', 'fastest']),
    z.strictObject({ fallback: z.array(targetName).min(1).describe('Exactly these targets, in this order.') }),
  ])
  .default('in_order')
  .describe('Which target a burst goes to: in_order (config order), cheapest, fastest, or {fallback: [names]}.');

export function configSchema(reg: PluginRegistry) {
  return z
    .strictObject({
      name: z
        .string()
        .regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, 'lowercase letters, digits and dashes, at most 32, starting and ending alphanumeric')
        .default('burst')
        .describe('Burst name prefix; the workflow id is <name>-<nodes>n-<hash>.'),
      owner: ownerSchema.optional().describe('Who owns the bursts (tags, search attribute). Default: $USER.'),
      jobs: z.string().min(1).optional().describe('Jobs file (YAML/JSON list, Flux jobinfo shape accepted), relative to this config.'),
      flux: z
        .strictObject({
          command: z.string().min(1).default('flux').describe('Path of the flux command (FLUX_URI comes from the environment).'),
          resubmit: z.number().int().min(0).max(10).default(0).describe('When Flux fails a burst job because its node failed (spot loss, a lost broker), submit it again with its original jobspec, up to this many times (0: report it failed).'),
        })
        .optional()
        .describe('Read pending jobs from a Flux instance instead of a file (watch mode).'),
      slurm: z
        .strictObject({
          squeue: z.string().min(1).default('squeue').describe('Path of the squeue command.'),
          conf: z.string().min(1).optional().describe('slurm.conf of the cluster (SLURM_CONF for squeue); default: the environment\'s.'),
          partitions: z.array(z.string().min(1)).default([]).describe('Partitions whose pending jobs are all burstable (others need "burstable" in their --comment).'),
        })
        .optional()
        .describe('Read pending jobs from Slurm (`squeue --json`) instead of a file.'),
      select: selectorSchema.describe('Which jobs may burst: burstable (flux-burst\'s attribute), match conditions, or a module.'),
      ordering: orderingSchema,
      grouping: z.enum(['pooled', 'exclusive']).default('pooled').describe('pooled: jobs share a burst sized to the largest (flux-burst); exclusive: one burst per job.'),
      targets: z
        .array(targetEntries(reg))
        .min(1, 'name at least one target')
        .prefault([{ plugin: 'local' }] as never)
        .describe('Where bursts may go (plugins with params, capabilities, quota, credentials).'),
      limits: z
        .strictObject({
          maxNodes: z.number().int().positive().max(MAX_NODES).default(64).describe('Most nodes in one burst.'),
          maxCostPerHour: z.number().positive().optional().describe('Most estimated spend per hour of one burst: a plan above it is refused before anything is created.'),
          maxSpend: z.number().positive().optional().describe('Most estimated spend (USD) of one burst: a running burst is stopped and torn down when its nodes have cost this much.'),
        })
        .prefault({}),
      timeouts: timeoutsSection,
      run: runSection,
      temporal: temporalSection,
    })
    .superRefine((c, ctx) => {
      const sources = (['jobs', 'flux', 'slurm'] as const).filter((k) => c[k] !== undefined);
      if (sources.length > 1) ctx.addIssue({ code: 'custom', path: [sources[1]!], message: `give one job source: ${sources.map((k) => `\`${k}\``).join(' or ')}, not both` });
      const names = c.targets.map((t) => (t as { name?: string; plugin: string }).name ?? (t as { plugin: string }).plugin);
      names.forEach((n, i) => {
        if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: ['targets', i, 'name'], message: `target name "${n}" is used twice` });
      });
      if (typeof c.ordering === 'object') {
        c.ordering.fallback.forEach((n, i) => {
          if (!names.includes(n)) ctx.addIssue({ code: 'custom', path: ['ordering', 'fallback', i], message: `no target named "${n}" (targets: ${names.join(', ')})` });
        });
      }
    })
    .describe('fluxburst configuration');
}

export type Config = z.output<ReturnType<typeof configSchema>>;
export type TargetConfig = Config['targets'][number] & { name?: string; plugin: string; params: Record<string, unknown> };
