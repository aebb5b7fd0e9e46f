// A fake kube-apiserver for tests: the REST protocol @kubernetes/client-node speaks, over plain
// HTTP, backed by a map. It is not Kubernetes (see README.md for what it implements; the happy
// paths run on a real kube-apiserver, real-apiserver.ts, and this fake keeps the faults a real
// server cannot give on demand). Objects get uid, resourceVersion (one global counter, like etcd's
// revision), creationTimestamp and metadata.generation; errors are Status objects; lists honour
// labelSelector/fieldSelector; `?watch=true` streams newline-delimited {type, object} events
// from a resourceVersion; deleting a namespace leaves it Terminating for a while, then removes
// it and everything in it (namespace finalization).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Crd, miniClusterCrd, podGroupCrd, validate } from './crds.js';

type Obj = { apiVersion?: string; kind?: string; metadata: Meta; spec?: Record<string, unknown>; status?: Record<string, unknown>; [k: string]: unknown };
interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [k: string]: unknown;
}

interface Kind {
  group: string; // '' for core
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  statusSubresource: boolean;
  crd?: Crd;
}

const CORE: Kind[] = [
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, statusSubresource: true },
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false, statusSubresource: true },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, statusSubresource: true },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true, statusSubresource: false },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true, statusSubresource: false },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true, statusSubresource: true },
];

export interface Fault {
  verb: 'create' | 'delete' | 'get' | 'list' | 'update';
  plural: string;
  /** Fail the nth matching request from now (1 = the next); default 1. */
  nth?: number;
  /** How many consecutive matching requests fail from the nth on; default 1. */
  times?: number;
  code: 403 | 409 | 422 | 500 | 503;
  /** Do the work, then answer with the error: the answer is lost, the effect is not. */
  after?: boolean;
}

interface Event {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
  rv: number;
  kind: Kind;
}

export interface FakeApiserver {
  url: string;
  /** Every request, as `VERB path?query` (what the client really sent). */
  requests: string[];
  stop(): Promise<void>;
  fault(f: Fault): void;
  clearFaults(): void;
  /** Objects of a kind (plural), optionally in one namespace. */
  objects(plural: string, namespace?: string): Obj[];
  /** Put an object as a controller would (no validation, no faults). */
  put(plural: string, obj: Obj): Obj;
  /**
   * Play the controllers: for each MiniCluster in the namespace create its rank pods (as the
   * Flux Operator's indexed Job would), then mark every pod of the namespace Running and Ready
   * on a node, and set the MiniCluster/PodGroup status.
   */
  makeReady(namespace: string): void;
  setPodPhase(namespace: string, name: string, phase: string, reason?: string): void;
  addNode(name: string, taints?: { key: string; effect: string; value?: string }[]): void;
  crds: Crd[];
}

export interface FakeOptions {
  /** How long a deleted namespace stays Terminating. */
  namespaceFinalizeMs?: number;
  crds?: Crd[];
}

