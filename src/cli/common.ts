import { Client, Connection } from '@temporalio/client';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { FluxburstError, InputError } from '../core/errors.js';
import { loadRegistry, type PluginRegistry } from '../plugins/registry.js';
import { type ConnectionFlags, type ResolvedConnection, connectionOptions, resolveConnection } from '../temporal/connection.js';
import { dataConverterFromEnv } from '../temporal/codec.js';
import { readServerInfo } from '../temporal/dev-server.js';
import { stateDir } from '../temporal/paths.js';

export const EXIT = { ok: 0, failed: 1, input: 2, cancelled: 3 } as const;

/** Flags every command that talks to Temporal takes (Temporal CLI names). */
export function withConnectionFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option('--address <host:port>', 'Temporal frontend').env('TEMPORAL_ADDRESS'))
    .addOption(new Option('-n, --namespace <ns>', 'Temporal namespace').env('TEMPORAL_NAMESPACE'))
    .addOption(new Option('--api-key <key>', 'API key (prefer TEMPORAL_API_KEY)'))
    .addOption(new Option('--tls', 'use TLS with system CAs'))
    .addOption(new Option('--tls-cert-path <file>', 'client certificate for mTLS'))
    .addOption(new Option('--tls-key-path <file>', 'client key for mTLS'))
    .addOption(new Option('--tls-ca-path <file>', 'CA that signed the server certificate'))
    .addOption(new Option('--tls-server-name <name>', 'server name to verify'))
    .addOption(new Option('--profile <name>', 'profile in the Temporal client config file'))
    .addOption(new Option('--task-queue <name>', 'task queue (default: fluxburst)'))
    .addOption(new Option('-c, --config <file>', 'fluxburst config (YAML)').env('FLUXBURST_CONFIG'));
}

export interface CommonOpts extends ConnectionFlags {
  config?: string;
  json?: boolean;
}

export interface Ctx {
  registry: PluginRegistry;
  loaded: LoadedConfig;
  conn: ResolvedConnection;
}

/** Everything a command needs before touching Temporal; any bad input throws InputError here. */
export async function prepare(opts: CommonOpts): Promise<Ctx> {
  const registry = await loadRegistry();
  const loaded = loadConfig(opts.config, registry);
  const conn = resolveConnection(opts, loaded.config.temporal);
  return { registry, loaded, conn };
}

export async function connectClient(conn: ResolvedConnection): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect(connectionOptions(conn));
  } catch (e) {
    throw new FluxburstError('ConnectFailed', `cannot reach Temporal at ${conn.address}: ${(e as Error).message}. Start one with \`fluxburst server\` or pass --address.`);
  }
  const dataConverter = dataConverterFromEnv();
  return new Client({ connection, namespace: conn.namespace, ...(dataConverter ? { dataConverter } : {}) });
}

/** Where the Temporal UI shows a workflow: flag/env, the local dev server's record, or port+1000. */
export function uiUrlFor(conn: ResolvedConnection, workflowId: string, env = process.env): string {
  let base = env.FLUXBURST_UI_URL;
  if (!base) {
    const info = readServerInfo(stateDir(env));
    if (info?.uiUrl && info.address === conn.address) base = info.uiUrl;
  }
  if (!base) {
    const [host, port] = conn.address.split(':');
    base = conn.address.includes('tmprl.cloud') ? 'https://cloud.temporal.io' : `http://${host}:${Number(port) + 1000}`;
  }
  return `${base.replace(/\/$/, '')}/namespaces/${encodeURIComponent(conn.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** commander argument parser backed by zod, so flag errors read like config errors. */
export function zArg<T>(schema: z.ZodType<T>, flag: string) {
  return (value: string): T => {
    const r = schema.safeParse(value);
    if (!r.success) throw new InvalidArgumentError(`${flag}: ${r.error.issues[0]?.message ?? 'invalid'}`);
    return r.data;
  };
}

export const intArg = (flag: string, min: number, max: number) => zArg(z.coerce.number().int('must be a whole number').min(min).max(max), flag);

export function printJson(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
}

export { InputError };
