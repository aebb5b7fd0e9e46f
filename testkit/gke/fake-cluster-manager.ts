// A gRPC fake of google.container.v1.ClusterManager, served from the very protos that
// @google-cloud/container ships (plus google-gax's google/api, google/protobuf, google/rpc and
// google/type includes), so the real ClusterManagerClient talks to it unchanged. State is in
// memory; operations go PENDING → RUNNING → DONE one tick apart, and only at DONE does their
// effect land (a cluster becomes RUNNING with an endpoint, a deleted one disappears), as on GKE.
// See README.md for what is implemented and how faults are injected.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);
const CONTAINER_PROTOS = join(dirname(require.resolve('@google-cloud/container/package.json')), 'build', 'protos');
// google-gax's main is build/src/index.js; its protos sit beside src.
const GAX_PROTOS = join(dirname(require.resolve('google-gax')), '..', 'protos');

export type Method =
  | 'CreateCluster'
  | 'GetCluster'
  | 'ListClusters'
  | 'DeleteCluster'
  | 'CreateNodePool'
  | 'GetNodePool'
  | 'ListNodePools'
  | 'DeleteNodePool'
  | 'GetOperation'
  | 'ListOperations';

export type OpStatus = 'PENDING' | 'RUNNING' | 'DONE';

export interface FakeNodePool {
  name: string;
  selfLink: string;
  status: 'PROVISIONING' | 'RUNNING' | 'STOPPING' | 'ERROR';
  initialNodeCount: number;
  config: { machineType: string; spot: boolean; labels: Record<string, string>; resourceLabels: Record<string, string>; metadata: Record<string, string> };
}

export interface FakeCluster {
  name: string;
  /** projects/P/locations/L/clusters/N */
  path: string;
  project: string;
  location: string;
  description: string;
  status: 'PROVISIONING' | 'RUNNING' | 'STOPPING' | 'ERROR';
  resourceLabels: Record<string, string>;
  nodePools: FakeNodePool[];
  endpoint: string;
  caCertificate: string;
}

export interface FakeOperation {
  name: string;
  /** projects/P/locations/L/operations/operation-N */
  path: string;
  location: string;
  operationType: 'CREATE_CLUSTER' | 'DELETE_CLUSTER' | 'CREATE_NODE_POOL' | 'DELETE_NODE_POOL';
  targetLink: string;
  createdAt: number;
  tickMs: number;
  error?: { code: number; message: string };
  /** What to do once DONE; run exactly once. */
  effect: (failed: boolean) => void;
  applied: boolean;
  /** Every status a GetOperation/ListOperations answered with, in order (to observe the progression). */
  seen: OpStatus[];
}

interface CallFault {
  method: Method;
  code: grpc.status;
  message: string;
  /** Fail the nth matching call from now (1 = the next one). */
  nth: number;
  times: number;
  /** Let the call take effect, then answer with the error (the answer was "lost"). */
  after: boolean;
  count: number;
}

export interface FakeOptions {
  /** Time between PENDING → RUNNING → DONE. */
  tickMs?: number;
  /** Endpoint (host[:port], no scheme) and base64 PEM CA that created clusters get; e.g. a fake kube-apiserver's. */
  kube?: { endpoint: string; caCertificate: string };
}

const FAKE_CA = Buffer.from('-----BEGIN CERTIFICATE-----\nZmFrZS1na2UtY2E=\n-----END CERTIFICATE-----\n').toString('base64');
const NAME_RE = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;

class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

export class FakeClusterManager {
  private server = new grpc.Server();
  private readonly clusterMap = new Map<string, FakeCluster>();
  private readonly ops = new Map<string, FakeOperation>();
  private faults: CallFault[] = [];
  private opFaults: { method: Method; code: number; message: string }[] = [];
  private opSeq = 0;
  private ipSeq = 10;
  /** Calls received, per method. */
  readonly calls: Record<string, number> = {};
  /** Calls that took effect (created or started deleting something), per method. */
  readonly effects: Record<string, number> = {};
  tickMs: number;
  kube?: { endpoint: string; caCertificate: string };
  port = 0;

