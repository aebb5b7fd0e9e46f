// The kubernetes plugin: one namespace per burst in an existing cluster, holding the shared
// secrets and either a Flux Operator MiniCluster or gang-scheduled broker pods. This file wires
// the modules (params, client, errors, labels, namespace, secrets, minicluster, podgroup, watch)
// to the plugin contract.
import { CapacityError, FluxburstError, NodeLostError } from '../../core/errors.js';
import type { BurstPlan, Interruption, ProvisionStep, ResourceRef } from '../../core/types.js';
import { definePlugin, type OwnedResource, type PluginContext } from '../contract.js';
import { kubeClient, type Kube } from './client.js';
import { fromKube, isConflict, isNotFound, kube } from './errors.js';
import { ANNOTATION_BURST, burstSelector, isOurs, LABEL_BURST, LABEL_CREATED_BY, LABEL_OWNER, CREATED_BY, ownedSelector, ownerLabels } from './labels.js';
import { burstNodes, CURVE_KEY, CURVE_SECRET, MC_GROUP, MC_PLURAL, MC_VERSION, miniClusterManifest, MUNGE_KEY, MUNGE_SECRET, type LeadBroker } from './minicluster.js';
import { burstNamespace, deleteNamespace, ensureNamespace, namespaceState } from './namespace.js';
import { KUBERNETES_DESCRIPTION, kubernetesParams, type KubernetesParams } from './params.js';
import { BROKER_CONFIGMAP, brokerConfigMap, headlessService, PG_GROUP, PG_PLURAL, PG_VERSION, podGroupManifest, rankPod } from './podgroup.js';
import { putSecret, readSecretRef } from './secrets.js';
import { burstSize, estimate, shapeOf } from './sizing.js';
import { waitWatching, type KubeObject } from './watch.js';
import { HEADLESS_SERVICE } from './minicluster.js';

export { kubernetesParams, type KubernetesParams } from './params.js';

const client = (p: KubernetesParams, ctx?: PluginContext): Kube => kubeClient(p, ctx?.credentials ?? {});
const leadOf = (p: KubernetesParams): LeadBroker | undefined => (p.lead ? { address: p.lead.address, port: p.lead.port, name: p.lead.name, size: p.lead.size } : undefined);
const nodeSelectorOf = (p: KubernetesParams) => (p.instanceType ? { 'node.kubernetes.io/instance-type': p.instanceType } : undefined);
const labelsOf = (p: KubernetesParams, ctx: PluginContext) => ownerLabels(ctx.burstId, ctx.owner, p.labels);
const hasSecrets = (p: KubernetesParams) => p.curveCert !== undefined || p.mungeKey !== undefined;

/** A node the burst waits for: a pod by its name (pods we make) or by its hostname (operator pods). */
interface Want {
  node: string;
  pod?: string;
  host?: string;
}

function wantsOf(refs: ResourceRef[]): { namespace?: string; wants: Want[] } {
  let namespace: string | undefined;
  const wants: Want[] = [];
  for (const r of refs) {
    const ns = r.data?.namespace;
    if (typeof ns === 'string') namespace ??= ns;
    if (r.kind === 'minicluster') for (const n of r.nodes ?? []) wants.push({ node: n, host: n });
    else if (r.kind === 'pods') for (const n of r.nodes ?? []) wants.push({ node: n, pod: n });
    else if (r.kind === 'node' && r.node) wants.push({ node: r.node, ...(typeof r.data?.pod === 'string' ? { pod: r.data.pod } : { host: String(r.data?.host ?? r.node) }) });
  }
  return { ...(namespace ? { namespace } : {}), wants };
}

type Pod = KubeObject & { spec?: { hostname?: string; nodeName?: string }; status?: { phase?: string; conditions?: { type: string; status: string }[]; reason?: string; message?: string } };

function podFor(w: Want, pods: Map<string, KubeObject>): Pod | undefined {
  if (w.pod) return pods.get(w.pod) as Pod | undefined;
  let best: Pod | undefined;
  for (const p of pods.values() as IterableIterator<Pod>) {
    if ((p.spec?.hostname ?? p.metadata?.name) !== w.host || p.metadata?.deletionTimestamp) continue;
    // A restarted rank (the operator's Job made a new pod): the running one counts.
    if (!best || p.status?.phase === 'Running') best = p;
  }
  return best;
}

