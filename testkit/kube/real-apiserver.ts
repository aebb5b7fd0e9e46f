// A REAL kube-apiserver (built by scripts/build-kube-apiserver.sh into .tools/bin) on Debian's
// etcd, both on loopback ports, for the kubernetes tests that should see what a real server
// answers: its validation, admission (ValidatingAdmissionPolicy), namespace lifecycle, CRD
// schemas, status subresources and watch semantics.
//
// Only the API server runs: no kube-controller-manager, no scheduler, no kubelet, no Flux
// Operator. What those would do, the test plays:
//   - the namespace controller: `startNamespaceController` finalizes deleted namespaces (deletes
//     their contents, then PUT .../finalize with spec.finalizers=[]); without it a deleted
//     namespace stays Terminating forever;
//   - the kubelet: `markPodsReady` binds pods to a Node and sets them Running/Ready through the
//     pods/status subresource; the namespace controller force-deletes (grace 0) pods left
//     Terminating, as a kubelet would confirm;
//   - the Flux Operator: `operatorPods` creates the rank pods a MiniCluster implies.
// No service accounts are made (no controller), so the ServiceAccount admission plugin is off.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../src/temporal/ports.js';
import { miniClusterCrd, podGroupCrd } from './crds.js';

export const KUBE_APISERVER = resolve(import.meta.dirname, '../../.tools/bin/kube-apiserver');
export const ETCD = process.env.ETCD_BIN ?? '/usr/bin/etcd';

/** Whether the binaries are here (scripts/setup.sh --test builds/installs them). */
export const realApiserverAvailable = () => existsSync(KUBE_APISERVER) && existsSync(ETCD);

export interface KubeObj {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; deletionTimestamp?: string; resourceVersion?: string; [k: string]: unknown };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface RealApiserver {
  url: string;
  token: string;
  /** A raw request as the test's controllers make them; resolves {code, body} (never throws on HTTP errors). */
  req(method: string, path: string, body?: unknown, contentType?: string): Promise<{ code: number; body: any }>;
  stop(): Promise<void>;
  /** Where etcd's and the apiserver's output went (for failures). */
  logs(): string;
}

