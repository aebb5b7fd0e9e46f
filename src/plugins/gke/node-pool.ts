// The node-pool step: a pool per burst in an existing cluster. Same idempotency as the cluster
// step: a deterministic name, ALREADY_EXISTS adopted only when the pool carries this burst's labels.
import type { ClusterManagerClient, protos } from '@google-cloud/container';
import { setTimeout as sleep } from 'node:timers/promises';
import { FluxburstError, TransientError } from '../../core/errors.js';
import type { PluginContext } from '../contract.js';
import { type NodeSpec, clusterPathOf, deleteOurs, getCluster, waitOpts } from './cluster.js';
import { fromGrpc, isAlreadyExists, isBusy, isNotFound } from './errors.js';
import { META_BURST, isOurs, nodePoolNameFor, ownerLabels } from './names.js';
import { pendingOperations, settle, waitOperation } from './operations.js';
import type { GkeParams } from './params.js';

type NodePool = protos.google.container.v1.INodePool;

export const nodePoolPathOf = (p: GkeParams, burstId: string) => `${clusterPathOf(p, burstId)}/nodePools/${nodePoolNameFor(burstId)}`;

export async function getNodePool(client: ClusterManagerClient, path: string): Promise<NodePool | undefined> {
  try {
    const [np] = await client.getNodePool({ name: path });
    return np;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw fromGrpc(e, `GetNodePool ${path}`);
  }
}

async function untilRunning(client: ClusterManagerClient, p: GkeParams, path: string, ctx: PluginContext): Promise<NodePool> {
  const deadline = Date.now() + p.operationTimeoutSeconds * 1000;
  for (;;) {
    for (const op of await pendingOperations(client, p.project, p.location, path)) await waitOperation(client, op, { ...waitOpts(p), what: `node pool operation on ${path}` }, ctx);
    const np = await getNodePool(client, path);
    if (!np) throw new TransientError(`node pool ${path} disappeared while it was being created`);
    const st = String(np.status ?? '');
    if (st === 'RUNNING') return np;
    if (st === 'ERROR' || st === 'STOPPING' || st === 'RUNNING_WITH_ERROR') throw new FluxburstError('NodePoolFailed', `node pool ${path} is ${st}${np.statusMessage ? `: ${np.statusMessage}` : ''}`, { retryable: false });
    if (Date.now() > deadline) throw new TransientError(`node pool ${path} still ${st} after ${p.operationTimeoutSeconds}s`);
    ctx.heartbeat({ nodePool: path, status: st });
    await sleep(p.operationPollSeconds * 1000, undefined, { signal: ctx.signal });
  }
}

export async function ensureNodePool(client: ClusterManagerClient, p: GkeParams, nodes: NodeSpec, ctx: PluginContext): Promise<{ pool: NodePool; path: string; adopted: boolean }> {
  const clusterPath = clusterPathOf(p, ctx.burstId);
  const name = nodePoolNameFor(ctx.burstId);
  const path = `${clusterPath}/nodePools/${name}`;
  const labels = ownerLabels(ctx.burstId, ctx.owner, p.labels);
  if (!(await getCluster(client, clusterPath))) throw new FluxburstError('ClusterNotFound', `nodePool mode: cluster ${clusterPath} does not exist`, { retryable: false });
  let adopted = false;
  for (let round = 0; ; round++) {
    try {
      const [op] = await client.createNodePool({
        parent: clusterPath,
        nodePool: { name, initialNodeCount: nodes.count, ...(p.nodeZone ? { locations: [p.nodeZone] } : {}), config: { machineType: nodes.machineType, spot: nodes.spot, labels, resourceLabels: labels, metadata: { [META_BURST]: ctx.burstId }, oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'] } },
      });
      ctx.log.info(`gke: creating node pool ${path}`, { operation: op.name });
      await waitOperation(client, op, { ...waitOpts(p), what: `create node pool ${path}` }, ctx);
      break;
    } catch (e) {
      if (isAlreadyExists(e)) {
        adopted = true;
        break;
      }
      // The cluster is busy with another operation (someone's upgrade, another burst's pool): wait it out.
      if (isBusy(e) && round < 10) {
        await settle(client, p.project, p.location, clusterPath, waitOpts(p), ctx);
        continue;
      }
      throw fromGrpc(e, `CreateNodePool ${path}`);
    }
  }
  if (adopted) {
    const np = await getNodePool(client, path);
    if (!np) throw new TransientError(`CreateNodePool ${path}: ALREADY_EXISTS, yet it is not there (being deleted?)`);
    if (!isOurs(np.config?.resourceLabels, ctx.burstId)) {
      throw new FluxburstError('NodePoolExists', `node pool ${path} already exists and is not this burst's (its labels: ${JSON.stringify(np.config?.resourceLabels ?? {})}); it is left alone`, { retryable: false });
    }
    ctx.log.info(`gke: node pool ${path} already exists with this burst's labels: adopting it`);
  }
  return { pool: await untilRunning(client, p, path, ctx), path, adopted };
}

/** Delete the pool and wait until it is gone; gone is success; a pool not ours is never touched (see deleteOurs). */
export function deleteNodePool(client: ClusterManagerClient, p: GkeParams, path: string, ctx: PluginContext, burstId?: string): Promise<void> {
  return deleteOurs(client, p, ctx, {
    what: 'node pool',
    path,
    clusterPath: path.replace(/\/nodePools\/[^/]+$/, ''),
    burstId,
    get: () => getNodePool(client, path),
    labelsOf: (np) => np.config?.resourceLabels,
    remove: async () => (await client.deleteNodePool({ name: path }))[0],
    rpc: 'DeleteNodePool',
  });
}
