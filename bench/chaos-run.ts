// The chaos driver shared by `npm run chaos` (bench/chaos.ts) and test/chaos/chaos.test.ts.
//
// It owns everything it breaks: a Temporal dev server on its own SQLite file and ports, a moto
// launcher, N `fluxburst worker` processes on a task queue of its own and a local-plugin workdir.
// Bursts run while a seeded PRNG SIGKILLs workers at random moments (each is restarted) and the
// dev server is stopped and started again once on the same database. At the end it checks the
// invariants the README promises (final states, no job lost, nothing left, nothing made twice).
//
// With `cluster: true` the server is a real Temporal cluster on PostgreSQL (testkit/temporal-
// cluster: four temporal-server processes): instead of the dev server restart, each service is
// kill -9'd and restarted in turn (history, matching, frontend) and PostgreSQL is restarted
// (fast) once, between the worker kills; the cluster's own processes, dir and ports count as
// leftovers too.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeFleetsCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribePlacementGroupsCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { SA_OWNER } from '../src/core/search-attributes.js';
import type { BurstInput, BurstResult, BurstStatus, Job } from '../src/core/types.js';
import { TAG_BURST, TAG_OWNER } from '../src/plugins/aws-ec2/tags.js';
import { NODE_DIR_ENV, processesWithEnv, readLedger } from '../src/plugins/local/layout.js';
import { dataConverterFromEnv } from '../src/temporal/codec.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { startTestCluster, type TestCluster } from '../testkit/temporal-cluster/index.js';
import { projectRoot } from '../src/temporal/paths.js';
import { freePort } from '../src/temporal/ports.js';
import { cancelSignal, jobDoneUpdate, statusQuery } from '../workflows/messages.js';
import { ec2Client, type Moto, motoBase, startMoto } from '../testkit/moto/index.js';
import { burstWorkflow } from '../workflows/burst.js';

export interface ChaosOptions {
  /** Bursts on the local plugin. */
  bursts: number;
  /** Bursts on aws-ec2 against moto (0: moto is not started). */
  ec2Bursts: number;
  workers: number;
  seed: number;
  /** Wall-clock budget for the bursts; what is still open then is reported as running. */
  timeoutS: number;
  /** At most this many worker kills (default: no limit, until every burst is closed). */
  maxKills?: number;
  /** Seconds between kills, drawn uniformly from [min, max]. */
  killEveryS?: [number, number];
  /** Dev server restarts (default 1), once this fraction of the bursts is closed. */
  serverRestarts?: number;
  serverRestartAt?: number;
  serverSignal?: 'SIGTERM' | 'SIGKILL';
  /** A real Temporal cluster on PostgreSQL instead of the dev server, its services killed in turn. */
  cluster?: boolean;
  /** Cluster: the services kill -9'd and restarted, in this order (PostgreSQL: a fast restart). */
  clusterVictims?: ClusterVictim[];
  /** Bursts open at once (2 cores: every node is a process). */
  concurrency?: number;
  /** Keep the state dir and workdir (for post-mortems). */
  keep?: boolean;
  log?: (line: string) => void;
}

export type ClusterVictim = 'history' | 'matching' | 'frontend' | 'worker' | 'postgres';
export const CLUSTER_VICTIMS: ClusterVictim[] = ['history', 'matching', 'frontend', 'postgres'];

export type FinalState = 'completed' | 'failed' | 'cancelled' | 'running' | 'other';
type Kind = 'latency' | 'multi' | 'sleep' | 'fault-retry' | 'fail' | 'cancel' | 'ec2-gang-pg' | 'ec2-two-jobs' | 'ec2-three';

interface Planned {
  id: string;
  plugin: 'local' | 'aws-ec2';
  kind: Kind;
  jobs: Job[];
  expect: 'completed' | 'failed' | 'cancelled';
  input: BurstInput;
  /** EC2: seconds in phase run before the scheduler reports the jobs (chaos gets a chance mid-run). */
  reportAfterMs: number;
  handle?: WorkflowHandle;
  final?: FinalState;
  status?: BurstStatus;
  failure?: string;
  reported: Set<string>;
  runSeenAt?: number;
  cancelSent?: boolean;
}

