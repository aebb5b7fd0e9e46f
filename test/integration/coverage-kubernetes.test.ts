// kubernetes `namespacePrefix` on a real kube-apiserver (testkit/kube/real-apiserver.ts): the
// per-burst namespace is <prefix><burst id>, labelled ours, found by owned(), removed by teardown.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Job } from '../../src/core/types.js';
import type { PluginContext } from '../../src/plugins/contract.js';
import { kubernetesParams, kubernetesPlugin } from '../../src/plugins/kubernetes/index.js';
import { type RealApiserver, startNamespaceController, startRealApiserver } from '../../testkit/kube/real-apiserver.js';
import { waitFor } from '../support/harness.js';

let kas: RealApiserver;
let stopController: () => Promise<void>;

beforeAll(async () => {
  kas = await startRealApiserver();
  stopController = startNamespaceController(kas);
}, 90_000);
afterAll(async () => {
  await stopController?.();
  await kas?.stop();
}, 30_000);

const job: Job = { id: 'j', name: 'j', nodes: 1, tasks: 1, command: ['hostname'], attributes: { system: { burstable: 1 } } };
const ctx = (burstId: string): PluginContext => ({
  burstId,
  owner: 'tester',
  attempt: 1,
  credentials: { KUBE_TOKEN: kas.token },
  signal: new AbortController().signal,
  heartbeat: () => undefined,
  log: { info: () => undefined, warn: () => undefined },
});
const params = (over: Record<string, unknown> = {}) =>
  kubernetesParams.parse({ cluster: { server: kas.url, insecureSkipTLSVerify: true, token: { credential: 'KUBE_TOKEN' } }, mode: 'pods', deleteTimeoutSeconds: 15, ...over });

it('namespacePrefix names the burst namespace (default fluxburst-); owned() finds it; teardown removes it', async () => {
  for (const [over, expected] of [
    [{ namespacePrefix: 'team-a-' }, 'team-a-cov-ns-1'],
    [{}, 'fluxburst-cov-ns-2'],
  ] as const) {
    const burstId = expected.replace(/^(team-a-|fluxburst-)/, '');
    const p = params(over);
    const c = ctx(burstId);
    const plan = await kubernetesPlugin.plan([job], p, c);
    const step = plan.steps.find((s) => s.kind === 'namespace')!;
    const ref = await kubernetesPlugin.provision(step, plan, p, c);
    expect(ref.id).toBe(expected);
    const ns = await kas.req('GET', `/api/v1/namespaces/${expected}`);
    expect(ns.code).toBe(200);
    expect(ns.body.metadata.labels).toMatchObject({ 'fluxburst.io/burst-id': burstId, 'fluxburst.io/created-by': 'fluxburst' });
    expect((await kubernetesPlugin.owned(p, c)).map((o) => o.id)).toContain(expected);
    await kubernetesPlugin.teardown(step, ref, p, c);
    await waitFor(async () => ((await kas.req('GET', `/api/v1/namespaces/${expected}`)).code === 404 ? true : undefined), 20_000, `${expected} gone`);
  }
});
