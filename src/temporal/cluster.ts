// A real Temporal cluster on one machine: a private PostgreSQL and the four temporal-server
// services (history, matching, frontend, worker) as separate processes, all on loopback, all
// configured by deploy/temporal/config/cluster.yaml — the file docker-compose.yml mounts.
// `fluxburst server --cluster` runs it for a user; testkit/temporal-cluster/ runs it for the
// suite, the cluster chaos run and the scale benchmark, through this same code.
//
// Binaries: temporal-server and temporal-sql-tool v1.29.1 built from the Go module proxy into
// .tools/bin by scripts/setup.sh; PostgreSQL is Debian's (/usr/lib/postgresql/<v>/bin).
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { FluxburstError } from '../core/errors.js';
import { SEARCH_ATTRIBUTES } from '../core/search-attributes.js';
import { waitHealthy } from './dev-server.js';
import { projectRoot, temporalCliPath } from './paths.js';
import { freePort } from './ports.js';

export const TEMPORAL_SERVER_VERSION = '1.29.1';
/** The order of a first boot: history writes the cluster metadata, then the rest may join. */
export const SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** --root/--config/--env of deploy/temporal/config/cluster.yaml. */
export const clusterConfigRoot = () => join(projectRoot(), 'deploy', 'temporal');
export const CLUSTER_CONFIG_DIR = 'config';
export const CLUSTER_CONFIG_ENV = 'cluster';
export const clusterConfigFile = () => join(clusterConfigRoot(), CLUSTER_CONFIG_DIR, `${CLUSTER_CONFIG_ENV}.yaml`);

export interface ClusterPorts {
  postgres: number;
  frontend: number;
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  frontendMembership: number;
  historyMembership: number;
  matchingMembership: number;
  workerMembership: number;
  /** The Temporal UI (ui-server), when it runs. */
  ui?: number;
}

/** The usual Temporal ports (the config file's defaults), PostgreSQL on 5432. */
export const DEFAULT_PORTS: ClusterPorts = {
  postgres: 5432,
  frontend: 7233,
  frontendHttp: 7243,
  history: 7234,
  matching: 7235,
  worker: 7239,
  frontendMembership: 6933,
  historyMembership: 6934,
  matchingMembership: 6935,
  workerMembership: 6939,
};

/** A port free on loopback right now, below `below`. */
function freePortBelow(below: number, used: Set<number>): Promise<number> {
  return new Promise((resolve, reject) => {
    const attempt = (n: number) => {
      if (n > 200) return reject(new Error(`no free loopback port below ${below}`));
      const port = 10_000 + Math.floor(Math.random() * (below - 10_000));
      if (used.has(port)) return attempt(n + 1);
      const s = createServer();
      s.unref();
      s.once('error', () => attempt(n + 1));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(port)));
    };
    attempt(0);
  });
}

/**
 * Free loopback ports for every listener. Membership ports go into cluster_membership.rpc_port,
 * a PostgreSQL smallint: they must be below 32768, where the kernel's ephemeral ports
 * (what freePort() gets) never are.
 */
export async function freeClusterPorts(): Promise<ClusterPorts> {
  const out: Record<string, number> = {};
  const used = new Set<number>();
  for (const k of Object.keys(DEFAULT_PORTS)) {
    let p = k.endsWith('Membership') ? await freePortBelow(32_768, used) : await freePort();
    while (used.has(p)) p = await freePort();
    used.add(p);
    out[k] = p;
  }
  return out as unknown as ClusterPorts;
}

/** Per namespace, visibility on PostgreSQL/MySQL/SQLite pre-allocates this many columns per type. */
export const SQL_SEARCH_ATTRIBUTE_LIMITS: Record<string, number> = { Keyword: 10, KeywordList: 3, Int: 3, Double: 3, Bool: 3, Datetime: 3, Text: 3 };
const SA_TYPE_NAMES: Record<string, string> = { KEYWORD: 'Keyword', TEXT: 'Text', INT: 'Int', DOUBLE: 'Double', BOOL: 'Bool', DATETIME: 'Datetime', KEYWORD_LIST: 'KeywordList' };

