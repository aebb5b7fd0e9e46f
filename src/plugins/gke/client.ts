// One ClusterManagerClient per (endpoint, credential). Credentials come from ctx.credentials (the
// service-account key JSON that the target's `{file}` reference points at, read on the worker),
// else Application Default Credentials. A plaintext `http://host:port` endpoint is for a local
// fake only: the channel is insecure and no Google credentials are sent.
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { ClusterManagerClient } from '@google-cloud/container';
import { InputError } from '../../core/errors.js';
import type { GkeParams } from './params.js';

const clients = new Map<string, ClusterManagerClient>();

interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  project_id?: string;
}

function keyOf(json: string): ServiceAccountKey {
  let k: Partial<ServiceAccountKey>;
  try {
    k = JSON.parse(json) as Partial<ServiceAccountKey>;
  } catch {
    throw new InputError('gke credentials', [{ path: 'credentials', message: 'the service-account key is not JSON (point the credential at the key file: {file: key.json})' }]);
  }
  if (typeof k.client_email !== 'string' || typeof k.private_key !== 'string') {
    throw new InputError('gke credentials', [{ path: 'credentials', message: 'the service-account key lacks client_email/private_key' }]);
  }
  return k as ServiceAccountKey;
}

export function endpointOf(p: Pick<GkeParams, 'apiEndpoint'>): { host: string; port: number; plaintext: boolean } | undefined {
  if (!p.apiEndpoint) return undefined;
  const m = /^(?:(https?):\/\/)?([^:/]+)(?::(\d+))?$/.exec(p.apiEndpoint)!;
  const plaintext = m[1] === 'http';
  return { host: m[2]!, port: m[3] ? Number(m[3]) : plaintext ? 80 : 443, plaintext };
}

export function gkeClient(p: Pick<GkeParams, 'apiEndpoint' | 'credential'>, credentials: Record<string, string> = {}): ClusterManagerClient {
  const ep = endpointOf(p);
  const keyJson = ep?.plaintext ? undefined : credentials[p.credential];
  // A digest, not the key: distinct (e.g. rotated) keys never share a client, and the key is not kept twice.
  const cacheKey = `${p.apiEndpoint ?? ''}|${keyJson ? createHash('sha256').update(keyJson).digest('hex') : 'adc'}`;
  let c = clients.get(cacheKey);
  if (!c) {
    const key = keyJson ? keyOf(keyJson) : undefined;
    c = new ClusterManagerClient({
      ...(ep ? { apiEndpoint: ep.host, port: ep.port } : {}),
      // An insecure channel short-circuits google-gax's auth (no token is fetched or sent); the
      // explicit universe domain keeps it from probing the GCE metadata server for one.
      ...(ep?.plaintext ? { sslCreds: grpc.credentials.createInsecure(), universeDomain: 'googleapis.com' } : {}),
      ...(key ? { credentials: { client_email: key.client_email, private_key: key.private_key }, ...(key.project_id ? { projectId: key.project_id } : {}) } : {}),
    });
    if (clients.size > 16) clients.clear();
    clients.set(cacheKey, c);
  }
  return c;
}

/**
 * A bearer token for the cluster's own API server (GKE accepts the same OAuth2 access token);
 * kept in memory and handed to the kubernetes plugin as an in-process credential, never in params.
 */
export async function accessToken(client: ClusterManagerClient): Promise<string> {
  const t = await client.auth.getAccessToken();
  if (!t) throw new InputError('gke credentials', [{ path: 'credentials', message: 'no access token from the Google credentials' }]);
  return t;
}

/** Close every cached client (tests; a worker keeps them for its lifetime). */
export async function closeGkeClients(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.all(all.map((c) => c.close().catch(() => undefined)));
}
