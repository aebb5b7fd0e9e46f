// The cluster step: one GKE cluster per burst, named from the burst id. Create is not idempotent
// on GKE's side, so idempotency is the name: a retry (or a new worker after the old one died
// mid-wait) meets ALREADY_EXISTS, checks the labels and resumes waiting on the same cluster.
import type { ClusterManagerClient, protos } from '@google-cloud/container';
import { setTimeout as sleep } from 'node:timers/promises';
import { FluxburstError, TransientError } from '../../core/errors.js';
import type { PluginContext } from '../contract.js';
import { fromGrpc, gke, isAlreadyExists, isBusy, isNotFound } from './errors.js';
import { CREATED_BY, LABEL_CREATED_BY, clusterNameFor, describeBurst, isOurs, ownerLabels } from './names.js';
import { pendingOperations, settle, waitOperation } from './operations.js';
import type { GkeParams } from './params.js';

type Cluster = protos.google.container.v1.ICluster;

export const parentOf = (p: Pick<GkeParams, 'project' | 'location'>) => `projects/${p.project}/locations/${p.location}`;
export const clusterNameOf = (p: GkeParams, burstId: string) => (p.mode === 'nodePool' ? p.clusterName! : (p.clusterName ?? clusterNameFor(burstId)));
export const clusterPathOf = (p: GkeParams, burstId: string) => `${parentOf(p)}/clusters/${clusterNameOf(p, burstId)}`;

export interface NodeSpec {
  machineType: string;
  count: number;
  spot: boolean;
}

const enumName = (v: unknown) => String(v ?? '');

export async function getCluster(client: ClusterManagerClient, path: string): Promise<Cluster | undefined> {
  try {
    const [c] = await client.getCluster({ name: path });
    return c;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw fromGrpc(e, `GetCluster ${path}`);
  }
}

export const waitOpts = (p: GkeParams) => ({ project: p.project, location: p.location, pollSeconds: p.operationPollSeconds, timeoutSeconds: p.operationTimeoutSeconds });

/** Wait until the cluster's own operations are over and it is RUNNING; an ERROR cluster fails the step. */
async function untilRunning(client: ClusterManagerClient, p: GkeParams, path: string, ctx: PluginContext): Promise<Cluster> {
  const deadline = Date.now() + p.operationTimeoutSeconds * 1000;
  for (;;) {
    for (const op of await pendingOperations(client, p.project, p.location, path)) {
      await waitOperation(client, op, { ...waitOpts(p), what: `${enumName(op.operationType).toLowerCase().replace(/_/g, ' ')} ${path}` }, ctx);
    }
    const c = await getCluster(client, path);
    if (!c) throw new TransientError(`cluster ${path} disappeared while it was being created`);
    const st = enumName(c.status);
    if (st === 'RUNNING' && c.endpoint) return c;
    if (st === 'ERROR' || st === 'DEGRADED' || st === 'STOPPING') {
      throw new FluxburstError('ClusterFailed', `cluster ${path} is ${st}${c.statusMessage ? `: ${c.statusMessage}` : ''}`, { retryable: false });
    }
    if (Date.now() > deadline) throw new TransientError(`cluster ${path} still ${st} after ${p.operationTimeoutSeconds}s`);
    ctx.heartbeat({ cluster: path, status: st });
    await sleep(p.operationPollSeconds * 1000, undefined, { signal: ctx.signal });
  }
}

