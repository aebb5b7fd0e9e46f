// The gke plugin's pure parts: params, names, labels, error mapping, sizing from the GCE
// catalog and the plan's steps (cluster/node pool first, then the kubernetes plugin's steps).
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/catalog.js';
import { CapacityError, FluxburstError, InputError, NotFoundError, TransientError } from '../../src/core/errors.js';
import type { Job } from '../../src/core/types.js';
import type { PluginContext } from '../../src/plugins/contract.js';
import { closeGkeClients, endpointOf, gkeClient } from '../../src/plugins/gke/client.js';
import { codeName, fromGrpc, operationFailed } from '../../src/plugins/gke/errors.js';
import { gkePlugin } from '../../src/plugins/gke/index.js';
import { CREATED_BY, LABEL_BURST, LABEL_CREATED_BY, burstFromDescription, clusterNameFor, describeBurst, gkeName, isOurs, labelValue, nodePoolNameFor, ownerLabels } from '../../src/plugins/gke/names.js';
import { GKE_NAME, gkeParams, regionOf, type GkeParams } from '../../src/plugins/gke/params.js';
import { statusName } from '../../src/plugins/gke/operations.js';
import { loadRegistry } from '../../src/plugins/registry.js';

const params = (over: Record<string, unknown> = {}): GkeParams => gkeParams.parse({ project: 'my-project', location: 'us-central1-a', ...over });
const job = (id: string, nodes = 1, cores = 2, over: Partial<Job> = {}): Job => ({ id, name: id, nodes, tasks: nodes * cores, coresPerNode: cores, command: ['hostname'], attributes: { system: { burstable: 1 } }, ...over });
const ctx = (burstId = 'b1'): PluginContext => ({
  burstId,
  owner: 'alice',
  attempt: 1,
  credentials: {},
  signal: new AbortController().signal,
  heartbeat: () => undefined,
  log: { info: () => undefined, warn: () => undefined },
});
const issues = (v: unknown) => {
  const r = gkeParams.safeParse(v);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};
const cheapest = (region: string, cores: number) =>
  loadCatalog()
    .types.filter((t) => t.provider === 'gce' && t.region === region && t.arch === 'x86_64' && t.gpus === 0 && t.vcpus >= cores)
    .sort((a, b) => a.pricePerHour - b.pricePerHour || (a.name < b.name ? -1 : 1))[0]!;