  private constructor(opts: FakeOptions) {
    this.tickMs = opts.tickMs ?? 100;
    if (opts.kube) this.kube = opts.kube;
  }

  static async start(opts: FakeOptions = {}): Promise<FakeClusterManager> {
    const f = new FakeClusterManager(opts);
    await f.listen();
    return f;
  }

  /** `http://127.0.0.1:<port>`: the plugin's apiEndpoint for a plaintext fake. */
  get apiEndpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private async listen(): Promise<void> {
    const def = protoLoader.loadSync('google/container/v1/cluster_service.proto', {
      includeDirs: [CONTAINER_PROTOS, GAX_PROTOS],
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { google: { container: { v1: { ClusterManager: { service: grpc.ServiceDefinition } } } } };
    const handlers: Record<Method, (req: any) => unknown> = {
      CreateCluster: (r) => this.createCluster(r),
      GetCluster: (r) => this.view(this.cluster(r.name)),
      ListClusters: (r) => this.listClusters(r.parent),
      DeleteCluster: (r) => this.deleteCluster(r.name),
      CreateNodePool: (r) => this.createNodePool(r),
      GetNodePool: (r) => this.poolView(this.pool(r.name)),
      ListNodePools: (r) => ({ nodePools: this.cluster(r.parent).nodePools.map((p) => this.poolView(p)) }),
      DeleteNodePool: (r) => this.deleteNodePool(r.name),
      GetOperation: (r) => this.opView(this.op(r.name)),
      ListOperations: (r) => this.listOperations(r.parent),
    };
    const impl: grpc.UntypedServiceImplementation = {};
    // gRPC method names in the service definition are the proto names (CreateCluster), with
    // originalName camelCase aliases; every unimplemented one answers UNIMPLEMENTED by default.
    for (const [method, fn] of Object.entries(handlers) as [Method, (req: any) => unknown][]) {
      impl[method] = (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
        this.calls[method] = (this.calls[method] ?? 0) + 1;
        this.advance();
        const fault = this.takeFault(method);
        try {
          if (fault && !fault.after) throw new RpcError(fault.code, fault.message);
          const out = fn(call.request);
          if (fault) throw new RpcError(fault.code, fault.message);
          cb(null, out);
        } catch (e) {
          if (e instanceof RpcError) cb({ code: e.code, details: e.message, message: e.message } as grpc.ServiceError, null);
          else cb({ code: grpc.status.INTERNAL, details: String((e as Error)?.message ?? e) } as grpc.ServiceError, null);
        }
      };
    }
    this.server.addService(pkg.google.container.v1.ClusterManager.service, impl);
    this.port = await new Promise<number>((res, rej) => this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) => (e ? rej(e) : res(port))));
  }

  async stop(): Promise<void> {
    await new Promise<void>((res) => this.server.tryShutdown(() => res()));
  }

  // -------------------------------------------------------------------------------------------
  // Control API (in-process)

  /** Answer the `nth` next call of `method` (default the next one) with a gRPC error, `times` times in a row. */
  failCall(method: Method, code: grpc.status, opts: { nth?: number; times?: number; after?: boolean; message?: string } = {}): void {
    this.faults.push({ method, code, message: opts.message ?? `injected ${grpc.status[code]} on ${method}`, nth: opts.nth ?? 1, times: opts.times ?? 1, after: opts.after ?? false, count: 0 });
  }

  /** The next operation started by `method` ends DONE with this error (a create leaves its cluster/pool in ERROR, as GKE does). */
  failOperation(method: 'CreateCluster' | 'CreateNodePool' | 'DeleteCluster' | 'DeleteNodePool', code: number, message = `injected operation failure (${code})`): void {
    this.opFaults.push({ method, code, message });
  }

