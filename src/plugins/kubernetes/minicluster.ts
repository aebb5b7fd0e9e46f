// The Flux Operator side of the join, as pure generators: hostlists, broker.toml and the
// MiniCluster. They follow the operator's own rules (flux-operator pkg/flux/config.go
// generateHostlist; reference §4) so that the burst's brokers and the lead agree on every rank.
//
// API version: flux-framework.org/v1alpha2. v1alpha1 (with `spec.containers[].runFlux`,
// `fluxRestful`, the curve cert inline) is no longer served by operator releases ≥ 0.2.0, so a
// v1alpha1 object is refused by any current install. v1alpha2's generated host block is broken
// (view.go generateHostBlock: 5 %s verbs for 4 args, an int32 port → `%!s(int32=…)`), so we also
// pass the whole broker.toml as `spec.flux.brokerConfig`, which the operator uses verbatim; the
// `bursting` block stays so the operator's R (resources) and hostlist describe the same ranks.

export const MC_GROUP = 'flux-framework.org';
export const MC_VERSION = 'v1alpha2';
export const MC_PLURAL = 'miniclusters';
export const MC_KIND = 'MiniCluster';

export const CURVE_SECRET = 'curve-cert';
export const CURVE_KEY = 'curve.cert';
export const MUNGE_SECRET = 'munge-key';
export const MUNGE_KEY = 'munge.key';
/** The operator's headless Service name: pods reach each other as <host>.flux-service.<ns>.svc. */
export const HEADLESS_SERVICE = 'flux-service';
export const DEFAULT_BROKER_PORT = 8050;

export interface LeadBroker {
  address: string;
  port: number;
  name: string;
  /** The lead's rank count; equals the lead MiniCluster's maxSize. */
  size: number;
}

export interface BurstCluster {
  name: string;
  size: number;
}

/** `name-[a-b]` (or `name-a` for one host): flux-operator's range form. */
export function hostRange(name: string, from: number, to: number): string {
  return from === to ? `${name}-${from}` : `${name}-[${from}-${to}]`;
}

/**
 * The lead's hostlist (no leadBroker): its own ranks up to maxSize, then every burst cluster.
 * Not used by this plugin (the lead is local), but generated so tests can check both sides agree.
 */
export function leadHostlist(lead: { name: string; maxSize: number }, clusters: BurstCluster[]): string {
  return [hostRange(lead.name, 0, lead.maxSize - 1), ...clusters.map((c) => hostRange(c.name, 0, c.size - 1))].join(',');
}

/**
 * The burst side's hostlist: rank 0 is the lead by its external address, then the lead's other
 * ranks by name, then the burst clusters in the same order as the lead lists them.
 */
export function burstHostlist(lead: LeadBroker, clusters: BurstCluster[]): string {
  return [lead.address, ...(lead.size > 1 ? [hostRange(lead.name, 1, lead.size - 1)] : []), ...clusters.map((c) => hostRange(c.name, 0, c.size - 1))].join(',');
}

/** An isolated burst (no lead): the cluster's own ranks only. */
export function isolatedHostlist(cluster: BurstCluster): string {
  return hostRange(cluster.name, 0, cluster.size - 1);
}

const toml = (s: string) => JSON.stringify(s);

/**
 * broker.toml for the burst's brokers. The lead gets a host entry of its own with an explicit
 * connect URI (it is outside the cluster); everyone else is reached by the headless Service name.
 */
export function brokerToml(o: { namespace: string; cluster: BurstCluster; lead?: LeadBroker; port?: number }): string {
  const port = o.port ?? DEFAULT_BROKER_PORT;
  const lines = [
    '[bootstrap]',
    `curve_cert = ${toml(`/etc/curve/${CURVE_KEY}`)}`,
    `default_port = ${port}`,
    `default_bind = ${toml('tcp://eth0:%p')}`,
    `default_connect = ${toml(`tcp://%h.${HEADLESS_SERVICE}.${o.namespace}.svc.cluster.local:%p`)}`,
  ];
  if (o.lead) {
    const rest = burstHostlist(o.lead, [o.cluster]).split(',').slice(1).join(',');
    lines.push(
      'hosts = [',
      `  { host = ${toml(o.lead.address)}, bind = ${toml(`tcp://eth0:${o.lead.port}`)}, connect = ${toml(`tcp://${o.lead.address}:${o.lead.port}`)} },`,
      `  { host = ${toml(rest)} },`,
      ']',
    );
  } else {
    lines.push('hosts = [', `  { host = ${toml(isolatedHostlist(o.cluster))} },`, ']');
  }
  lines.push('', '[tbon]', `tcp_user_timeout = ${toml('2m')}`, '');
  return lines.join('\n');
}

export interface MiniClusterInput {
  name: string;
  namespace: string;
  size: number;
  tasks: number;
  image: string;
  lead?: LeadBroker;
  labels: Record<string, string>;
  /** Whether the namespace holds the curve/munge Secrets (always, when joining a lead). */
  secrets: boolean;
  cpu?: string;
  memory?: string;
  nodeSelector?: Record<string, string>;
}

/**
 * The burst's MiniCluster. size == maxSize: the burst does not grow after it starts, and the
 * lead already reserved exactly these ranks (its `bursting.clusters` entry has this name and size).
 */
export function miniClusterManifest(i: MiniClusterInput): Record<string, unknown> {
  const resources = i.cpu || i.memory ? { limits: compact({ cpu: i.cpu, memory: i.memory }), requests: compact({ cpu: i.cpu, memory: i.memory }) } : undefined;
  const cluster = { name: i.name, size: i.size };
  const flux: Record<string, unknown> = {
    connectTimeout: '5s',
    brokerConfig: brokerToml({ namespace: i.namespace, cluster, ...(i.lead ? { lead: i.lead } : {}) }),
  };
  if (i.lead) {
    flux.bursting = {
      leadBroker: { address: i.lead.address, name: i.lead.name, size: i.lead.size, port: i.lead.port },
      clusters: [cluster],
    };
  }
  if (i.secrets) {
    flux.curveCertSecret = CURVE_SECRET;
    flux.mungeSecret = MUNGE_SECRET;
  }
  return {
    apiVersion: `${MC_GROUP}/${MC_VERSION}`,
    kind: MC_KIND,
    metadata: { name: i.name, namespace: i.namespace, labels: i.labels },
    spec: {
      size: i.size,
      maxSize: i.size,
      tasks: i.tasks,
      interactive: false,
      // The command is irrelevant on the burst side: jobs are launched from the lead.
      containers: [{ image: i.image, ...(resources ? { resources } : {}) }],
      pod: { labels: i.labels, ...(i.nodeSelector ? { nodeSelector: i.nodeSelector } : {}) },
      flux,
    },
  };
}

function compact(o: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Hostnames of the burst's ranks, in rank order: the node names the burst holds. */
export function burstNodes(cluster: BurstCluster): string[] {
  return Array.from({ length: cluster.size }, (_, i) => `${cluster.name}-${i}`);
}
