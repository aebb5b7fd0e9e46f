// The kubernetes plugin as the registry sees it: name, params and sizing load at once; the parts
// that talk to the API server (and @kubernetes/client-node) only when a burst first calls them.
import { lazyPlugin } from '../lazy.js';
import { KUBERNETES_DESCRIPTION, kubernetesParams, type KubernetesParams } from './params.js';
import { estimate, shapeOf } from './sizing.js';

export const kubernetesPlugin = lazyPlugin<KubernetesParams>(
  { name: 'kubernetes', description: KUBERNETES_DESCRIPTION, params: kubernetesParams, estimate, shape: shapeOf },
  async () => (await import('./plugin.js')).kubernetesPlugin,
  ['plan', 'provision', 'join', 'releaseNode', 'interruptions', 'teardown', 'owned', 'destroy'],
);
export { kubernetesParams, type KubernetesParams } from './params.js';