  clearFaults(): void {
    this.faults = [];
    this.opFaults = [];
  }

  /** A cluster that already exists (RUNNING): someone else's, or one to add node pools to. */
  addCluster(project: string, location: string, name: string, resourceLabels: Record<string, string> = {}, pools: Array<{ name: string; labels?: Record<string, string> }> = [{ name: 'default-pool' }]): FakeCluster {
    const c = this.newCluster(project, location, { name, resourceLabels, description: 'made by the test', nodePools: [] });
    c.status = 'RUNNING';
    for (const p of pools) c.nodePools.push({ ...this.newPool(c, { name: p.name, initialNodeCount: 1, config: { machineType: 'e2-standard-4', spot: false, labels: {}, resourceLabels: p.labels ?? {}, metadata: {} } }), status: 'RUNNING' });
    this.clusterMap.set(c.path, c);
    return c;
  }

  /** Clusters that exist (any status but deleted). */
  clusters(): FakeCluster[] {
    this.advance();
    return [...this.clusterMap.values()];
  }

  cluster(path: string): FakeCluster {
    const c = this.clusterMap.get(path);
    if (!c) throw new RpcError(grpc.status.NOT_FOUND, `Not found: ${path}.`);
    return c;
  }

  operations(): FakeOperation[] {
    this.advance();
    return [...this.ops.values()];
  }

  statusOf(op: FakeOperation, now = Date.now()): OpStatus {
    const k = Math.floor((now - op.createdAt) / Math.max(1, op.tickMs));
    // A real operation runs for minutes, so a client polling it sees it RUNNING; here ticks are
    // short, and a client slowed by a loaded machine could miss that state: one being polled
    // shows RUNNING once before DONE.
    if (k >= 2 && op.seen.length > 0 && !op.seen.includes('RUNNING')) return 'RUNNING';
    return k <= 0 ? 'PENDING' : k === 1 ? 'RUNNING' : 'DONE';
  }

  // -------------------------------------------------------------------------------------------

  private takeFault(method: Method): CallFault | undefined {
    for (const f of this.faults) {
      if (f.method !== method || f.times <= 0) continue;
      f.count++;
      if (f.count >= f.nth) {
        f.times--;
        return f;
      }
      return undefined;
    }
    return undefined;
  }

  /** Apply the effect of every operation that reached DONE. */
  private advance(now = Date.now()): void {
    for (const op of this.ops.values()) {
      if (op.applied || this.statusOf(op, now) !== 'DONE') continue;
      op.applied = true;
      op.effect(op.error !== undefined);
    }
  }

  private parent(s: string): { project: string; location: string } {
    const m = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(s ?? '');
    if (!m) throw new RpcError(grpc.status.INVALID_ARGUMENT, `parent must be projects/*/locations/*, got "${s}"`);
    return { project: m[1]!, location: m[2]! };
  }

  private newCluster(project: string, location: string, c: { name: string; resourceLabels: Record<string, string>; description: string; nodePools: unknown[] }): FakeCluster {
    const path = `projects/${project}/locations/${location}/clusters/${c.name}`;
    return {
      name: c.name,
      path,
      project,
      location,
      description: c.description,
      status: 'PROVISIONING',
      resourceLabels: { ...c.resourceLabels },
      nodePools: [],
      endpoint: this.kube?.endpoint ?? `10.0.0.${this.ipSeq++}`,
      caCertificate: this.kube?.caCertificate ?? FAKE_CA,
    };
  }

  private newPool(c: FakeCluster, p: any): FakeNodePool {
    const config = p.config ?? {};
    return {
      name: p.name,
      selfLink: `${c.path}/nodePools/${p.name}`,
      status: 'PROVISIONING',
      initialNodeCount: p.initialNodeCount ?? 0,
      config: { machineType: config.machineType ?? 'e2-medium', spot: Boolean(config.spot), labels: { ...(config.labels ?? {}) }, resourceLabels: { ...(config.resourceLabels ?? {}) }, metadata: { ...(config.metadata ?? {}) } },
    };
  }

