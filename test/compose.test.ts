// Checks of docker-compose.yml, Dockerfile and .dockerignore. No Docker engine is needed: the
// files are parsed and their wiring is checked against each other and against the sources
// (service names, ports, credentials, search attributes, what the image copies and runs); and the
// Temporal part is checked against a real cluster the test boots (testkit/temporal-cluster): the
// config file compose mounts is the one that cluster's four services loaded, and compose's schema
// and namespace/search-attribute jobs run against it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../src/core/search-attributes.js';
import { clusterConfigFile, clusterConfigRoot, SERVICES, TEMPORAL_SERVER_VERSION } from '../src/temporal/cluster.js';
import { temporalCliPath } from '../src/temporal/paths.js';
import { startTestCluster, type TestCluster } from '../testkit/temporal-cluster/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const composeFile = join(root, 'docker-compose.yml');

// ---------- compose model ----------

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  working_dir?: string;
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean }>;
  ports?: (string | number | { target?: number | string; published?: number | string; host_ip?: string })[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  deploy?: { replicas?: number | string };
  container_name?: string;
  restart?: string;
  stop_grace_period?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(readFileSync(composeFile, 'utf8')) as Compose;
const services = compose.services ?? {};
const names = Object.keys(services);

function svc(name: string): Service {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

function envOf(s: Service): Record<string, string> {
  const out: Record<string, string> = {};
  const e = s.environment;
  if (Array.isArray(e)) {
    for (const item of e) {
      const i = item.indexOf('=');
      if (i > 0) out[item.slice(0, i)] = item.slice(i + 1);
    }
  } else if (e) {
    for (const [k, v] of Object.entries(e)) if (v !== null && v !== undefined) out[k] = String(v);
  }
  return out;
}

function dependsOf(s: Service): Record<string, string> {
  const d = s.depends_on;
  if (!d) return {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((n) => [n, 'service_started']));
  return Object.fromEntries(Object.entries(d).map(([n, v]) => [n, v?.condition ?? 'service_started']));
}

interface PortMapping {
  host?: number;
  container: number;
}

function portsOf(s: Service): PortMapping[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'object') {
      return { container: Number(p.target), ...(p.published !== undefined ? { host: Number(p.published) } : {}) };
    }
    // [ip:][host:]container[/proto]; ranges are not used here and would fail the Number() checks.
    const parts = String(p).replace(/\/(tcp|udp)$/, '').split(':');
    const container = Number(parts.pop());
    const host = parts.length ? Number(parts.pop()) : undefined;
    return host === undefined ? { container } : { host, container };
  });
}

/**
 * Compose's interpolation of one value: `${VAR}`, `${VAR:-default}` (unset or empty → default),
 * `${VAR-default}` (unset → default), `$$` → `$`. What `docker compose` does before it reads a field.
 */
function interpolate(v: string, env: Record<string, string | undefined>): string {
  return v.replace(/\$\$|\$\{(\w+)(?:(:?-)([^}]*))?\}/g, (m, name: string | undefined, op: string | undefined, dflt: string | undefined) => {
    if (m === '$$') return '$';
    const val = env[name!];
    if (op === ':-') return val ? val : (dflt ?? '');
    if (op === '-') return val ?? dflt ?? '';
    return val ?? '';
  });
}

/** A service's replica count as compose would run it with this environment. */
function replicas(s: Service, env: Record<string, string | undefined> = {}): number {
  const r = s.deploy?.replicas;
  if (r === undefined) return 1;
  const n = Number(typeof r === 'string' ? interpolate(r, env) : r);
  if (!Number.isInteger(n) || n < 0) throw new Error(`deploy.replicas ${JSON.stringify(r)} is not a count`);
  return n;
}

const asText = (v: string | string[] | undefined): string => (Array.isArray(v) ? v.join(' ') : (v ?? ''));
/** Everything a service runs: entrypoint + command, as one shell-ish text. */
const runText = (s: Service) => `${asText(s.entrypoint)} ${asText(s.command)}`;

