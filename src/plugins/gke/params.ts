import { z } from 'zod';
import { kubernetesParams } from '../kubernetes/params.js';

/** GCE label rules (resourceLabels, node labels): lowercase keys ≤ 63 starting with a letter; values ≤ 63. */
export const GCE_LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
export const GCE_LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;
/** GKE cluster and node pool names. */
export const GKE_NAME = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;

const labelKey = z
  .string()
  .regex(GCE_LABEL_KEY, 'a GCE label key (lowercase letters, digits, _ and -, starting with a letter, at most 63)')
  .refine((k) => !k.startsWith('fluxburst-'), { message: 'fluxburst- label keys are reserved' });
const labelValue = z.string().regex(GCE_LABEL_VALUE, 'a GCE label value (lowercase letters, digits, _ and -, at most 63)');

/**
 * Kubernetes plugin params for the burst's pods, minus where the API server is: the GKE plugin
 * supplies that (`cluster: {server, caData}` of the cluster it made or was given). Checked
 * against the kubernetes plugin's own schema, so a bad key is named here, before anything starts.
 */
const PLACEHOLDER_SERVER = 'https://gke-endpoint.invalid';
const kubernetesPassThrough = z
  .record(z.string(), z.unknown())
  .default({})
  .superRefine((k, ctx) => {
    for (const key of ['cluster', 'kubeconfig', 'context', 'inCluster'] as const) {
      if (key in k) ctx.addIssue({ code: 'custom', path: [key], message: 'the gke plugin connects to the cluster itself; leave out kubeconfig/context/inCluster/cluster' });
    }
    const r = kubernetesParams.safeParse({ ...k, cluster: { server: PLACEHOLDER_SERVER } });
    if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', path: i.path.map((s) => (typeof s === 'symbol' ? String(s) : s)), message: i.message });
  })
  .describe('Params of the kubernetes plugin for the MiniCluster that joins the lead broker (lead, curveCert, mungeKey, image, namespace, ...): references only, never secrets.');

export const gkeParams = z
  .strictObject({
    project: z.string().regex(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/, 'a Google Cloud project id').describe('Project the cluster or node pool lives in.'),
    location: z
      .string()
      .regex(/^[a-z]+-[a-z]+\d+(-[a-z])?$/, 'a zone (us-central1-a) or a region (us-central1)')
      .describe('Zone (zonal cluster) or region (regional cluster: give nodeZone too).'),
    nodeZone: z
      .string()
      .regex(/^[a-z]+-[a-z]+\d+-[a-z]$/, 'a zone like us-central1-a')
      .optional()
      .describe("With a regional location: the one zone the burst's nodes go in. GKE makes a pool's node count in every zone it spans, so without it a 3-zone region would get 3x the planned nodes."),
    mode: z.enum(['cluster', 'nodePool']).default('cluster').describe('Make a cluster per burst, or a node pool per burst in the existing cluster `clusterName`.'),
    clusterName: z.string().regex(GKE_NAME, 'a GKE cluster name (lowercase letters, digits, -, at most 40)').optional().describe('nodePool mode: the existing cluster. cluster mode: default fb-<burst id>.'),
    machineType: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)+$/, 'a machine type like c2-standard-8').optional().describe('Node machine type; default: the cheapest catalog type that fits every job.'),
    instanceType: z.string().min(1).optional().describe('Machine type forced by a per-job override; must fit.'),
    arch: z.enum(['x86_64', 'arm64']).optional(),
    nodes: z.number().int().positive().max(1000).optional().describe('Node count; default: the largest job.'),
    maxNodes: z.number().int().positive().max(1000).default(64),
    spot: z.boolean().default(false).describe('Spot VMs (preemptible at any time; preemption arrives as a node-lost notice).'),
    spotPriceFactor: z.number().positive().max(1).default(0.35).describe('Spot price as a fraction of the catalog on-demand price, for estimates (the catalog has on-demand prices only).'),
    maxPrice: z.number().positive().optional().describe('Highest on-demand price per node-hour (a per-job override); dearer types are unfit.'),
    labels: z.record(labelKey, labelValue).default({}).describe('Extra GCE labels on the cluster/node pool (a per-job override adds to them).'),
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a Kubernetes namespace name').optional().describe('Kubernetes namespace (a per-job override), passed to the kubernetes plugin.'),
    apiEndpoint: z
      .string()
      .regex(/^(https?:\/\/)?[A-Za-z0-9.-]+(:\d+)?$/, 'host[:port], https://host[:port], or http://host:port (plaintext, a local fake only)')
      .optional()
      .describe('ClusterManager endpoint override; default container.googleapis.com.'),
    credential: z
      .string()
      .min(1)
      .default('GOOGLE_APPLICATION_CREDENTIALS')
      .describe("Name of the target's credential that holds the service-account key JSON (a {file} reference). Absent from the target: Application Default Credentials."),
    operationPollSeconds: z.number().positive().max(60).default(5).describe('GetOperation interval while waiting on a long-running operation.'),
    operationTimeoutSeconds: z.number().int().positive().max(7200).default(1800).describe('Longest wait on one operation.'),
    kubernetes: kubernetesPassThrough,
  })
  .superRefine((p, ctx) => {
    const regional = !/-[a-z]$/.test(p.location);
    if (regional && !p.nodeZone) ctx.addIssue({ code: 'custom', path: ['nodeZone'], message: `location ${p.location} is a region: GKE would make the node count in each of its zones; give nodeZone (e.g. ${p.location}-a) so the burst gets exactly its planned nodes` });
    if (p.nodeZone && !p.nodeZone.startsWith(`${regionOf(p.location)}-`)) ctx.addIssue({ code: 'custom', path: ['nodeZone'], message: `zone ${p.nodeZone} is not in ${regionOf(p.location)}` });
    if (p.mode === 'nodePool' && !p.clusterName) ctx.addIssue({ code: 'custom', path: ['clusterName'], message: 'nodePool mode needs the existing cluster (clusterName)' });
    if (p.nodes !== undefined && p.nodes > p.maxNodes) ctx.addIssue({ code: 'custom', path: ['nodes'], message: `nodes ${p.nodes} is over maxNodes ${p.maxNodes}` });
  })
  .describe('A GKE cluster (or node pool) per burst, made with the ClusterManager API, then a Flux Operator MiniCluster on it joined to the lead broker (through the kubernetes plugin).');

export type GkeParams = z.output<typeof gkeParams>;

export const GKE_DESCRIPTION = 'A GKE cluster or node pool per burst (machine type from the catalog, spot when asked), joined to the lead broker through a Flux Operator MiniCluster.';

/** zone us-central1-a → region us-central1; a region stays itself. */
export function regionOf(location: string): string {
  return /-[a-z]$/.test(location) ? location.replace(/-[a-z]$/, '') : location;
}
