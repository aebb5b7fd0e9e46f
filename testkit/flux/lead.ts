// A real Flux lead broker for tests and benchmarks (flux-core >= 0.88; ../shared/reference/flux-real.md),
// started the way slurmctld is in src/slurm/local-cluster.ts: one private temp dir holds the
// config, the CURVE certificate and every broker's run and state dirs, on a free loopback port.
//
// The config pre-declares `slots` burst hosts (burst-0 … burst-N-1, down at first) with static
// resources and `[resource] noverify`, so pending jobs that need them wait (SCHED) until brokers
// claim those hosts and join. The lead runs with -Sbroker.quorum=1 (it reaches `run` alone) and
// -Sbroker.rc2_none=1 (no initial program: it runs until stopped).
//
// stop() ends every broker it or the test started against this lead (anything whose command line
// names this lead's dir or config, found in /proc, with all their descendants: SIGTERM, then
// SIGKILL after a grace), removes the dir, and says what was left. No flux → startFluxLead throws
// (never skips), saying how to provide one.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireFlux, runFlux, withoutUri } from '../../src/flux/command.js';
import { expandHostlist, renderLeadConfig } from '../../src/flux/config.js';

export { expandHostlist };
import { descendants, isAlive, liveProcesses, processesMentioning, signalAll, terminateTree } from '../../src/flux/proc.js';
import { freePort } from '../../src/temporal/ports.js';

export interface FluxLeadOptions {
  /** Burst host slots declared in the config (down until a broker claims them). Default 2. */
  slots?: number;
  /** Slot host name prefix; default `burst-` (→ burst-0, burst-1, …). */
  prefix?: string;
  /** The lead's host name; default `lead`. */
  leadHost?: string;
  /** Cores per host (Flux idset); default "0-1". */
  cores?: string;
  /** How long to wait for the lead to answer, ms; default 60 s. */
  readyTimeoutMs?: number;
}

export interface FluxBroker {
  host: string;
  pid: number;
  uri: string;
  log: string;
  /** SIGTERM (or `sig`), then SIGKILL after a grace; resolves once it is gone. */
  stop(sig?: NodeJS.Signals): Promise<void>;
}

export interface FluxLead {
  /** The lead's local URI (FLUX_URI for clients). */
  uri: string;
  /** The dir of the config every broker reads (`--config-path`). */
  configDir: string;
  /** The config file itself (in configDir). */
  configFile: string;
  certPath: string;
  /** The burst slots' host names, rank order (ranks 1..N). */
  hosts: string[];
  leadHost: string;
  /** tcp://127.0.0.1:PORT the lead binds. */
  bind: string;
  port: number;
  /** The private temp dir (config, cert, run and state dirs). */
  dir: string;
  /** The flux executable used. */
  flux: string;
  version: string;
  /** Environment for flux commands against this lead (FLUX_URI set). */
  env: NodeJS.ProcessEnv;
  pid: number;
  /** Run `flux ARGS` against the lead; stdout. */
  run(args: readonly string[], timeoutMs?: number): Promise<string>;
  /** The lead's own log so far (stderr+stdout of its broker). */
  log(): string;
  /** Start a burst broker claiming `host` by hand (tracked; stop() ends it too). */
  startBroker(host: string, o?: { configPath?: string; extraArgs?: string[] }): Promise<FluxBroker>;
  /** Ranks online per `flux overlay status`-style checks: host → up? (from `flux resource status`). */
  onlineHosts(): Promise<string[]>;
  /** Wait until these hosts are online at the lead. */
  waitOnline(hosts: string[], timeoutMs?: number): Promise<void>;
  /** Live processes of this lead (brokers and what they started). */
  processes(): number[];
  /** Stop everything, remove the dir; resolves to what was left (empty when clean). */
  stop(): Promise<{ processes: number[]; dir: boolean }>;
}

// Every lead still running, so a test process that dies still takes them down.
const running = new Set<FluxLead>();
process.once('exit', () => {
  for (const l of running) {
    const pids = l.processes();
    signalAll(pids, 'SIGKILL');
  }
});