/** fluxburst's search attributes as `temporal operator search-attribute create` types, checked against the SQL column limits. */
export function searchAttributeSpecs(attrs: ReadonlyArray<{ name: string; type: string }> = SEARCH_ATTRIBUTES): Array<{ name: string; type: string }> {
  const specs = attrs.map((a) => ({ name: a.name, type: SA_TYPE_NAMES[a.type] ?? a.type }));
  const perType = new Map<string, number>();
  for (const s of specs) {
    if (!(s.type in SQL_SEARCH_ATTRIBUTE_LIMITS)) throw new FluxburstError('SearchAttributeType', `search attribute ${s.name}: type ${s.type} has no column in SQL visibility`);
    perType.set(s.type, (perType.get(s.type) ?? 0) + 1);
  }
  for (const [type, n] of perType) {
    if (n > SQL_SEARCH_ATTRIBUTE_LIMITS[type]!) {
      throw new FluxburstError('SearchAttributeLimit', `${n} ${type} search attributes, but SQL visibility (PostgreSQL) allows ${SQL_SEARCH_ATTRIBUTE_LIMITS[type]} per namespace`);
    }
  }
  return specs;
}

export interface ClusterBinaries {
  server: string;
  sqlTool: string;
  pgBin: string;
  ui?: string;
}

/** temporal-server, temporal-sql-tool (.tools/bin, or FLUXBURST_TEMPORAL_SERVER/_SQL_TOOL), PostgreSQL's bin dir. */
export function clusterBinaries(env: NodeJS.ProcessEnv = process.env): ClusterBinaries {
  const bin = join(projectRoot(), '.tools', 'bin');
  const server = env.FLUXBURST_TEMPORAL_SERVER ?? join(bin, 'temporal-server');
  const sqlTool = env.FLUXBURST_TEMPORAL_SQL_TOOL ?? join(bin, 'temporal-sql-tool');
  const uiBin = env.FLUXBURST_TEMPORAL_UI ?? join(projectRoot(), '.tools', 'ui', 'bin', 'server');
  let pgBin = env.FLUXBURST_PG_BIN ?? '';
  if (!pgBin) {
    const base = '/usr/lib/postgresql';
    const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
    pgBin = versions.length ? join(base, versions[0]!, 'bin') : '';
  }
  const missing = [
    [server, 'temporal-server'],
    [sqlTool, 'temporal-sql-tool'],
    [join(pgBin, 'initdb'), 'PostgreSQL (initdb)'],
  ].filter(([p]) => !p || !existsSync(p!));
  if (missing.length) {
    throw new FluxburstError('MissingClusterBinaries', `not found: ${missing.map(([p, what]) => `${what} (${p || 'no /usr/lib/postgresql/*/bin'})`).join(', ')}; run scripts/setup.sh --test`);
  }
  return { server, sqlTool, pgBin, ...(existsSync(uiBin) ? { ui: uiBin } : {}) };
}

export interface ClusterOptions {
  /** Everything lives here: pgdata/, pgsock/, <service>.log, cluster.json. */
  stateDir: string;
  ports?: ClusterPorts;
  namespace?: string;
  /** Services detached from this process (the CLI's --detach); `stopCluster(stateDir)` ends them. */
  detach?: boolean;
  /** Start the Temporal UI too (needs ui-server in .tools/ui/bin). */
  ui?: boolean;
  /** The codec server the UI sends payloads to (`fluxburst codec-server`). */
  codecEndpoint?: string;
  log?: (line: string) => void;
}

export interface ClusterInfo {
  address: string;
  namespace: string;
  stateDir: string;
  ports: ClusterPorts;
  pids: Partial<Record<ServiceName | 'ui', number>>;
  pgData: string;
  uiUrl?: string;
}

export const clusterInfoPath = (stateDir: string) => join(stateDir, 'cluster.json');

/** The postgres account that runs initdb/pg_ctl when we are root (initdb refuses root). */
function pgAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => (s.destroy(), resolve(false)));
  });
}