function splitAddress(a: string): { host: string; port: number } {
  const m = /^([^\s:/]+):(\d{1,5})$/.exec(a);
  if (!m) throw new Error(`"${a}" is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** All `--address X` values in a text. */
const addressFlags = (text: string) => [...text.matchAll(/--address[=\s]+(\S+)/g)].map((m) => m[1]!);

function durationMs(d: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let seen = '';
  for (const m of d.matchAll(re)) {
    total += Number(m[1]) * unit[m[2]!]!;
    seen += m[0];
  }
  if (!seen || seen !== d.replace(/\s/g, '')) throw new Error(`cannot read duration "${d}"`);
  return total;
}

// The roles in the stack, found by image so a renamed service is still checked.
const temporalName = names.find((n) => /^temporalio\/(auto-setup|server):/.test(svc(n).image ?? ''));
const postgresName = names.find((n) => /^postgres:/.test(svc(n).image ?? ''));
const uiName = names.find((n) => /^temporalio\/ui:/.test(svc(n).image ?? ''));
const workerName = names.find((n) => svc(n).build !== undefined);
const saInitName = names.find((n) => /search-attribute\s+create/.test(runText(svc(n))));
const schemaName = names.find((n) => /setup-schema/.test(runText(svc(n))));

function role(n: string | undefined, what: string): string {
  if (!n) throw new Error(`docker-compose.yml has no ${what} service`);
  return n;
}

/** The port the Temporal frontend listens on inside its container (cluster.yaml: FB_FRONTEND_PORT, default 7233). */
const temporalPort = () => Number(envOf(svc(role(temporalName, 'Temporal server'))).FB_FRONTEND_PORT ?? 7233);

function expectReachesTemporal(address: string | undefined, who: string): void {
  expect(address, `${who}: TEMPORAL_ADDRESS is set`).toBeTypeOf('string');
  const { host, port } = splitAddress(address!);
  expect(names, `${who}: host "${host}" of ${address} is a compose service`).toContain(host);
  expect(host, `${who}: ${address} names the Temporal server service`).toBe(temporalName);
  expect(port, `${who}: ${address} uses the port Temporal listens on`).toBe(temporalPort());
}

// ---------- Dockerfile model ----------

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

const dockerfileOf = (context: string, file = 'Dockerfile') => join(context, file);

function parseDockerfile(path: string): { instructions: Instruction[]; args: Record<string, string> } {
  const lines = readFileSync(path, 'utf8').split('\n');
  const logical: string[] = [];
  let cur = '';
  for (const raw of lines) {
    if (/^\s*#/.test(raw)) continue; // comments (incl. the syntax directive)
    if (/\\\s*$/.test(raw)) {
      cur += raw.replace(/\\\s*$/, ' ');
      continue;
    }
    cur += raw;
    if (cur.trim()) logical.push(cur.trim());
    cur = '';
  }
  if (cur.trim()) logical.push(cur.trim());
  const instructions: Instruction[] = [];
  const args: Record<string, string> = {};
  let stage = -1;
  for (const l of logical) {
    const m = /^(\w+)\s+([\s\S]*)$/.exec(l);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    const rest = m[2]!.replace(/\s+/g, ' ').trim();
    if (op === 'FROM') stage++;
    if (op === 'ARG' && stage < 0) {
      const [k, v] = rest.split('=');
      if (k && v !== undefined) args[k] = v.replace(/^["']|["']$/g, '');
    }
    instructions.push({ op, args: rest, stage });
  }
  return { instructions, args };
}

/** COPY/ADD sources and destination; `from` set for COPY --from=... */
function copyParts(i: Instruction): { from?: string; sources: string[]; dest: string } {
  let rest = i.args;
  let from: string | undefined;
  for (;;) {
    const f = /^--(\w[\w-]*)(?:=(\S+))?\s+/.exec(rest);
    if (!f) break;
    if (f[1] === 'from') from = f[2];
    rest = rest.slice(f[0].length);
  }
  const parts = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(' ');
  const dest = parts.pop()!;
  return { ...(from ? { from } : {}), sources: parts, dest };
}

function execForm(args: string): string[] {
  const v = JSON.parse(args) as unknown;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`not exec form: ${args}`);
  return v;
}

function dockerignore(context: string): string[] {
  const f = join(context, '.dockerignore');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('!'))
    .map((l) => l.replace(/^\/+|\/+$/g, ''));
}

function globRe(pattern: string): RegExp {
  const s = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\u0000/g, '.*');
  return new RegExp(`^${s}$`);
}

/** Whether .dockerignore keeps `path` (context-relative) out of the build context. */
function ignored(path: string, patterns: string[]): string | undefined {
  const p = posix.normalize(path).replace(/^\.\/|\/$/g, '');
  return patterns.find((pat) => {
    const re = globRe(pat);
    // A pattern matching the path itself or one of its parents excludes it.
    const segs = p.split('/');
    return segs.some((_, i) => re.test(segs.slice(0, i + 1).join('/')));
  });
}

const worker = role(workerName, 'worker (build)');
const workerBuild = svc(worker).build!;
const workerContext = resolve(dirname(composeFile), typeof workerBuild === 'string' ? workerBuild : (workerBuild.context ?? '.'));
const workerDockerfile = dockerfileOf(workerContext, typeof workerBuild === 'string' ? undefined : workerBuild.dockerfile);
const df = existsSync(workerDockerfile) ? parseDockerfile(workerDockerfile) : { instructions: [], args: {} };
const finalStage = Math.max(...df.instructions.map((i) => i.stage));
const inFinal = (op: string) => df.instructions.filter((i) => i.op === op && i.stage === finalStage);
const last = <T>(xs: T[]): T | undefined => xs[xs.length - 1];

// ---------- tests ----------

describe('docker-compose.yml', () => {
  it('has the whole stack: PostgreSQL, Temporal, the search-attribute job, the UI and the worker', () => {
    for (const [n, what] of [
      [postgresName, 'postgres'],
      [temporalName, 'Temporal server'],
      [saInitName, 'search-attribute init'],
      [uiName, 'Temporal UI'],
      [workerName, 'worker'],
    ] as const) {
      expect(n, `a ${what} service`).toBeTypeOf('string');
    }
    expect(svc(worker).command, 'the worker runs `fluxburst worker`').toEqual(['worker']);
    const cliSources = readdirSync(join(root, 'src/cli/commands')).map((f) => readFileSync(join(root, 'src/cli/commands', f), 'utf8'));
    expect(cliSources.some((t) => t.includes(".command('worker')")), 'the CLI has a `worker` command').toBe(true);
  });

  it('every depends_on names another defined service, with a condition that target can meet', () => {
    const problems: string[] = [];
    for (const [n, s] of Object.entries(services)) {
      for (const [dep, cond] of Object.entries(dependsOf(s))) {
        if (!names.includes(dep)) problems.push(`${n} depends on undefined service "${dep}"`);
        else if (dep === n) problems.push(`${n} depends on itself`);
        else if (cond === 'service_healthy') {
          const hc = svc(dep).healthcheck;
          if (!hc?.test || hc.disable) problems.push(`${n} waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
        } else if (cond === 'service_completed_successfully') {
          const r = svc(dep).restart;
          if (r && r !== 'no') problems.push(`${n} waits for ${dep} to complete, but ${dep} restarts (${r})`);
        } else if (cond !== 'service_started') problems.push(`${n} -> ${dep}: unknown condition "${cond}"`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every build context exists and has its Dockerfile', () => {
    const builds = Object.entries(services).filter(([, s]) => s.build !== undefined);
    expect(builds.length).toBeGreaterThan(0);
    for (const [n, s] of builds) {
      const b = s.build!;
      const ctx = resolve(dirname(composeFile), typeof b === 'string' ? b : (b.context ?? '.'));
      expect(existsSync(ctx) && statSync(ctx).isDirectory(), `${n}: build context ${ctx}`).toBe(true);
      const file = dockerfileOf(ctx, typeof b === 'string' ? undefined : b.dockerfile);
      expect(existsSync(file), `${n}: ${file}`).toBe(true);
    }
  });

  it('the Temporal server listens on its container interfaces at the published frontend port', () => {
    const t = svc(role(temporalName, 'Temporal server'));
    expect(temporalPort()).toBe(7233);
    expect(portsOf(t).map((p) => p.container), 'the frontend port is published').toContain(temporalPort());
    // Without FB_BIND_IP cluster.yaml binds 127.0.0.1: unreachable from the other containers.
    expect(envOf(t).FB_BIND_IP).toBe('0.0.0.0');
  });

  it("the worker's TEMPORAL_ADDRESS is the Temporal service on its frontend port", () => {
    const env = envOf(svc(worker));
    expectReachesTemporal(env.TEMPORAL_ADDRESS, worker);
    expect(env.TEMPORAL_NAMESPACE, 'the worker names its namespace').toBeTruthy();
    // After the namespace and search attributes exist (the init job waits for Temporal itself).
    expect(dependsOf(svc(worker))[role(saInitName, 'search-attribute init')]).toBe('service_completed_successfully');
  });

  it("the UI's TEMPORAL_ADDRESS is the Temporal service on its frontend port", () => {
    const ui = role(uiName, 'Temporal UI');
    expectReachesTemporal(envOf(svc(ui)).TEMPORAL_ADDRESS, ui);
    expect(Object.keys(dependsOf(svc(ui)))).toContain(temporalName);
    // The UI serves on 8080 in its container (TEMPORAL_UI_PORT overrides).
    const uiPort = Number(envOf(svc(ui)).TEMPORAL_UI_PORT ?? 8080);
    expect(portsOf(svc(ui)).map((p) => p.container)).toContain(uiPort);
  });

  it('published host ports are unique, and scaled services publish none', () => {
    const seen = new Map<number, string>();
    const clashes: string[] = [];
    for (const [n, s] of Object.entries(services)) {
      for (const p of portsOf(s)) {
        expect(Number.isInteger(p.container), `${n}: container port ${p.container}`).toBe(true);
        if (p.host === undefined) continue;
        expect(Number.isInteger(p.host), `${n}: host port ${p.host}`).toBe(true);
        const other = seen.get(p.host);
        if (other) clashes.push(`host port ${p.host}: ${other} and ${n}`);
        seen.set(p.host, n);
      }
      // Scaled by env (FLUXBURST_WORKERS) or fixed: either way it may run more than one.
      if (replicas(s) > 1 || typeof s.deploy?.replicas === 'string') {
        expect(portsOf(s).filter((p) => p.host !== undefined), `${n} has replicas, so no fixed host ports`).toEqual([]);
        expect(s.container_name, `${n} has replicas, so no container_name`).toBeUndefined();
      }
    }
    expect(clashes).toEqual([]);
  });

  it("Temporal's and the schema job's database settings match the postgresql service", () => {
    const pgName = role(postgresName, 'postgres');
    const pg = envOf(svc(pgName));
    expect(pg.POSTGRES_USER, 'postgres has a user').toBeTruthy();
    expect(pg.POSTGRES_PASSWORD, 'postgres has a password').toBeTruthy();
    for (const n of [role(temporalName, 'Temporal server'), role(schemaName, 'schema setup')]) {
      const t = envOf(svc(n));
      expect(t.FB_PG_USER, `${n}: user`).toBe(pg.POSTGRES_USER);
      expect(t.FB_PG_PASSWORD, `${n}: password`).toBe(pg.POSTGRES_PASSWORD);
      expect(t.FB_PG_HOST, `${n}: FB_PG_HOST is the postgres service`).toBe(pgName);
      expect(Number(t.FB_PG_PORT), `${n}: FB_PG_PORT is the port postgres listens on`).toBe(Number(pg.PGPORT ?? 5432));
      expect(dependsOf(svc(n))[pgName], n).toBe('service_healthy');
    }
    // The server starts only on a database the schema job finished.
    expect(dependsOf(svc(temporalName!))[schemaName!]).toBe('service_completed_successfully');
    expect([undefined, 'no']).toContain(svc(schemaName!).restart);
    // The healthcheck asks as that same user.
    const hc = asText(svc(pgName).healthcheck?.test);
    expect(hc).toContain('pg_isready');
    const u = /-U\s+(\S+)/.exec(hc)?.[1];
    if (u !== undefined) expect(u.replace(/^\$\$\{?POSTGRES_USER\}?$/, pg.POSTGRES_USER!)).toBe(pg.POSTGRES_USER);
    // Its data survives `docker compose down`: a named volume, declared at the top level.
    expect(svc(pgName).volumes?.some((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`).endsWith(':/var/lib/postgresql/data'))).toBe(true);
  });

  it('named volumes are declared at the top level', () => {
    const declared = Object.keys(compose.volumes ?? {});
    for (const [n, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const src = typeof v === 'string' ? (v.includes(':') ? v.split(':')[0]! : '') : v.type === 'volume' || !v.type ? (v.source ?? '') : '';
        if (!src || src.startsWith('.') || src.startsWith('/') || src.startsWith('~')) continue; // bind mount / anonymous
        expect(declared, `${n}: volume "${src}"`).toContain(src);
      }
    }
  });

  it('the init job registers exactly the search attributes the code defines, on the namespace the worker uses', () => {
    const init = role(saInitName, 'search-attribute init');
    const text = runText(svc(init));
    const pairs = [...text.matchAll(/--name[=\s]+(\S+)\s+--type[=\s]+(\S+)/g)].map((m) => ({ name: m[1]!, type: m[2]!.toLowerCase() }));
    const allNames = [...text.matchAll(/--name[=\s]+(\S+)/g)].map((m) => m[1]);
    expect(allNames.length, 'every --name has its --type').toBe(pairs.length);
    const expected = SEARCH_ATTRIBUTES.map((k) => ({ name: k.name, type: String(k.type).replace(/_/g, '').toLowerCase() }));
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect([...pairs].sort(byName)).toEqual([...expected].sort(byName));
    expect(pairs.map((p) => p.name).sort()).toEqual(['FluxburstNodes', 'FluxburstOwner', 'FluxburstPhase', 'FluxburstPlugin']);
    // Against the Temporal service, in the worker's namespace (flags, or the CLI's env).
    const addrs = [...addressFlags(text), ...(envOf(svc(init)).TEMPORAL_ADDRESS ? [envOf(svc(init)).TEMPORAL_ADDRESS!] : [])];
    expect(addrs.length, 'the init job names an --address or TEMPORAL_ADDRESS').toBeGreaterThan(0);
    for (const a of addrs) expectReachesTemporal(a, init);
    const nss = [...[...text.matchAll(/--namespace[=\s]+(\S+)/g)].map((m) => m[1]), envOf(svc(init)).TEMPORAL_NAMESPACE].filter(Boolean);
    expect(nss.length).toBeGreaterThan(0);
    for (const ns of nss) expect(ns, 'namespace').toBe(envOf(svc(worker)).TEMPORAL_NAMESPACE);
    // It waits for the frontend itself; the worker only after the job succeeded; it runs once.
    expect(text).toMatch(/until temporal operator cluster health/);
    expect(Object.keys(dependsOf(svc(init)))).toContain(temporalName!);
    expect(dependsOf(svc(worker))[init]).toBe('service_completed_successfully');
    expect([undefined, 'no']).toContain(svc(init).restart);
    expect(replicas(svc(init))).toBe(1);
  });

  it('shell text escapes `$` as `$$`, so compose does not interpolate it away', () => {
    for (const [n, s] of Object.entries(services)) {
      for (const t of [runText(s), asText(s.healthcheck?.test)]) {
        expect(t.replace(/\$\$/g, ''), `${n}: a lone $ in ${JSON.stringify(t.slice(0, 60))}…`).not.toContain('$');
      }
    }
  });

  it('images are pinned to a tag, never latest', () => {
    const bad: string[] = [];
    for (const [n, s] of Object.entries(services)) {
      if (s.build !== undefined && s.image === undefined) continue;
      const img = s.image ?? '';
      const tag = /^[^@]+:([^/:@]+)$/.exec(img.split('@')[0]!)?.[1];
      if (!img.includes('@sha256:') && (!tag || tag === 'latest')) bad.push(`${n}: ${img || '(no image)'}`);
    }
    expect(bad).toEqual([]);
  });

  it('runs FLUXBURST_WORKERS workers (default 2) through deploy.replicas', () => {
    const r = svc(worker).deploy?.replicas;
    expect(r, 'deploy.replicas interpolates FLUXBURST_WORKERS').toMatch(/^\$\{FLUXBURST_WORKERS(:-\d+)?\}$/);
    expect(replicas(svc(worker), {}), 'unset: several workers, so a drained one has company').toBe(2);
    expect(replicas(svc(worker), { FLUXBURST_WORKERS: '' })).toBe(2);
    expect(replicas(svc(worker), { FLUXBURST_WORKERS: '5' })).toBe(5);
    expect(replicas(svc(worker), { FLUXBURST_WORKERS: '1' })).toBe(1);
  });

  it('the worker is stopped gently enough to drain (stop_grace_period > the worker shutdownGraceTime)', () => {
    const src = readFileSync(join(root, 'workers/worker.ts'), 'utf8');
    const grace = /shutdownGraceTime:\s*'([^']+)'/.exec(src)?.[1];
    expect(grace, 'workers/worker.ts sets shutdownGraceTime').toBeTruthy();
    const stop = svc(worker).stop_grace_period ?? '10s';
    expect(durationMs(stop)).toBeGreaterThan(durationMs(grace!));
  });
});

/** Compose's interpolation of a service's shell text (`$$` → `$`), as the container's shell gets it. */
const shellOf = (s: Service) => asText(s.command).replace(/\$\$/g, '$');

/** The host path a container path comes from, through the service's bind mounts. */
function hostPathOf(s: Service, containerPath: string): string | undefined {
  for (const v of s.volumes ?? []) {
    const [src, dst] = typeof v === 'string' ? v.split(':') : [v.source, v.target];
    if (!src || !dst || !/^[./~]/.test(src)) continue;
    const d = dst.replace(/\/$/, '');
    if (containerPath === d || containerPath.startsWith(`${d}/`)) return join(resolve(dirname(composeFile), src), containerPath.slice(d.length));
  }
  return undefined;
}

const argAfter = (args: string[], flag: string) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};

describe('docker-compose.yml runs the Temporal cluster the tests boot', () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await startTestCluster();
  }, 120_000);
  afterAll(async () => {
    if (tc) expect(await tc.stop()).toEqual({ processes: [], dir: false, ports: [] });
  });

  it('the temporalio/server image of the version the cluster ran, started on the config file that cluster booted; no auto-setup', () => {
    const t = svc(role(temporalName, 'Temporal server'));
    expect(t.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
    for (const [n, x] of Object.entries(services)) expect(x.image ?? '', n).not.toMatch(/auto-setup/);
    const ran = spawnSync(tc.cluster.bins.server, ['--version'], { encoding: 'utf8' }).stdout;
    expect(ran).toContain(`version ${TEMPORAL_SERVER_VERSION}`);

    // temporal-server --root R --config C --env E loads R/C/E.yaml; R comes from a bind mount.
    const args = Array.isArray(t.entrypoint) ? [...t.entrypoint, ...(Array.isArray(t.command) ? t.command : [])] : [];
    expect(args[0]).toBe('temporal-server');
    const croot = argAfter(args, '--root')!;
    const file = hostPathOf(t, posix.join(croot, argAfter(args, '--config')!, `${argAfter(args, '--env')}.yaml`));
    expect(file, 'the config dir is bind-mounted from the repo').toBeDefined();
    expect(file).toBe(clusterConfigFile());
    // What the booted services themselves said they loaded, and the bytes they loaded.
    const loaded = tc.cluster.loadedConfigFiles();
    for (const s of SERVICES) expect(loaded[s], s).toEqual([file]);
    expect(createHash('sha256').update(readFileSync(file!)).digest('hex')).toBe(tc.cluster.configSha256);
    // cluster.yaml's relative dynamic config path resolves from the working dir, as in the tests.
    expect(t.working_dir).toBe(croot);
    expect(hostPathOf(t, croot)).toBe(clusterConfigRoot());
  });

  it("the schema job runs deploy/temporal/setup-schema.sh, the script that made the booted cluster's schemas; again it changes nothing", () => {
    const job = svc(role(schemaName, 'schema setup'));
    expect(job.image, 'temporal-sql-tool of the server version').toMatch(new RegExp(`^temporalio/admin-tools:${TEMPORAL_SERVER_VERSION.replace(/\./g, '\\.')}-`));
    const args = Array.isArray(job.entrypoint) ? job.entrypoint : [];
    const script = hostPathOf(job, args[args.length - 1]!);
    expect(script).toBe(join(clusterConfigRoot(), 'setup-schema.sh'));
    // Compose's environment, with the host and port of the booted cluster's PostgreSQL.
    const env = { ...process.env, ...envOf(job), FB_PG_HOST: '127.0.0.1', FB_PG_PORT: String(tc.cluster.ports.postgres), TEMPORAL_SQL_TOOL: tc.cluster.bins.sqlTool };
    const r = spawnSync(args[0]!, [script!], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('database temporal: schema postgresql/v12/temporal up to date');
    expect(r.stdout).toContain('database temporal_visibility: schema postgresql/v12/visibility up to date');
  });

  it('the init job, run against the booted cluster, finds the namespace and the search attributes in place and succeeds', () => {
    const init = svc(role(saInitName, 'search-attribute init'));
    const env = { ...process.env, ...envOf(init), TEMPORAL_ADDRESS: tc.address, PATH: `${dirname(temporalCliPath())}:${process.env.PATH}` };
    const r = spawnSync('/bin/sh', ['-c', shellOf(init)], { env, encoding: 'utf8', timeout: 90_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    for (const a of SEARCH_ATTRIBUTES) expect(r.stdout).toContain(a.name);
  }, 120_000);
});

describe('Dockerfile', () => {
  it('exists where the worker service builds it', () => {
    expect(existsSync(workerDockerfile), workerDockerfile).toBe(true);
  });

  it('base images are pinned', () => {
    const froms = df.instructions.filter((i) => i.op === 'FROM');
    expect(froms.length).toBeGreaterThan(0);
    const stageNames = froms.map((f) => /\bAS\s+(\S+)/i.exec(f.args)?.[1]).filter(Boolean);
    for (const f of froms) {
      const ref = f.args.split(' ').find((w) => !w.startsWith('--'))!;
      const img = ref.replace(/^\$\{?(\w+)\}?$/, (_, k: string) => df.args[k] ?? `<unset ARG ${k}>`);
      if (stageNames.includes(img)) continue;
      expect(img, `FROM ${ref}`).toMatch(/^[^:@\s<]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/);
      expect(img).not.toMatch(/:latest$/);
    }
    // Node satisfies package.json engines (major version).
    const engines = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines?: { node?: string } }).engines?.node ?? '';
    const want = Number(/(\d+)/.exec(engines)?.[1]);
    const nodeImages = Object.values(df.args).concat(froms.map((f) => f.args)).filter((s) => /^node:/.test(s));
    expect(nodeImages.length).toBeGreaterThan(0);
    for (const n of nodeImages) expect(Number(/^node:(\d+)/.exec(n)?.[1]), n).toBeGreaterThanOrEqual(want);
  });

  it('installs with npm install from the lockfile (npm 11\'s ci fails on it, see scripts/setup.sh), runs `npm run build`, then prunes dev dependencies', () => {
    const runs = df.instructions.map((i, idx) => ({ ...i, idx })).filter((i) => i.op === 'RUN');
    expect(runs.filter((r) => /\bnpm ci\b/.test(r.args)).map((r) => r.args)).toEqual([]);
    // `npm install` with flags only (no package names): it installs what the lockfile pins.
    const ci = runs.find((r) => /\bnpm (install|i)( --[\w=-]+)*\s*(&&|$)/.test(r.args));
    const build = runs.find((r) => /\bnpm run build\b/.test(r.args));
    expect(ci, 'RUN npm install').toBeDefined();
    expect(build, 'RUN npm run build').toBeDefined();
    expect(ci!.idx).toBeLessThanOrEqual(build!.idx);
    const prune = runs.find((r) => /\bnpm prune\b.*--omit[= ]dev/.test(r.args));
    expect(prune, 'RUN npm prune --omit=dev').toBeDefined();
    expect(prune!.idx >= build!.idx && (prune!.idx > build!.idx || prune!.args.indexOf('npm prune') > prune!.args.indexOf('npm run build'))).toBe(true);
    // And `npm run build` is what package.json says it is: tsc, then the workflow bundle.
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.build).toMatch(/tsc -p tsconfig\.json/);
  });

  it('ENTRYPOINT runs bin/fluxburst.js, CMD defaults to the worker, as a non-root user', () => {
    const ep = last(inFinal('ENTRYPOINT'));
    expect(ep, 'ENTRYPOINT in the final stage').toBeDefined();
    expect(execForm(ep!.args)).toEqual(['node', 'bin/fluxburst.js']);
    expect(existsSync(join(root, 'bin/fluxburst.js'))).toBe(true);
    const cmd = last(inFinal('CMD'));
    expect(cmd && execForm(cmd.args)).toEqual(['worker']);
    const user = last(inFinal('USER'))?.args;
    expect(user, 'USER in the final stage').toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it('every file it COPYs exists in the repo and is not excluded by .dockerignore', () => {
    const ignore = dockerignore(workerContext);
    const copies = df.instructions.filter((i) => i.op === 'COPY' || i.op === 'ADD').map(copyParts);
    const fromContext = copies.filter((c) => !c.from).flatMap((c) => c.sources);
    expect(fromContext.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const src of fromContext) {
      if (!existsSync(join(workerContext, src))) problems.push(`${src}: missing`);
      const by = ignored(src, ignore);
      if (by) problems.push(`${src}: excluded by .dockerignore "${by}"`);
    }
    expect(problems).toEqual([]);
  });

  it('copies the sources the build compiles, closed under their relative imports', () => {
    const copied = new Set(
      df.instructions
        .filter((i) => i.op === 'COPY')
        .map(copyParts)
        .filter((c) => !c.from)
        .flatMap((c) => c.sources.map((s) => posix.normalize(s).replace(/\/$/, ''))),
    );
    for (const f of ['tsconfig.json', 'package.json', 'package-lock.json', 'bin']) expect([...copied], f).toContain(f);
    // The test kit, tests and benches stay out of the image.
    for (const d of ['testkit', 'test', 'bench']) expect([...copied], d).not.toContain(d);
    // The runtime's trees, all compiled by tsconfig.json.
    const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { include?: string[] };
    for (const d of ['src', 'workflows', 'activities', 'workers']) {
      expect([...copied], d).toContain(d);
      expect(tsconfig.include, `tsconfig.json includes ${d}`).toContain(d);
    }
    // Every relative import in a copied tree lands in a copied tree (else tsc fails in the image).
    const topOf = (abs: string) => abs.slice(root.length + 1).split('/')[0]!;
    const files = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : /\.(ts|js)$/.test(e.name) ? [join(d, e.name)] : []));
    const problems: string[] = [];
    for (const tree of [...copied].filter((c) => existsSync(join(root, c)) && statSync(join(root, c)).isDirectory())) {
      for (const f of files(join(root, tree))) {
        for (const m of readFileSync(f, 'utf8').matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)) {
          const target = resolve(dirname(f), m[1]!);
          // bin/ imports the compiled output under dist/, which the build produces from a copied tree.
          const source = topOf(target) === 'dist' ? join(root, target.slice(join(root, 'dist').length + 1)) : target;
          const candidates = [source, source.replace(/\.js$/, '.ts')];
          if (!candidates.some((c) => existsSync(c))) problems.push(`${f.slice(root.length + 1)}: ${m[1]} does not exist`);
          else if (!copied.has(topOf(source))) problems.push(`${f.slice(root.length + 1)}: ${m[1]} is in ${topOf(source)}/, which is not copied`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('the final stage carries what bin/fluxburst.js loads: package.json, node_modules, dist, bin', () => {
    const dests = inFinal('COPY')
      .map(copyParts)
      .flatMap((c) => c.sources.map((s) => posix.basename(s)));
    for (const need of ['package.json', 'node_modules', 'dist', 'bin']) expect(dests, need).toContain(need);
    const bin = readFileSync(join(root, 'bin/fluxburst.js'), 'utf8');
    // A static import, or a dynamic one (bin/ sets process env before the CLI's modules load).
    const target = /(?:from\s+|import\s*\(\s*)'\.\.\/dist\/([^']+)\.js'/.exec(bin)?.[1];
    expect(target).toBeTruthy();
    expect(existsSync(join(root, `${target}.ts`)), `${target}.ts`).toBe(true);
  });

  it('.dockerignore keeps local state and build output out of the context', () => {
    const ignore = dockerignore(workerContext);
    for (const p of ['node_modules', 'dist', '.tools', '.fluxburst', 'test/.artifacts', '.git']) expect(ignored(p, ignore), p).toBeTruthy();
  });
});
