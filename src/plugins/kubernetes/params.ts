import { z } from 'zod';

/** Kubernetes object names (RFC 1123 label): namespaces, Secrets, MiniClusters, pods. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dnsLabel = (what: string) => z.string().regex(DNS_LABEL, `${what}: a Kubernetes name (lowercase letters, digits, '-', at most 63)`);

// Values that are a secret rather than a pointer to one. Params travel through Temporal's history
// (and the config file), so the CURVE certificate and the munge key must only ever be named here.
const LOOKS_SECRET: ReadonlyArray<[RegExp, string]> = [
  [/-----BEGIN /, 'a PEM block'],
  [/\b(public|secret)-key\s*=/, 'a CURVE certificate (public-key/secret-key lines)'],
  [/\n/, 'multi-line text'],
];
const refString = (what: string) =>
  z
    .string()
    .min(1)
    .max(4096)
    .superRefine((s, ctx) => {
      for (const [re, kind] of LOOKS_SECRET) if (re.test(s)) ctx.addIssue({ code: 'custom', message: `${what} seems to contain ${kind}; give a reference (credential name, file path, Secret name), never the secret` });
    });

/**
 * Where a shared secret (CURVE cert, munge key) comes from. Only the reference is in params; the
 * worker reads the value when it makes the namespace's Secret.
 */
export const secretRef = z.union([
  z.strictObject({ credential: refString('credential').describe("Name in the target's `credentials:` (an {env} or {file} reference resolved on the worker).") }),
  z.strictObject({ file: refString('file').describe('Path of a file on the worker.') }),
  z.strictObject({
    secret: z.strictObject({ namespace: dnsLabel('secret.namespace'), name: dnsLabel('secret.name'), key: z.string().min(1).max(253).optional() }),
  }).describe('An existing Secret in the cluster, copied into the burst namespace.'),
]);
export type SecretRef = z.output<typeof secretRef>;

const labelKey = z
  .string()
  .regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, 'a Kubernetes label key')
  .refine((k) => !k.startsWith('fluxburst.io/'), { message: 'fluxburst.io/ label keys are reserved' });
const labelValue = z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, 'a Kubernetes label value');

