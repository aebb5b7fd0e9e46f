// Plain-pods mode: one pod per rank, all in a scheduler-plugins PodGroup whose minMember is the
// burst size, so the coscheduling plugin binds all of them or none (fluxnetes' gang groups).
// Without the gang, a half-scheduled burst would hold nodes while its brokers wait forever for
// the ranks that never came.
import { brokerToml, CURVE_KEY, CURVE_SECRET, HEADLESS_SERVICE, MUNGE_KEY, MUNGE_SECRET, type BurstCluster, type LeadBroker } from './minicluster.js';

export const PG_GROUP = 'scheduling.x-k8s.io';
export const PG_VERSION = 'v1alpha1';
export const PG_PLURAL = 'podgroups';
/** The label scheduler-plugins' coscheduling reads to put a pod in its group. */
export const PG_LABEL = 'scheduling.x-k8s.io/pod-group';
export const BROKER_CONFIGMAP = 'flux-broker-config';

export function podGroupManifest(o: { name: string; namespace: string; minMember: number; labels: Record<string, string>; scheduleTimeoutSeconds?: number }): Record<string, unknown> {
  return {
    apiVersion: `${PG_GROUP}/${PG_VERSION}`,
    kind: 'PodGroup',
    metadata: { name: o.name, namespace: o.namespace, labels: o.labels },
    spec: { minMember: o.minMember, scheduleTimeoutSeconds: o.scheduleTimeoutSeconds ?? 600 },
  };
}

export function headlessService(o: { namespace: string; labels: Record<string, string>; selector: Record<string, string>; port: number }) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: HEADLESS_SERVICE, namespace: o.namespace, labels: o.labels },
    spec: { clusterIP: 'None', selector: o.selector, ports: [{ name: 'flux', port: o.port }] },
  };
}

export function brokerConfigMap(o: { namespace: string; labels: Record<string, string>; cluster: BurstCluster; lead?: LeadBroker; port: number }) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: BROKER_CONFIGMAP, namespace: o.namespace, labels: o.labels },
    data: { 'broker.toml': brokerToml({ namespace: o.namespace, cluster: o.cluster, ...(o.lead ? { lead: o.lead } : {}), port: o.port }) },
  };
}

export interface RankPodInput {
  cluster: BurstCluster;
  rank: number;
  /** Pod (and host) name; the rank's hostname unless this is a replacement. */
  name?: string;
  namespace: string;
  image: string;
  labels: Record<string, string>;
  group: string;
  schedulerName: string;
  secrets: boolean;
  cpu?: string;
  memory?: string;
  nodeSelector?: Record<string, string>;
}

/** One broker pod. Its hostname is the rank's name in the hostlist; the subdomain gives it DNS. */
export function rankPod(i: RankPodInput) {
  const host = `${i.cluster.name}-${i.rank}`;
  const res = i.cpu || i.memory ? Object.fromEntries(Object.entries({ cpu: i.cpu, memory: i.memory }).filter((e): e is [string, string] => e[1] !== undefined)) : undefined;
  const mounts = [{ name: 'broker-config', mountPath: '/etc/flux/config', readOnly: true }];
  const volumes: ({ name: string } & Record<string, unknown>)[] = [{ name: 'broker-config', configMap: { name: BROKER_CONFIGMAP } }];
  if (i.secrets) {
    mounts.push({ name: 'curve', mountPath: '/etc/curve', readOnly: true }, { name: 'munge', mountPath: '/etc/munge', readOnly: true });
    volumes.push({ name: 'curve', secret: { secretName: CURVE_SECRET, items: [{ key: CURVE_KEY, path: CURVE_KEY }] } }, { name: 'munge', secret: { secretName: MUNGE_SECRET, defaultMode: 0o400, items: [{ key: MUNGE_KEY, path: MUNGE_KEY }] } });
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: i.name ?? host, namespace: i.namespace, labels: { ...i.labels, [PG_LABEL]: i.group, 'fluxburst.io/rank': String(i.rank) } },
    spec: {
      hostname: host,
      subdomain: HEADLESS_SERVICE,
      schedulerName: i.schedulerName,
      restartPolicy: 'Never',
      ...(i.nodeSelector ? { nodeSelector: i.nodeSelector } : {}),
      containers: [
        {
          name: 'flux-broker',
          image: i.image,
          command: ['flux', 'broker', '--config-path=/etc/flux/config', '-Stbon.fanout=256', '-Stbon.connect_timeout=5s', '-Sbroker.rc2_none=1'],
          volumeMounts: mounts,
          ...(res ? { resources: { requests: res, limits: res } } : {}),
        },
      ],
      volumes,
    },
  };
}
