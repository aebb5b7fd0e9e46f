import { z } from 'zod';
import type { PluginRegistry } from '../plugins/registry.js';

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
  })
  .prefault({});

/** One plugin entry: the plugin's own zod schema checks its params. */
function pluginEntries(reg: PluginRegistry) {
  const branches = reg.list().map(({ plugin }) =>
    z.strictObject({
      name: z.literal(plugin.name),
      params: (plugin.params as z.ZodType).prefault({}),
    }),
  );
  if (branches.length === 0) throw new Error('no plugins registered');
  if (branches.length === 1) return branches[0]!;
  return z.discriminatedUnion('name', branches as never);
}

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
      select: z
        .strictObject({ kind: z.literal('burstable').default('burstable') })
        .prefault({})
        .describe('Which jobs may burst. burstable: the jobspec has attributes.system.burstable (flux-burst).'),
      ordering: z.literal('in_order').default('in_order').describe('How plugins are tried: in_order (the first that fits).'),
      plugins: z
        .array(pluginEntries(reg))
        .min(1, 'name at least one plugin')
        .prefault([{ name: 'local' }] as never)
        .describe('Plugins to burst onto, in order of preference.'),
      maxNodes: z.number().int().positive().max(10_000).default(64).describe('Cap on nodes in one burst, whatever the plugin allows.'),
      timeouts: timeoutsSection,
      temporal: temporalSection,
    })
    .describe('fluxburst configuration');
}

export type Config = z.output<ReturnType<typeof configSchema>>;
