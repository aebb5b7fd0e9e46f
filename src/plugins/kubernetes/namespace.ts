// The burst's namespace: created with ownership labels, adopted only when the labels say it is
// this burst's (a create whose answer was lost), and deleted by waiting for finalization to end.
import { InputError, TransientError } from '../../core/errors.js';
import type { PluginContext } from '../contract.js';
import type { Kube } from './client.js';
import { fromKube, isConflict, isNotFound, kube } from './errors.js';
import { ANNOTATION_BURST, isOurs, LABEL_BURST, LABEL_CREATED_BY, namespaceFor, ownerLabels } from './labels.js';
import type { KubernetesParams } from './params.js';
import { waitWatching, type KubeObject } from './watch.js';

/** The namespace a burst uses: the per-job/target `namespace` when given, else one derived from the burst id. */
export function burstNamespace(p: KubernetesParams, burstId: string): string {
  return p.namespace ?? namespaceFor(p.namespacePrefix, burstId);
}

export async function ensureNamespace(k: Kube, p: KubernetesParams, ctx: PluginContext): Promise<{ name: string; adopted: boolean }> {
  const name = burstNamespace(p, ctx.burstId);
  try {
    await k.core.createNamespace({ body: { metadata: { name, labels: ownerLabels(ctx.burstId, ctx.owner, p.labels), annotations: { [ANNOTATION_BURST]: ctx.burstId } } } });
    return { name, adopted: false };
  } catch (e) {
    if (!isConflict(e)) throw fromKube(e, `create namespace ${name}`);
  }
  const got = await kube(`read namespace ${name}`, () => k.core.readNamespace({ name }));
  if (!isOurs(got.metadata?.labels, ctx.burstId)) {
    const had = got.metadata?.labels ?? {};
    const whose = had[LABEL_CREATED_BY] ? `burst ${had[LABEL_BURST] ?? '?'}` : 'someone else (no fluxburst labels)';
    throw new InputError('kubernetes namespace', [{ path: 'params.namespace', message: `namespace ${name} already exists and belongs to ${whose}; refusing to use or delete it` }]);
  }
  // Ours, from an earlier run of this burst id that is still being deleted: wait for it to go.
  if (got.status?.phase === 'Terminating') throw new TransientError(`namespace ${name} is still terminating from an earlier run of this burst`);
  ctx.log.info('adopted namespace made by an earlier try', { namespace: name });
  return { name, adopted: true };
}

/** Whether the namespace exists and is this burst's (so things in it may be deleted). */
export async function namespaceState(k: Kube, name: string, burstId: string): Promise<'ours' | 'gone' | 'foreign'> {
  try {
    const ns = await k.core.readNamespace({ name });
    return isOurs(ns.metadata?.labels, burstId) ? 'ours' : 'foreign';
  } catch (e) {
    if (isNotFound(e)) return 'gone';
    throw fromKube(e, `read namespace ${name}`);
  }
}

/** Delete the namespace and wait until the API server forgets it; already gone is success. */
export async function deleteNamespace(k: Kube, name: string, timeoutSeconds: number, ctx: PluginContext): Promise<void> {
  try {
    await k.core.deleteNamespace({ name });
  } catch (e) {
    if (isNotFound(e)) return;
    throw fromKube(e, `delete namespace ${name}`);
  }
  await waitWatching(k, ctx, {
    path: '/api/v1/namespaces',
    query: { fieldSelector: `metadata.name=${name}` },
    list: async () => {
      const l = await k.core.listNamespace({ fieldSelector: `metadata.name=${name}` });
      return { items: l.items as KubeObject[], resourceVersion: l.metadata?.resourceVersion ?? '' };
    },
    check: (objs) => (objs.has(name) ? undefined : true),
    timeoutMs: timeoutSeconds * 1000,
    onTimeout: () => new TransientError(`namespace ${name} still terminating after ${timeoutSeconds}s (finalizers?)`),
    what: `namespace ${name} gone`,
  });
}