export const kubernetesParams = z
  .strictObject({
    kubeconfig: z.string().min(1).optional().describe('Path of a kubeconfig on the worker; default: $KUBECONFIG or ~/.kube/config.'),
    context: z.string().min(1).optional().describe('kubeconfig context; default: its current-context.'),
    inCluster: z.boolean().default(false).describe("Use the worker pod's service account (in-cluster config)."),
    cluster: z
      .strictObject({
        server: z.url().describe('API server URL (https://..., or http:// for a local fake).'),
        caData: z.string().min(1).optional().describe('Base64 PEM of the cluster CA (public, not a secret).'),
        token: z.strictObject({ credential: refString('token.credential') }).optional().describe("Bearer token: the name of one of the target's credentials."),
        insecureSkipTLSVerify: z.boolean().default(false),
      })
      .optional()
      .describe('An API server given inline (the GKE plugin passes the endpoint and CA of the cluster it made).'),
    namespace: dnsLabel('namespace').optional().describe('Use exactly this namespace (a per-job override); it must not exist or carry our labels for this burst.'),
    namespacePrefix: z.string().regex(/^[a-z0-9][-a-z0-9]{0,20}$/, 'lowercase letters, digits and -, at most 21').default('fluxburst-').describe('Per-burst namespace: <prefix><burst id>.'),
    mode: z.enum(['minicluster', 'pods']).default('minicluster').describe('A Flux Operator MiniCluster, or plain pods gang-scheduled with a scheduler-plugins PodGroup.'),
    image: z.string().min(1).default('ghcr.io/flux-framework/flux-sched:latest').describe('Container image with flux-core and flux-sched (same flux uid, prefix and zeromq as the lead).'),
    clusterName: dnsLabel('clusterName').default('burst-0').describe("This burst's name in the lead's `bursting.clusters`; pods are <clusterName>-<rank>."),
    size: z.number().int().positive().max(1000).optional().describe('Burst size (pods); default: the largest job.'),
    maxSize: z.number().int().positive().max(1000).default(64).describe('Largest burst accepted.'),
    lead: z
      .strictObject({
        address: z.string().min(1).max(253).describe('How burst pods reach the lead broker (rank 0): external IP or DNS name.'),
        port: z.number().int().min(1).max(65535).default(8050).describe('Lead broker port as seen from outside (e.g. a NodePort such as 30093).'),
        name: dnsLabel('lead.name').describe("The lead MiniCluster's name: its ranks 1.. are <name>-1 ..."),
        size: z.number().int().positive().max(1000).describe("The lead's size in ranks: must equal the lead MiniCluster's maxSize so ranks line up."),
        maxSize: z.number().int().positive().max(1000).optional().describe("The lead MiniCluster's maxSize, when known: checked against size."),
      })
      .refine((l) => l.maxSize === undefined || l.maxSize === l.size, { message: "lead.size must equal the lead MiniCluster's maxSize (rank indices must line up on both sides)", path: ['size'] })
      .optional()
      .describe('The local lead broker the burst joins; without it the burst is an isolated Flux instance.'),
    curveCert: secretRef.optional().describe("The lead's CURVE certificate (curve.cert): a reference, never the value."),
    mungeKey: secretRef.optional().describe("The lead's munge.key: a reference (a credential holds it base64-encoded; a file holds the raw key)."),
    cpu: z.string().regex(/^\d+(\.\d+)?m?$/, 'a CPU quantity like 2 or 500m').optional().describe('CPU request = limit per pod.'),
    memory: z.string().regex(/^\d+(Ki|Mi|Gi|Ti|K|M|G|T)?$/, 'a memory quantity like 4Gi').optional().describe('Memory request = limit per pod.'),
    schedulerName: z.string().min(1).default('scheduler-plugins-scheduler').describe('pods mode: the scheduler that honours PodGroups (coscheduling).'),
    costPerNodeHour: z.number().nonnegative().default(0).describe('Price per pod-hour for ordering and spend; 0 for an existing cluster already paid for.'),
    secondsToReady: z.number().nonnegative().default(60).describe('Estimate of pod start time, for the `fastest` ordering.'),
    readyTimeoutSeconds: z.number().int().positive().max(3600).default(600).describe('How long join waits for every pod to be Ready.'),
    deleteTimeoutSeconds: z.number().int().positive().max(3600).default(600).describe('How long teardown waits for the namespace to be gone.'),
    labels: z.record(labelKey, labelValue).default({}).describe('Extra labels on everything made (a per-job override adds to them).'),
    instanceType: z.string().min(1).optional().describe('Node type the pods must land on (node.kubernetes.io/instance-type), a per-job override.'),
    maxPrice: z.number().positive().optional().describe('Refuse the burst when costPerNodeHour is above this (a per-job override).'),
  })
  .superRefine((p, ctx) => {
    const sources = [p.kubeconfig !== undefined || p.context !== undefined, p.inCluster, p.cluster !== undefined].filter(Boolean).length;
    if (sources > 1) ctx.addIssue({ code: 'custom', path: ['cluster'], message: 'give one of kubeconfig/context, inCluster, cluster' });
    if (p.lead && !p.curveCert) ctx.addIssue({ code: 'custom', path: ['curveCert'], message: "joining a lead broker needs the lead's CURVE certificate (a reference)" });
    if (p.lead && !p.mungeKey) ctx.addIssue({ code: 'custom', path: ['mungeKey'], message: "joining a lead broker needs the lead's munge key (a reference)" });
    if (p.size !== undefined && p.size > p.maxSize) ctx.addIssue({ code: 'custom', path: ['size'], message: `size ${p.size} is over maxSize ${p.maxSize}` });
  })
  .describe('Pods in an existing Kubernetes cluster: a Flux Operator MiniCluster (or gang-scheduled pods) joined to the lead broker.');

export type KubernetesParams = z.output<typeof kubernetesParams>;

export const KUBERNETES_DESCRIPTION =
  'Pods in an existing Kubernetes cluster, one namespace per burst: a Flux Operator MiniCluster (or PodGroup-gang-scheduled pods) whose brokers join the lead broker.';