// The lead (and brokers a test starts by hand) get SIGTERM when the test process dies, however it
// dies (vitest kills a timed-out fork with SIGKILL; no exit handler runs then): PR_SET_PDEATHSIG
// survives exec. Brokers the plugin starts must outlive their worker, so they have no such tie:
// a later startFluxLead() removes what a dead test process left (sweepDeadLeads).
const PDEATH = 'import ctypes, os, signal, sys\nctypes.CDLL(None).prctl(1, signal.SIGTERM)\nos.execvp(sys.argv[1], sys.argv[1:])';
const PYTHON = '/usr/bin/python3';
const PREFIX = 'fbflux-';

/**
 * Lead dirs (with an owner.pid) whose test process is gone: stop every process naming the dir
 * (the plugin's brokers, which outlive their worker by design) and remove it.
 */
export async function sweepDeadLeads(): Promise<string[]> {
  const swept: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(tmpdir()).filter((e) => e.startsWith(PREFIX));
  } catch {
    return swept;
  }
  for (const e of entries) {
    const dir = join(tmpdir(), e);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
    } catch {
      continue; // not ours to judge
    }
    if (!owner || isAlive(owner)) continue;
    await terminateTree(processesOf(dir), { graceMs: 3000 });
    rmSync(dir, { recursive: true, force: true });
    swept.push(dir);
  }
  return swept;
}

/** Processes belonging to a lead dir: brokers naming it (or its config), their descendants. */
function processesOf(dir: string, extra: string[] = []): number[] {
  const procs = liveProcesses();
  const roots = new Set<number>();
  for (const t of [dir, ...extra]) for (const p of processesMentioning(t, procs)) roots.add(p);
  return [...new Set([...roots, ...descendants([...roots], procs)])];
}

function tailOf(file: string, n = 3000): string {
  try {
    const s = readFileSync(file, 'utf8');
    return s.length > n ? `…${s.slice(-n)}` : s;
  } catch {
    return '';
  }
}

export function brokerArgs(o: { configPath: string; host: string; rundir: string; statedir: string }): string[] {
  return [
    'broker',
    `--config-path=${o.configPath}`,
    `-Shostname=${o.host}`,
    `-Srundir=${o.rundir}`,
    `-Slocal-uri=local://${o.rundir}/local`,
    `-Sstatedir=${o.statedir}`,
    '-Sbroker.rc2_none=1',
    '-Sbroker.quorum=1',
    '-Sbroker.quorum-warn=none',
  ];
}