const isReady = (p: Pod | undefined) => p?.status?.phase === 'Running' && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

async function listPods(k: Kube, namespace: string, burstId: string): Promise<{ items: KubeObject[]; resourceVersion: string }> {
  const l = await k.core.listNamespacedPod({ namespace, labelSelector: burstSelector(burstId) });
  return { items: l.items as unknown as KubeObject[], resourceVersion: l.metadata?.resourceVersion ?? '' };
}

async function createOrAdopt(what: string, create: () => Promise<unknown>, read: () => Promise<{ metadata?: { labels?: Record<string, string> } }>, burstId: string): Promise<boolean> {
  try {
    await create();
    return false;
  } catch (e) {
    if (!isConflict(e)) throw fromKube(e, `create ${what}`);
  }
  const got = await kube(`read ${what}`, read);
  if (!isOurs(got.metadata?.labels, burstId)) throw new FluxburstError('NotOurs', `${what} exists but is not this burst's (labels ${JSON.stringify(got.metadata?.labels ?? {})})`);
  return true;
}

async function ignoreNotFound(what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!isNotFound(e)) throw fromKube(e, what);
  }
}

/** Taints that mean the node is being reclaimed (spot/preemptible VMs, graceful node shutdown, Karpenter). */
const RECLAIM_TAINTS = new Map<string, Interruption['kind']>([
  ['cloud.google.com/impending-node-termination', 'spot-interruption'],
  ['node.cloudprovider.kubernetes.io/shutdown', 'termination'],
  ['node.kubernetes.io/out-of-service', 'termination'],
  ['aws-node-termination-handler/spot-itn', 'spot-interruption'],
  ['aws-node-termination-handler/rebalance-recommendation', 'rebalance'],
  ['karpenter.sh/disrupted', 'termination'],
  ['ToBeDeletedByClusterAutoscaler', 'termination'],
]);

