// The fake kube-apiserver checked against the real client: every call goes through
// @kubernetes/client-node (typed APIs, Watch), so what the fake accepts and answers is what the
// client really sends and parses.
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiserver, startFakeApiserver } from '../../testkit/kube/fake-apiserver.js';

let fake: FakeApiserver;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let kc: KubeConfig;

beforeAll(async () => {
  fake = await startFakeApiserver({ namespaceFinalizeMs: 100 });
  kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'f', server: fake.url, skipTLSVerify: true }], users: [{ name: 'u', token: 't' }], contexts: [{ name: 'c', cluster: 'f', user: 'u' }], currentContext: 'c' });
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
});
afterAll(() => fake?.stop());

async function apiError(p: Promise<unknown>): Promise<{ code: number; body: { kind: string; reason: string; code: number; message: string } }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiException);
    const a = e as ApiException<string>;
    return { code: a.code, body: JSON.parse(a.body) };
  }
  throw new Error('expected an ApiException');
}

const mc = { group: 'flux-framework.org', version: 'v1alpha2', plural: 'miniclusters' };

describe('fake kube-apiserver through @kubernetes/client-node', () => {
  it('create/read/list namespaces with metadata the client parses; 409 AlreadyExists and 404 NotFound are Status bodies', async () => {
    const ns = await core.createNamespace({ body: { metadata: { name: 'fa', labels: { team: 'a' } } } });
    expect(ns.metadata?.uid).toMatch(/-/);
    expect(ns.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(Number(ns.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(ns.status?.phase).toBe('Active');
    const dup = await apiError(core.createNamespace({ body: { metadata: { name: 'fa' } } }));
    expect(dup.code).toBe(409);
    expect(dup.body).toMatchObject({ kind: 'Status', reason: 'AlreadyExists', code: 409 });
    const missing = await apiError(core.readNamespace({ name: 'nope' }));
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({ kind: 'Status', reason: 'NotFound' });
    await core.createNamespace({ body: { metadata: { name: 'fb', labels: { team: 'b' } } } });
    expect((await core.listNamespace({ labelSelector: 'team=a' })).items.map((n) => n.metadata?.name)).toEqual(['fa']);
    expect((await core.listNamespace({ labelSelector: 'team,team!=a' })).items.map((n) => n.metadata?.name)).toEqual(['fb']);
    expect((await core.listNamespace({ fieldSelector: 'metadata.name=fb' })).items).toHaveLength(1);
    const bad = await apiError(core.createNamespace({ body: { metadata: { name: 'Not_Valid' } } }));
    expect(bad.body).toMatchObject({ reason: 'Invalid', code: 422 });
  });

  it('namespaced objects: secrets and pods need their namespace; a MiniCluster is validated against its CRD schema; status subresource and generation', async () => {
    await core.createNamespace({ body: { metadata: { name: 'fc' } } });
    expect((await apiError(core.createNamespacedSecret({ namespace: 'gone', body: { metadata: { name: 's' } } }))).code).toBe(404);
    const s = await core.createNamespacedSecret({ namespace: 'fc', body: { metadata: { name: 's' }, data: { k: Buffer.from('v').toString('base64') } } });
    expect(Buffer.from(s.data!.k!, 'base64').toString()).toBe('v');
    const invalid = await apiError(custom.createNamespacedCustomObject({ ...mc, namespace: 'fc', body: { apiVersion: 'flux-framework.org/v1alpha2', kind: 'MiniCluster', metadata: { name: 'm' }, spec: { size: 2 } } }));
    expect(invalid.code).toBe(422);
    expect(invalid.body.message).toMatch(/spec.containers: Required value/);
    const noImage = await apiError(custom.createNamespacedCustomObject({ ...mc, namespace: 'fc', body: { apiVersion: 'flux-framework.org/v1alpha2', kind: 'MiniCluster', metadata: { name: 'm' }, spec: { size: 'two', containers: [{}] } } }));
    expect(noImage.body.message).toMatch(/spec.size: Invalid value.*integer.*spec.containers\[0\].image: Required value/);
    const made = (await custom.createNamespacedCustomObject({ ...mc, namespace: 'fc', body: { apiVersion: 'flux-framework.org/v1alpha2', kind: 'MiniCluster', metadata: { name: 'm' }, spec: { size: 2, containers: [{ image: 'x' }] }, status: { size: 9 } } })) as { metadata: { generation: number }; status?: unknown };
    expect(made.metadata.generation).toBe(1);
    expect(made.status).toBeUndefined(); // status is only written through /status
    const st = (await custom.patchNamespacedCustomObjectStatus({ ...mc, namespace: 'fc', name: 'm', body: [{ op: 'add', path: '/status', value: { size: 2 } }] })) as { status: { size: number }; metadata: { generation: number } };
    expect(st.status.size).toBe(2);
    expect(st.metadata.generation).toBe(1);
    const merged = (await custom.patchNamespacedCustomObject({ ...mc, namespace: 'fc', name: 'm', body: { spec: { size: 3 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))) as { spec: { size: number; containers: unknown[] }; metadata: { generation: number } };
    expect(merged.spec).toMatchObject({ size: 3, containers: [{ image: 'x' }] });
    expect(merged.metadata.generation).toBe(2);
    const podBad = await apiError(core.createNamespacedPod({ namespace: 'fc', body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c' } as never] } } }));
    expect(podBad.body.message).toMatch(/spec.containers\[0\].image: Required value/);
  });

  it('watch streams ADDED/MODIFIED/DELETED from a resourceVersion; deleting a namespace leaves it Terminating, then gone with its contents', async () => {
    await core.createNamespace({ body: { metadata: { name: 'fw' } } });
    const listed = await core.listNamespacedPod({ namespace: 'fw' });
    const events: string[] = [];
    const gone = new Promise<void>((resolve) => {
      void new Watch(kc)
        .watch('/api/v1/namespaces/fw/pods', { resourceVersion: listed.metadata!.resourceVersion }, (type, obj: { metadata: { name: string }; status?: { phase?: string } }) => {
          events.push(`${type} ${obj.metadata.name} ${obj.status?.phase ?? ''}`.trim());
          if (type === 'DELETED') resolve();
        }, () => undefined)
        .then((c) => gone.finally(() => c.abort()));
    });
    await core.createNamespacedPod({ namespace: 'fw', body: { metadata: { name: 'p', labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } });
    fake.makeReady('fw');
    const ns = await core.deleteNamespace({ name: 'fw' });
    expect((ns as unknown as { status: { phase: string } }).status.phase).toBe('Terminating');
    expect((await core.readNamespace({ name: 'fw' })).status?.phase).toBe('Terminating');
    const refused = await apiError(core.createNamespacedSecret({ namespace: 'fw', body: { metadata: { name: 'late' } } }));
    expect(refused.body).toMatchObject({ code: 403, reason: 'Forbidden' });
    await gone;
    expect(events).toEqual(['ADDED p Pending', 'MODIFIED p Running', 'DELETED p Running']);
    await new Promise((r) => setTimeout(r, 50));
    expect((await apiError(core.readNamespace({ name: 'fw' }))).code).toBe(404);
  });

  it('fault injection: the Nth create of a kind answers 500 or 403 (optionally after doing the work)', async () => {
    fake.fault({ verb: 'create', plural: 'configmaps', nth: 2, code: 500 });
    await core.createNamespace({ body: { metadata: { name: 'ff' } } });
    await core.createNamespacedConfigMap({ namespace: 'ff', body: { metadata: { name: 'one' } } });
    expect((await apiError(core.createNamespacedConfigMap({ namespace: 'ff', body: { metadata: { name: 'two' } } }))).body).toMatchObject({ code: 500, reason: 'InternalError' });
    await core.createNamespacedConfigMap({ namespace: 'ff', body: { metadata: { name: 'three' } } });
    fake.fault({ verb: 'create', plural: 'configmaps', code: 403, after: true });
    expect((await apiError(core.createNamespacedConfigMap({ namespace: 'ff', body: { metadata: { name: 'four' } } }))).body.reason).toBe('Forbidden');
    fake.clearFaults();
    expect(fake.objects('configmaps', 'ff').map((c) => c.metadata.name)).toEqual(['four', 'one', 'three']);
  });
});
