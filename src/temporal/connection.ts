import { readFileSync } from 'node:fs';
import { loadClientConfigProfile } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { InputError } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import { DEFAULT_TASK_QUEUE } from '../config/schema.js';

/** Connection flags, named as the Temporal CLI names them. */
export interface ConnectionFlags {
  address?: string;
  namespace?: string;
  apiKey?: string;
  tls?: boolean;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsCaPath?: string;
  tlsServerName?: string;
  profile?: string;
  taskQueue?: string;
}

export interface ResolvedConnection {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls?: TLSConfig | boolean;
}

export const DEFAULT_ADDRESS = 'localhost:7233';

function readPem(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new InputError('connection settings', [{ path: field, message: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
  }
}

/**
 * Where to connect, by precedence: flags, then Temporal's own env vars and profile file
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, through
 * @temporalio/envconfig), then the config file's `temporal` section, then the local dev server.
 */
export function resolveConnection(flags: ConnectionFlags, section?: Config['temporal'], env: NodeJS.ProcessEnv = process.env): ResolvedConnection {
  let profile: ReturnType<typeof loadClientConfigProfile> = {};
  try {
    profile = loadClientConfigProfile({ profile: flags.profile, overrideEnvVars: env as Record<string, string> });
  } catch (e) {
    throw new InputError('Temporal client profile', [{ path: 'profile', message: (e as Error).message }]);
  }
  const address = flags.address ?? profile.address ?? section?.address ?? DEFAULT_ADDRESS;
  if (!/^[^\s:]+:\d{1,5}$/.test(address) || Number(address.split(':').pop()) > 65535) {
    throw new InputError('connection settings', [{ path: flags.address ? '--address' : 'temporal.address', message: `"${address}" is not host:port` }]);
  }
  const namespace = flags.namespace ?? profile.namespace ?? section?.namespace ?? 'default';
  const apiKey = flags.apiKey ?? profile.apiKey ?? (section?.apiKeyEnv ? env[section.apiKeyEnv] : undefined);
  if (section?.apiKeyEnv && !apiKey && !flags.apiKey) {
    throw new InputError('connection settings', [{ path: 'temporal.apiKeyEnv', message: `environment variable ${section.apiKeyEnv} is not set` }]);
  }

  const certPath = flags.tlsCertPath ?? section?.tls?.certFile;
  const keyPath = flags.tlsKeyPath ?? section?.tls?.keyFile;
  const caPath = flags.tlsCaPath ?? section?.tls?.caFile;
  if (!!certPath !== !!keyPath) {
    throw new InputError('connection settings', [{ path: certPath ? '--tls-key-path' : '--tls-cert-path', message: 'a client certificate and its key go together' }]);
  }
  let tls: TLSConfig | boolean | undefined;
  if (certPath || caPath || flags.tlsServerName || section?.tls || flags.tls) {
    const t: TLSConfig = {};
    if (certPath && keyPath) t.clientCertPair = { crt: readPem(certPath, '--tls-cert-path'), key: readPem(keyPath, '--tls-key-path') };
    if (caPath) t.serverRootCACertificate = readPem(caPath, '--tls-ca-path');
    const sn = flags.tlsServerName ?? section?.tls?.serverName;
    if (sn) t.serverNameOverride = sn;
    tls = t;
  } else if (profile.tls && !profile.tls.disabled) {
    const t: TLSConfig = {};
    const src = (s: { path?: string; data?: string | Uint8Array } | undefined, f: string) =>
      s ? (s.path ? readPem(s.path, f) : Buffer.from(s.data ?? '')) : undefined;
    const crt = src(profile.tls.clientCert as never, 'TEMPORAL_TLS_CLIENT_CERT_PATH');
    const key = src(profile.tls.clientKey as never, 'TEMPORAL_TLS_CLIENT_KEY_PATH');
    if (crt && key) t.clientCertPair = { crt, key };
    const ca = src(profile.tls.serverCACert as never, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH');
    if (ca) t.serverRootCACertificate = ca;
    if (profile.tls.serverName) t.serverNameOverride = profile.tls.serverName;
    tls = t;
  } else if (apiKey) {
    tls = true; // API keys are only ever sent over TLS (Temporal Cloud's rule)
  }
  const out: ResolvedConnection = { address, namespace, taskQueue: flags.taskQueue ?? section?.taskQueue ?? DEFAULT_TASK_QUEUE };
  if (apiKey) out.apiKey = apiKey;
  if (tls !== undefined) out.tls = tls;
  return out;
}

/** Options shared by Connection.connect (client) and NativeConnection.connect (worker). */
export function connectionOptions(c: ResolvedConnection) {
  return { address: c.address, tls: c.tls, apiKey: c.apiKey, connectTimeout: '10s' } as const;
}