export async function ensureCluster(client: ClusterManagerClient, p: GkeParams, nodes: NodeSpec, ctx: PluginContext): Promise<{ cluster: Cluster; path: string; adopted: boolean }> {
  const name = clusterNameOf(p, ctx.burstId);
  const path = `${parentOf(p)}/clusters/${name}`;
  const labels = ownerLabels(ctx.burstId, ctx.owner, p.labels);
  let adopted = false;
  try {
    const [op] = await client.createCluster({
      parent: parentOf(p),
      cluster: {
        name,
        description: describeBurst(ctx.burstId, ctx.owner),
        resourceLabels: labels,
        nodePools: [
          {
            name: 'burst-pool',
            initialNodeCount: nodes.count,
            ...(p.nodeZone ? { locations: [p.nodeZone] } : {}),
            config: { machineType: nodes.machineType, spot: nodes.spot, labels, resourceLabels: labels, oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'] },
          },
        ],
      },
    });
    ctx.log.info(`gke: creating cluster ${path}`, { operation: op.name });
    await waitOperation(client, op, { ...waitOpts(p), what: `create cluster ${path}` }, ctx);
  } catch (e) {
    if (!isAlreadyExists(e)) throw fromGrpc(e, `CreateCluster ${path}`);
    adopted = true;
  }
  if (adopted) {
    const c = await getCluster(client, path);
    if (!c) throw new TransientError(`CreateCluster ${path}: ALREADY_EXISTS, yet it is not there (being deleted?)`);
    if (!isOurs(c.resourceLabels, ctx.burstId)) {
      throw new FluxburstError('ClusterExists', `cluster ${path} already exists and is not this burst's (its labels: ${JSON.stringify(c.resourceLabels ?? {})}); it is left alone — pick another clusterName`, { retryable: false });
    }
    ctx.log.info(`gke: cluster ${path} already exists with this burst's labels: adopting it`);
  }
  return { cluster: await untilRunning(client, p, path, ctx), path, adopted };
}

/**
 * Delete a cluster or node pool and wait until it is gone. Gone already is success; one whose
 * labels are not `burstId`'s (or, for the sweep, not fluxburst's at all) is never touched: the
 * compensation of a refused ALREADY_EXISTS must not delete someone else's. GKE runs one operation
 * per cluster, so one still running there (a create, or a delete already under way) goes first.
 */
export async function deleteOurs<T>(
  client: ClusterManagerClient,
  p: GkeParams,
  ctx: PluginContext,
  o: {
    what: string;
    path: string;
    /** The cluster whose operations must settle first. */
    clusterPath: string;
    burstId?: string | undefined;
    get: () => Promise<T | undefined>;
    labelsOf: (x: T) => Record<string, string> | null | undefined;
    remove: () => Promise<protos.google.container.v1.IOperation>;
    rpc: string;
  },
): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const x = await o.get();
    if (!x) return;
    const labels = o.labelsOf(x);
    if (!(o.burstId ? isOurs(labels, o.burstId) : labels?.[LABEL_CREATED_BY] === CREATED_BY)) {
      ctx.log.warn(`gke: ${o.what} ${o.path} is not ours; not deleting it`, { labels: labels ?? {} });
      return;
    }
    await settle(client, p.project, p.location, o.clusterPath, waitOpts(p), ctx);
    let op;
    try {
      op = await o.remove();
    } catch (e) {
      if (isNotFound(e)) return;
      if (isBusy(e)) {
        // An operation started between our look and the delete: give it a poll interval.
        await sleep(p.operationPollSeconds * 1000, undefined, { signal: ctx.signal });
        continue;
      }
      throw fromGrpc(e, `${o.rpc} ${o.path}`);
    }
    await waitOperation(client, op, { ...waitOpts(p), what: `delete ${o.what} ${o.path}` }, ctx);
    if (!(await o.get())) return;
  }
  throw new TransientError(`${o.what} ${o.path} is still there after repeated deletes`);
}

/** Delete a cluster (see deleteOurs). */
export function deleteCluster(client: ClusterManagerClient, p: GkeParams, path: string, ctx: PluginContext, burstId?: string): Promise<void> {
  return deleteOurs(client, p, ctx, {
    what: 'cluster',
    path,
    clusterPath: path,
    burstId,
    get: () => getCluster(client, path),
    labelsOf: (c) => c.resourceLabels,
    remove: async () => (await client.deleteCluster({ name: path }))[0],
    rpc: 'DeleteCluster',
  });
}

export async function listClusters(client: ClusterManagerClient, project: string): Promise<Cluster[]> {
  const parent = `projects/${project}/locations/-`;
  const [r] = await gke(`ListClusters ${parent}`, () => client.listClusters({ parent }));
  return r.clusters ?? [];
}