  private startOp(method: Method, project: string, location: string, type: FakeOperation['operationType'], targetLink: string, effect: FakeOperation['effect']): FakeOperation {
    const id = `operation-${Date.now()}-${++this.opSeq}`;
    const i = this.opFaults.findIndex((f) => f.method === method);
    const fault = i >= 0 ? this.opFaults.splice(i, 1)[0] : undefined;
    const op: FakeOperation = {
      name: id,
      path: `projects/${project}/locations/${location}/operations/${id}`,
      location,
      operationType: type,
      targetLink,
      createdAt: Date.now(),
      tickMs: this.tickMs,
      ...(fault ? { error: { code: fault.code, message: fault.message } } : {}),
      effect,
      applied: false,
      seen: [],
    };
    this.ops.set(op.path, op);
    this.effects[method] = (this.effects[method] ?? 0) + 1;
    return op;
  }

  /** One operation at a time per cluster, like GKE. */
  private busy(clusterPath: string): FakeOperation | undefined {
    const now = Date.now();
    return [...this.ops.values()].find((o) => (o.targetLink === clusterPath || o.targetLink.startsWith(`${clusterPath}/`)) && this.statusOf(o, now) !== 'DONE');
  }

  private createCluster(r: any): unknown {
    const { project, location } = this.parent(r.parent);
    const spec = r.cluster ?? {};
    if (!NAME_RE.test(spec.name ?? '')) throw new RpcError(grpc.status.INVALID_ARGUMENT, `Invalid cluster name "${spec.name}": 1-40 lowercase letters, digits and '-', starting with a letter.`);
    const path = `projects/${project}/locations/${location}/clusters/${spec.name}`;
    if (this.clusterMap.has(path)) throw new RpcError(grpc.status.ALREADY_EXISTS, `Already exists: ${path}.`);
    const c = this.newCluster(project, location, { name: spec.name, resourceLabels: spec.resourceLabels ?? {}, description: spec.description ?? '', nodePools: [] });
    for (const p of spec.nodePools ?? []) c.nodePools.push(this.newPool(c, p));
    this.clusterMap.set(path, c);
    const op = this.startOp('CreateCluster', project, location, 'CREATE_CLUSTER', path, (failed) => {
      c.status = failed ? 'ERROR' : 'RUNNING';
      for (const p of c.nodePools) p.status = failed ? 'ERROR' : 'RUNNING';
    });
    return this.opView(op);
  }

  private deleteCluster(path: string): unknown {
    const c = this.cluster(path);
    const b = this.busy(path);
    if (b) throw new RpcError(grpc.status.FAILED_PRECONDITION, `Cluster ${c.name} is running incompatible operation ${b.path}.`);
    c.status = 'STOPPING';
    const op = this.startOp('DeleteCluster', c.project, c.location, 'DELETE_CLUSTER', path, (failed) => {
      if (failed) c.status = 'ERROR';
      else this.clusterMap.delete(path);
    });
    return this.opView(op);
  }

  private pool(path: string): FakeNodePool {
    const m = /^(projects\/[^/]+\/locations\/[^/]+\/clusters\/[^/]+)\/nodePools\/([^/]+)$/.exec(path ?? '');
    if (!m) throw new RpcError(grpc.status.INVALID_ARGUMENT, `name must be projects/*/locations/*/clusters/*/nodePools/*, got "${path}"`);
    const p = this.cluster(m[1]!).nodePools.find((x) => x.name === m[2]);
    if (!p) throw new RpcError(grpc.status.NOT_FOUND, `Not found: ${path}.`);
    return p;
  }

