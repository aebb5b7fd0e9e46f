// The kubernetes plugin as the registry sees it: name, params and sizing load at once; the parts
// that talk to the API server (and @kubernetes/client-node) only when a burst first calls them.
import { definePlugin } from '../contract.js';
import { KUBERNETES_DESCRIPTION, kubernetesParams, type KubernetesParams } from './params.js';
import { estimate, shapeOf } from './sizing.js';

type Impl = (typeof import('./plugin.js'))['kubernetesPlugin'];
let impl: Promise<Impl> | undefined;
const load = (): Promise<Impl> => (impl ??= import('./plugin.js').then((m) => m.kubernetesPlugin));

export const kubernetesPlugin = definePlugin<KubernetesParams>({
  name: 'kubernetes',
  description: KUBERNETES_DESCRIPTION,
  params: kubernetesParams,
  estimate,
  shape: shapeOf,
  plan: async (...a) => (await load()).plan(...a),
  provision: async (...a) => (await load()).provision(...a),
  join: async (...a) => (await load()).join(...a),
  releaseNode: async (...a) => (await load()).releaseNode!(...a),
  interruptions: async (...a) => (await load()).interruptions!(...a),
  teardown: async (...a) => (await load()).teardown(...a),
  owned: async (...a) => (await load()).owned(...a),
  destroy: async (...a) => (await load()).destroy!(...a),
});
export { kubernetesParams, type KubernetesParams } from './params.js';
