import { Client, Connection } from '@temporalio/client';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { FluxburstError, InputError } from '../core/errors.js';
import { loadRegistry, type PluginRegistry } from '../plugins/registry.js';
import { type ConnectionFlags, type ResolvedConnection, connectionOptions, describeConnectFailure, resolveConnection } from '../temporal/connection.js';
import { dataConverterFromEnv } from '../temporal/codec.js';
import { readServerInfo } from '../temporal/dev-server.js';
import { stateDir } from '../temporal/paths.js';

export { EXIT } from './failure.js';

/** Flags every command that talks to Temporal takes (Temporal CLI names). */
export function withConnectionFlags(cmd: Command): Command {
  return cmd
    // TEMPORAL_ADDRESS/TEMPORAL_NAMESPACE are read with the profile (envconfig), not by commander,
    // so env beats the profile file the way Temporal's own tools order them.
    .addOption(new Option('--address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS)'))
    .addOption(new Option('-n, --namespace <ns>', 'Temporal namespace (env TEMPORAL_NAMESPACE)'))
    .addOption(new Option('--api-key <key>', 'API key, sent as `authorization: Bearer` (prefer TEMPORAL_API_KEY or --api-key-env)'))
    .addOption(new Option('--api-key-env <NAME>', 'environment variable holding the API key'))
    .addOption(new Option('--tls', 'use TLS (system CAs unless --tls-ca-path); env TEMPORAL_TLS'))
    .addOption(new Option('--tls-cert, --tls-cert-path <file>', 'client certificate (PEM) for mTLS; env TEMPORAL_TLS_CLIENT_CERT_PATH'))
    .addOption(new Option('--tls-key, --tls-key-path <file>', 'client key (PEM) for mTLS; env TEMPORAL_TLS_CLIENT_KEY_PATH'))
    .addOption(new Option('--tls-ca, --tls-ca-path <file>', 'CA that signed the server certificate; env TEMPORAL_TLS_SERVER_CA_CERT_PATH'))
    .addOption(new Option('--tls-server-name <name>', 'server name to verify (SNI); env TEMPORAL_TLS_SERVER_NAME'))
    .addOption(new Option('--profile <name>', 'profile in the Temporal client config file (TEMPORAL_CONFIG_FILE); env TEMPORAL_PROFILE'))
    .addOption(new Option('--task-queue <name>', 'task queue (default: fluxburst)'))
    .addOption(configOption());
}

/** `-c, --config` (env FLUXBURST_CONFIG): the same file for every command, so `validate` checks what `burst` would use. */
export const configOption = () => new Option('-c, --config <file>', 'fluxburst config (YAML)').env('FLUXBURST_CONFIG');

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
    throw new FluxburstError('ConnectFailed', await describeConnectFailure(conn, e));
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
    const cut = conn.address.lastIndexOf(':');
    const host = conn.address.slice(0, cut);
    const port = conn.address.slice(cut + 1);
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

/** A workflow or schedule id given as an argument: not empty, no control characters, a sane length. */
export const idArg = (name: string) =>
  zArg(
    z
      .string()
      .refine((v) => v.trim().length > 0, 'must not be empty')
      .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'must not contain control characters')
      .refine((v) => v.length <= 1000, 'at most 1000 characters'),
    name,
  );

export const intArg = (flag: string, min: number, max: number) => zArg(z.coerce.number().int('must be a whole number').min(min).max(max), flag);

export function printJson(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
}

export { InputError };
