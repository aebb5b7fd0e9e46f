// The gke plugin as the registry sees it: name, params and sizing load at once; the parts that
// talk to ClusterManager (@google-cloud/container, google-gax, gRPC: slow to load) only when a
// burst first calls them, so every other CLI command starts without them.
import { lazyPlugin } from '../lazy.js';
import { GKE_DESCRIPTION, gkeParams, type GkeParams } from './params.js';
import { estimate, shapeOf } from './sizing.js';

export const gkePlugin = lazyPlugin<GkeParams>(
  { name: 'gke', description: GKE_DESCRIPTION, params: gkeParams, estimate, shape: shapeOf },
  async () => (await import('./plugin.js')).gkePlugin,
  ['plan', 'provision', 'join', 'releaseNode', 'interruptions', 'teardown', 'owned', 'destroy'],
);
export { gkeParams, type GkeParams } from './params.js';