export interface ChaosReport {
  seed: number;
  wallS: number;
  timedOut: boolean;
  bursts: { total: number; local: number; ec2: number } & Record<FinalState, number>;
  unexpected: string[];
  jobs: { expected: number; completed: number; lost: string[] };
  chaos: {
    kills: number;
    workerStarts: number;
    workersExitedOnTheirOwn: number;
    serverRestarts: number;
    serverDownS: number;
    /** Cluster runs: kill -9 + restart per Temporal service, and PostgreSQL restarts. */
    cluster?: Record<ClusterVictim, number>;
  };
  leftovers: {
    processes: number[];
    dirs: string[];
    instances: string[];
    launchTemplates: string[];
    placementGroups: string[];
    fleets: string[];
    /** Cluster runs: its processes, its dir, its ports still open after it stopped. */
    cluster?: { processes: number[]; dir: boolean; ports: number[] };
  };
  local: { nodesCreated: number; createdTwice: string[] };
  ec2: { planned: number; launched: number; mismatched: string[] };
  /** Failed checks, empty when the run passed. */
  problems: string[];
  ok: boolean;
  stateDir?: string;
  workdir?: string;
}

/** mulberry32: small, seedable, good enough to pick moments and victims reproducibly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OWNER = 'chaos';
const CREDS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
// Short heartbeats: a killed worker's activity is retried after 3 s, not after the step timeout.
const TIMEOUTS = { stepSeconds: 60, heartbeatSeconds: 3, jobSeconds: 120 };
// The order local bursts cycle through; the first eight include a failing and a cancelled one.
const LOCAL_KINDS: Kind[] = ['latency', 'multi', 'sleep', 'fault-retry', 'cancel', 'multi', 'latency', 'fail', 'sleep', 'multi'];
const EC2_KINDS: Kind[] = ['ec2-gang-pg', 'ec2-two-jobs', 'ec2-three'];

function localJob(id: string, nodes: number, command: string[]): Job {
  return { id, name: id, nodes, tasks: nodes, command, attributes: { system: { burstable: 1 } } };
}

function ec2Job(id: string, nodes: number): Job {
  return { id, name: id, nodes, tasks: nodes, coresPerNode: 2, command: ['hostname'], attributes: { system: { burstable: 1 } } };
}

function planBursts(o: ChaosOptions, rnd: () => number, runTag: string, workdir: string, ec2Base: Record<string, unknown> | undefined): Planned[] {
  const between = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const out: Planned[] = [];
  const mk = (i: number, plugin: Planned['plugin'], kind: Kind, jobs: Job[], params: Record<string, unknown>, expect: Planned['expect']): Planned => {
    const id = `chaos-${runTag}-${String(i).padStart(3, '0')}-${kind}`;
    const input: BurstInput = {
      owner: OWNER,
      source: { kind: 'inline', jobs },
      selector: { kind: 'burstable' },
      targets: [{ name: plugin, plugin, params }],
      maxNodes: 64,
      timeouts: TIMEOUTS,
    };
    return { id, plugin, kind, jobs, expect, input, reportAfterMs: between(500, 3000), reported: new Set() };
  };
  for (let i = 0; i < o.bursts; i++) {
    const kind = LOCAL_KINDS[i % LOCAL_KINDS.length]!;
    const base = { workdir, latencyMs: 0 };
    const p = `b${i}`;
    switch (kind) {
      case 'latency':
        out.push(mk(i, 'local', kind, [localJob(`${p}-a`, 1, ['echo', 'a']), localJob(`${p}-b`, 1, ['echo', 'b'])], { ...base, nodes: 2, latencyMs: between(300, 900) }, 'completed'));
        break;
      case 'multi': {
        const n = between(2, 3);
        out.push(mk(i, 'local', kind, [localJob(`${p}-wide`, n, ['sh', '-c', 'sleep 1; echo ok']), localJob(`${p}-after`, 1, ['echo', 'after'])], { ...base, latencyMs: between(100, 400) }, 'completed'));
        break;
      }
      case 'sleep':
        out.push(mk(i, 'local', kind, [localJob(`${p}-s1`, 1, ['sleep', String(between(2, 4))]), localJob(`${p}-s2`, 1, ['sleep', String(between(1, 3))])], { ...base, nodes: 1 }, 'completed'));
        break;
      case 'fault-retry':
        // The first create attempt makes the node then fails, as if its worker died before answering.
        out.push(mk(i, 'local', kind, [localJob(`${p}-a`, 2, ['echo', 'a'])], { ...base, latencyMs: 200, fault: { step: 'provision', times: 1, afterCreate: true } }, 'completed'));
        break;
      case 'fail':
        out.push(mk(i, 'local', kind, [localJob(`${p}-a`, 2, ['echo', 'a'])], { ...base, latencyMs: 200, fault: { step: 'join' } }, 'failed'));
        break;
      case 'cancel':
        out.push(mk(i, 'local', kind, [localJob(`${p}-long`, 1, ['sleep', '60'])], { ...base, nodes: 1 }, 'cancelled'));
        break;
      default:
        throw new Error(`no local kind ${kind}`);
    }
  }
  for (let i = 0; i < o.ec2Bursts; i++) {
    const kind = EC2_KINDS[i % EC2_KINDS.length]!;
    const p = `e${i}`;
    const params = { ...ec2Base!, capacityType: 'on-demand', instanceTypes: ['c5.large', 'c6i.large', 'm5.large'], pollSeconds: 0.2, launchTimeoutSeconds: 30 };
    const n = o.bursts + i;
    if (kind === 'ec2-gang-pg') out.push(mk(n, 'aws-ec2', kind, [ec2Job(`${p}-wide`, 2)], { ...params, placementGroup: true }, 'completed'));
    else if (kind === 'ec2-two-jobs') out.push(mk(n, 'aws-ec2', kind, [ec2Job(`${p}-a`, 1), ec2Job(`${p}-b`, 1)], { ...params, nodes: 2 }, 'completed'));
    else out.push(mk(n, 'aws-ec2', kind, [ec2Job(`${p}-wide`, 3), ec2Job(`${p}-one`, 1)], params, 'completed'));
  }
  // Interleave the EC2 bursts with the local ones (seeded), so both run under the same chaos.
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

interface WorkerSlot {
  child?: ChildProcess;
  /** Set while the driver itself kills or replaces this worker. */
  busy: boolean;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const t0 = Date.now();
  const el = () => ((Date.now() - t0) / 1000).toFixed(1);
  const say = (l: string) => log(`[chaos ${el()}s] ${l}`);
  const rnd = prng(o.seed);
  const chaosRnd = prng(o.seed ^ 0x9e3779b9);
  const runTag = `${o.seed.toString(36)}${Date.now().toString(36).slice(-4)}`;
  const root = projectRoot();
  const stateDir = mkdtempSync(join(tmpdir(), 'fb-chaos-state-'));
  const workdir = mkdtempSync(join(tmpdir(), 'fb-chaos-nodes-'));
  const taskQueue = `chaos-${runTag}`;
  const report: ChaosReport = {
    seed: o.seed,
    wallS: 0,
    timedOut: false,
    bursts: { total: o.bursts + o.ec2Bursts, local: o.bursts, ec2: o.ec2Bursts, completed: 0, failed: 0, cancelled: 0, running: 0, other: 0 },
    unexpected: [],
    jobs: { expected: 0, completed: 0, lost: [] },
    chaos: {
      kills: 0,
      workerStarts: 0,
      workersExitedOnTheirOwn: 0,
      serverRestarts: 0,
      serverDownS: 0,
      ...(o.cluster ? { cluster: { history: 0, matching: 0, frontend: 0, worker: 0, postgres: 0 } } : {}),
    },
    leftovers: { processes: [], dirs: [], instances: [], launchTemplates: [], placementGroups: [], fleets: [] },
    local: { nodesCreated: 0, createdTwice: [] },
    ec2: { planned: 0, launched: 0, mismatched: [] },
    problems: [],
    ok: false,
  };

  let server: ChildProcess | undefined;
  let tc: TestCluster | undefined;
  let moto: Moto | undefined;
  let ec2: EC2Client | undefined;
  let connection: Connection | undefined;
  const slots: WorkerSlot[] = Array.from({ length: o.workers }, () => ({ busy: false }));
  let stopping = false;
  let port = await freePort();

  const spawnWorker = async (slot: WorkerSlot): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const child = spawn(process.execPath, [join(root, 'bin', 'fluxburst.js'), 'worker', '--address', `127.0.0.1:${port}`, '--task-queue', taskQueue], {
        cwd: root,
        env: { ...process.env, ...CREDS, FLUXBURST_STATE_DIR: stateDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      slot.child = child;
      report.chaos.workerStarts++;
      // Every worker's output is kept in the state dir (kept on failure) for post-mortems.
      const logFile = createWriteStream(join(stateDir, `worker-${report.chaos.workerStarts}-pid${child.pid}.log`));
      child.stdout!.pipe(logFile);
      child.stderr!.pipe(logFile);
      let out = '';
      const ready = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 30_000);
        child.stdout!.on('data', (d: Buffer) => {
          out = (out + d.toString()).slice(-4000);
          if (out.includes('polling')) (clearTimeout(timer), resolve(true));
        });
        child.stderr!.on('data', (d: Buffer) => void (out = (out + d.toString()).slice(-4000)));
        child.once('exit', () => (clearTimeout(timer), resolve(false)));
      });
      if (ready) return;
      if (child.exitCode === null) child.kill('SIGKILL');
      say(`worker did not start (attempt ${attempt}): ${out.trim().split('\n').slice(-2).join(' | ')}`);
      if (attempt >= 5 || stopping) throw new Error(`worker would not start: ${out}`);
      await sleep(1000);
    }
  };

  const killWorker = async (slot: WorkerSlot, signal: NodeJS.Signals): Promise<void> => {
    const c = slot.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await Promise.race([exited, sleep(15_000)]);
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await exited;
    }
  };

  const startServer = async () => {
    if (o.cluster) {
      tc = await startTestCluster({ log: (l) => say(`cluster: ${l}`) });
      port = tc.cluster.ports.frontend;
      return;
    }
    const s = await startDevServer({ stateDir, port, headless: true });
    server = s.child;
  };
  // Cluster: the next service to break (one per chaos tick, between worker kills).
  const victims = [...(o.clusterVictims ?? CLUSTER_VICTIMS)];
  const breakCluster = async (v: ClusterVictim, open: number) => {
    const down = Date.now();
    if (v === 'postgres') {
      say(`restarting PostgreSQL (pg_ctl -m fast), ${open} bursts open`);
      await tc!.cluster.restartPostgres();
    } else {
      const downMs = Math.round(300 + chaosRnd() * 1700);
      say(`kill -9 temporal-server --service ${v} (pid ${tc!.cluster.child(v)?.pid}), ${open} bursts open; restart in ${downMs} ms`);
      await tc!.bounce(v, downMs);
    }
    report.chaos.cluster![v]++;
    report.chaos.serverDownS += (Date.now() - down) / 1000;
    say(`${v} back after ${((Date.now() - down) / 1000).toFixed(1)} s`);
  };

  try {
    say(`seed ${o.seed}: ${o.bursts} local + ${o.ec2Bursts} EC2 bursts, ${o.workers} workers, task queue ${taskQueue}`);
    const [, motoStarted] = await Promise.all([startServer(), o.ec2Bursts > 0 ? startMoto() : Promise.resolve(undefined)]);
    moto = motoStarted;
    let ec2Base: Record<string, unknown> | undefined;
    if (moto) {
      ec2 = ec2Client(moto.endpoint);
      ec2Base = await motoBase(moto.endpoint, `chaos-${runTag}`);
    }
    await Promise.all(slots.map((s) => spawnWorker(s)));
    say(`${o.cluster ? `Temporal cluster (4 services, PostgreSQL) at ${tc!.address}` : 'dev server'} on 127.0.0.1:${port} (${stateDir}), ${o.workers} workers polling${moto ? `, moto at ${moto.endpoint}` : ''}`);

    connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    const dataConverter = dataConverterFromEnv();
    const client = new Client({ connection, ...(dataConverter ? { dataConverter } : {}) });
    const conn = connection;
    const within = <T>(ms: number, fn: () => Promise<T>) => conn.withDeadline(Date.now() + ms, fn);

    const plan = planBursts(o, rnd, runTag, workdir, ec2Base);
    const deadline = t0 + o.timeoutS * 1000;
    const concurrency = o.concurrency ?? 10;
    const open = new Set<Planned>();
    let closed = 0;

    /** Waits for one burst to close; a server restart only interrupts the wait. */
    const settle = async (b: Planned): Promise<void> => {
      const h = b.handle!;
      for (;;) {
        if (Date.now() > deadline + 5_000) return;
        try {
          const r = (await h.result()) as BurstResult;
          b.status = r.status;
          b.final = r.outcome === 'completed' ? 'completed' : r.outcome === 'cancelled' ? 'cancelled' : 'other';
          return;
        } catch (e) {
          if (e instanceof WorkflowFailedError) {
            b.failure = e.cause?.message ?? e.message;
            const d = await within(5_000, () => h.describe()).catch(() => undefined);
            const name = d?.status.name;
            b.final = name === 'FAILED' ? 'failed' : name === 'CANCELLED' ? 'cancelled' : 'other';
            if (name && name !== 'FAILED' && name !== 'CANCELLED') b.failure = `${name}: ${b.failure}`;
            // Closed workflows answer queries by replay: the planned size and the jobs' end states.
            b.status = (await within(10_000, () => h.query(statusQuery)).catch(() => undefined)) ?? undefined;
            return;
          }
          await sleep(1000);
        }
      }
    };

    const startOne = async (b: Planned): Promise<void> => {
      for (;;) {
        try {
          b.handle = await client.workflow.start(burstWorkflow, {
            workflowId: b.id,
            taskQueue,
            args: [b.input],
            typedSearchAttributes: [{ key: SA_OWNER, value: OWNER }],
          });
          return;
        } catch (e) {
          // The first start may have reached the server before its answer was lost.
          if (e instanceof WorkflowExecutionAlreadyStartedError) {
            b.handle = client.workflow.getHandle(b.id);
            return;
          }
          if (Date.now() > deadline) throw e;
          await sleep(1000);
        }
      }
    };

    // Starts bursts as room frees up.
    const launcher = (async () => {
      for (const b of plan) {
        while (open.size >= concurrency) await sleep(200);
        if (Date.now() > deadline) break;
        open.add(b);
        await startOne(b);
        void settle(b).finally(() => {
          open.delete(b);
          closed++;
          if (b.final) say(`${b.id}: ${b.final}${b.failure ? ` (${b.failure.slice(0, 160)})` : ''}  [${closed}/${plan.length}]`);
        });
      }
    })();

    // The local scheduler's part for EC2 bursts (their nodes run the jobs; we report the ends),
    // and the operator's part for the burst that is cancelled mid-run.
    const operator = (async () => {
      while (!stopping && closed < plan.length && Date.now() < deadline) {
        const tend = async (b: Planned): Promise<void> => {
          if (!b.handle || b.final || (b.plugin !== 'aws-ec2' && b.kind !== 'cancel') || (b.kind === 'cancel' && b.cancelSent)) return;
          // Generous: a query waits for a worker to replay the burst when its sticky worker was just killed.
          const s = await within(10_000, () => b.handle!.query(statusQuery)).catch(() => undefined);
          if (!s || s.phase !== 'run') return;
          b.runSeenAt ??= Date.now();
          if (Date.now() - b.runSeenAt < b.reportAfterMs) return;
          if (b.kind === 'cancel') {
            if (s.jobs.some((j) => j.state === 'running')) {
              await within(10_000, () => b.handle!.signal(cancelSignal, { reason: 'chaos: operator cancels' }))
                .then(() => (b.cancelSent = true))
                .catch(() => undefined);
            }
            return;
          }
          for (const j of s.jobs) {
            if (j.state !== 'running' || b.reported.has(j.id)) continue;
            try {
              await within(10_000, () => b.handle!.executeUpdate(jobDoneUpdate, { args: [{ id: j.id, exitCode: 0 }] }));
              b.reported.add(j.id);
            } catch (e) {
              // A report that got through before its answer was lost is refused the second time.
              if (/already/.test(String((e as Error).message) + String((e as { cause?: Error }).cause?.message ?? ''))) b.reported.add(j.id);
            }
          }
        };
        await Promise.all([...open].map(tend));
        await sleep(500);
      }
    })();

    // Workers that die without being killed (e.g. on a server restart) are restarted and counted.
    const supervisor = (async () => {
      while (!stopping && closed < plan.length && Date.now() < deadline) {
        for (const [i, s] of slots.entries()) {
          if (s.busy || !s.child || (s.child.exitCode === null && s.child.signalCode === null)) continue;
          s.busy = true;
          report.chaos.workersExitedOnTheirOwn++;
          say(`worker ${i} (pid ${s.child.pid}) exited on its own (${s.child.exitCode ?? s.child.signalCode}); restarting`);
          await spawnWorker(s).finally(() => (s.busy = false));
        }
        await sleep(500);
      }
    })();

    // Cluster: its services (and PostgreSQL) broken one after the other, beside the worker kills.
    const clusterChaos = (async () => {
      const [lo, hi] = o.killEveryS ?? [3, 8];
      while (o.cluster && victims.length && !stopping && closed < plan.length && Date.now() < deadline) {
        const until = Date.now() + (lo + chaosRnd() * (hi - lo)) * 1000;
        while (Date.now() < until && closed < plan.length) await sleep(200);
        if (closed >= plan.length) break;
        await breakCluster(victims.shift()!, open.size);
      }
    })();
    const chaos = (async () => {
      const [lo, hi] = o.killEveryS ?? [3, 8];
      const restarts = o.serverRestarts ?? 1;
      const restartAt = Math.max(1, Math.ceil(plan.length * (o.serverRestartAt ?? 0.3)));
      while (!stopping && closed < plan.length && Date.now() < deadline) {
        const wait = (lo + chaosRnd() * (hi - lo)) * 1000;
        const until = Date.now() + wait;
        while (Date.now() < until && closed < plan.length) {
          await sleep(200);
          if (!o.cluster && report.chaos.serverRestarts < restarts && closed >= restartAt) {
            report.chaos.serverRestarts++;
            const sig = o.serverSignal ?? 'SIGTERM';
            say(`restarting the dev server (${sig}), ${open.size} bursts open`);
            const down = Date.now();
            const s = server!;
            const exited = new Promise((r) => s.once('exit', r));
            s.kill(sig);
            await Promise.race([exited, sleep(20_000)]);
            if (s.exitCode === null && s.signalCode === null) (s.kill('SIGKILL'), await exited);
            await startServer();
            report.chaos.serverDownS = (Date.now() - down) / 1000;
            say(`dev server back after ${report.chaos.serverDownS.toFixed(1)} s on the same SQLite file`);
          }
        }
        if (closed >= plan.length || (o.maxKills !== undefined && report.chaos.kills >= o.maxKills)) continue;
        const i = Math.floor(chaosRnd() * slots.length);
        const slot = slots[i]!;
        if (slot.busy) continue;
        slot.busy = true;
        try {
          const pid = slot.child?.pid;
          await killWorker(slot, 'SIGKILL');
          report.chaos.kills++;
          say(`SIGKILL worker ${i} (pid ${pid}), ${open.size} bursts open`);
          // Sometimes at once, sometimes after the heartbeat timeout has passed.
          await sleep(chaosRnd() * 4000);
          await spawnWorker(slot);
        } finally {
          slot.busy = false;
        }
      }
    })();

    await launcher;
    while (closed < plan.length && Date.now() < deadline + 5_000) await sleep(250);
    stopping = true;
    await Promise.all([operator, supervisor, chaos, clusterChaos]);
    report.timedOut = closed < plan.length;

    // ---- verdict -------------------------------------------------------------------------
    for (const b of plan) {
      const f = b.final ?? 'running';
      report.bursts[f]++;
      if (f !== b.expect) report.unexpected.push(`${b.id}: expected ${b.expect}, got ${f}${b.failure ? ` (${b.failure})` : ''}`);
      if (f === 'completed') {
        report.jobs.expected += b.jobs.length;
        for (const j of b.jobs) {
          const js = b.status?.jobs.find((x) => x.id === j.id);
          if (js?.state === 'completed') report.jobs.completed++;
          else report.jobs.lost.push(`${b.id}/${j.id}: ${js ? js.state : 'missing'}${js?.error ? ` (${js.error})` : ''}`);
        }
      }
    }

    // Local: processes by marker, burst directories, creations per node.
    const waitGone = async () => {
      // A teardown's SIGTERM can take a moment to land; give stragglers a few seconds before counting.
      for (let i = 0; i < 30 && processesWithEnv(NODE_DIR_ENV, `${workdir}/`, true).length; i++) await sleep(200);
    };
    await waitGone();
    report.leftovers.processes = processesWithEnv(NODE_DIR_ENV, `${workdir}/`, true);
    report.leftovers.dirs = readdirSync(workdir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    const creates = new Map<string, number>();
    for (const e of readLedger(workdir)) if (e.event === 'create') creates.set(`${e.burstId}/${e.node}`, (creates.get(`${e.burstId}/${e.node}`) ?? 0) + 1);
    report.local.nodesCreated = creates.size;
    report.local.createdTwice = [...creates].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`);

    // EC2: everything tagged with our owner, and instances per burst against its plan.
    if (ec2) {
      const owner = [{ Name: `tag:${TAG_OWNER}`, Values: [OWNER] }];
      const all: Instance[] = [];
      let token: string | undefined;
      do {
        const r = await ec2.send(new DescribeInstancesCommand({ Filters: owner, NextToken: token }));
        all.push(...(r.Reservations ?? []).flatMap((x) => x.Instances ?? []));
        token = r.NextToken;
      } while (token);
      const burstOf = (i: Instance) => i.Tags?.find((t) => t.Key === TAG_BURST)?.Value ?? '?';
      report.leftovers.instances = all.filter((i) => !['terminated', 'shutting-down'].includes(i.State?.Name ?? '')).map((i) => `${burstOf(i)}:${i.InstanceId}:${i.State?.Name}`);
      const lts = await ec2.send(new DescribeLaunchTemplatesCommand({ Filters: owner }));
      report.leftovers.launchTemplates = (lts.LaunchTemplates ?? []).map((t) => t.LaunchTemplateName ?? '?');
      const pgs = await ec2.send(new DescribePlacementGroupsCommand({ Filters: owner }));
      report.leftovers.placementGroups = (pgs.PlacementGroups ?? []).filter((g) => g.State !== 'deleted').map((g) => `${g.GroupName} ${g.State}`);
      const fleets = await ec2.send(new DescribeFleetsCommand({}));
      report.leftovers.fleets = (fleets.Fleets ?? [])
        .filter((f) => f.Tags?.some((t) => t.Key === TAG_OWNER && t.Value === OWNER) && !/deleted/.test(f.FleetState ?? ''))
        .map((f) => `${f.FleetId} ${f.FleetState}`);
      for (const b of plan.filter((x) => x.plugin === 'aws-ec2')) {
        const planned = b.status?.plan?.nodes;
        const launched = all.filter((i) => burstOf(i) === b.id).length;
        report.ec2.planned += planned ?? 0;
        report.ec2.launched += launched;
        // A completed burst made exactly its plan; no burst ever made more.
        if (planned === undefined ? launched > 0 : b.final === 'completed' ? launched !== planned : launched > planned) {
          report.ec2.mismatched.push(`${b.id}: ${launched} instances launched, plan ${planned ?? '?'}`);
        }
      }
    }

    const p = report.problems;
    if (report.timedOut) p.push(`timed out after ${o.timeoutS} s with ${report.bursts.running} bursts still open`);
    if (report.bursts.running) p.push(`${report.bursts.running} bursts never reached a final state`);
    if (report.bursts.other) p.push(`${report.bursts.other} bursts ended terminated/timed out/unknown`);
    for (const u of report.unexpected) p.push(`unexpected outcome: ${u}`);
    for (const l of report.jobs.lost) p.push(`job lost: ${l}`);
    const lo = report.leftovers;
    if (lo.processes.length) p.push(`local node processes left: ${lo.processes.join(', ')}`);
    if (lo.dirs.length) p.push(`local burst dirs left: ${lo.dirs.join(', ')}`);
    for (const [k, v] of [['instances', lo.instances], ['launch templates', lo.launchTemplates], ['placement groups', lo.placementGroups], ['fleets', lo.fleets]] as const) {
      if (v.length) p.push(`moto ${k} left: ${v.join(', ')}`);
    }
    for (const c of report.local.createdTwice) p.push(`local node created more than once: ${c}`);
    for (const m of report.ec2.mismatched) p.push(`EC2: ${m}`);
    if (o.cluster) {
      for (const v of o.clusterVictims ?? CLUSTER_VICTIMS) if (!report.chaos.cluster![v]) p.push(`the run ended before ${v} was broken`);
      // The cluster's own leftovers are known only once it stopped: checked in finally, below.
    }
    report.ok = p.length === 0;
    return report;
  } finally {
    stopping = true;
    report.wallS = (Date.now() - t0) / 1000;
    // Drain workers (SIGTERM), then the server, then moto; then whatever nodes a timed-out run left.
    await Promise.all(slots.map((s) => killWorker(s, 'SIGTERM')));
    await connection?.close().catch(() => undefined);
    if (server && server.exitCode === null && server.signalCode === null) {
      const s = server;
      const exited = new Promise((r) => s.once('exit', r));
      s.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
    }
    if (tc) {
      // A failed run keeps the cluster's service and PostgreSQL logs beside the workers' logs.
      const left = await tc.stop(o.keep || !report.ok ? { keepLogsIn: stateDir } : {});
      report.leftovers.cluster = left;
      if (left.processes.length || left.dir || left.ports.length) {
        report.problems.push(`the Temporal cluster left ${JSON.stringify(left)}`);
        report.ok = false;
      }
    }
    ec2?.destroy();
    await moto?.stop();
    for (const pid of processesWithEnv(NODE_DIR_ENV, `${workdir}/`, true)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (o.keep || !report.ok) {
      report.stateDir = stateDir;
      report.workdir = workdir;
    } else {
      rmSync(stateDir, { recursive: true, force: true });
      if (existsSync(workdir)) rmSync(workdir, { recursive: true, force: true });
    }
  }
}

/** The counts, one line per check, as `npm run chaos` prints them. */
export function formatReport(r: ChaosReport): string {
  const b = r.bursts;
  const lo = r.leftovers;
  const mark = (ok: boolean) => (ok ? 'ok ' : 'BAD');
  const lines = [
    `chaos run, seed ${r.seed}, ${r.wallS.toFixed(1)} s${r.timedOut ? ' (TIMED OUT)' : ''}`,
    r.chaos.cluster
      ? `  chaos:      ${r.chaos.kills} worker SIGKILLs, ${r.chaos.workerStarts} worker starts, ${r.chaos.workersExitedOnTheirOwn} workers exited on their own; Temporal cluster: kill -9 + restart of history ×${r.chaos.cluster.history}, matching ×${r.chaos.cluster.matching}, frontend ×${r.chaos.cluster.frontend}, PostgreSQL fast restart ×${r.chaos.cluster.postgres} (down ${r.chaos.serverDownS.toFixed(1)} s in all)`
      : `  chaos:      ${r.chaos.kills} worker SIGKILLs, ${r.chaos.workerStarts} worker starts, ${r.chaos.workersExitedOnTheirOwn} workers exited on their own, ${r.chaos.serverRestarts} dev server restart(s) (down ${r.chaos.serverDownS.toFixed(1)} s)`,
    `${mark(b.running === 0 && b.other === 0)} bursts:     ${b.total} (${b.local} local, ${b.ec2} EC2): completed ${b.completed}, failed ${b.failed}, cancelled ${b.cancelled}, running ${b.running}, other ${b.other}`,
    `${mark(r.unexpected.length === 0)} outcomes:   ${r.unexpected.length} unlike planned (planned: the fault/cancel bursts fail/cancel, the rest complete)`,
    `${mark(r.jobs.lost.length === 0)} jobs:       expected ${r.jobs.expected}, completed ${r.jobs.completed}, lost ${r.jobs.lost.length}`,
    `${mark(lo.processes.length === 0 && lo.dirs.length === 0)} local left: ${lo.processes.length} node processes, ${lo.dirs.length} burst dirs`,
    `${mark(r.local.createdTwice.length === 0)} local made: ${r.local.nodesCreated} nodes, ${r.local.createdTwice.length} created more than once`,
    `${mark(lo.instances.length + lo.launchTemplates.length + lo.placementGroups.length + lo.fleets.length === 0)} moto left:  ${lo.instances.length} instances, ${lo.launchTemplates.length} launch templates, ${lo.placementGroups.length} placement groups, ${lo.fleets.length} fleets`,
    `${mark(r.ec2.mismatched.length === 0)} EC2 made:   ${r.ec2.launched} instances launched for ${r.ec2.planned} planned, ${r.ec2.mismatched.length} bursts off plan`,
  ];
  if (lo.cluster) {
    const c = lo.cluster;
    lines.push(`${mark(!c.processes.length && !c.dir && !c.ports.length)} cluster left: ${c.processes.length} processes, ${c.dir ? 'its dir' : 'no dir'}, ${c.ports.length} ports open`);
  }
  if (r.problems.length) lines.push('problems:', ...r.problems.map((p) => `  - ${p}`));
  if (r.stateDir) lines.push(`kept for inspection: state ${r.stateDir}, nodes ${r.workdir}`);
  lines.push(r.ok ? 'PASS' : 'FAIL');
  return lines.join('\n');
}