describe('gke params', () => {
  it('defaults, and the registry knows the plugin by name', async () => {
    const p = params();
    expect(p).toMatchObject({ mode: 'cluster', spot: false, maxNodes: 64, labels: {}, credential: 'GOOGLE_APPLICATION_CREDENTIALS', operationPollSeconds: 5, kubernetes: {} });
    expect((await loadRegistry()).get('gke').name).toBe('gke');
  });

  it('refuses what GKE would, naming the field', () => {
    expect(issues({ project: 'x', location: 'us-central1-a' })[0]).toMatch(/^project: /);
    expect(issues({ project: 'my-project', location: 'nowhere' })[0]).toMatch(/^location: /);
    expect(issues({ project: 'my-project', location: 'us-central1-a', mode: 'nodePool' })).toEqual(['clusterName: nodePool mode needs the existing cluster (clusterName)']);
    // A region makes the node count in every zone: one zone must be named, inside the region.
    expect(issues({ project: 'my-project', location: 'us-central1' })).toEqual([
      'nodeZone: location us-central1 is a region: GKE would make the node count in each of its zones; give nodeZone (e.g. us-central1-a) so the burst gets exactly its planned nodes',
    ]);
    expect(issues({ project: 'my-project', location: 'us-central1', nodeZone: 'europe-west1-b' })).toEqual(['nodeZone: zone europe-west1-b is not in us-central1']);
    expect(issues({ project: 'my-project', location: 'us-central1', nodeZone: 'us-central1-b' })).toEqual([]);
    expect(issues({ project: 'my-project', location: 'us-central1-a', clusterName: 'Bad_Name' })[0]).toMatch(/^clusterName: /);
    expect(issues({ project: 'my-project', location: 'us-central1-a', labels: { 'fluxburst-burst-id': 'x' } })[0]).toMatch(/^labels.fluxburst-burst-id: /);
    expect(issues({ project: 'my-project', location: 'us-central1-a', labels: { Team: 'a' } })[0]).toMatch(/^labels.Team: /);
    expect(issues({ project: 'my-project', location: 'us-central1-a', nodes: 100, maxNodes: 10 })[0]).toMatch(/^nodes: /);
    expect(issues({ project: 'my-project', location: 'us-central1-a', apiEndpoint: 'ftp://x' })[0]).toMatch(/^apiEndpoint: /);
    expect(issues({ project: 'my-project', location: 'us-central1-a', credentials: { key: 'x' } })[0]).toMatch(/credentials/);
  });

  it('passes kubernetes params through, checked by the kubernetes plugin schema; the API server is ours to give', () => {
    expect(issues({ project: 'my-project', location: 'us-central1-a', kubernetes: { image: 'ghcr.io/x/y:1', lead: { address: '1.2.3.4', name: 'flux-sample', size: 4 }, curveCert: { credential: 'CURVE' }, mungeKey: { file: '/etc/munge/munge.key' } } })).toEqual([]);
    expect(issues({ project: 'my-project', location: 'us-central1-a', kubernetes: { kubeconfig: '/x' } })[0]).toMatch(/^kubernetes.kubeconfig: .*connects to the cluster itself/);
    expect(issues({ project: 'my-project', location: 'us-central1-a', kubernetes: { bogus: 1 } })[0]).toMatch(/^kubernetes/);
    // A joined burst needs the lead's CURVE cert and munge key, by reference only.
    expect(issues({ project: 'my-project', location: 'us-central1-a', kubernetes: { lead: { address: '1.2.3.4', name: 'flux-sample', size: 4 } } }).join('\n')).toMatch(/kubernetes.curveCert/);
    expect(issues({ project: 'my-project', location: 'us-central1-a', kubernetes: { curveCert: { file: '-----BEGIN CERT' } } }).join('\n')).toMatch(/never the secret/);
  });

  it('zone → region', () => {
    expect(regionOf('us-central1-a')).toBe('us-central1');
    expect(regionOf('europe-west4')).toBe('europe-west4');
  });
});

describe('gke names and labels', () => {
  it('cluster and node pool names are deterministic, ≤ 40 chars and valid GKE names', () => {
    const ids = ['demo-2n-1a2b3c4d', 'Nightly_Run-64n-ffffffff', 'a'.repeat(80), '9-starts-with-digit', 'x.y/z', `gke-kill-${'m'.repeat(30)}-abc`];
    for (const id of ids) {
      for (const n of [clusterNameFor(id), nodePoolNameFor(id)]) {
        expect(n.length).toBeLessThanOrEqual(40);
        expect(n).toMatch(GKE_NAME);
      }
      expect(clusterNameFor(id)).toBe(clusterNameFor(id));
    }
    expect(clusterNameFor('demo-2n-1a2b3c4d')).toBe('fb-demo-2n-1a2b3c4d');
    // Pinned: a retried step must ask for the very same name, across releases too.
    expect(clusterNameFor('Nightly_Run-64n-ffffffff')).toBe('fb-nightly-run-64n-ffffffff-67c31c02');
    expect(nodePoolNameFor('a'.repeat(80))).toBe('fb-aaaaaaaaaaaaaaaaaaaaaaaaaaaa-0f45e858');
    expect(clusterNameFor('9-starts-with-digit')).toBe('fb-9-starts-with-digit');
    // Truncation never merges two bursts into one name.
    expect(gkeName('fb-', `${'a'.repeat(50)}1`)).not.toBe(gkeName('fb-', `${'a'.repeat(50)}2`));
    expect(gkeName('fb-', 'ABC')).not.toBe(gkeName('fb-', 'abc'));
  });

  it('labels mark ours; a foreign or another burst’s cluster is not', () => {
    const l = ownerLabels('Burst.One', 'alice', { team: 'x' });
    expect(l).toMatchObject({ team: 'x', [LABEL_CREATED_BY]: CREATED_BY });
    for (const v of Object.values(l)) expect(v).toMatch(/^[a-z0-9_-]{0,63}$/);
    expect(isOurs(l, 'Burst.One')).toBe(true);
    expect(isOurs(l, 'burst-two')).toBe(false);
    expect(isOurs({ [LABEL_BURST]: labelValue('Burst.One') }, 'Burst.One')).toBe(false);
    expect(isOurs(undefined, 'x')).toBe(false);
    expect(burstFromDescription(describeBurst('Burst.One', 'alice'))).toBe('Burst.One');
  });
});