function status(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

const REASONS: Record<number, string> = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed', 409: 'AlreadyExists', 410: 'Expired', 415: 'UnsupportedMediaType', 422: 'Invalid', 500: 'InternalError', 503: 'ServiceUnavailable' };

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Kubernetes label selector: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x)`, ANDed by commas. */
export function matchesLabels(selector: string | null, labels: Record<string, string> = {}): boolean {
  if (!selector) return true;
  const terms = selector.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  return terms.every((raw) => {
    const t = raw.trim();
    if (!t) return true;
    let m = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(t);
    if (m) {
      const vals = m[3]!.split(',').map((s) => s.trim());
      const has = m[1]! in labels && vals.includes(labels[m[1]!]!);
      return m[2] === 'in' ? has : !has;
    }
    if (t.startsWith('!')) return !(t.slice(1) in labels);
    m = /^([^=!]+)(==|=|!=)(.*)$/.exec(t);
    if (m) return m[2] === '!=' ? labels[m[1]!] !== m[3] : labels[m[1]!] === m[3];
    return t in labels;
  });
}

function matchesFields(selector: string | null, o: Obj): boolean {
  if (!selector) return true;
  return selector.split(',').every((t) => {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(t.trim());
    if (!m) return true;
    const v = m[1] === 'metadata.name' ? o.metadata.name : m[1] === 'metadata.namespace' ? o.metadata.namespace : m[1] === 'status.phase' ? (o.status?.phase as string | undefined) : m[1] === 'spec.nodeName' ? (o.spec?.nodeName as string | undefined) : undefined;
    return m[2] === '!=' ? v !== m[3] : v === m[3];
  });
}

const clone = <T>(v: T): T => structuredClone(v);

/** RFC 6902 JSON patch (add/replace/remove/test), enough for status and label edits. */
function jsonPatch(target: unknown, ops: { op: string; path: string; value?: unknown }[]): unknown {
  const doc = clone(target) as Record<string, unknown>;
  for (const op of ops) {
    const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop()!;
    let parent: Record<string, unknown> | unknown[] = doc;
    for (const p of parts) {
      const next = (parent as Record<string, unknown>)[p];
      if (next === undefined || next === null || typeof next !== 'object') {
        if (op.op === 'add') (parent as Record<string, unknown>)[p] = {};
        else throw new HttpError(422, 'Invalid', `json patch: path ${op.path} does not exist`);
      }
      parent = (parent as Record<string, unknown>)[p] as Record<string, unknown>;
    }
    if (op.op === 'remove') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (op.op === 'add' || op.op === 'replace') {
      if (Array.isArray(parent)) {
        if (last === '-') parent.push(op.value);
        else if (op.op === 'add') parent.splice(Number(last), 0, op.value);
        else parent[Number(last)] = op.value;
      } else parent[last] = op.value;
    } else if (op.op === 'test') {
      if (JSON.stringify((parent as Record<string, unknown>)[last]) !== JSON.stringify(op.value)) throw new HttpError(422, 'Invalid', `json patch test failed at ${op.path}`);
    } else throw new HttpError(422, 'Invalid', `json patch op ${op.op} not supported`);
  }
  return doc;
}

/** RFC 7386 merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = target && typeof target === 'object' && !Array.isArray(target) ? clone(target as Record<string, unknown>) : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete (out as Record<string, unknown>)[k];
    else (out as Record<string, unknown>)[k] = mergePatch((out as Record<string, unknown>)[k], v);
  }
  return out;
}

export async function startFakeApiserver(opts: FakeOptions = {}): Promise<FakeApiserver> {
  const finalizeMs = opts.namespaceFinalizeMs ?? 150;
  const crds = opts.crds ?? [miniClusterCrd, podGroupCrd];
  const kinds: Kind[] = [...CORE];
  for (const c of crds) {
    for (const v of c.spec.versions) {
      if (!v.served) continue;
      kinds.push({ group: c.spec.group, version: v.name, plural: c.spec.names.plural, kind: c.spec.names.kind, namespaced: c.spec.scope === 'Namespaced', statusSubresource: !!v.subresources?.status, crd: c });
    }
  }
  const kindOf = (group: string, version: string, plural: string) => kinds.find((k) => k.group === group && k.version === version && k.plural === plural);
  const store = new Map<string, Obj>(); // `${group}/${plural}/${ns}/${name}`
  const keyOf = (k: Kind, ns: string | undefined, name: string) => `${k.group}/${k.plural}/${ns ?? ''}/${name}`;
  let rv = 1;
  const log: Event[] = [];
  const watchers = new Set<{ kind: Kind; ns?: string; labels: string | null; fields: string | null; send: (e: Event) => void }>();
  const faults: (Fault & { seen: number })[] = [];
  const requests: string[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const emit = (type: Event['type'], kind: Kind, object: Obj) => {
    const e: Event = { type, object: clone(object), rv: Number(object.metadata.resourceVersion), kind };
    log.push(e);
    if (log.length > 5000) log.shift();
    for (const w of watchers) if (w.kind === kind && (!w.ns || w.ns === object.metadata.namespace) && matchesLabels(w.labels, object.metadata.labels) && matchesFields(w.fields, object)) w.send(e);
  };

  const bump = (o: Obj) => {
    o.metadata.resourceVersion = String(++rv);
  };

  const apiVersionOf = (k: Kind) => (k.group ? `${k.group}/${k.version}` : k.version);

  const save = (k: Kind, o: Obj, type: Event['type']) => {
    bump(o);
    store.set(keyOf(k, o.metadata.namespace, o.metadata.name), o);
    emit(type, k, o);
    return o;
  };

  const remove = (k: Kind, o: Obj) => {
    store.delete(keyOf(k, o.metadata.namespace, o.metadata.name));
    bump(o);
    emit('DELETED', k, o);
  };

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const nsKind = kinds[0]!;
  const getNs = (name: string) => store.get(keyOf(nsKind, undefined, name));

  function validateObj(k: Kind, o: Obj): void {
    const errs: string[] = [];
    const name = o.metadata?.name;
    if (!name) errs.push('metadata.name: Required value: name or generateName is required');
    else if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name) || ((k.plural === 'namespaces' || k.plural === 'services') && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name))) {
      errs.push(`metadata.name: Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'`);
    }
    for (const [lk, lv] of Object.entries(o.metadata?.labels ?? {})) {
      if (typeof lv !== 'string' || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(lv) || lv.length > 63) errs.push(`metadata.labels: Invalid value: "${String(lv)}": label ${lk}`);
    }
    if (k.plural === 'pods') {
      const cs = (o.spec?.containers ?? []) as { name?: string; image?: string }[];
      if (!Array.isArray(cs) || cs.length === 0) errs.push('spec.containers: Required value');
      cs.forEach((c, i) => {
        if (!c.name) errs.push(`spec.containers[${i}].name: Required value`);
        if (!c.image) errs.push(`spec.containers[${i}].image: Required value`);
      });
    }
    if (k.crd) {
      const v = k.crd.spec.versions.find((x) => x.name === k.version)!;
      errs.push(...validate(v.schema.openAPIV3Schema, { ...o, metadata: {} }));
    }
    if (errs.length) throw new HttpError(422, 'Invalid', `${k.kind} "${name ?? ''}" is invalid: ${errs.join(', ')}`, { name, group: k.group, kind: k.kind, causes: errs.map((m) => ({ message: m })) });
  }

  function injected(verb: Fault['verb'], k: Kind): Fault | undefined {
    for (const f of faults) {
      if (f.verb !== verb || f.plural !== k.plural) continue;
      f.seen += 1;
      const nth = f.nth ?? 1;
      if (f.seen >= nth && f.seen < nth + (f.times ?? 1)) return f;
    }
    return undefined;
  }
  const faultError = (f: Fault, k: Kind, name?: string) =>
    new HttpError(f.code, REASONS[f.code] ?? 'Unknown', f.code === 403 ? `${k.plural} is forbidden: User "system:serviceaccount:fluxburst:worker" cannot ${f.verb} resource "${k.plural}" (injected)` : `injected ${f.code} on ${f.verb} ${k.plural}${name ? ` ${name}` : ''}`, { name, kind: k.plural });

  function create(k: Kind, ns: string | undefined, body: Obj): Obj {
    if (!body || typeof body !== 'object' || !body.metadata) throw new HttpError(400, 'BadRequest', 'the body must be an object with metadata');
    if (k.namespaced) {
      if (body.metadata.namespace && body.metadata.namespace !== ns) throw new HttpError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      const nsObj = getNs(ns!);
      if (!nsObj) throw new HttpError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
      if (nsObj.status?.phase === 'Terminating') throw new HttpError(403, 'Forbidden', `${k.plural} "${body.metadata.name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`, { name: body.metadata.name, kind: k.plural });
    }
    if (body.apiVersion && body.apiVersion !== apiVersionOf(k)) throw new HttpError(400, 'BadRequest', `the API version in the data (${body.apiVersion}) does not match the expected API version (${apiVersionOf(k)})`);
    if (body.kind && body.kind !== k.kind) throw new HttpError(400, 'BadRequest', `the kind in the data (${body.kind}) does not match the expected kind (${k.kind})`);
    validateObj(k, body);
    const name = body.metadata.name;
    if (store.has(keyOf(k, ns, name))) throw new HttpError(409, 'AlreadyExists', `${k.plural}${k.group ? `.${k.group}` : ''} "${name}" already exists`, { name, group: k.group, kind: k.plural });
    const o: Obj = clone(body);
    o.apiVersion = apiVersionOf(k);
    o.kind = k.kind;
    o.metadata = { ...o.metadata, ...(k.namespaced ? { namespace: ns } : {}), uid: randomUUID(), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), generation: 1 };
    delete o.metadata.deletionTimestamp;
    if (k.plural === 'namespaces') o.status = { phase: 'Active' };
    if (k.plural === 'pods') o.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] };
    if (k.statusSubresource && k.crd) delete o.status;
    return save(k, o, 'ADDED');
  }

  function update(k: Kind, ns: string | undefined, name: string, next: Obj, sub: string | undefined): Obj {
    const cur = store.get(keyOf(k, ns, name));
    if (!cur) throw new HttpError(404, 'NotFound', `${k.plural}${k.group ? `.${k.group}` : ''} "${name}" not found`, { name, group: k.group, kind: k.plural });
    if (next.metadata?.resourceVersion && next.metadata.resourceVersion !== cur.metadata.resourceVersion) {
      throw new HttpError(409, 'Conflict', `Operation cannot be fulfilled on ${k.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, kind: k.plural });
    }
    let o: Obj;
    if (sub === 'status') {
      o = { ...clone(cur), status: clone(next.status ?? {}) };
    } else {
      validateObj(k, { ...next, metadata: { ...next.metadata, name } });
      o = { ...clone(next), apiVersion: apiVersionOf(k), kind: k.kind, metadata: { ...clone(next.metadata), name, namespace: cur.metadata.namespace, uid: cur.metadata.uid, creationTimestamp: cur.metadata.creationTimestamp, generation: cur.metadata.generation } };
      if (!o.metadata.namespace) delete o.metadata.namespace;
      // With a status subresource, the main endpoint ignores status (and /status ignores spec).
      if (k.statusSubresource) o.status = clone(cur.status);
      if (JSON.stringify(o.spec) !== JSON.stringify(cur.spec)) o.metadata.generation = (cur.metadata.generation ?? 1) + 1;
      if (cur.metadata.deletionTimestamp) o.metadata.deletionTimestamp = cur.metadata.deletionTimestamp;
    }
    return save(k, o, 'MODIFIED');
  }

  function del(k: Kind, ns: string | undefined, name: string): Obj {
    const cur = store.get(keyOf(k, ns, name));
    if (!cur) throw new HttpError(404, 'NotFound', `${k.plural}${k.group ? `.${k.group}` : ''} "${name}" not found`, { name, group: k.group, kind: k.plural });
    if (k.plural !== 'namespaces') {
      remove(k, cur);
      return cur;
    }
    if (cur.status?.phase === 'Terminating') return cur;
    const o = clone(cur);
    o.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    o.status = { phase: 'Terminating' };
    o.spec = { finalizers: ['kubernetes'] };
    save(k, o, 'MODIFIED');
    // Namespace finalization: the contents go first, then the namespace itself.
    later(finalizeMs, () => {
      for (const [key, x] of [...store]) {
        const xk = kinds.find((kk) => key.startsWith(`${kk.group}/${kk.plural}/`));
        if (xk?.namespaced && x.metadata.namespace === name) remove(xk, x);
      }
      const still = getNs(name);
      if (still) remove(k, still);
    });
    return o;
  }

  function list(k: Kind, ns: string | undefined, q: URLSearchParams): Obj[] {
    return [...store.values()]
      .filter((o) => o.kind === k.kind && (o.apiVersion === apiVersionOf(k) || !k.crd) && (!ns || o.metadata.namespace === ns))
      .filter((o) => matchesLabels(q.get('labelSelector'), o.metadata.labels) && matchesFields(q.get('fieldSelector'), o))
      .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  }

  function route(path: string): { k: Kind; ns?: string; name?: string; sub?: string } {
    const p = path.split('/').filter(Boolean);
    let group = '';
    let version: string;
    let rest: string[];
    if (p[0] === 'api' && p[1]) {
      version = p[1];
      rest = p.slice(2);
    } else if (p[0] === 'apis' && p[1] && p[2]) {
      group = p[1];
      version = p[2];
      rest = p.slice(3);
    } else throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${path})`);
    let ns: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      ns = rest[1];
      rest = rest.slice(2);
    }
    const k = kindOf(group, version, rest[0] ?? '');
    if (!k || (ns !== undefined && !k.namespaced)) throw new HttpError(404, 'NotFound', `the server could not find the requested resource (${path})`);
    return { k, ...(ns !== undefined ? { ns } : {}), ...(rest[1] ? { name: rest[1] } : {}), ...(rest[2] ? { sub: rest[2] } : {}) };
  }

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const s = Buffer.concat(chunks).toString('utf8');
    if (!s) return undefined;
    try {
      return JSON.parse(s);
    } catch {
      throw new HttpError(400, 'BadRequest', 'the body is not JSON');
    }
  }

  const send = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const q = url.searchParams;
    const r = route(url.pathname);
    const { k, ns, name, sub } = r;
    if (sub && sub !== 'status') throw new HttpError(404, 'NotFound', `subresource ${sub} not supported`);
    if (sub && !k.statusSubresource) throw new HttpError(404, 'NotFound', `${k.plural} has no status subresource`);
    const method = req.method ?? 'GET';
    if (method === 'GET' && !name) {
      const f = injected('list', k);
      if (f) throw faultError(f, k);
      if (q.get('watch') === 'true' || q.get('watch') === '1') return watch(k, ns, q, req, res);
      send(res, 200, { kind: `${k.kind}List`, apiVersion: apiVersionOf(k), metadata: { resourceVersion: String(rv) }, items: list(k, ns, q) });
      return;
    }
    if (method === 'GET') {
      const f = injected('get', k);
      if (f) throw faultError(f, k, name);
      const o = store.get(keyOf(k, ns, name!));
      if (!o) throw new HttpError(404, 'NotFound', `${k.plural}${k.group ? `.${k.group}` : ''} "${name}" not found`, { name, group: k.group, kind: k.plural });
      send(res, 200, o);
      return;
    }
    if (method === 'POST' && !name) {
      const body = (await readBody(req)) as Obj;
      const f = injected('create', k);
      if (f && !f.after) throw faultError(f, k, body?.metadata?.name);
      const o = create(k, ns, body);
      if (f) throw faultError(f, k, o.metadata.name);
      send(res, 201, o);
      return;
    }
    if ((method === 'PUT' || method === 'PATCH') && name) {
      const body = await readBody(req);
      const f = injected('update', k);
      if (f && !f.after) throw faultError(f, k, name);
      const cur = store.get(keyOf(k, ns, name));
      if (!cur) throw new HttpError(404, 'NotFound', `${k.plural}${k.group ? `.${k.group}` : ''} "${name}" not found`, { name, group: k.group, kind: k.plural });
      let next: Obj;
      if (method === 'PUT') next = body as Obj;
      else {
        const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        if (ct === 'application/json-patch+json') next = jsonPatch(cur, body as never) as Obj;
        else if (ct === 'application/merge-patch+json' || (ct === 'application/strategic-merge-patch+json' && !k.crd)) next = mergePatch(cur, body) as Obj;
        else throw new HttpError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json${k.crd ? '' : ', application/strategic-merge-patch+json'}`);
        next.metadata = { ...next.metadata, resourceVersion: (body as { metadata?: { resourceVersion?: string } })?.metadata?.resourceVersion ?? '' };
        if (!next.metadata.resourceVersion) delete next.metadata.resourceVersion;
      }
      const o = update(k, ns, name, next, sub);
      if (f) throw faultError(f, k, name);
      send(res, 200, o);
      return;
    }
    if (method === 'DELETE' && name) {
      await readBody(req);
      const f = injected('delete', k);
      if (f && !f.after) throw faultError(f, k, name);
      const o = del(k, ns, name);
      if (f) throw faultError(f, k, name);
      // Namespaces answer with the object (Terminating); other kinds with a Success Status, as the real server does for most.
      if (k.plural === 'namespaces' || k.plural === 'pods') send(res, 200, o);
      else send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: k.group, kind: k.plural, uid: o.metadata.uid } });
      return;
    }
    throw new HttpError(405, 'MethodNotAllowed', `${method} is not supported on ${url.pathname}`);
  }

  function watch(k: Kind, ns: string | undefined, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
    const from = q.get('resourceVersion');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const write = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
    const w = { kind: k, ...(ns ? { ns } : {}), labels: q.get('labelSelector'), fields: q.get('fieldSelector'), send: (e: Event) => write(e.type, e.object) };
    if (from && from !== '0') {
      const since = Number(from);
      if (log.length && since < log[0]!.rv - 1) {
        write('ERROR', status(410, 'Expired', `too old resource version: ${since} (${log[0]!.rv})`));
        res.end();
        return;
      }
      for (const e of log) if (e.rv > since && e.kind === k && (!ns || e.object.metadata.namespace === ns) && matchesLabels(w.labels, e.object.metadata.labels) && matchesFields(w.fields, e.object)) write(e.type, e.object);
    } else {
      for (const o of list(k, ns, q)) write('ADDED', o);
    }
    watchers.add(w);
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    const t = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    const close = () => {
      watchers.delete(w);
      if (t) clearTimeout(t);
    };
    req.on('close', close);
    res.on('close', close);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return res.end();
      if (e instanceof HttpError) send(res, e.code, status(e.code, e.reason, e.message, e.details));
      else send(res, 500, status(500, 'InternalError', String((e as Error)?.stack ?? e)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const kindByPlural = (plural: string) => {
    const k = kinds.find((x) => x.plural === plural);
    if (!k) throw new Error(`fake apiserver: no kind ${plural}`);
    return k;
  };

  const api: FakeApiserver = {
    url: `http://127.0.0.1:${port}`,
    requests,
    crds,
    async stop() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    fault(f) {
      faults.push({ ...f, seen: 0 });
    },
    clearFaults() {
      faults.length = 0;
    },
    objects(plural, namespace) {
      const k = kindByPlural(plural);
      return list(k, namespace, new URLSearchParams()).map(clone);
    },
    put(plural, obj) {
      const k = kindByPlural(plural);
      const cur = store.get(keyOf(k, obj.metadata.namespace, obj.metadata.name));
      const o: Obj = { apiVersion: apiVersionOf(k), kind: k.kind, ...clone(obj), metadata: { uid: cur?.metadata.uid ?? randomUUID(), creationTimestamp: cur?.metadata.creationTimestamp ?? new Date().toISOString(), generation: 1, ...clone(obj.metadata) } };
      if (k.plural === 'namespaces' && !o.status) o.status = { phase: 'Active' };
      return clone(save(k, o, cur ? 'MODIFIED' : 'ADDED'));
    },
    makeReady(namespace) {
      const podKind = kindByPlural('pods');
      if (!api.objects('nodes').length) api.addNode('fake-node-0');
      const node = api.objects('nodes')[0]!.metadata.name;
      for (const mc of api.objects('miniclusters', namespace)) {
        const size = Number(mc.spec?.size ?? 1);
        const labels = { ...((mc.spec?.pod as { labels?: Record<string, string> } | undefined)?.labels ?? {}), 'job-name': mc.metadata.name };
        for (let i = 0; i < size; i++) {
          const host = `${mc.metadata.name}-${i}`;
          if (list(podKind, namespace, new URLSearchParams()).some((p) => p.spec?.hostname === host && !p.metadata.deletionTimestamp)) continue;
          api.put('pods', {
            metadata: { name: `${host}-${randomUUID().slice(0, 5)}`, namespace, labels: { ...labels, 'job-index': String(i) } },
            spec: { hostname: host, subdomain: 'flux-service', containers: (mc.spec?.containers as unknown[]) ?? [] },
            status: { phase: 'Pending' },
          });
        }
        api.put('miniclusters', { ...mc, status: { size, maximumSize: Number(mc.spec?.maxSize ?? size), conditions: [{ type: 'MiniClusterReady', status: 'True', reason: 'PodsReady' }] } });
      }
      for (const pg of api.objects('podgroups', namespace)) api.put('podgroups', { ...pg, status: { phase: 'Running', running: Number(pg.spec?.minMember ?? 0) } });
      for (const p of api.objects('pods', namespace)) {
        if (p.status?.phase === 'Running') continue;
        api.put('pods', { ...p, spec: { ...p.spec, nodeName: (p.spec?.nodeName as string | undefined) ?? node }, status: { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }] } });
      }
    },
    setPodPhase(namespace, name, phase, reason) {
      const p = api.objects('pods', namespace).find((x) => x.metadata.name === name);
      if (!p) throw new Error(`no pod ${namespace}/${name}`);
      api.put('pods', { ...p, status: { ...p.status, phase, ...(reason ? { reason } : {}), conditions: [{ type: 'Ready', status: phase === 'Running' ? 'True' : 'False' }] } });
    },
    addNode(name, taints) {
      const cur = api.objects('nodes').find((n) => n.metadata.name === name);
      api.put('nodes', { metadata: { ...(cur?.metadata ?? {}), name, labels: { 'kubernetes.io/hostname': name } }, spec: { ...(taints ? { taints } : {}) }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    },
  };
  return api;
}
