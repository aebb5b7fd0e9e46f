// The kubernetes plugin's generated documents against flux-operator's broker-join rules
// (reference §4), and its params: references only, never secret values.
import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/core/types.js';
import { expandHostlist } from '../../src/slurm/hostlist.js';
import { kubernetesPlugin } from '../../src/plugins/kubernetes/index.js';
import { namespaceFor } from '../../src/plugins/kubernetes/labels.js';
import { brokerToml, burstHostlist, burstNodes, leadHostlist, miniClusterManifest } from '../../src/plugins/kubernetes/minicluster.js';
import { burstNamespace } from '../../src/plugins/kubernetes/namespace.js';
import { kubernetesParams } from '../../src/plugins/kubernetes/params.js';
import { podGroupManifest, rankPod } from '../../src/plugins/kubernetes/podgroup.js';
import { overrideOf, overrideParams } from '../../src/sizing/overrides.js';

const lead = { address: '34.1.2.3', port: 30093, name: 'flux-sample', size: 4 };
const base = { lead, curveCert: { credential: 'CURVE' }, mungeKey: { file: '/etc/munge/munge.key' } };
const job = (nodes: number, fluxburst?: unknown): Job => ({ id: `j${nodes}`, name: 'j', nodes, tasks: nodes, command: ['hostname'], attributes: { system: { burstable: 1, ...(fluxburst ? { fluxburst } : {}) } } });

describe('hostlists and rank order (reference §4)', () => {
  it('the burst side lists the same hosts in the same rank order as the lead, rank 0 by its external address', () => {
    const clusters = [{ name: 'burst-0', size: 3 }];
    const leadSide = expandHostlist(leadHostlist({ name: 'flux-sample', maxSize: 4 }, clusters));
    const burstSide = expandHostlist(burstHostlist(lead, clusters));
    expect(burstHostlist(lead, clusters)).toBe('34.1.2.3,flux-sample-[1-3],burst-0-[0-2]');
    expect(leadSide).toEqual(['flux-sample-0', 'flux-sample-1', 'flux-sample-2', 'flux-sample-3', 'burst-0-0', 'burst-0-1', 'burst-0-2']);
    expect(burstSide.length).toBe(leadSide.length);
    expect(burstSide.slice(1)).toEqual(leadSide.slice(1));
    expect(burstSide[0]).toBe('34.1.2.3');
    expect(burstNodes(clusters[0]!)).toEqual(leadSide.slice(4));
  });

  it('a lead of size 1 contributes only its address', () => {
    expect(burstHostlist({ ...lead, size: 1 }, [{ name: 'burst-0', size: 1 }])).toBe('34.1.2.3,burst-0-0');
  });

  it('broker.toml: the lead is its own host entry with the external port; the rest is the remaining hostlist; curve cert from the mounted Secret', () => {
    const t = brokerToml({ namespace: 'ns1', cluster: { name: 'burst-0', size: 2 }, lead, port: 8050 });
    expect(t).toContain('curve_cert = "/etc/curve/curve.cert"');
    expect(t).toContain('default_port = 8050');
    expect(t).toContain('default_connect = "tcp://%h.flux-service.ns1.svc.cluster.local:%p"');
    expect(t).toContain('{ host = "34.1.2.3", bind = "tcp://eth0:30093", connect = "tcp://34.1.2.3:30093" }');
    expect(t).toContain('{ host = "flux-sample-[1-3],burst-0-[0-1]" }');
    expect(t).not.toMatch(/%!|MISSING/); // v1alpha2's own host block bug
  });
});

describe('MiniCluster (flux-framework.org/v1alpha2)', () => {
  const mc = miniClusterManifest({ name: 'burst-0', namespace: 'ns1', size: 3, tasks: 3, image: 'img', lead, labels: { 'fluxburst.io/burst-id': 'b' }, secrets: true, cpu: '2' }) as {
    apiVersion: string;
    spec: { size: number; maxSize: number; containers: { image: string; resources: unknown }[]; pod: { labels: Record<string, string> }; flux: Record<string, unknown> & { bursting: { leadBroker: unknown; clusters: unknown[] } } };
  };
  it('bursting.leadBroker carries address, name, size and port; clusters name this burst with its size', () => {
    expect(mc.apiVersion).toBe('flux-framework.org/v1alpha2');
    expect(mc.spec.flux.bursting.leadBroker).toEqual({ address: '34.1.2.3', name: 'flux-sample', size: 4, port: 30093 });
    expect(mc.spec.flux.bursting.clusters).toEqual([{ name: 'burst-0', size: 3 }]);
    expect(mc.spec.size).toBe(3);
    expect(mc.spec.maxSize).toBe(3);
  });
  it('the CURVE cert and munge key are Secret references, never values; pods carry the ownership labels', () => {
    expect(mc.spec.flux.curveCertSecret).toBe('curve-cert');
    expect(mc.spec.flux.mungeSecret).toBe('munge-key');
    expect(mc.spec.flux.curveCert).toBeUndefined();
    expect(mc.spec.pod.labels['fluxburst.io/burst-id']).toBe('b');
    expect(mc.spec.containers[0]!.resources).toEqual({ limits: { cpu: '2' }, requests: { cpu: '2' } });
    expect(String(mc.spec.flux.brokerConfig)).toContain('flux-sample-[1-3],burst-0-[0-2]');
  });
});