describe('gke errors', () => {
  it('gRPC codes map onto the taxonomy; an operation error keeps its code', () => {
    expect(codeName(status.PERMISSION_DENIED)).toBe('PermissionDenied');
    const denied = fromGrpc(Object.assign(new Error('7 PERMISSION_DENIED: no'), { code: status.PERMISSION_DENIED }), 'CreateCluster');
    expect(denied).toMatchObject({ code: 'PermissionDenied', retryable: false });
    expect(fromGrpc(Object.assign(new Error('x'), { code: status.UNAVAILABLE }), 'x')).toBeInstanceOf(TransientError);
    expect(fromGrpc(Object.assign(new Error('x'), { code: status.NOT_FOUND }), 'x')).toBeInstanceOf(NotFoundError);
    expect(fromGrpc(Object.assign(new Error('x'), { code: status.RESOURCE_EXHAUSTED }), 'x')).toBeInstanceOf(CapacityError);
    const op = operationFailed('create cluster c', { code: status.INTERNAL, message: 'boom' });
    expect(op).toBeInstanceOf(FluxburstError);
    expect(op).toMatchObject({ code: 'Internal', retryable: false });
    expect(op.message).toMatch(/create cluster c failed: Internal: boom/);
    expect(operationFailed('x', { code: 9, message: 'GCE_STOCKOUT in us-central1-a' })).toBeInstanceOf(CapacityError);
    expect(statusName('DONE')).toBe('DONE');
    expect(statusName(2)).toBe('RUNNING');
  });
});