  private createNodePool(r: any): unknown {
    const c = this.cluster(r.parent);
    const spec = r.nodePool ?? {};
    if (!NAME_RE.test(spec.name ?? '')) throw new RpcError(grpc.status.INVALID_ARGUMENT, `Invalid node pool name "${spec.name}".`);
    if (c.nodePools.some((p) => p.name === spec.name)) throw new RpcError(grpc.status.ALREADY_EXISTS, `Already exists: ${c.path}/nodePools/${spec.name}.`);
    const b = this.busy(c.path);
    if (b) throw new RpcError(grpc.status.FAILED_PRECONDITION, `Cluster ${c.name} is running incompatible operation ${b.path}.`);
    const p = this.newPool(c, spec);
    c.nodePools.push(p);
    const op = this.startOp('CreateNodePool', c.project, c.location, 'CREATE_NODE_POOL', p.selfLink, (failed) => {
      p.status = failed ? 'ERROR' : 'RUNNING';
    });
    return this.opView(op);
  }

  private deleteNodePool(path: string): unknown {
    const p = this.pool(path);
    const clusterPath = path.replace(/\/nodePools\/[^/]+$/, '');
    const c = this.cluster(clusterPath);
    const b = this.busy(clusterPath);
    if (b) throw new RpcError(grpc.status.FAILED_PRECONDITION, `Cluster ${c.name} is running incompatible operation ${b.path}.`);
    p.status = 'STOPPING';
    const op = this.startOp('DeleteNodePool', c.project, c.location, 'DELETE_NODE_POOL', path, (failed) => {
      if (failed) p.status = 'ERROR';
      else c.nodePools = c.nodePools.filter((x) => x !== p);
    });
    return this.opView(op);
  }

  private op(path: string): FakeOperation {
    const o = this.ops.get(path);
    if (!o) throw new RpcError(grpc.status.NOT_FOUND, `Not found: ${path}.`);
    return o;
  }

  private listClusters(parent: string): unknown {
    const { project, location } = this.parent(parent);
    return { clusters: [...this.clusterMap.values()].filter((c) => c.project === project && (location === '-' || c.location === location)).map((c) => this.view(c)), missingZones: [] };
  }

  private listOperations(parent: string): unknown {
    const { project, location } = this.parent(parent);
    const prefix = `projects/${project}/locations/`;
    return { operations: [...this.ops.values()].filter((o) => o.path.startsWith(prefix) && (location === '-' || o.location === location)).map((o) => this.opView(o)), missingZones: [] };
  }

  private view(c: FakeCluster): unknown {
    return {
      name: c.name,
      description: c.description,
      selfLink: c.path,
      location: c.location,
      zone: c.location,
      status: c.status,
      resourceLabels: c.resourceLabels,
      nodePools: c.nodePools.map((p) => this.poolView(p)),
      // No endpoint until the control plane is up, as on GKE.
      endpoint: c.status === 'PROVISIONING' ? '' : c.endpoint,
      masterAuth: { clusterCaCertificate: c.status === 'PROVISIONING' ? '' : c.caCertificate },
      currentNodeCount: c.nodePools.reduce((n, p) => n + p.initialNodeCount, 0),
    };
  }

  private poolView(p: FakeNodePool): unknown {
    return { name: p.name, selfLink: p.selfLink, status: p.status, initialNodeCount: p.initialNodeCount, config: p.config };
  }

  private opView(o: FakeOperation): unknown {
    const status = this.statusOf(o);
    o.seen.push(status);
    return {
      name: o.name,
      selfLink: o.path,
      zone: o.location,
      location: o.location,
      operationType: o.operationType,
      status,
      targetLink: o.targetLink,
      startTime: new Date(o.createdAt).toISOString(),
      ...(status === 'DONE' ? { endTime: new Date(o.createdAt + 2 * o.tickMs).toISOString() } : {}),
      ...(status === 'DONE' && o.error ? { error: { code: o.error.code, message: o.error.message, details: [] }, statusMessage: o.error.message } : {}),
    };
  }
}