export async function startRealApiserver(): Promise<RealApiserver> {
  if (!realApiserverAvailable()) throw new Error(`no ${existsSync(KUBE_APISERVER) ? ETCD : KUBE_APISERVER}: run scripts/setup.sh --test (it installs etcd-server and runs scripts/build-kube-apiserver.sh)`);
  const dir = mkdtempSync(join(tmpdir(), 'fb-kas-'));
  const token = `fb-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  writeFileSync(join(dir, 'tokens.csv'), `${token},fluxburst-test,fluxburst-test,"system:masters"\n`);
  execFileSync('openssl', ['genrsa', '-out', join(dir, 'sa.key'), '2048'], { stdio: 'ignore' });
  execFileSync('openssl', ['rsa', '-in', join(dir, 'sa.key'), '-pubout', '-out', join(dir, 'sa.pub')], { stdio: 'ignore' });
  const [etcdClient, etcdPeer, securePort] = [await freePort(), await freePort(), await freePort()];
  const out: string[] = [];
  const keep = (what: string, c: ChildProcess) => {
    const add = (b: Buffer) => {
      out.push(`[${what}] ${b.toString()}`);
      if (out.length > 400) out.splice(0, out.length - 400);
    };
    c.stdout?.on('data', add);
    c.stderr?.on('data', add);
  };
  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  const etcd = spawn(ETCD, ['--name', 'fb', '--data-dir', join(dir, 'etcd'), '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl, '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-cluster', `fb=http://127.0.0.1:${etcdPeer}`, '--unsafe-no-fsync', '--logger', 'zap', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  keep('etcd', etcd);
  // prettier-ignore
  const kas = spawn(KUBE_APISERVER, [
    `--etcd-servers=${etcdUrl}`, `--secure-port=${securePort}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1',
    `--cert-dir=${join(dir, 'certs')}`, `--token-auth-file=${join(dir, 'tokens.csv')}`, '--authorization-mode=AlwaysAllow',
    '--service-account-issuer=https://kubernetes.default.svc', `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`, '--service-cluster-ip-range=10.0.0.0/24',
    '--disable-admission-plugins=ServiceAccount', '--enable-priority-and-fairness=false', '--watch-cache=true', '--v=0',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  keep('kube-apiserver', kas);
  const url = `https://127.0.0.1:${securePort}`;

  const req: RealApiserver['req'] = (method, path, body, contentType = 'application/json') =>
    new Promise((res, rej) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const r = request(`${url}${path}`, { method, rejectUnauthorized: false, headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(data ? { 'content-type': contentType, 'content-length': Buffer.byteLength(data) } : {}) } }, (m) => {
        const chunks: Buffer[] = [];
        m.on('data', (c: Buffer) => chunks.push(c));
        m.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* plain text (readyz) */
          }
          res({ code: m.statusCode ?? 0, body: parsed });
        });
      });
      r.on('error', rej);
      r.setTimeout(10_000, () => r.destroy(new Error(`${method} ${path}: timeout`)));
      r.end(data);
    });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const c of [kas, etcd]) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const logs = () => out.join('');

  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (kas.exitCode !== null || etcd.exitCode !== null) throw new Error('kube-apiserver or etcd exited');
      const r = await req('GET', '/readyz').catch(() => undefined);
      if (r?.code === 200) break;
      if (Date.now() > deadline) throw new Error(`kube-apiserver not ready after 60 s: ${r ? `${r.code} ${String(r.body).slice(-800)}` : 'no answer'}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await installCrds({ req });
  } catch (e) {
    const tail = logs().slice(-4000);
    await stop();
    throw new Error(`${(e as Error).message}\n${tail}`);
  }
  return { url, token, req, stop, logs };
}

/** Create the MiniCluster and PodGroup CRDs and wait until both are Established (served). */
async function installCrds(k: Pick<RealApiserver, 'req'>) {
  for (const crd of [miniClusterCrd, podGroupCrd]) {
    const r = await k.req('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    if (r.code !== 201 && r.code !== 409) throw new Error(`CRD ${crd.metadata.name}: ${r.code} ${JSON.stringify(r.body)}`);
  }
  const deadline = Date.now() + 30_000;
  for (const crd of [miniClusterCrd, podGroupCrd]) {
    for (;;) {
      const r = await k.req('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
      const conds = (r.body?.status?.conditions ?? []) as { type: string; status: string }[];
      if (conds.some((c) => c.type === 'Established' && c.status === 'True')) {
        // Established is set a moment before discovery and the REST handler serve the kind.
        const v = crd.spec.versions[0]!.name;
        const l = await k.req('GET', `/apis/${crd.spec.group}/${v}/${crd.spec.names.plural}`);
        if (l.code === 200) break;
      }
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established: ${JSON.stringify(r.body?.status)}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }
}

/** What the namespace controller would delete before finalizing (everything the plugin makes). */
const NAMESPACED = ['/api/v1/pods', '/api/v1/secrets', '/api/v1/configmaps', '/api/v1/services', '/apis/flux-framework.org/v1alpha2/miniclusters', '/apis/scheduling.x-k8s.io/v1alpha1/podgroups'];
const inNs = (collection: string, ns: string) => collection.replace(/\/(pods|secrets|configmaps|services|miniclusters|podgroups)$/, `/namespaces/${ns}/$1`);

/**
 * Plays kube-controller-manager's namespace controller (and the kubelet's final word on deleted
 * pods): every `everyMs`, for each namespace with a deletionTimestamp, delete its contents
 * (pods with grace 0) and then finalize it (PUT .../finalize with spec.finalizers=[]), after which
 * the apiserver removes it. Also force-deletes pods left Terminating anywhere. Returns stop().
 */
export function startNamespaceController(k: Pick<RealApiserver, 'req'>, everyMs = 200): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const pods = await k.req('GET', '/api/v1/pods');
        for (const p of (pods.body?.items ?? []) as KubeObj[]) {
          if (p.metadata.deletionTimestamp) await k.req('DELETE', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
        }
        const nss = await k.req('GET', '/api/v1/namespaces');
        for (const ns of (nss.body?.items ?? []) as KubeObj[]) {
          if (!ns.metadata.deletionTimestamp) continue;
          const name = ns.metadata.name;
          for (const c of NAMESPACED) await k.req('DELETE', `${inNs(c, name)}?gracePeriodSeconds=0`);
          const left = await Promise.all(NAMESPACED.map(async (c) => ((await k.req('GET', inNs(c, name))).body?.items ?? []).length as number));
          if (left.some((n) => n > 0)) continue;
          await k.req('PUT', `/api/v1/namespaces/${name}/finalize`, { ...ns, spec: { finalizers: [] } });
        }
      } catch {
        /* the server is stopping, or a race: next round */
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

/** Plays the Flux Operator: the rank pods of each MiniCluster in `ns` (hostname <name>-<i>, its spec.pod.labels), as its indexed Job would. */
export async function operatorPods(k: Pick<RealApiserver, 'req'>, ns: string): Promise<string[]> {
  const made: string[] = [];
  const mcs = await k.req('GET', `/apis/flux-framework.org/v1alpha2/namespaces/${ns}/miniclusters`);
  for (const mc of (mcs.body?.items ?? []) as KubeObj[]) {
    const spec = mc.spec as { size?: number; pod?: { labels?: Record<string, string> }; containers?: { image: string }[] };
    for (let i = 0; i < Number(spec.size ?? 1); i++) {
      const host = `${mc.metadata.name}-${i}`;
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${host}-${Math.random().toString(36).slice(2, 7)}`, labels: { ...(spec.pod?.labels ?? {}), 'job-name': mc.metadata.name, 'job-index': String(i) } },
        spec: { hostname: host, subdomain: 'flux-service', containers: [{ name: 'flux-sample', image: spec.containers?.[0]?.image ?? 'busybox' }] },
      };
      const r = await k.req('POST', `/api/v1/namespaces/${ns}/pods`, pod);
      if (r.code !== 201) throw new Error(`operator pod ${host}: ${r.code} ${JSON.stringify(r.body)}`);
      made.push(pod.metadata.name);
    }
  }
  return made;
}