export async function startFluxLead(o: FluxLeadOptions = {}): Promise<FluxLead> {
  const { flux, version } = requireFlux();
  await sweepDeadLeads();
  const slots = o.slots ?? 2;
  const prefix = o.prefix ?? 'burst-';
  const leadHost = o.leadHost ?? 'lead';
  const hosts = Array.from({ length: slots }, (_, i) => `${prefix}${i}`);
  // Short: unix socket paths (rundir/local) must stay under 108 bytes.
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  const configDir = join(dir, 'conf');
  mkdirSync(configDir);
  const certPath = join(dir, 'curve.cert');
  const kg = spawnSync(flux, ['keygen', certPath], { encoding: 'utf8', env: withoutUri(process.env) });
  if (kg.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`flux keygen ${certPath} failed: ${kg.stderr || kg.error?.message}`);
  }
  chmodSync(certPath, 0o600);
  const port = await freePort();
  const bind = `tcp://127.0.0.1:${port}`;
  const configFile = join(configDir, 'broker.toml');
  writeFileSync(configFile, renderLeadConfig({ curveCert: certPath, leadHost, bind, burstHosts: hosts, ...(o.cores ? { cores: o.cores } : {}) }));

  const runDir = join(dir, 'run');
  const stateDir = join(dir, 'state');
  mkdirSync(runDir);
  mkdirSync(stateDir);
  const brokerEnv = withoutUri(process.env);

  const children: ChildProcess[] = [];
  const spawnBroker = (host: string, configPath: string, extraArgs: string[] = []) => {
    const rundir = join(runDir, host);
    const statedir = join(stateDir, host);
    mkdirSync(rundir, { recursive: true });
    mkdirSync(statedir, { recursive: true });
    const log = join(dir, `${host}.log`);
    const fd = openSync(log, 'a');
    const args = [...brokerArgs({ configPath, host, rundir, statedir }), ...extraArgs];
    const [file, argv] = existsSync(PYTHON) ? [PYTHON, ['-c', PDEATH, flux, ...args]] : [flux, args];
    const child = spawn(file, argv, { env: brokerEnv, stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    child.on('error', () => undefined);
    children.push(child);
    return { child, log, uri: `local://${rundir}/local` };
  };

  const lead = spawnBroker(leadHost, configDir);
  const uri = lead.uri;
  const env: NodeJS.ProcessEnv = { ...process.env, FLUX_URI: uri };
  const run = (args: readonly string[], timeoutMs = 30_000) => runFlux(flux, args, { env, timeoutMs });

  const procs = () => processesOf(dir, [configDir]);
  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      // Burst brokers first (quick), then the lead.
      const leadPid = lead.child.pid!;
      const others = processesMentioning(dir).filter((p) => p !== leadPid);
      await terminateTree(others, { graceMs: 5000 });
      await terminateTree([leadPid], { graceMs: 8000 });
      await terminateTree(procs(), { graceMs: 2000 });
      running.delete(handle);
    }
    for (let i = 0; i < 50 && procs().length; i++) await sleep(100);
    const left = procs();
    rmSync(dir, { recursive: true, force: true });
    return { processes: left, dir: existsSync(dir) };
  };

  const onlineHosts = async () => {
    // `flux resource status -s online -no {nodelist}` → the online hosts as a hostlist.
    const out = await run(['resource', 'status', '--states=online', '-no', '{nodelist}']);
    return expandHostlist(out.trim());
  };

  const handle: FluxLead = {
    uri,
    configDir,
    configFile,
    certPath,
    hosts,
    leadHost,
    bind,
    port,
    dir,
    flux,
    version,
    env,
    pid: lead.child.pid!,
    run,
    log: () => tailOf(lead.log, 20_000),
    async startBroker(host, bo = {}) {
      const b = spawnBroker(host, bo.configPath ?? configDir, bo.extraArgs);
      const pid = b.child.pid!;
      return {
        host,
        pid,
        uri: b.uri,
        log: b.log,
        stop: async (sig: NodeJS.Signals = 'SIGTERM') => {
          if (sig === 'SIGKILL') {
            signalAll([pid, -pid], 'SIGKILL');
            while (isAlive(pid)) await sleep(20);
          } else await terminateTree([pid]);
        },
      };
    },
    onlineHosts,
    async waitOnline(want, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      let last: string[] = [];
      for (;;) {
        last = await onlineHosts().catch(() => last);
        if (want.every((h) => last.includes(h))) return;
        if (Date.now() > end) throw new Error(`hosts ${want.join(',')} not online at the lead within ${timeoutMs} ms (online: ${last.join(',') || 'none'})`);
        await sleep(100);
      }
    },
    processes: procs,
    stop,
  };
  running.add(handle);

  // Ready: the lead is in `run` and answers `flux resource list` (resources loaded).
  const end = Date.now() + (o.readyTimeoutMs ?? 60_000);
  let lastErr = '';
  for (;;) {
    if (lead.child.exitCode !== null || lead.child.signalCode !== null || !isAlive(lead.child.pid!)) {
      const log = tailOf(lead.log);
      await stop();
      throw new Error(`the Flux lead broker exited during startup (${flux} ${version}); its log:\n${log}`);
    }
    try {
      // `run`: rc1 has loaded every module (job-ingest, the scheduler). The lead answers `uptime`
      // and `resource list` a moment before that, and a submit then fails (job-ingest missing).
      const up = await runFlux(flux, ['uptime'], { env, timeoutMs: 10_000 });
      if (!/\brun\b/.test(up)) throw new Error(`not in run yet: ${up.trim()}`);
      await runFlux(flux, ['resource', 'list'], { env, timeoutMs: 10_000 });
      break;
    } catch (e) {
      lastErr = (e as Error).message;
    }
    if (Date.now() > end) {
      const log = tailOf(lead.log);
      await stop();
      throw new Error(`the Flux lead did not answer within ${o.readyTimeoutMs ?? 60_000} ms (${lastErr}); its log:\n${log}`);
    }
    await sleep(100);
  }
  return handle;
}