describe('pods mode', () => {
  it('PodGroup minMember is the burst size; each pod is in the group with its rank hostname', () => {
    expect(podGroupManifest({ name: 'burst-0', namespace: 'n', minMember: 4, labels: {} })).toMatchObject({ apiVersion: 'scheduling.x-k8s.io/v1alpha1', kind: 'PodGroup', spec: { minMember: 4 } });
    const p = rankPod({ cluster: { name: 'burst-0', size: 4 }, rank: 2, namespace: 'n', image: 'i', labels: {}, group: 'burst-0', schedulerName: 's', secrets: true });
    expect(p.metadata.labels['scheduling.x-k8s.io/pod-group']).toBe('burst-0');
    expect(p.spec).toMatchObject({ hostname: 'burst-0-2', subdomain: 'flux-service', schedulerName: 's' });
    expect(p.spec.volumes.map((v) => v.name)).toEqual(['broker-config', 'curve', 'munge']);
  });
});

describe('kubernetes params', () => {
  const parse = (v: unknown) => kubernetesParams.safeParse(v);
  const paths = (v: unknown) => (parse(v).error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
  it('defaults: port 8050, minicluster mode, cost 0', () => {
    const p = kubernetesParams.parse({ lead: { address: 'a', name: 'l', size: 2 }, curveCert: { credential: 'C' }, mungeKey: { credential: 'M' } });
    expect(p.lead!.port).toBe(8050);
    expect(p.mode).toBe('minicluster');
    expect(p.costPerNodeHour).toBe(0);
  });
  it('secrets are references only: inline certificate text or an unknown form is refused', () => {
    expect(paths({ ...base, curveCert: '#   ****  Generated by flux keygen\ncurve\n    public-key = "abc"' })).not.toEqual([]);
    expect(paths({ ...base, curveCert: { credential: 'metadata\ncurve\n public-key = "x"' } }).join()).toMatch(/curveCert.credential: .*reference/);
    expect(paths({ ...base, mungeKey: { value: 'c2VjcmV0' } })).not.toEqual([]);
    expect(paths({ ...base, curveCert: { secret: { namespace: 'flux', name: 'curve' } } })).toEqual([]);
  });
  it('joining a lead needs both references; lead.size must equal the lead maxSize', () => {
    expect(paths({ lead })).toEqual(expect.arrayContaining([expect.stringMatching(/^curveCert:/), expect.stringMatching(/^mungeKey:/)]));
    expect(paths({ ...base, lead: { ...lead, maxSize: 6 } }).join()).toMatch(/lead.size: .*maxSize/);
    expect(paths({ ...base, lead: { ...lead, maxSize: 4 } })).toEqual([]);
  });
  it('one cluster source; names are Kubernetes names; unknown keys are refused', () => {
    expect(paths({ inCluster: true, cluster: { server: 'http://x' } }).join()).toMatch(/cluster: give one of/);
    expect(paths({ namespace: 'Team_A' }).join()).toMatch(/namespace/);
    expect(paths({ bogus: 1 }).join()).toMatch(/bogus|Unrecognized/);
    expect(paths({ labels: { 'fluxburst.io/burst-id': 'x' } }).join()).toMatch(/Invalid key/);
  });
});

describe('estimate, shape, per-job overrides', () => {
  const p = kubernetesParams.parse({ costPerNodeHour: 0.5, maxSize: 8 });
  it('cost scales with the burst size; over maxSize is unfit', () => {
    expect(kubernetesPlugin.estimate([job(2), job(3)], p)).toEqual({ nodes: 3, costPerHour: 1.5, secondsToReady: 60 });
    expect(kubernetesPlugin.estimate([job(9)], p)).toEqual({ unfit: expect.stringMatching(/maxSize is 8/) });
    expect(kubernetesPlugin.shape!(job(1), kubernetesParams.parse({ costPerNodeHour: 3, maxPrice: 2 }))).toEqual({ unfit: expect.stringMatching(/maxPrice/) });
  });
  it("a job's namespace override is the burst's namespace; its labels and instance type reach the params", () => {
    const j = job(2, { namespace: 'team-a', labels: { project: 'p1' }, instanceType: 'n2-standard-8' });
    const merged = kubernetesParams.parse({ ...overrideParams(overrideOf(j)) });
    expect(burstNamespace(merged, 'burst-2n-abc')).toBe('team-a');
    expect(merged.labels).toEqual({ project: 'p1' });
    expect(kubernetesPlugin.shape!(j, merged)).toEqual({ shape: 'n2-standard-8', costPerNodeHour: 0 });
    expect(burstNamespace(kubernetesParams.parse({}), 'burst-2n-abc')).toBe('fluxburst-burst-2n-abc');
  });
  it('derived namespace names are valid DNS labels and stable', () => {
    const long = 'x'.repeat(80);
    expect(namespaceFor('fluxburst-', long)).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    expect(namespaceFor('fluxburst-', long)).toBe(namespaceFor('fluxburst-', long));
    expect(namespaceFor('fluxburst-', 'Big_Burst')).not.toBe(namespaceFor('fluxburst-', 'big-burst'));
  });
});
