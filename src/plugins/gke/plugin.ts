// The gke plugin: a GKE cluster (or a node pool in an existing cluster) per burst through the
// ClusterManager API, then the kubernetes plugin's steps (namespace, secrets, MiniCluster joined
// to the lead broker) on it. The cluster's endpoint and CA are fetched with GetCluster whenever a
// kubernetes step needs them and are handed over in memory, never through the history. Each
// created thing is its own saga step, so the workflow deletes them in reverse when a later one fails.
import type { ClusterManagerClient } from '@google-cloud/container';
import { CapacityError, FluxburstError, TransientError } from '../../core/errors.js';
import type { BurstPlan, Job, ProvisionStep, ResourceRef } from '../../core/types.js';
import { parseOrThrow } from '../../core/zod-issues.js';
import { definePlugin, type OwnedResource, type PluginContext } from '../contract.js';
import { kubernetesPlugin } from '../kubernetes/index.js';
import { kubernetesParams, type KubernetesParams } from '../kubernetes/params.js';
import { accessToken, endpointOf, gkeClient } from './client.js';
import { clusterPathOf, deleteCluster, ensureCluster, getCluster, listClusters } from './cluster.js';
import { CREATED_BY, LABEL_BURST, LABEL_CREATED_BY, LABEL_OWNER, META_BURST, burstFromDescription } from './names.js';
import { deleteNodePool, ensureNodePool, nodePoolPathOf } from './node-pool.js';
import { GKE_DESCRIPTION, gkeParams, type GkeParams } from './params.js';
import { burstNodes, burstType, estimate, nodePrice, shapeOf } from './sizing.js';

export { gkeParams, type GkeParams } from './params.js';

export const KIND_CLUSTER = 'gke-cluster';
export const KIND_NODE_POOL = 'gke-node-pool';
const OURS = new Set([KIND_CLUSTER, KIND_NODE_POOL]);
/** The in-process credential name the GKE access token is handed to the kubernetes plugin under. */
const TOKEN_CREDENTIAL = 'fluxburst-gke-access-token';

/** The kubernetes plugin's params for this burst; `cluster` is where its API server is (or a placeholder for planning). */
function kubeParams(p: GkeParams, cluster: NonNullable<KubernetesParams['cluster']> | { server: string }, machineType?: string): KubernetesParams {
  return parseOrThrow(kubernetesParams, {
    ...p.kubernetes,
    ...(p.namespace ? { namespace: p.namespace } : {}),
    ...(p.nodes !== undefined && p.kubernetes.size === undefined ? { size: p.nodes } : {}),
    // Pods go on the burst's machines (in nodePool mode the cluster has other pools too).
    ...(machineType && p.kubernetes.instanceType === undefined ? { instanceType: machineType } : {}),
    cluster,
  }, 'gke params (kubernetes)', 'kubernetes');
}

/**
 * Connect to the cluster the burst runs on: its endpoint and CA from GetCluster, plus (on real
 * GKE) an OAuth2 access token as an in-memory credential. Undefined when there is no cluster to
 * talk to (gone, or never came up), in which case nothing of the kubernetes steps can exist there.
 */
async function connect(p: GkeParams, ctx: PluginContext, client: ClusterManagerClient, machineType?: string): Promise<{ kp: KubernetesParams; kctx: PluginContext } | undefined> {
  const c = await getCluster(client, clusterPathOf(p, ctx.burstId));
  if (!c?.endpoint || String(c.status) === 'PROVISIONING' || String(c.status) === 'ERROR') return undefined;
  const plaintext = endpointOf(p)?.plaintext ?? false;
  // The fake ClusterManager may point its clusters at a local fake API server, given with its scheme.
  const server = /^https?:\/\//.test(c.endpoint) ? c.endpoint : `https://${c.endpoint}`;
  const caData = c.masterAuth?.clusterCaCertificate || undefined;
  const token = plaintext ? undefined : await accessToken(client);
  // client-node refuses plain HTTP unless TLS checks are off; only a local fake answers on http://.
  const http = server.startsWith('http://');
  const kp = kubeParams(p, { server, ...(caData && !http ? { caData } : {}), ...(token ? { token: { credential: TOKEN_CREDENTIAL } } : {}), insecureSkipTLSVerify: http }, machineType);
  const kctx: PluginContext = token ? { ...ctx, credentials: { ...ctx.credentials, [TOKEN_CREDENTIAL]: token } } : ctx;
  return { kp, kctx };
}