export const kubernetesPlugin = definePlugin<KubernetesParams>({
  name: 'kubernetes',
  description: KUBERNETES_DESCRIPTION,
  params: kubernetesParams,

  estimate,

  shape: shapeOf,

  async plan(jobs, p) {
    const biggest = Math.max(1, ...jobs.map((j) => j.nodes));
    const nodes = burstSize(jobs, p);
    if (nodes < biggest) throw new CapacityError(`params.size=${nodes} is smaller than the largest job (${biggest} nodes)`, 'Unfit');
    const est = estimate(jobs, p);
    if ('unfit' in est) throw new CapacityError(`kubernetes: ${est.unfit}`, 'Unfit');
    const shape = jobs[0] ? shapeOf(jobs[0], p) : undefined;
    const steps: ProvisionStep[] = [
      { key: 'namespace', kind: 'namespace' },
      ...(hasSecrets(p) ? [{ key: 'secrets', kind: 'secrets' }] : []),
      ...(p.mode === 'minicluster' ? [{ key: 'minicluster', kind: 'minicluster' }] : [{ key: 'podgroup', kind: 'podgroup' }, { key: 'pods', kind: 'pods' }]),
    ];
    const plan: BurstPlan = {
      plugin: 'kubernetes',
      nodes,
      groups: [{ name: p.clusterName, count: nodes, shape: shape && !('unfit' in shape) ? shape.shape : 'pod', gangMin: nodes }],
      steps,
      estimate: est,
    };
    return plan;
  },

  async provision(step, plan, p, ctx): Promise<ResourceRef> {
    const k = client(p, ctx);
    const namespace = burstNamespace(p, ctx.burstId);
    const labels = labelsOf(p, ctx);
    const cluster = { name: p.clusterName, size: plan.nodes };
    const lead = leadOf(p);
    const data = { namespace };
    switch (step.kind) {
      case 'namespace': {
        const ns = await ensureNamespace(k, p, ctx);
        return { key: step.key, kind: 'namespace', id: ns.name, data: { namespace: ns.name, adopted: ns.adopted } };
      }
      case 'secrets': {
        if (p.curveCert) await putSecret(k, namespace, CURVE_SECRET, CURVE_KEY, await readSecretRef(k, p.curveCert, 'curveCert', CURVE_KEY, false, ctx), labels);
        if (p.mungeKey) await putSecret(k, namespace, MUNGE_SECRET, MUNGE_KEY, await readSecretRef(k, p.mungeKey, 'mungeKey', MUNGE_KEY, true, ctx), labels);
        return { key: step.key, kind: 'secrets', id: `${namespace}/${CURVE_SECRET},${MUNGE_SECRET}`, data };
      }
      case 'minicluster': {
        const body = miniClusterManifest({
          name: cluster.name,
          namespace,
          size: cluster.size,
          tasks: Math.max(cluster.size, ...plan.groups.map((g) => g.count)),
          image: p.image,
          ...(lead ? { lead } : {}),
          labels,
          secrets: hasSecrets(p),
          ...(p.cpu ? { cpu: p.cpu } : {}),
          ...(p.memory ? { memory: p.memory } : {}),
          ...(nodeSelectorOf(p) ? { nodeSelector: nodeSelectorOf(p)! } : {}),
        });
        const mc = { group: MC_GROUP, version: MC_VERSION, namespace, plural: MC_PLURAL };
        const adopted = await createOrAdopt(
          `MiniCluster ${namespace}/${cluster.name}`,
          () => k.custom.createNamespacedCustomObject({ ...mc, body }),
          () => k.custom.getNamespacedCustomObject({ ...mc, name: cluster.name }) as Promise<{ metadata?: { labels?: Record<string, string> } }>,
          ctx.burstId,
        );
        return { key: step.key, kind: 'minicluster', id: `${namespace}/${cluster.name}`, nodes: burstNodes(cluster), data: { ...data, adopted } };
      }
      case 'podgroup': {
        const port = p.lead?.port ?? 8050;
        const pg = { group: PG_GROUP, version: PG_VERSION, namespace, plural: PG_PLURAL };
        await createOrAdopt(
          `PodGroup ${namespace}/${cluster.name}`,
          () => k.custom.createNamespacedCustomObject({ ...pg, body: podGroupManifest({ name: cluster.name, namespace, minMember: cluster.size, labels }) }),
          () => k.custom.getNamespacedCustomObject({ ...pg, name: cluster.name }) as Promise<{ metadata?: { labels?: Record<string, string> } }>,
          ctx.burstId,
        );
        await createOrAdopt(
          `Service ${namespace}/${HEADLESS_SERVICE}`,
          () => k.core.createNamespacedService({ namespace, body: headlessService({ namespace, labels, selector: { [LABEL_BURST]: labels[LABEL_BURST]! }, port }) }),
          () => k.core.readNamespacedService({ namespace, name: HEADLESS_SERVICE }),
          ctx.burstId,
        );
        await createOrAdopt(
          `ConfigMap ${namespace}/${BROKER_CONFIGMAP}`,
          () => k.core.createNamespacedConfigMap({ namespace, body: brokerConfigMap({ namespace, labels, cluster, ...(lead ? { lead } : {}), port }) }),
          () => k.core.readNamespacedConfigMap({ namespace, name: BROKER_CONFIGMAP }),
          ctx.burstId,
        );
        return { key: step.key, kind: 'podgroup', id: `${namespace}/${cluster.name}`, data };
      }
      case 'pods':
      case 'node': {
        const single = step.kind === 'node';
        if (single && p.mode === 'minicluster') {
          // The MiniCluster's Job remakes a deleted rank itself, under the same hostname; the
          // replacement is that pod, and join waits for it.
          const host = (step.replaces?.node ?? step.node ?? '').replace(/-r\d+$/, '');
          return { key: step.key, kind: 'node', id: `${namespace}/${host}`, node: step.node ?? host, data: { ...data, host } };
        }
        const ranks = single ? [step.rank ?? Number(/-(\d+)(-r\d+)?$/.exec(step.node ?? '')?.[1] ?? 0)] : Array.from({ length: cluster.size }, (_, i) => i);
        const names: string[] = [];
        for (const rank of ranks) {
          const name = single ? step.node! : `${cluster.name}-${rank}`;
          const body = rankPod({
            cluster,
            rank,
            name,
            namespace,
            image: p.image,
            labels,
            group: cluster.name,
            schedulerName: p.schedulerName,
            secrets: hasSecrets(p),
            ...(p.cpu ? { cpu: p.cpu } : {}),
            ...(p.memory ? { memory: p.memory } : {}),
            ...(nodeSelectorOf(p) ? { nodeSelector: nodeSelectorOf(p)! } : {}),
          });
          await createOrAdopt(`Pod ${namespace}/${name}`, () => k.core.createNamespacedPod({ namespace, body }), () => k.core.readNamespacedPod({ namespace, name }), ctx.burstId);
          names.push(name);
          ctx.heartbeat({ pod: name });
        }
        if (single) return { key: step.key, kind: 'node', id: `${namespace}/${names[0]}`, node: names[0]!, data: { ...data, pod: names[0]! } };
        return { key: step.key, kind: 'pods', id: `${namespace}/${cluster.name}`, nodes: names, data };
      }
      default:
        throw new FluxburstError('Unsupported', `kubernetes cannot provision a ${step.kind}`); // a retry cannot help
    }
  },

  async join(resources, p, ctx) {
    const { namespace, wants } = wantsOf(resources);
    if (!namespace || wants.length === 0) return;
    const k = client(p, ctx);
    await waitWatching(k, ctx, {
      path: `/api/v1/namespaces/${namespace}/pods`,
      query: { labelSelector: burstSelector(ctx.burstId) },
      list: () => listPods(k, namespace, ctx.burstId),
      check: (pods) => {
        for (const w of wants) {
          const pod = podFor(w, pods);
          if (pod?.status?.phase === 'Failed' || pod?.status?.phase === 'Succeeded') {
            throw new NodeLostError(w.node, `pod for ${w.node} is ${pod.status.phase} before it joined${pod.status.reason ? ` (${pod.status.reason})` : ''}`);
          }
        }
        return wants.every((w) => isReady(podFor(w, pods))) ? true : undefined;
      },
      timeoutMs: p.readyTimeoutSeconds * 1000,
      onTimeout: (pods) => {
        const waiting = wants.filter((w) => !isReady(podFor(w, pods))).map((w) => `${w.node}:${podFor(w, pods)?.status?.phase ?? 'no pod'}`);
        return new CapacityError(`${waiting.length} of ${wants.length} pods not Ready after ${p.readyTimeoutSeconds}s in ${namespace}: ${waiting.join(', ')}`, 'ReadyTimeout');
      },
      what: `${wants.length} pods Ready in ${namespace}`,
    });
    ctx.heartbeat({ joined: wants.length });
  },

  async releaseNode(node, ref, p, ctx) {
    const k = client(p, ctx);
    const namespace = burstNamespace(p, ctx.burstId);
    const pods = await kube('list pods', () => listPods(k, namespace, ctx.burstId));
    for (const pod of pods.items as Pod[]) {
      if (pod.metadata?.name === node || (ref.kind === 'minicluster' && pod.spec?.hostname === node)) {
        const name = pod.metadata?.name ?? '';
        await ignoreNotFound(`delete pod ${name}`, () => k.core.deleteNamespacedPod({ namespace, name }));
      }
    }
  },

  async interruptions(resources, p, ctx) {
    const { namespace, wants } = wantsOf(resources);
    if (!namespace || wants.length === 0) return [];
    const k = client(p, ctx);
    const pods = new Map((await kube('list pods', () => listPods(k, namespace, ctx.burstId))).items.map((o) => [o.metadata?.name ?? '', o] as const));
    const out: Interruption[] = [];
    const nodes = new Map<string, { spec?: { taints?: { key: string; effect?: string }[] } } | null>();
    for (const w of wants) {
      const pod = podFor(w, pods);
      if (!pod) {
        out.push({ node: w.node, kind: 'node-lost', reason: `pod for ${w.node} is gone` });
        continue;
      }
      if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Failed') {
        out.push({ node: w.node, kind: 'termination', reason: `pod ${pod.metadata?.name} is ${pod.metadata?.deletionTimestamp ? 'being deleted' : 'Failed'}${pod.status?.reason ? ` (${pod.status.reason})` : ''}` });
        continue;
      }
      const host = pod.spec?.nodeName;
      if (!host) continue;
      if (!nodes.has(host)) {
        try {
          nodes.set(host, (await k.core.readNode({ name: host })) as never);
        } catch (e) {
          if (!isNotFound(e)) throw fromKube(e, `read node ${host}`);
          nodes.set(host, null);
        }
      }
      const n = nodes.get(host);
      if (n === null) {
        out.push({ node: w.node, kind: 'termination', reason: `Kubernetes node ${host} of pod ${pod.metadata?.name} is gone` });
        continue;
      }
      const taint = n?.spec?.taints?.find((t) => RECLAIM_TAINTS.has(t.key));
      if (taint) out.push({ node: w.node, kind: RECLAIM_TAINTS.get(taint.key)!, reason: `Kubernetes node ${host} has taint ${taint.key}` });
    }
    return out;
  },

  async teardown(step, _ref, p, ctx) {
    const k = client(p, ctx);
    const namespace = burstNamespace(p, ctx.burstId);
    const state = await namespaceState(k, namespace, ctx.burstId);
    if (state === 'gone') return;
    if (state === 'foreign') {
      // Never delete what is not ours: a namespace we refused to adopt stays as it was.
      ctx.log.warn('namespace is not this burst\'s; leaving it alone', { namespace, step: step.key });
      return;
    }
    const mc = { group: MC_GROUP, version: MC_VERSION, namespace, plural: MC_PLURAL };
    const pg = { group: PG_GROUP, version: PG_VERSION, namespace, plural: PG_PLURAL };
    switch (step.kind) {
      case 'namespace':
        await deleteNamespace(k, namespace, p.deleteTimeoutSeconds, ctx);
        return;
      case 'secrets':
        await ignoreNotFound('delete secret', () => k.core.deleteNamespacedSecret({ namespace, name: CURVE_SECRET }));
        await ignoreNotFound('delete secret', () => k.core.deleteNamespacedSecret({ namespace, name: MUNGE_SECRET }));
        return;
      case 'minicluster':
        await ignoreNotFound('delete MiniCluster', () => k.custom.deleteNamespacedCustomObject({ ...mc, name: p.clusterName }));
        return;
      case 'podgroup':
        await ignoreNotFound('delete PodGroup', () => k.custom.deleteNamespacedCustomObject({ ...pg, name: p.clusterName }));
        await ignoreNotFound('delete Service', () => k.core.deleteNamespacedService({ namespace, name: HEADLESS_SERVICE }));
        await ignoreNotFound('delete ConfigMap', () => k.core.deleteNamespacedConfigMap({ namespace, name: BROKER_CONFIGMAP }));
        return;
      case 'pods':
      case 'node': {
        if (step.kind === 'node' && p.mode === 'minicluster') return; // the MiniCluster owns its pods
        const pods = await kube('list pods', () => listPods(k, namespace, ctx.burstId));
        for (const pod of pods.items) {
          const name = pod.metadata?.name ?? '';
          if (step.kind === 'node' ? name === step.node : !/-r\d+$/.test(name)) await ignoreNotFound(`delete pod ${name}`, () => k.core.deleteNamespacedPod({ namespace, name }));
        }
        return;
      }
      default:
        return;
    }
  },

  async owned(p, ctx) {
    const k = client(p, ctx);
    const l = await kube('list namespaces', () => k.core.listNamespace({ labelSelector: ownedSelector() }));
    const out: OwnedResource[] = [];
    for (const ns of l.items) {
      const labels = ns.metadata?.labels ?? {};
      if (labels[LABEL_CREATED_BY] !== CREATED_BY) continue;
      out.push({ burstId: ns.metadata?.annotations?.[ANNOTATION_BURST] ?? labels[LABEL_BURST] ?? 'unknown', owner: labels[LABEL_OWNER] ?? 'unknown', kind: 'namespace', id: ns.metadata!.name! });
    }
    return out;
  },

  async destroy(r, p, ctx) {
    if (r.kind !== 'namespace') throw new FluxburstError('Unsupported', `kubernetes cannot delete a ${r.kind}`);
    const k = client(p, ctx);
    if ((await namespaceState(k, r.id, r.burstId)) !== 'ours') return;
    await deleteNamespace(k, r.id, p.deleteTimeoutSeconds, ctx);
  },
});
