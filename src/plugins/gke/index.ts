// The gke plugin as the registry sees it: name, params and sizing load at once; the parts that
// talk to ClusterManager (@google-cloud/container, google-gax, gRPC: slow to load) only when a
// burst first calls them, so every other CLI command starts without them.
import { definePlugin } from '../contract.js';
import { GKE_DESCRIPTION, gkeParams, type GkeParams } from './params.js';
import { estimate, shapeOf } from './sizing.js';

type Impl = (typeof import('./plugin.js'))['gkePlugin'];
let impl: Promise<Impl> | undefined;
const load = (): Promise<Impl> => (impl ??= import('./plugin.js').then((m) => m.gkePlugin));

export const gkePlugin = definePlugin<GkeParams>({
  name: 'gke',
  description: GKE_DESCRIPTION,
  params: gkeParams,
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
export { gkeParams, type GkeParams } from './params.js';