function machineOf(plan: BurstPlan | undefined): string | undefined {
  return plan?.groups.find((g) => g.name === 'gke')?.shape;
}

async function mustConnect(p: GkeParams, ctx: PluginContext, client: ClusterManagerClient, machineType?: string) {
  const k = await connect(p, ctx, client, machineType);
  if (!k) throw new TransientError(`gke: cluster ${clusterPathOf(p, ctx.burstId)} is not running, so its Kubernetes API cannot be reached`);
  return k;
}

/** For owned() called without a context (a listing only: nothing waits, nothing is cancelled). */
function quietContext(): PluginContext {
  return { burstId: 'sweep', owner: 'sweep', attempt: 1, credentials: {}, signal: new AbortController().signal, heartbeat: () => undefined, log: { info: () => undefined, warn: () => undefined } };
}

const kubeRefs = (rs: ResourceRef[]) => rs.filter((r) => !OURS.has(r.kind));
const machineFromRefs = (rs: ResourceRef[]) => {
  const m = rs.find((r) => OURS.has(r.kind))?.data?.machineType;
  return typeof m === 'string' ? m : undefined;
};

export const gkePlugin = definePlugin<GkeParams>({
  name: 'gke',
  description: GKE_DESCRIPTION,
  params: gkeParams,

  estimate,
  shape: shapeOf,

  async plan(jobs: Job[], p, ctx) {
    const biggest = Math.max(1, ...jobs.map((j) => j.nodes));
    const nodes = burstNodes(jobs, p);
    if (nodes < biggest) throw new CapacityError(`params.nodes=${nodes} is smaller than the largest job (${biggest} nodes)`, 'Unfit');
    if (nodes > p.maxNodes) throw new CapacityError(`burst needs ${nodes} nodes but gke maxNodes is ${p.maxNodes}`, 'Unfit');
    const t = burstType(jobs, p);
    if ('unfit' in t) throw new CapacityError(t.unfit, 'Unfit');
    // The kubernetes steps are the kubernetes plugin's to list; only where its API server is differs.
    const kplan = await kubernetesPlugin.plan(jobs, kubeParams(p, { server: 'https://gke-endpoint.invalid' }, t.name), ctx);
    const own: ProvisionStep = p.mode === 'cluster' ? { key: 'cluster', kind: KIND_CLUSTER } : { key: 'node-pool', kind: KIND_NODE_POOL };
    const clash = kplan.steps.find((s) => s.key === own.key || OURS.has(s.kind));
    if (clash) throw new TransientError(`gke: the kubernetes plugin plans a step (${clash.key}) that clashes with gke's own`);
    const est = estimate(jobs, p);
    return {
      plugin: 'gke',
      nodes,
      groups: [{ name: 'gke', count: nodes, shape: t.name, gangMin: nodes }],
      steps: [own, ...kplan.steps],
      estimate: 'unfit' in est ? { nodes, costPerHour: nodes * nodePrice(t, p), secondsToReady: 390 } : est,
    };
  },

  async provision(step, plan, p, ctx): Promise<ResourceRef> {
    const client = gkeClient(p, ctx.credentials);
    const machineType = machineOf(plan);
    switch (step.kind) {
      case KIND_CLUSTER:
      case KIND_NODE_POOL: {
        if (!machineType) throw new TransientError('gke: the plan has no node group');
        const spec = { machineType, count: plan.nodes, spot: p.spot };
        if (step.kind === KIND_CLUSTER) {
          const { cluster, path, adopted } = await ensureCluster(client, p, spec, ctx);
          return { key: step.key, kind: step.kind, id: path, data: { name: cluster.name ?? '', location: p.location, machineType, nodeCount: spec.count, spot: p.spot, adopted, status: String(cluster.status) } };
        }
        const { pool, path, adopted } = await ensureNodePool(client, p, spec, ctx);
        return { key: step.key, kind: step.kind, id: path, data: { name: pool.name ?? '', location: p.location, machineType, nodeCount: spec.count, spot: p.spot, adopted, status: String(pool.status) } };
      }
      default: {
        const { kp, kctx } = await mustConnect(p, ctx, client, machineType);
        return kubernetesPlugin.provision(step, plan, kp, kctx);
      }
    }
  },

  async join(resources, p, ctx, broker) {
    const refs = kubeRefs(resources);
    if (refs.length === 0) return;
    const { kp, kctx } = await mustConnect(p, ctx, gkeClient(p, ctx.credentials), machineFromRefs(resources));
    await kubernetesPlugin.join(refs, kp, kctx, broker);
  },

  async releaseNode(node, ref, p, ctx) {
    if (OURS.has(ref.kind)) return;
    const k = await connect(p, ctx, gkeClient(p, ctx.credentials));
    if (k) await kubernetesPlugin.releaseNode!(node, ref, k.kp, k.kctx);
  },

  // A preempted spot VM takes its Kubernetes node (and the pod on it) away; the kubernetes
  // plugin's node/pod view reports that, so GKE preemption needs nothing of its own here.
  async interruptions(resources, p, ctx) {
    const refs = kubeRefs(resources);
    if (refs.length === 0) return [];
    const k = await connect(p, ctx, gkeClient(p, ctx.credentials), machineFromRefs(resources));
    if (!k) return [];
    return kubernetesPlugin.interruptions!(refs, k.kp, k.kctx);
  },

  async teardown(step, ref, p, ctx) {
    const client = gkeClient(p, ctx.credentials);
    switch (step.kind) {
      case KIND_CLUSTER:
        await deleteCluster(client, p, clusterPathOf(p, ctx.burstId), ctx, ctx.burstId);
        return;
      case KIND_NODE_POOL:
        await deleteNodePool(client, p, nodePoolPathOf(p, ctx.burstId), ctx, ctx.burstId);
        return;
      default: {
        // No running cluster: the kubernetes objects were never made, or went with it.
        const k = await connect(p, ctx, client);
        if (!k) return;
        await kubernetesPlugin.teardown(step, ref, k.kp, k.kctx);
      }
    }
  },

  async owned(p, ctx) {
    const client = gkeClient(p, ctx?.credentials);
    const out: OwnedResource[] = [];
    for (const c of await listClusters(client, p.project)) {
      const path = `projects/${p.project}/locations/${c.location || p.location}/clusters/${c.name}`;
      const labels = c.resourceLabels ?? {};
      if (labels[LABEL_CREATED_BY] === CREATED_BY) {
        out.push({ burstId: burstFromDescription(c.description) ?? labels[LABEL_BURST] ?? 'unknown', owner: labels[LABEL_OWNER] ?? 'unknown', kind: KIND_CLUSTER, id: path });
        continue; // its node pools go with it
      }
      for (const np of c.nodePools ?? []) {
        const l = np.config?.resourceLabels ?? {};
        if (l[LABEL_CREATED_BY] === CREATED_BY) out.push({ burstId: np.config?.metadata?.[META_BURST] ?? l[LABEL_BURST] ?? 'unknown', owner: l[LABEL_OWNER] ?? 'unknown', kind: KIND_NODE_POOL, id: `${path}/nodePools/${np.name}` });
      }
    }
    // A shared cluster outlives the burst's pool, and so would the burst's namespace in it.
    if (p.mode === 'nodePool') {
      const k = await connect(p, ctx ?? quietContext(), client);
      if (k) out.push(...(await kubernetesPlugin.owned(k.kp, k.kctx)));
    }
    return out;
  },

  async destroy(r, p, ctx) {
    const client = gkeClient(p, ctx.credentials);
    const m = /^projects\/([^/]+)\/locations\/([^/]+)\//.exec(r.id);
    // The sweep lists clusters in every location of the project; delete where the thing is.
    const here = m ? { ...p, project: m[1]!, location: m[2]! } : p;
    if (r.kind === KIND_CLUSTER) return deleteCluster(client, here, r.id, ctx);
    if (r.kind === KIND_NODE_POOL) return deleteNodePool(client, here, r.id, ctx);
    if (p.mode === 'nodePool' && !OURS.has(r.kind)) {
      const k = await connect(p, ctx, client);
      if (k) await kubernetesPlugin.destroy!(r, k.kp, k.kctx);
      return;
    }
    throw new FluxburstError('Unsupported', `gke cannot delete a ${r.kind} (${r.id})`);
  },
});
