// One KubeConfig per params object, from whichever source the target names. Credentials (a
// bearer token) are read from ctx.credentials at call time and never stored in params.
import { CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { InputError } from '../../core/errors.js';
import type { KubernetesParams } from './params.js';

export interface Kube {
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  watch: Watch;
}

export function kubeConfig(p: KubernetesParams, credentials: Record<string, string> = {}): KubeConfig {
  const kc = new KubeConfig();
  if (p.cluster) {
    let token: string | undefined;
    if (p.cluster.token) {
      token = credentials[p.cluster.token.credential];
      if (token === undefined) throw new InputError('kubernetes credentials', [{ path: 'params.cluster.token.credential', message: `no credential named ${p.cluster.token.credential} in the target's credentials` }]);
    }
    kc.loadFromOptions({
      clusters: [{ name: 'burst', server: p.cluster.server, skipTLSVerify: p.cluster.insecureSkipTLSVerify, ...(p.cluster.caData ? { caData: p.cluster.caData } : {}) }],
      users: [{ name: 'burst', ...(token ? { token: token.trim() } : {}) }],
      contexts: [{ name: 'burst', cluster: 'burst', user: 'burst' }],
      currentContext: 'burst',
    });
  } else if (p.inCluster) {
    kc.loadFromCluster();
  } else {
    if (p.kubeconfig) kc.loadFromFile(p.kubeconfig);
    else kc.loadFromDefault();
    if (p.context) kc.setCurrentContext(p.context);
  }
  return kc;
}

export function kubeClient(p: KubernetesParams, credentials: Record<string, string> = {}): Kube {
  const kc = kubeConfig(p, credentials);
  return { kc, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi), watch: new Watch(kc) };
}
