// Whole bursts on the gke plugin: the real Temporal dev server and worker, the real
// @google-cloud/container client against the gRPC fake ClusterManager (testkit/gke), and the
// kubernetes steps on the fake kube-apiserver (testkit/kube) that the fake's clusters point at. The
// nodes join the local scheduler, which reports each job's end (`jobDone` update).
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BurstInput, BurstStatus, Job } from '../../src/core/types.js';
import { closeGkeClients } from '../../src/plugins/gke/client.js';
import { namespaceFor } from '../../src/plugins/kubernetes/labels.js';
import { jobDoneUpdate, statusQuery } from '../../workflows/messages.js';
import { FakeClusterManager } from '../../testkit/gke/fake-cluster-manager.js';
import { type FakeApiserver, startFakeApiserver } from '../../testkit/kube/fake-apiserver.js';
import { address, client, result, spawnWorker, start, startWorker, uid, waitFor } from '../support/harness.js';

const PROJECT = 'fb-burst-project';
const ZONE = 'us-central1-a';
const TQ = uid('tq-gke');
let fake: FakeClusterManager;
let api: FakeApiserver;
let c: Awaited<ReturnType<typeof client>>;
let w: Awaited<ReturnType<typeof startWorker>>;
let controllers: ReturnType<typeof setInterval>;

const job = (id: string, nodes = 2): Job => ({ id, name: id, nodes, tasks: nodes, coresPerNode: 2, command: ['hostname'], attributes: { system: { burstable: 1 } } });

function gkeInput(jobs: Job[], params: Record<string, unknown> = {}): BurstInput {
  return {
    owner: 'tester',
    source: { kind: 'inline', jobs },
    selector: { kind: 'burstable' },
    targets: [
      {
        name: 'gke',
        plugin: 'gke',
        params: { project: PROJECT, location: ZONE, apiEndpoint: fake.apiEndpoint, operationPollSeconds: 0.2, kubernetes: { readyTimeoutSeconds: 30, deleteTimeoutSeconds: 30 }, ...params },
      },
    ],
    maxNodes: 64,
    timeouts: { stepSeconds: 60, heartbeatSeconds: 3, jobSeconds: 120 },
  };
}

const clusterPath = (id: string) => `projects/${PROJECT}/locations/${ZONE}/clusters/fb-${id}`;
const createOps = (id: string) => fake.operations().filter((o) => o.operationType === 'CREATE_CLUSTER' && o.targetLink === clusterPath(id));

function leftovers(id: string): string[] {
  const out = fake.clusters().filter((x) => x.path === clusterPath(id)).map((x) => `cluster ${x.name} ${x.status}`);
  const ns = namespaceFor('fluxburst-', id);
  if (api.objects('namespaces').some((n) => n.metadata.name === ns)) out.push(`namespace ${ns}`);
  return out;
}

const inPhase = (h: WorkflowHandle, phase: string, ms = 60_000) =>
  waitFor(async () => {
    const s = (await h.query(statusQuery).catch(() => undefined)) as BurstStatus | undefined;
    return s?.phase === phase ? s : undefined;
  }, ms, `phase ${phase}`);

beforeAll(async () => {
  api = await startFakeApiserver({ namespaceFinalizeMs: 50 });
  fake = await FakeClusterManager.start({ tickMs: 300, kube: { endpoint: api.url, caCertificate: Buffer.from('-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n').toString('base64') } });
  // The Flux Operator and kubelets of every burst's cluster: ready each MiniCluster's pods.
  controllers = setInterval(() => {
    for (const ns of api.objects('namespaces')) if (api.objects('miniclusters', ns.metadata.name).length && !ns.metadata.deletionTimestamp) api.makeReady(ns.metadata.name);
  }, 100);
  c = await client();
  w = await startWorker(TQ);
}, 90_000);

afterAll(async () => {
  clearInterval(controllers);
  await w?.stop();
  await closeGkeClients();
  await fake?.stop();
  await api?.stop();
});

