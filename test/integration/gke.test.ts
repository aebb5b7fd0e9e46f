// The gke plugin through the real @google-cloud/container ClusterManagerClient against our gRPC
// fake of google.container.v1.ClusterManager (testkit/gke), with the kubernetes steps going to the
// fake kube-apiserver (testkit/kube) that the fake's clusters point at. A small saga driver plays
// the workflow's part: the compensation is recorded before each provision, and on a failure
// everything recorded is torn down newest first.
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Job, ProvisionStep, ResourceRef } from '../../src/core/types.js';
import type { PluginContext } from '../../src/plugins/contract.js';
import { closeGkeClients } from '../../src/plugins/gke/client.js';
import { gkePlugin } from '../../src/plugins/gke/index.js';
import { ownerLabels } from '../../src/plugins/gke/names.js';
import { gkeParams, type GkeParams } from '../../src/plugins/gke/params.js';
import { namespaceFor } from '../../src/plugins/kubernetes/labels.js';
import { FakeClusterManager } from '../../testkit/gke/fake-cluster-manager.js';
import { type FakeApiserver, startFakeApiserver } from '../../testkit/kube/fake-apiserver.js';
import { uid, waitFor } from '../support/harness.js';

const PROJECT = 'fb-test-project';
const ZONE = 'us-central1-a';
let fake: FakeClusterManager;
let api: FakeApiserver;

const job = (id: string, nodes = 2): Job => ({ id, name: id, nodes, tasks: nodes * 2, coresPerNode: 2, command: ['hostname'], attributes: { system: { burstable: 1 } } });

function params(over: Record<string, unknown> = {}): GkeParams {
  return gkeParams.parse({ project: PROJECT, location: ZONE, apiEndpoint: fake.apiEndpoint, operationPollSeconds: 0.05, kubernetes: { readyTimeoutSeconds: 20, deleteTimeoutSeconds: 20 }, ...over });
}

function ctx(burstId: string, attempt = 1, beats: unknown[] = []): PluginContext {
  return {
    burstId,
    owner: 'tester',
    attempt,
    credentials: {},
    signal: new AbortController().signal,
    heartbeat: (d) => void beats.push(d),
    log: { info: () => undefined, warn: () => undefined },
  };
}