async function waitPort(port: number, ms: number, what: string, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive()) throw new FluxburstError('ClusterStart', `${what} exited before it listened on ${port}`);
    if (await portOpen(port)) return;
    await sleep(100);
  }
  throw new FluxburstError('ClusterStart', `${what} did not listen on ${port} within ${ms} ms`);
}

function tail(file: string, n = 8): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/**
 * One cluster: its PostgreSQL and its four service processes. Methods to kill and restart any
 * part are here so chaos can break exactly what a real deployment loses.
 */
export class TemporalCluster {
  readonly stateDir: string;
  readonly ports: ClusterPorts;
  readonly namespace: string;
  readonly bins: ClusterBinaries;
  readonly pgData: string;
  readonly pgSock: string;
  readonly address: string;
  /** sha256 of deploy/temporal/config/cluster.yaml when this cluster started. */
  configSha256 = '';
  private readonly children = new Map<ServiceName | 'ui', ChildProcess>();
  private readonly account: { uid: number; gid: number } | undefined;
  private readonly log: (l: string) => void;
  private readonly detach: boolean;
  private readonly wantUi: boolean;
  private readonly codecEndpoint: string | undefined;

  constructor(o: ClusterOptions & { ports: ClusterPorts }) {
    this.stateDir = o.stateDir;
    this.ports = o.ports;
    this.namespace = o.namespace ?? 'default';
    this.bins = clusterBinaries();
    this.pgData = join(o.stateDir, 'pgdata');
    this.pgSock = join(o.stateDir, 'pgsock');
    this.address = `127.0.0.1:${o.ports.frontend}`;
    this.account = pgAccount();
    this.log = o.log ?? (() => undefined);
    this.detach = !!o.detach;
    this.wantUi = !!o.ui;
    this.codecEndpoint = o.codecEndpoint;
  }

  /** The environment the config file reads (ports, database). */
  serverEnv(): Record<string, string> {
    const p = this.ports;
    return {
      FB_PG_HOST: '127.0.0.1',
      FB_PG_PORT: String(p.postgres),
      FB_PG_USER: 'temporal',
      FB_PG_PASSWORD: 'temporal',
      FB_FRONTEND_PORT: String(p.frontend),
      FB_FRONTEND_HTTP_PORT: String(p.frontendHttp),
      FB_HISTORY_PORT: String(p.history),
      FB_MATCHING_PORT: String(p.matching),
      FB_WORKER_PORT: String(p.worker),
      FB_FRONTEND_MEMBERSHIP_PORT: String(p.frontendMembership),
      FB_HISTORY_MEMBERSHIP_PORT: String(p.historyMembership),
      FB_MATCHING_MEMBERSHIP_PORT: String(p.matchingMembership),
      FB_WORKER_MEMBERSHIP_PORT: String(p.workerMembership),
      FB_BROADCAST_ADDRESS: '127.0.0.1',
      FB_LOG_LEVEL: process.env.FB_LOG_LEVEL ?? 'warn',
    };
  }

  private pgRun(cmd: string, args: string[], opts: { allowFail?: boolean } = {}): string {
    const r = spawnSync(join(this.bins.pgBin, cmd), args, {
      encoding: 'utf8',
      cwd: this.stateDir,
      ...(this.account ? { uid: this.account.uid, gid: this.account.gid } : {}),
      env: { ...process.env, LC_ALL: 'C.UTF-8' },
    });
    if (r.status !== 0 && !opts.allowFail) {
      throw new FluxburstError('ClusterPostgres', `${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || String(r.error ?? '')).trim()}`);
    }
    return r.stdout;
  }

  private pgOwn(path: string, mode: number): void {
    mkdirSync(path, { recursive: true });
    chmodSync(path, mode);
    if (this.account) chownSync(path, this.account.uid, this.account.gid);
  }