describe('a burst on gke (fake ClusterManager + fake kube-apiserver)', () => {
  it('cluster → namespace → MiniCluster → joined → the scheduler reports the job → teardown leaves nothing', async () => {
    const id = uid('gke-burst');
    const h = await start(c, TQ, id, gkeInput([job('a', 2)], { spot: true }));
    const s = await inPhase(h, 'run');
    expect(s.plugin).toBe('gke');
    expect(s.resources.map((r) => r.kind)).toEqual(['gke-cluster', 'namespace', 'minicluster']);
    expect(s.resources.find((r) => r.kind === 'minicluster')!.nodes).toHaveLength(2);
    expect(s.jobs[0]).toMatchObject({ id: 'a', state: 'running' });
    const cl = fake.clusters().find((x) => x.path === clusterPath(id))!;
    expect(cl.nodePools[0]!.config).toMatchObject({ spot: true, machineType: s.plan!.groups[0]!.shape });
    // Only references go through the history: the cluster CA stays on the worker.
    expect(JSON.stringify(s)).not.toContain(cl.caCertificate);
    expect(await h.executeUpdate(jobDoneUpdate, { args: [{ id: 'a', exitCode: 0 }] })).toEqual({ state: 'completed' });
    const r = await result(h);
    expect(r.outcome).toBe('completed');
    expect(r.status.timeline.map((m) => m.phase)).toEqual(['select', 'plan', 'provision', 'join', 'run', 'teardown', 'completed']);
    expect(leftovers(id)).toEqual([]);
    expect(createOps(id)).toHaveLength(1);
  });

  it('a failed create operation fails the burst with its code and leaves nothing', async () => {
    const id = uid('gke-burst-fail');
    fake.failOperation('CreateCluster', 8, 'GCE_STOCKOUT: no c2 in us-central1-a');
    const h = await start(c, TQ, id, gkeInput([job('a', 1)]));
    await expect(h.result()).rejects.toThrow();
    const s = (await h.query(statusQuery)) as BurstStatus;
    expect(s.error).toMatchObject({ step: 'provision' });
    expect(s.error!.message).toMatch(/ResourceExhausted: GCE_STOCKOUT/);
    await waitFor(() => (leftovers(id).length === 0 ? true : undefined), 10_000, 'nothing left');
    expect(createOps(id)).toHaveLength(1);
  });

  it('the worker is SIGKILLed while the create operation is RUNNING: a new worker resumes; exactly one CreateCluster took effect', async () => {
    const tq = uid('tq-gke-kill');
    const killed = spawnWorker(['--address', address(), '--task-queue', tq]);
    await killed.ready;
    const id = uid('gke-kill');
    // Slow operations: 4 s PENDING, 4 s RUNNING, so the kill lands mid-wait.
    fake.tickMs = 4000;
    const h = await start(c, tq, id, gkeInput([job('a', 2)]));
    await waitFor(() => (createOps(id).some((o) => fake.statusOf(o) === 'RUNNING') ? true : undefined), 30_000, 'create operation RUNNING');
    killed.kill('SIGKILL');
    await new Promise((r) => killed.once('exit', r));
    fake.tickMs = 300;
    const callsBefore = fake.calls.CreateCluster ?? 0;
    const next = spawnWorker(['--address', address(), '--task-queue', tq]);
    try {
      await next.ready;
      const s = await inPhase(h, 'run', 90_000);
      // The retried step met ALREADY_EXISTS, found its own labels and waited on the same operation.
      expect(s.resources.find((r) => r.kind === 'gke-cluster')!.data).toMatchObject({ adopted: true, status: 'RUNNING' });
      expect(fake.calls.CreateCluster ?? 0).toBeGreaterThan(callsBefore);
      expect(createOps(id)).toHaveLength(1);
      expect(fake.clusters().filter((x) => x.path === clusterPath(id))).toHaveLength(1);
      await h.executeUpdate(jobDoneUpdate, { args: [{ id: 'a', exitCode: 0 }] });
      expect((await result(h)).outcome).toBe('completed');
      expect(leftovers(id)).toEqual([]);
      expect(createOps(id)).toHaveLength(1);
    } finally {
      next.kill('SIGKILL');
      if (killed.exitCode === null) killed.kill('SIGKILL');
    }
  }, 150_000);
});