/** Ready the burst's pods as the Flux Operator and kubelet would, once its MiniCluster exists. */
function playControllers(burstId: string): { stop(): void } {
  const ns = namespaceFor('fluxburst-', burstId);
  let on = true;
  void (async () => {
    while (on) {
      if (api.objects('miniclusters', ns).length) api.makeReady(ns);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return { stop: () => void (on = false) };
}

interface Run {
  refs: ResourceRef[];
  error?: Error;
  /** Steps provisioned, in order (the saga's compensation list). */
  undo: { step: ProvisionStep; ref?: ResourceRef }[];
}

/** Plan → provision each step (compensation first) → join; on any failure, undo newest first. */
async function burst(burstId: string, p: GkeParams, jobs: Job[] = [job('a')], opts: { keep?: boolean } = {}): Promise<Run> {
  const c = ctx(burstId);
  const run: Run = { refs: [], undo: [] };
  const ctl = playControllers(burstId);
  try {
    const plan = await gkePlugin.plan(jobs, p, c);
    for (const step of plan.steps) {
      const entry: Run['undo'][number] = { step };
      run.undo.push(entry);
      entry.ref = await gkePlugin.provision(step, plan, p, c);
      run.refs.push(entry.ref);
    }
    await gkePlugin.join(run.refs, p, c);
  } catch (e) {
    run.error = e as Error;
  } finally {
    ctl.stop();
  }
  if (run.error || !opts.keep) await undoAll(burstId, p, run);
  return run;
}

async function undoAll(burstId: string, p: GkeParams, run: Run): Promise<void> {
  for (const u of [...run.undo].reverse()) await gkePlugin.teardown(u.step, u.ref, p, ctx(burstId));
  run.undo = [];
}

/** What is left of a burst: its cluster, its node pool in any cluster, its namespace. */
function leftovers(burstId: string): string[] {
  const out: string[] = [];
  for (const c of fake.clusters()) {
    if (c.name === `fb-${burstId}`) out.push(`cluster ${c.name} ${c.status}`);
    for (const np of c.nodePools) if (np.name === `fb-${burstId}` && c.name !== `fb-${burstId}`) out.push(`node pool ${c.name}/${np.name} ${np.status}`);
  }
  const ns = namespaceFor('fluxburst-', burstId);
  if (api.objects('namespaces').some((n) => n.metadata.name === ns)) out.push(`namespace ${ns}`);
  return out;
}

const nothingLeft = (burstId: string) => waitFor(() => (leftovers(burstId).length === 0 ? true : undefined), 10_000, `nothing left of ${burstId}: ${leftovers(burstId).join(', ')}`);

beforeAll(async () => {
  api = await startFakeApiserver({ namespaceFinalizeMs: 50 });
  fake = await FakeClusterManager.start({ tickMs: 120, kube: { endpoint: api.url, caCertificate: Buffer.from('-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n').toString('base64') } });
});

afterAll(async () => {
  await closeGkeClients();
  await fake?.stop();
  await api?.stop();
});

beforeEach(() => {
  fake.clearFaults();
  fake.tickMs = 120;
  api.clearFaults();
});

describe('gke cluster mode against the fake ClusterManager', () => {
  it('create → operation PENDING → RUNNING → DONE → joined → teardown leaves no cluster', async () => {
    const id = uid('gke-happy');
    const before = fake.effects.CreateCluster ?? 0;
    const beats: unknown[] = [];
    const p = params({ spot: true, labels: { team: 'hpc' } });
    const c = ctx(id, 1, beats);
    const plan = await gkePlugin.plan([job('a', 3)], p, c);
    const ref = await gkePlugin.provision(plan.steps[0]!, plan, p, c);
    expect(ref).toMatchObject({ key: 'cluster', kind: 'gke-cluster', id: `projects/${PROJECT}/locations/${ZONE}/clusters/fb-${id}`, data: { adopted: false, nodeCount: 3, spot: true, status: 'RUNNING' } });
    const op = fake.operations().find((o) => o.operationType === 'CREATE_CLUSTER' && o.targetLink.endsWith(`/clusters/fb-${id}`))!;
    // Every status the plugin was answered with, in order: it saw the whole progression.
    expect([...new Set(op.seen)]).toEqual(['PENDING', 'RUNNING', 'DONE']);
    expect(beats.some((b) => (b as { status?: string }).status === 'RUNNING')).toBe(true);
    const cl = fake.clusters().find((x) => x.name === `fb-${id}`)!;
    expect(cl.status).toBe('RUNNING');
    expect(cl.resourceLabels).toEqual({ team: 'hpc', ...ownerLabels(id, 'tester') });
    expect(cl.nodePools.map((np) => [np.initialNodeCount, np.config.machineType, np.config.spot])).toEqual([[3, plan.groups[0]!.shape, true]]);
    // The kubernetes steps go to the endpoint GetCluster gave (the fake API server).
    const refs = [ref];
    const ctl = playControllers(id);
    for (const s of plan.steps.slice(1)) refs.push(await gkePlugin.provision(s, plan, p, c));
    await gkePlugin.join(refs, p, c);
    ctl.stop();
    expect(refs.find((r) => r.kind === 'minicluster')!.nodes).toHaveLength(3);
    expect(leftovers(id)).toEqual([`cluster fb-${id} RUNNING`, `namespace ${namespaceFor('fluxburst-', id)}`]);
    for (const [i, s] of [...plan.steps.entries()].reverse()) await gkePlugin.teardown(s, refs[i], p, c);
    await nothingLeft(id);
    expect((fake.effects.CreateCluster ?? 0) - before).toBe(1);
    const del = fake.operations().find((o) => o.operationType === 'DELETE_CLUSTER' && o.targetLink.endsWith(`/clusters/fb-${id}`))!;
    expect(del.seen.at(-1)).toBe('DONE');
    // Teardown again: already gone is success.
    for (const s of [...plan.steps].reverse()) await gkePlugin.teardown(s, undefined, p, c);
  });

  it('a failed create operation (DONE with an error) fails with its code and rolls back to nothing', async () => {
    const id = uid('gke-opfail');
    fake.failOperation('CreateCluster', status.RESOURCE_EXHAUSTED, "GCE_STOCKOUT: the zone does not have enough resources available to fulfil the request");
    const r = await burst(id, params());
    expect(r.error).toMatchObject({ code: 'ResourceExhausted', retryable: false });
    expect(r.error!.message).toMatch(/create cluster .* failed: ResourceExhausted: GCE_STOCKOUT/);
    await nothingLeft(id);
    fake.failOperation('CreateCluster', status.INTERNAL, 'boom');
    const id2 = uid('gke-opfail2');
    const r2 = await burst(id2, params());
    expect(r2.error).toMatchObject({ code: 'Internal' });
    await nothingLeft(id2);
  });

  it.each([
    ['create cluster refused', () => fake.failCall('CreateCluster', status.PERMISSION_DENIED), /PermissionDenied|PERMISSION_DENIED/],
    ['create cluster: answer lost after it took effect', () => fake.failCall('CreateCluster', status.INTERNAL, { after: true }), /INTERNAL/],
    ['waiting on the create operation', () => fake.failCall('GetOperation', status.PERMISSION_DENIED), /PERMISSION_DENIED/],
    ['reading the cluster for its endpoint', () => fake.failCall('GetCluster', status.PERMISSION_DENIED, { nth: 2 }), /PERMISSION_DENIED/],
    ['kubernetes join: namespace create refused', () => api.fault({ verb: 'create', plural: 'namespaces', code: 403 }), /403/],
    ['kubernetes join: MiniCluster refused', () => api.fault({ verb: 'create', plural: 'miniclusters', code: 422 }), /422/],
  ] as const)('a fault at %s leaves nothing', async (_what, inject, msg) => {
    const id = uid('gke-fault');
    inject();
    const r = await burst(id, params());
    expect(r.error?.message).toMatch(msg);
    await nothingLeft(id);
  });

  it('the delete is refused while the create is still running: teardown waits it out, then deletes', async () => {
    const id = uid('gke-busy');
    fake.tickMs = 400;
    const p = params();
    const c = ctx(id);
    const plan = await gkePlugin.plan([job('a')], p, c);
    // The worker "dies" while the create op runs: provision is abandoned, the compensation runs without a ref.
    const abandoned = new AbortController();
    const pending = gkePlugin.provision(plan.steps[0]!, plan, p, { ...c, signal: abandoned.signal });
    await waitFor(() => (fake.operations().some((o) => o.targetLink.endsWith(`/clusters/fb-${id}`) && fake.statusOf(o) === 'RUNNING') ? true : undefined), 5000, 'create op RUNNING');
    abandoned.abort();
    await pending.catch(() => undefined);
    await gkePlugin.teardown(plan.steps[0]!, undefined, p, c);
    await nothingLeft(id);
    expect(fake.calls.DeleteCluster).toBeGreaterThanOrEqual(1);
  });

  it('ALREADY_EXISTS with this burst’s labels is adopted (one cluster); with foreign labels it is refused and left alone', async () => {
    const id = uid('gke-adopt');
    const p = params();
    const plan = await gkePlugin.plan([job('a')], p, ctx(id));
    const before = fake.effects.CreateCluster ?? 0;
    const first = await gkePlugin.provision(plan.steps[0]!, plan, p, ctx(id));
    // A retry of the step (the first answer lost): same name → ALREADY_EXISTS → ours → adopted.
    const again = await gkePlugin.provision(plan.steps[0]!, plan, p, ctx(id, 2));
    expect(first.data?.adopted).toBe(false);
    expect(again).toMatchObject({ id: first.id, data: { adopted: true } });
    expect((fake.effects.CreateCluster ?? 0) - before).toBe(1);
    expect(fake.calls.CreateCluster).toBeGreaterThanOrEqual(2);
    await gkePlugin.teardown(plan.steps[0]!, again, p, ctx(id));
    await nothingLeft(id);

    // Someone else's cluster under the name this burst would use.
    const other = uid('gke-foreign');
    fake.addCluster(PROJECT, ZONE, `fb-${other}`, { owner: 'someone-else' });
    const r = await burst(other, params());
    expect(r.error).toMatchObject({ code: 'ClusterExists', retryable: false });
    expect(r.error!.message).toMatch(/already exists and is not this burst's/);
    // The compensation ran and did not touch it.
    const still = fake.clusters().find((c) => c.name === `fb-${other}`)!;
    expect(still).toMatchObject({ status: 'RUNNING', resourceLabels: { owner: 'someone-else' } });
    // Nor does a cluster of another burst count as ours.
    const mixed = uid('gke-other-burst');
    fake.addCluster(PROJECT, ZONE, `fb-${mixed}`, ownerLabels('not-this-burst', 'tester'));
    expect((await burst(mixed, params())).error).toMatchObject({ code: 'ClusterExists' });
    expect(fake.clusters().some((c) => c.name === `fb-${mixed}`)).toBe(true);
  });

  it('owned() lists the clusters made by fluxburst; destroy() deletes one', async () => {
    const id = uid('gke-orphan');
    const r = await burst(id, params(), [job('a')], { keep: true });
    expect(r.error).toBeUndefined();
    const owned = await gkePlugin.owned(params(), ctx('sweep'));
    const mine = owned.find((o) => o.burstId === id)!;
    expect(mine).toEqual({ burstId: id, owner: 'tester', kind: 'gke-cluster', id: `projects/${PROJECT}/locations/${ZONE}/clusters/fb-${id}` });
    expect(owned.some((o) => o.id.endsWith(`/clusters/fb-${uid('x')}`))).toBe(false);
    await gkePlugin.destroy!(mine, params(), ctx('sweep'));
    expect(fake.clusters().some((c) => c.name === `fb-${id}`)).toBe(false);
  });

  it('spot preemption: GKE taints the node for termination → the kubernetes node view reports a spot interruption', async () => {
    const id = uid('gke-spot');
    const p = params({ spot: true });
    const r = await burst(id, p, [job('a', 2)], { keep: true });
    expect(r.error).toBeUndefined();
    expect(await gkePlugin.interruptions!(r.refs, p, ctx(id))).toEqual([]);
    const node = api.objects('nodes')[0]!.metadata.name;
    api.addNode(node, [{ key: 'cloud.google.com/impending-node-termination', effect: 'NoSchedule' }]);
    try {
      const notices = await gkePlugin.interruptions!(r.refs, p, ctx(id));
      expect(notices.map((n) => n.kind)).toEqual(['spot-interruption', 'spot-interruption']);
      expect(notices.map((n) => n.node).sort()).toEqual([...r.refs.find((x) => x.kind === 'minicluster')!.nodes!].sort());
    } finally {
      api.addNode(node);
    }
    await undoAll(id, p, r);
    await nothingLeft(id);
  });

  it('UNAVAILABLE on a read is retried by google-gax itself', async () => {
    const id = uid('gke-unavail');
    fake.failCall('GetCluster', status.UNAVAILABLE, { times: 2 });
    const r = await burst(id, params());
    expect(r.error).toBeUndefined();
    await nothingLeft(id);
  });
});

describe('gke node pool mode against the fake ClusterManager', () => {
  it('a node pool per burst in an existing cluster: created, joined, deleted; the cluster stays', async () => {
    const shared = `shared-${Math.random().toString(36).slice(2, 8)}`;
    fake.addCluster(PROJECT, ZONE, shared, { team: 'platform' });
    const id = uid('gke-pool');
    const p = params({ mode: 'nodePool', clusterName: shared, spot: true });
    const r = await burst(id, p, [job('a', 2)], { keep: true });
    expect(r.error).toBeUndefined();
    expect(r.refs[0]).toMatchObject({ kind: 'gke-node-pool', id: `projects/${PROJECT}/locations/${ZONE}/clusters/${shared}/nodePools/fb-${id}`, data: { adopted: false, spot: true, nodeCount: 2 } });
    const pool = fake.clusters().find((c) => c.name === shared)!.nodePools.find((np) => np.name === `fb-${id}`)!;
    expect(pool).toMatchObject({ status: 'RUNNING', initialNodeCount: 2, config: { spot: true, resourceLabels: ownerLabels(id, 'tester') } });
    const op = fake.operations().find((o) => o.operationType === 'CREATE_NODE_POOL' && o.targetLink.endsWith(`/nodePools/fb-${id}`))!;
    expect([...new Set(op.seen)]).toEqual(['PENDING', 'RUNNING', 'DONE']);
    // The sweep finds the pool and the burst's namespace in the shared cluster (not the cluster, which is not ours).
    const owned = await gkePlugin.owned(p, ctx('sweep'));
    expect(owned.filter((o) => o.burstId === id)).toEqual([
      { burstId: id, owner: 'tester', kind: 'gke-node-pool', id: r.refs[0]!.id },
      { burstId: id, owner: 'tester', kind: 'namespace', id: namespaceFor('fluxburst-', id) },
    ]);
    expect(owned.some((o) => o.id.endsWith(`/clusters/${shared}`))).toBe(false);
    await undoAll(id, p, r);
    await nothingLeft(id);
    expect(fake.clusters().find((c) => c.name === shared)).toMatchObject({ status: 'RUNNING', nodePools: [expect.objectContaining({ name: 'default-pool' })] });
  });

  it('the sweep gets the exact burst id of a pool whose labels had to shorten it, and destroy() removes pool and namespace', async () => {
    const shared = `shared-${Math.random().toString(36).slice(2, 8)}`;
    fake.addCluster(PROJECT, ZONE, shared);
    const id = `${uid('Gke.Sweep')}`;
    const p = params({ mode: 'nodePool', clusterName: shared });
    expect((await burst(id, p, [job('a', 1)], { keep: true })).error).toBeUndefined();
    const mine = (await gkePlugin.owned(p, ctx('sweep'))).filter((o) => o.burstId === id);
    expect(mine.map((o) => o.kind)).toEqual(['gke-node-pool', 'namespace']);
    for (const o of mine) await gkePlugin.destroy!(o, p, ctx('sweep'));
    await nothingLeft(id);
    expect(fake.clusters().find((c) => c.name === shared)!.nodePools.map((np) => np.name)).toEqual(['default-pool']);
  });

  it.each([
    ['create node pool refused', () => fake.failCall('CreateNodePool', status.PERMISSION_DENIED), /PERMISSION_DENIED/],
    ['node pool operation failed', () => fake.failOperation('CreateNodePool', status.INTERNAL, 'pool boom'), /failed: Internal: pool boom/],
    ['kubernetes join: MiniCluster refused', () => api.fault({ verb: 'create', plural: 'miniclusters', code: 422 }), /422/],
  ] as const)('node pool: a fault at %s leaves nothing (and the cluster as it was)', async (_what, inject, msg) => {
    const shared = `shared-${Math.random().toString(36).slice(2, 8)}`;
    fake.addCluster(PROJECT, ZONE, shared);
    const id = uid('gke-pool-fault');
    inject();
    const r = await burst(id, params({ mode: 'nodePool', clusterName: shared }));
    expect(r.error?.message).toMatch(msg);
    await nothingLeft(id);
    expect(fake.clusters().find((c) => c.name === shared)!.nodePools.map((np) => np.name)).toEqual(['default-pool']);
  });

  it('a node pool of the same name that is not ours is refused and left alone; a missing cluster is a clear error', async () => {
    const shared = `shared-${Math.random().toString(36).slice(2, 8)}`;
    const id = uid('gke-pool-foreign');
    fake.addCluster(PROJECT, ZONE, shared, {}, [{ name: 'default-pool' }, { name: `fb-${id}`, labels: { owner: 'someone' } }]);
    const r = await burst(id, params({ mode: 'nodePool', clusterName: shared }));
    expect(r.error).toMatchObject({ code: 'NodePoolExists' });
    expect(fake.clusters().find((c) => c.name === shared)!.nodePools.map((np) => np.name)).toEqual(['default-pool', `fb-${id}`]);
    const r2 = await burst(uid('gke-nocluster'), params({ mode: 'nodePool', clusterName: 'no-such-cluster' }));
    expect(r2.error).toMatchObject({ code: 'ClusterNotFound', retryable: false });
  });
});
