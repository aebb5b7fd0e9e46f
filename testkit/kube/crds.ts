// The two CRDs the kubernetes plugin creates objects of, as apiextensions.k8s.io/v1
// CustomResourceDefinitions. Trimmed from the published schemas to the fields the plugin sets
// plus their `required` lists and types (flux-framework/flux-operator
// config/crd/bases/flux-framework.org_miniclusters.yaml, v1alpha2; kubernetes-sigs/scheduler-plugins
// manifests/crds/scheduling.x-k8s.io_podgroups.yaml, v1alpha1). Unknown fields are kept
// (x-kubernetes-preserve-unknown-fields) rather than pruned, so a typo is not silently dropped
// here where a real server would drop it: the unit tests check the generated documents instead.

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean' | 'number';
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  minimum?: number;
  enum?: unknown[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
}

export interface Crd {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string };
    scope: 'Namespaced' | 'Cluster';
    versions: { name: string; served: boolean; storage: boolean; subresources?: { status?: Record<string, never> }; schema: { openAPIV3Schema: Schema } }[];
  };
}

const strMap: Schema = { type: 'object', additionalProperties: { type: 'string' } };

export const miniClusterCrd: Crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'miniclusters.flux-framework.org' },
  spec: {
    group: 'flux-framework.org',
    names: { kind: 'MiniCluster', listKind: 'MiniClusterList', plural: 'miniclusters', singular: 'minicluster' },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1alpha2',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object' },
              spec: {
                type: 'object',
                required: ['containers'],
                'x-kubernetes-preserve-unknown-fields': true,
                properties: {
                  size: { type: 'integer', minimum: 1 },
                  maxSize: { type: 'integer', minimum: 1 },
                  tasks: { type: 'integer', minimum: 1 },
                  interactive: { type: 'boolean' },
                  containers: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['image'],
                      'x-kubernetes-preserve-unknown-fields': true,
                      properties: {
                        image: { type: 'string' },
                        name: { type: 'string' },
                        command: { type: 'string' },
                        resources: { type: 'object', properties: { limits: { type: 'object', additionalProperties: { 'x-kubernetes-int-or-string': true } }, requests: { type: 'object', additionalProperties: { 'x-kubernetes-int-or-string': true } } } },
                      },
                    },
                  },
                  pod: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { labels: strMap, annotations: strMap, nodeSelector: strMap } },
                  flux: {
                    type: 'object',
                    'x-kubernetes-preserve-unknown-fields': true,
                    properties: {
                      brokerConfig: { type: 'string' },
                      curveCert: { type: 'string' },
                      curveCertSecret: { type: 'string' },
                      mungeSecret: { type: 'string' },
                      connectTimeout: { type: 'string' },
                      bursting: {
                        type: 'object',
                        properties: {
                          hostlist: { type: 'string' },
                          leadBroker: {
                            type: 'object',
                            required: ['address', 'name', 'size'],
                            properties: { address: { type: 'string' }, name: { type: 'string' }, size: { type: 'integer' }, port: { type: 'integer' } },
                          },
                          clusters: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, size: { type: 'integer' } } } },
                        },
                      },
                    },
                  },
                },
              },
              status: {
                type: 'object',
                'x-kubernetes-preserve-unknown-fields': true,
                properties: { size: { type: 'integer' }, maximumSize: { type: 'integer' }, jobid: { type: 'string' }, conditions: { type: 'array', items: { type: 'object', required: ['type', 'status'], 'x-kubernetes-preserve-unknown-fields': true } } },
              },
            },
          },
        },
      },
    ],
  },
};

export const podGroupCrd: Crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'podgroups.scheduling.x-k8s.io' },
  spec: {
    group: 'scheduling.x-k8s.io',
    names: { kind: 'PodGroup', listKind: 'PodGroupList', plural: 'podgroups', singular: 'podgroup' },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1alpha1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object' },
              spec: {
                type: 'object',
                properties: {
                  minMember: { type: 'integer', minimum: 1 },
                  minResources: { type: 'object', additionalProperties: { 'x-kubernetes-int-or-string': true } },
                  scheduleTimeoutSeconds: { type: 'integer' },
                },
              },
              status: {
                type: 'object',
                'x-kubernetes-preserve-unknown-fields': true,
                properties: { phase: { type: 'string' }, running: { type: 'integer' }, succeeded: { type: 'integer' }, failed: { type: 'integer' } },
              },
            },
          },
        },
      },
    ],
  },
};

/** Field errors of `v` against `s`, as `path: message` (what a 422 Invalid lists). */
export function validate(s: Schema, v: unknown, path = ''): string[] {
  if (v === undefined || v === null) return [];
  const out: string[] = [];
  const here = path || '<root>';
  if (s['x-kubernetes-int-or-string']) {
    if (typeof v !== 'string' && !Number.isInteger(v)) out.push(`${here}: Invalid value: must be an integer or a string`);
    return out;
  }
  switch (s.type) {
    case 'object': {
      if (typeof v !== 'object' || Array.isArray(v)) return [`${here}: Invalid value: must be of type object`];
      const o = v as Record<string, unknown>;
      for (const r of s.required ?? []) if (o[r] === undefined) out.push(`${path ? `${path}.` : ''}${r}: Required value`);
      for (const [k, x] of Object.entries(o)) {
        const sub = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
        if (sub) out.push(...validate(sub, x, path ? `${path}.${k}` : k));
      }
      break;
    }
    case 'array':
      if (!Array.isArray(v)) return [`${here}: Invalid value: must be of type array`];
      if (s.items) v.forEach((x, i) => out.push(...validate(s.items!, x, `${path}[${i}]`)));
      break;
    case 'integer':
      if (!Number.isInteger(v)) out.push(`${here}: Invalid value: must be of type integer`);
      else if (s.minimum !== undefined && (v as number) < s.minimum) out.push(`${here}: Invalid value: should be greater than or equal to ${s.minimum}`);
      break;
    case 'string':
      if (typeof v !== 'string') out.push(`${here}: Invalid value: must be of type string`);
      break;
    case 'boolean':
      if (typeof v !== 'boolean') out.push(`${here}: Invalid value: must be of type boolean`);
      break;
  }
  return out;
}