describe('gke sizing and plan', () => {
  it('machine type: the cheapest catalog type that fits every job; forced types must fit; spot is cheaper', () => {
    const want = cheapest('us-central1', 8);
    const e = gkePlugin.estimate([job('a', 3, 8), job('b', 1, 2)], params());
    expect(e).toEqual({ nodes: 3, costPerHour: 3 * want.pricePerHour, secondsToReady: 390 });
    expect(gkePlugin.shape!(job('a', 3, 8), params())).toEqual({ shape: want.name, costPerNodeHour: want.pricePerHour });
    const spot = gkePlugin.estimate([job('a', 3, 8)], params({ spot: true }));
    expect(spot).toMatchObject({ nodes: 3 });
    expect((spot as { costPerHour: number }).costPerHour).toBeCloseTo(3 * want.pricePerHour * 0.35, 8);
    expect(gkePlugin.shape!(job('a', 1, 8), params({ spot: true }))).toMatchObject({ shape: `${want.name} (spot)` });
    // A node pool on a running cluster is ready sooner than a new cluster.
    expect(gkePlugin.estimate([job('a')], params({ mode: 'nodePool', clusterName: 'c' }))).toMatchObject({ secondsToReady: 210 });
    expect(gkePlugin.estimate([job('a', 1, 8)], params({ machineType: 'c2-standard-8' }))).toMatchObject({ costPerHour: loadCatalog().types.find((t) => t.provider === 'gce' && t.region === 'us-central1' && t.name === 'c2-standard-8')!.pricePerHour });
    expect(gkePlugin.estimate([job('a', 1, 16)], params({ machineType: 'c2-standard-8' }))).toHaveProperty('unfit');
    expect(gkePlugin.estimate([job('a', 1, 8)], params({ maxPrice: 0.01 }))).toHaveProperty('unfit');
    expect(gkePlugin.estimate([job('a', 100)], params())).toEqual({ unfit: 'needs 100 nodes, gke maxNodes is 64' });
    // A per-job override (instanceType) wins over the target's machineType.
    expect(gkePlugin.shape!(job('a', 1, 4), params({ machineType: 'c2-standard-8', instanceType: 'e2-standard-4' }))).toMatchObject({ shape: 'e2-standard-4' });
    // Catalog regions only.
    expect(gkePlugin.estimate([job('a')], params({ location: 'asia-east1-a' }))).toHaveProperty('unfit');
  });

  it('plan: the cluster (or node pool) step, then the kubernetes plugin’s steps', async () => {
    const plan = await gkePlugin.plan([job('a', 2, 8), job('b')], params(), ctx());
    expect(plan.steps).toEqual([
      { key: 'cluster', kind: 'gke-cluster' },
      { key: 'namespace', kind: 'namespace' },
      { key: 'minicluster', kind: 'minicluster' },
    ]);
    expect(plan).toMatchObject({ plugin: 'gke', nodes: 2, groups: [{ name: 'gke', count: 2, shape: cheapest('us-central1', 8).name, gangMin: 2 }] });
    const pool = await gkePlugin.plan([job('a', 2)], params({ mode: 'nodePool', clusterName: 'shared', kubernetes: { lead: { address: '1.2.3.4', name: 'flux-sample', size: 4 }, curveCert: { credential: 'CURVE' }, mungeKey: { credential: 'MUNGE' } } }), ctx());
    expect(pool.steps.map((s) => s.key)).toEqual(['node-pool', 'namespace', 'secrets', 'minicluster']);
    await expect(gkePlugin.plan([job('a', 1, 1000)], params(), ctx())).rejects.toThrow(CapacityError);
    await expect(gkePlugin.plan([job('a', 4)], params({ nodes: 2 }), ctx())).rejects.toThrow(/smaller than the largest job/);
  });
});

describe('gke client', () => {
  it('endpoints: default Google, TLS host:port, or a plaintext local fake', () => {
    expect(endpointOf({})).toBeUndefined();
    expect(endpointOf({ apiEndpoint: 'container.example.com' })).toEqual({ host: 'container.example.com', port: 443, plaintext: false });
    expect(endpointOf({ apiEndpoint: 'http://127.0.0.1:9999' })).toEqual({ host: '127.0.0.1', port: 9999, plaintext: true });
  });

  it('the service-account key comes from ctx.credentials; a bad one is named, never echoed', async () => {
    const p = params();
    let err: unknown;
    try {
      gkeClient(p, { GOOGLE_APPLICATION_CREDENTIALS: 'not-json-secret-ish' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).not.toContain('not-json-secret-ish');
    expect(() => gkeClient(p, { GOOGLE_APPLICATION_CREDENTIALS: '{"type":"service_account"}' })).toThrow(/client_email/);
    const key = JSON.stringify({ type: 'service_account', client_email: 'fb@my-project.iam.gserviceaccount.com', private_key: 'k', project_id: 'my-project' });
    const a = gkeClient(p, { GOOGLE_APPLICATION_CREDENTIALS: key });
    expect(gkeClient(p, { GOOGLE_APPLICATION_CREDENTIALS: key })).toBe(a);
    expect(gkeClient(p, { GOOGLE_APPLICATION_CREDENTIALS: key.replace('"k"', '"k2"') })).not.toBe(a);
    await closeGkeClients();
  });
});