  /** initdb (once), configure loopback + port + socket inside the state dir, start. */
  async startPostgres(): Promise<void> {
    mkdirSync(this.stateDir, { recursive: true });
    // The postgres account must reach its directories inside ours.
    chmodSync(this.stateDir, 0o711);
    if (this.account) {
      for (let d = dirname(this.stateDir); d !== dirname(d); d = dirname(d)) {
        if ((statSync(d).mode & 0o001) === 0) {
          throw new FluxburstError('ClusterPostgres', `PostgreSQL runs as the postgres user (initdb refuses root), which cannot enter ${d} (mode ${(statSync(d).mode & 0o777).toString(8)}); use a state dir under a directory others may traverse (FLUXBURST_STATE_DIR)`);
        }
      }
    }
    const fresh = !existsSync(join(this.pgData, 'PG_VERSION'));
    if (fresh) {
      this.pgOwn(this.pgData, 0o700);
      this.pgRun('initdb', ['-D', this.pgData, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-instructions']);
    }
    this.pgOwn(this.pgSock, 0o700);
    // Every start says where to listen (the port may differ from the last run's).
    writeFileSync(
      join(this.pgData, 'postgresql.auto.conf'),
      [
        `listen_addresses = '127.0.0.1'`,
        `port = ${this.ports.postgres}`,
        `unix_socket_directories = '${this.pgSock}'`,
        // Four services × (20 + 10) pooled connections, plus the tools.
        'max_connections = 200',
        '',
      ].join('\n'),
    );
    if (this.account) chownSync(join(this.pgData, 'postgresql.auto.conf'), this.account.uid, this.account.gid);
    this.pgRun('pg_ctl', ['-D', this.pgData, '-l', join(this.pgSock, 'postgres.log'), '-w', '-t', '60', 'start']);
    if (fresh) {
      this.pgRun('psql', ['-h', this.pgSock, '-p', String(this.ports.postgres), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q', '-c', "CREATE USER temporal WITH PASSWORD 'temporal' CREATEDB"]);
      this.setupSchemas();
    }
  }

  /** deploy/temporal/setup-schema.sh: the script docker-compose.yml's one-shot schema service runs. */
  private setupSchemas(): void {
    const env = { ...process.env, ...this.serverEnv(), TEMPORAL_SQL_TOOL: this.bins.sqlTool };
    const r = spawnSync('sh', [join(clusterConfigRoot(), 'setup-schema.sh')], { encoding: 'utf8', env });
    if (r.status !== 0) throw new FluxburstError('ClusterSchema', `deploy/temporal/setup-schema.sh: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  }

  /** Fast shutdown and start again on the same data (what a database failover or restart costs). */
  async restartPostgres(): Promise<void> {
    this.pgRun('pg_ctl', ['-D', this.pgData, '-m', 'fast', '-w', '-t', '60', 'stop']);
    this.pgRun('pg_ctl', ['-D', this.pgData, '-l', join(this.pgSock, 'postgres.log'), '-w', '-t', '60', 'start']);
  }

  postgresPid(): number | undefined {
    try {
      return Number(readFileSync(join(this.pgData, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return undefined;
    }
  }

  /** Start one service process; resolves once its gRPC port listens. */
  async startService(s: ServiceName): Promise<ChildProcess> {
    const logFile = join(this.stateDir, `${s}.log`);
    const fd = openSync(logFile, 'a');
    const root = clusterConfigRoot();
    const opts: SpawnOptions = {
      cwd: root,
      env: { ...process.env, ...this.serverEnv() },
      stdio: ['ignore', fd, fd],
      detached: this.detach,
    };
    const child = spawn(this.bins.server, ['--root', root, '--config', CLUSTER_CONFIG_DIR, '--env', CLUSTER_CONFIG_ENV, '--allow-no-auth', 'start', '--service', s], opts);
    closeSync(fd);
    if (this.detach) child.unref();
    this.children.set(s, child);
    let exited = false;
    child.once('exit', () => (exited = true));
    try {
      // The worker service serves no gRPC; its ringpop (membership) port says it joined.
      await waitPort(s === 'worker' ? this.ports.workerMembership : this.ports[s], 60_000, `temporal-server --service ${s}`, () => !exited);
    } catch (e) {
      throw new FluxburstError('ClusterStart', `${(e as Error).message}\n${tail(logFile)}`);
    }
    return child;
  }

  /** What each service process said it loaded ("Loading config files=[…]" in its log). */
  loadedConfigFiles(): Record<ServiceName, string[]> {
    const out = {} as Record<ServiceName, string[]>;
    for (const s of SERVICES) {
      let text = '';
      try {
        text = readFileSync(join(this.stateDir, `${s}.log`), 'utf8');
      } catch {
        /* never started */
      }
      out[s] = [...new Set([...text.matchAll(/Loading config files=\[([^\]]*)\]/g)].flatMap((m) => m[1]!.split(/\s+/).filter(Boolean)))];
    }
    return out;
  }

  child(s: ServiceName): ChildProcess | undefined {
    return this.children.get(s);
  }

  /** kill -9 (or another signal) one service and wait until it is gone. */
  async killService(s: ServiceName, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.children.get(s);
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await Promise.race([gone, sleep(10_000)]);
    if (c.exitCode === null && c.signalCode === null) (c.kill('SIGKILL'), await gone);
  }

  /** Everything up: PostgreSQL, schemas, history first (first boot), then the rest, namespace, search attributes. */
  async start(): Promise<ClusterInfo> {
    const t0 = Date.now();
    this.configSha256 = createHash('sha256').update(readFileSync(clusterConfigFile())).digest('hex');
    await this.startPostgres();
    this.log(`postgres on 127.0.0.1:${this.ports.postgres} (${Date.now() - t0} ms)`);
    // Started together on an empty database the services race to write the cluster metadata.
    await this.startService('history');
    await Promise.all((['matching', 'frontend', 'worker'] as const).map((s) => this.startService(s)));
    await waitHealthy(this.address, 60_000);
    this.log(`services up (${Date.now() - t0} ms)`);
    await this.registerNamespace();
    this.log(`namespace ${this.namespace} and search attributes (${Date.now() - t0} ms)`);
    if (this.wantUi) await this.startUi();
    const info = this.info();
    writeFileSync(clusterInfoPath(this.stateDir), JSON.stringify(info, null, 2));
    return info;
  }

  info(): ClusterInfo {
    const pids: ClusterInfo['pids'] = {};
    for (const [k, c] of this.children) if (c.pid) pids[k] = c.pid;
    return {
      address: this.address,
      namespace: this.namespace,
      stateDir: this.stateDir,
      ports: this.ports,
      pids,
      pgData: this.pgData,
      ...(this.ports.ui ? { uiUrl: `http://127.0.0.1:${this.ports.ui}` } : {}),
    };
  }

  private temporal(args: string[]): { code: number; out: string } {
    const r = spawnSync(temporalCliPath(), [...args, '--address', this.address], { encoding: 'utf8', timeout: 30_000 });
    return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
  }

  /**
   * The namespace and fluxburst's search attributes, registered the way the README tells users:
   * `temporal operator namespace create` and `temporal operator search-attribute create`.
   */
  async registerNamespace(): Promise<void> {
    const d = this.temporal(['operator', 'namespace', 'describe', '--namespace', this.namespace]);
    if (d.code !== 0) {
      const c = this.temporal(['operator', 'namespace', 'create', '--namespace', this.namespace]);
      if (c.code !== 0 && !/already/i.test(c.out)) throw new FluxburstError('ClusterNamespace', `namespace create: ${c.out.trim()}`);
    }
    const sa = searchAttributeSpecs().flatMap((s) => ['--name', s.name, '--type', s.type]);
    const deadline = Date.now() + 30_000;
    for (;;) {
      // Right after the namespace is made the frontend may not know it yet for ~1 s.
      const r = this.temporal(['operator', 'search-attribute', 'create', '--namespace', this.namespace, ...sa]);
      if (r.code === 0) break;
      if (Date.now() > deadline) throw new FluxburstError('ClusterSearchAttributes', `search-attribute create: ${r.out.trim()}`);
      await sleep(300);
    }
    // Ready when a visibility query by one of them is accepted.
    const conn = await Connection.connect({ address: this.address });
    try {
      const sa0 = SEARCH_ATTRIBUTES[0]!.name;
      for (;;) {
        try {
          await conn.workflowService.countWorkflowExecutions({ namespace: this.namespace, query: `${sa0} = 'probe'` });
          break;
        } catch (e) {
          if (Date.now() > deadline) throw new FluxburstError('ClusterSearchAttributes', `visibility query by ${sa0}: ${(e as Error).message}`);
          await sleep(300);
        }
      }
    } finally {
      await conn.close();
    }
  }

  /** The Temporal UI server (ui-server v2.55.0) on the frontend. */
  async startUi(): Promise<void> {
    if (!this.bins.ui) throw new FluxburstError('MissingClusterBinaries', 'Temporal UI server not found in .tools/ui/bin; run scripts/setup.sh --test');
    const port = this.ports.ui ?? (this.ports.ui = await freePort());
    const dir = join(this.stateDir, 'ui');
    mkdirSync(join(dir, 'config'), { recursive: true });
    writeFileSync(
      join(dir, 'config', 'cluster.yaml'),
      [
        `temporalGrpcAddress: ${this.address}`,
        'host: 127.0.0.1',
        `port: ${port}`,
        'enableUi: true',
        `defaultNamespace: ${this.namespace}`,
        'cors:',
        '  allowOrigins: []',
        ...(this.codecEndpoint ? ['codec:', `  endpoint: ${JSON.stringify(this.codecEndpoint)}`] : []),
        '',
      ].join('\n'),
    );
    const fd = openSync(join(this.stateDir, 'ui.log'), 'a');
    const child = spawn(this.bins.ui, ['--root', dir, '--env', 'cluster', 'start'], { cwd: dir, stdio: ['ignore', fd, fd], detached: this.detach });
    closeSync(fd);
    if (this.detach) child.unref();
    this.children.set('ui', child);
    let exited = false;
    child.once('exit', () => (exited = true));
    await waitPort(port, 30_000, 'ui-server', () => !exited);
  }

  /** Services (SIGTERM, then SIGKILL; or `signal`), then PostgreSQL (fast, then immediate). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all([...this.children.keys()].map((s) => this.killService(s as ServiceName, signal)));
    rmSync(clusterInfoPath(this.stateDir), { force: true });
    if (existsSync(join(this.pgData, 'postmaster.pid'))) {
      try {
        this.pgRun('pg_ctl', ['-D', this.pgData, '-m', 'fast', '-w', '-t', '30', 'stop']);
      } catch {
        this.pgRun('pg_ctl', ['-D', this.pgData, '-m', 'immediate', '-w', 'stop'], { allowFail: true });
      }
    }
  }
}

/** Start a cluster in stateDir; ports default to free loopback ports. */
export async function startCluster(o: ClusterOptions): Promise<TemporalCluster> {
  const cluster = new TemporalCluster({ ...o, ports: o.ports ?? (await freeClusterPorts()) });
  try {
    await cluster.start();
  } catch (e) {
    await cluster.stop().catch(() => undefined);
    throw e;
  }
  return cluster;
}

export function readClusterInfo(stateDir: string): ClusterInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(clusterInfoPath(stateDir), 'utf8')) as ClusterInfo;
    if (!Object.values(info.pids).some((pid) => alive(pid))) return undefined;
    return info;
  } catch {
    return undefined;
  }
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stop a detached cluster by its cluster.json (`fluxburst stop`). */
export async function stopCluster(stateDir: string): Promise<boolean> {
  let info: ClusterInfo;
  try {
    info = JSON.parse(readFileSync(clusterInfoPath(stateDir), 'utf8')) as ClusterInfo;
  } catch {
    return false;
  }
  const pids = Object.values(info.pids).filter((p): p is number => alive(p));
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && pids.some(alive); i++) await sleep(100);
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
  if (existsSync(join(info.pgData, 'postmaster.pid'))) {
    const bins = clusterBinaries();
    const account = pgAccount();
    spawnSync(join(bins.pgBin, 'pg_ctl'), ['-D', info.pgData, '-m', 'fast', '-w', '-t', '30', 'stop'], { ...(account ? { uid: account.uid, gid: account.gid } : {}), stdio: 'ignore' });
  }
  rmSync(clusterInfoPath(stateDir), { force: true });
  return true;
}