/** Plays scheduler + kubelet: bind every pod of `ns` to `node` (made if missing) and set it Running/Ready via pods/status. */
export async function markPodsReady(k: Pick<RealApiserver, 'req'>, ns: string, node = 'real-node-0'): Promise<void> {
  const n = await k.req('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: node } });
  if (n.code !== 201 && n.code !== 409) throw new Error(`node ${node}: ${n.code} ${JSON.stringify(n.body)}`);
  const pods = await k.req('GET', `/api/v1/namespaces/${ns}/pods`);
  for (const p of (pods.body?.items ?? []) as KubeObj[]) {
    const name = p.metadata.name;
    if (!p.spec?.nodeName) {
      const b = await k.req('POST', `/api/v1/namespaces/${ns}/pods/${name}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: node } });
      if (b.code !== 201) throw new Error(`bind ${name}: ${b.code} ${JSON.stringify(b.body)}`);
    }
    const now = new Date().toISOString();
    const s = await k.req(
      'PATCH',
      `/api/v1/namespaces/${ns}/pods/${name}/status`,
      { status: { phase: 'Running', podIP: '10.1.0.1', startTime: now, conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now }, { type: 'Ready', status: 'True', lastTransitionTime: now }] } },
      'application/merge-patch+json',
    );
    if (s.code !== 200) throw new Error(`status ${name}: ${s.code} ${JSON.stringify(s.body)}`);
  }
}
