// A real Slurm 22.05 controller (and node daemons on demand) for tests, configured for cloud
// power saving as in ../shared/reference/slurm-local.md: one temp dir holds slurm.conf, state,
// spool, logs and a munged socket of this process's own (AuthInfo=socket=…), so test files in
// other processes never share or kill each other's daemons. Every daemon is our child, in its own
// process group, under a small subreaper (PID 1 here does not reap). stop() first ends the jobs
// and whatever the reapers adopted (slurmstepd, anything a ResumeProgram detached), then TERMs
// each daemon's group (KILL after 5 s) and waits for it. Slurm missing → a clear failure
// (scripts/setup.sh --test installs it); nothing is skipped.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processesWithEnv } from '../../src/plugins/local/layout.js';
import { freePort } from '../../src/temporal/ports.js';

/**
 * In the environment of the daemons a harness starts and the jobs it submits: its temp dir.
 * (slurmctld runs its Resume/Suspend programs with a bare environment: stop() finds what those
 * leave behind through the reapers instead.)
 */
export const MARKER_ENV = 'FLUXBURST_SLURM_TEST';

// slurmd double-forks slurmstepd (and slurmctld its programs' leftovers) away from us; PID 1 here
// does not reap, so each daemon runs under this small subreaper: it adopts those orphans and
// reaps them, forwards TERM/INT/HUP to the daemon, and exits once it has no children left.
const REAPER = `import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
sys.stdout.write("reaper-child %d\\n" % pid)
sys.stdout.flush()
def fwd(sig, _):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(s, fwd)
code = 0
while True:
    try:
        p, st = os.waitpid(-1, 0)
    except ChildProcessError:
        break
    if p == pid:
        code = os.waitstatus_to_exitcode(st)
sys.exit(code if code >= 0 else 128 - code)
`;

const BINARIES = ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/sbin/munged', '/usr/bin/scontrol', '/usr/bin/sinfo', '/usr/bin/squeue', '/usr/bin/sbatch'];

/** Throws a clear error when Slurm or munge is not installed. */
export function requireSlurm(): void {
  const missing = BINARIES.filter((b) => !existsSync(b));
  if (missing.length) {
    throw new Error(`Slurm is not installed (missing ${missing.join(', ')}); run scripts/setup.sh --test (apt: slurmctld slurmd slurm-client munge)`);
  }
}

/** A conf that only lets the client commands start (scontrol show hostnames/hostlist need one). */
export function minimalConf(): { conf: string; env: Record<string, string>; cleanup(): void } {
  requireSlurm();
  const dir = mkdtempSync(join(tmpdir(), 'fb-slurmconf-'));
  const conf = join(dir, 'slurm.conf');
  writeFileSync(conf, `ClusterName=fbmin\nSlurmctldHost=${hostname()}(127.0.0.1)\n`);
  return { conf, env: { SLURM_CONF: conf }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------------------------------------
// Daemons

interface Daemon {
  name: string;
  child: ChildProcess;
  /** Under the reaper: the daemon's own pid (the reaper is child.pid). */
  mainPid?: number;
  exited: Promise<void>;
  output: () => string;
}

// Every daemon still running, so a test process that dies still takes them down.
const live = new Set<Daemon>();
process.once('exit', () => {
  for (const d of live) {
    try {
      if (d.child.pid) process.kill(-d.child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

function startDaemon(name: string, cmd: string, args: string[], o: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number; reaper?: string } = {}): Daemon {
  const [file, argv] = o.reaper ? ['/usr/bin/python3', [o.reaper, cmd, ...args]] : [cmd, args];
  const child = spawn(file, argv, { env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...(o.uid !== undefined ? { uid: o.uid, gid: o.gid } : {}) });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
    if (d.mainPid === undefined) {
      const m = /^reaper-child (\d+)$/m.exec(out);
      if (m) d.mainPid = Number(m[1]);
    }
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => {
    child.once('exit', () => r());
    child.once('error', () => r()); // never started
  });
  child.once('error', (e) => (out += `\nspawn error: ${e.message}`));
  const d: Daemon = { name, child, exited, output: () => out };
  live.add(d);
  void exited.then(() => live.delete(d));
  return d;
}

/** Until the reaper has said which pid is the daemon (stop() must tell it from its strays). */
async function reaperReady(d: Daemon): Promise<void> {
  const end = Date.now() + 10_000;
  while (d.mainPid === undefined && d.child.exitCode === null && Date.now() < end) await sleep(20);
}

/** pid → parent pid, for every live (non-zombie) process. */
function parents(): Map<number, number> {
  const m = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] !== 'Z') m.set(Number(e), Number(rest[1]));
    } catch {
      /* gone */
    }
  }
  return m;
}

/** Live descendants of `root` (not root itself). */
function descendants(root: number, pp = parents()): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [pid, parent] of pp) if (parent === p) (out.push(pid), walk(pid));
  };
  walk(root);
  return out;
}

function signal(pids: Iterable<number>, sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  }
}

const alive = (pid: number) => parents().has(pid);

/**
 * TERM the daemon's process group; once the daemon itself is gone, KILL whatever its reaper still
 * holds (so the reaper can reap it and exit); KILL everything after 5 s. Waits for the reaper.
 */
async function stopDaemon(d: Daemon): Promise<void> {
  const pid = d.child.pid;
  if (pid === undefined) return;
  const group = (sig: NodeJS.Signals) => signal([-pid], sig);
  const running = () => d.child.exitCode === null && d.child.signalCode === null;
  if (running()) {
    group('SIGTERM');
    const end = Date.now() + 5000;
    while (running() && Date.now() < end) {
      if (d.mainPid !== undefined && !alive(d.mainPid)) signal(descendants(pid), 'SIGKILL');
      await Promise.race([d.exited, sleep(100)]);
    }
    if (running()) {
      signal(descendants(pid), 'SIGKILL');
      group('SIGKILL');
      await d.exited;
    }
  }
  group('SIGKILL'); // anything left in its group
}

// One munged per process, on its own socket, shared by every Slurm this process starts.
let munge: { daemon: Daemon; socket: string; dir: string } | undefined;
let mungeStarting: Promise<{ socket: string }> | undefined;

function uidOf(user: string): { uid: number; gid: number } {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) throw new Error(`no "${user}" user: is the munge package installed? (scripts/setup.sh --test)`);
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

async function ensureMunge(): Promise<{ socket: string }> {
  if (munge && munge.daemon.child.exitCode === null) return { socket: munge.socket };
  mungeStarting ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-munge-'));
    const { uid, gid } = uidOf('munge');
    chmodSync(dir, 0o755);
    chownSync(dir, uid, gid);
    const socket = join(dir, 'munge.socket');
    const daemon = startDaemon('munged', '/usr/sbin/munged', ['-F', `--socket=${socket}`, `--pid-file=${join(dir, 'munged.pid')}`, `--seed-file=${join(dir, 'munged.seed')}`, `--log-file=${join(dir, 'munged.log')}`], { uid, gid });
    const deadline = Date.now() + 15_000;
    while (!existsSync(socket)) {
      if (daemon.child.exitCode !== null || Date.now() > deadline) {
        await stopDaemon(daemon);
        const log = existsSync(join(dir, 'munged.log')) ? readFileSync(join(dir, 'munged.log'), 'utf8') : '';
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`munged did not start: ${daemon.output()}${log}`);
      }
      await sleep(50);
    }
    munge = { daemon, socket, dir };
    return { socket };
  })();
  try {
    return await mungeStarting;
  } finally {
    mungeStarting = undefined;
  }
}

/** Stop this process's munged (after every Slurm it served has stopped). */
export async function stopMunge(): Promise<void> {
  if (!munge) return;
  const m = munge;
  munge = undefined;
  await stopDaemon(m.daemon);
  rmSync(m.dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// The cluster

export interface SlurmOptions {
  cloudNodes: number;
  staticNodes?: 0 | 1;
  resumeProgram?: string;
  suspendProgram?: string;
  resumeFailProgram?: string;
  suspendTime?: number;
  resumeTimeout?: number;
  /**
   * Lines to use instead of the generated cloud section (cloud NodeName/PartitionName lines and
   * every power-saving key): e.g. what `fluxburst slurm conf` prints. cloudNodes is then ignored.
   */
  cloudLines?: string[];
  /** More slurm.conf lines, appended last (extra partitions, GresTypes, …). */
  extraLines?: string[];
}

export interface Slurm {
  dir: string;
  conf: string;
  env: Record<string, string>;
  cloudNodes: string[];
  staticNodes: string[];
  /** `sinfo` with these args (default: one line per node, `NAME STATE`). */
  sinfo(args?: string[]): string;
  /** `squeue --json` output (all jobs; Slurm 22.05 ignores filters with --json). */
  squeue(): string;
  /** Submit a script; the job id. */
  sbatch(script: string, partition: string, args?: string[]): string;
  scontrol(args: string[]): string;
  /** slurmd for one node, in the foreground, reporting its boot at once (-b). */
  startSlurmd(node: string, extraEnv?: Record<string, string>): Promise<void>;
  log(): string;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], env: Record<string, string>): string {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

export async function startSlurm(o: SlurmOptions): Promise<Slurm> {
  requireSlurm();
  const { socket } = await ensureMunge();
  const dir = mkdtempSync(join(tmpdir(), 'fb-slurm-'));
  for (const d of ['state', 'spool', 'log']) mkdirSync(join(dir, d));
  const conf = join(dir, 'slurm.conf');
  const env = { SLURM_CONF: conf, [MARKER_ENV]: dir };
  const reaper = join(dir, 'reaper.py');
  writeFileSync(reaper, REAPER);
  const host = hostname();
  const staticNodes = (o.staticNodes ?? 1) === 1 ? ['static1'] : [];
  const cloudNodes = o.cloudLines ? [] : Array.from({ length: o.cloudNodes }, (_, i) => `cloud${i + 1}`);
  const lines = [
    'ClusterName=fbtest',
    `SlurmctldHost=${host}(127.0.0.1)`,
    `SlurmctldPort=${await freePort()}`,
    `SlurmdPort=${await freePort()}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${socket}`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'SelectType=select/cons_tres',
    'MpiDefault=none',
    'JobCompType=jobcomp/none',
    'AccountingStorageType=accounting_storage/none',
    'JobAcctGatherType=jobacct_gather/none',
    `StateSaveLocation=${join(dir, 'state')}`,
    `SlurmdSpoolDir=${join(dir, 'spool', '%n')}`,
    `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
    `SlurmdPidFile=${join(dir, 'slurmd-%n.pid')}`,
    `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
    `SlurmdLogFile=${join(dir, 'log', 'slurmd-%n.log')}`,
    'SlurmctldDebug=info',
    'SlurmdDebug=info',
    'DebugFlags=NO_CONF_HASH',
  ];
  for (const n of staticNodes) {
    lines.push(`NodeName=${n} NodeHostname=${host} NodeAddr=127.0.0.1 Port=${await freePort()} CPUs=1 RealMemory=100 State=UNKNOWN`);
  }
  if (staticNodes.length) lines.push(`PartitionName=static Nodes=${staticNodes.join(',')} Default=YES MaxTime=INFINITE State=UP`);
  if (o.cloudLines) {
    lines.push(...o.cloudLines);
  } else {
    for (const n of cloudNodes) lines.push(`NodeName=${n} Port=${await freePort()} CPUs=1 RealMemory=100 State=CLOUD`);
    if (cloudNodes.length) lines.push(`PartitionName=cloud Nodes=${cloudNodes.join(',')} MaxTime=INFINITE State=UP${staticNodes.length ? '' : ' Default=YES'}`);
    lines.push(
      `ResumeProgram=${o.resumeProgram ?? '/bin/true'}`,
      `SuspendProgram=${o.suspendProgram ?? '/bin/true'}`,
      ...(o.resumeFailProgram ? [`ResumeFailProgram=${o.resumeFailProgram}`] : []),
      `ResumeTimeout=${o.resumeTimeout ?? 60}`,
      `SuspendTime=${o.suspendTime ?? 30}`,
      'SuspendTimeout=30',
      ...(staticNodes.length ? [`SuspendExcNodes=${staticNodes.join(',')}`] : []),
      'PrivateData=cloud',
      'TreeWidth=65533',
      'CommunicationParameters=NoAddrCache',
      'ReturnToService=2',
    );
  }
  lines.push(...(o.extraLines ?? []));
  writeFileSync(conf, `${lines.join('\n')}\n`);

  const daemons: Daemon[] = [];
  const ctld = startDaemon('slurmctld', '/usr/sbin/slurmctld', ['-D', '-i', '-f', conf], { env: { ...process.env, ...env }, reaper });
  daemons.push(ctld);
  await reaperReady(ctld);
  const logFile = join(dir, 'log', 'slurmctld.log');
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Everything but the daemons first: jobs and slurmstepd (marked by MARKER_ENV), and whatever
    // a reaper adopted (e.g. a slurmd that a ResumeProgram started; slurmctld runs its programs
    // with a bare environment, so only the process tree finds those).
    const ours = new Set(daemons.flatMap((d) => [d.child.pid, d.mainPid]).filter((p): p is number => p !== undefined));
    const strays = () => {
      const pp = parents();
      const adopted = daemons.flatMap((d) => {
        const reaper = d.child.pid;
        if (reaper === undefined) return [];
        const orphans = [...pp].filter(([pid, parent]) => parent === reaper && pid !== d.mainPid).map(([pid]) => pid);
        return [...orphans, ...orphans.flatMap((o) => descendants(o, pp))];
      });
      // A daemon's own children (slurmctld's slurmscriptd) go down with it.
      return [...new Set([...processesWithEnv(MARKER_ENV, dir), ...adopted])].filter((p) => !ours.has(p) && pp.has(p) && !ours.has(pp.get(p)!));
    };
    for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
      signal(strays(), sig);
      const until = Date.now() + 2000;
      while (strays().length && Date.now() < until) await sleep(100);
    }
    for (const d of daemons.slice().reverse()) await stopDaemon(d);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (ctld.child.exitCode !== null) {
      const why = `${ctld.output()}\n${log()}`.trim().split('\n').slice(-15).join('\n');
      await stop();
      throw new Error(`slurmctld exited (${ctld.child.exitCode}) before answering:\n${why}`);
    }
    const r = spawnSync('/usr/bin/sinfo', ['-h'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 10_000 });
    if (r.status === 0) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`slurmctld did not answer sinfo within 60 s: ${r.stderr}`);
    }
    await sleep(200);
  }

  return {
    dir,
    conf,
    env,
    cloudNodes,
    staticNodes,
    sinfo: (args = ['-h', '-N', '-o', '%N %t']) => run('/usr/bin/sinfo', args, env),
    squeue: () => run('/usr/bin/squeue', ['--json'], env),
    sbatch(script, partition, args = []) {
      const file = join(dir, `job-${Date.now()}-${Math.random().toString(36).slice(2, 7)}.sh`);
      writeFileSync(file, script.startsWith('#!') ? script : `#!/bin/sh\n${script}\n`, { mode: 0o755 });
      return run('/usr/bin/sbatch', ['--parsable', '-p', partition, '-o', '/dev/null', ...args, file], env).trim().split(';')[0]!;
    },
    scontrol: (args) => run('/usr/bin/scontrol', args, env),
    async startSlurmd(node, extraEnv = {}) {
      const d = startDaemon(`slurmd ${node}`, '/usr/sbin/slurmd', ['-D', '-b', '-f', conf, '-N', node], { env: { ...process.env, ...env, ...extraEnv }, reaper });
      daemons.push(d);
      await reaperReady(d);
      await sleep(200);
      if (d.child.exitCode !== null) throw new Error(`slurmd ${node} exited (${d.child.exitCode}): ${d.output()}`);
    },
    log,
    stop,
  };
}

/**
 * Wrapper scripts for Slurm's ResumeProgram / SuspendProgram / ResumeFailProgram that run
 * `fluxburst slurm <verb>`: slurmctld runs them with a bare environment, so everything fluxburst
 * needs is written into them, and each appends its output to `<dir>/<verb>.log`. The slurm.conf
 * path is read from `<dir>/conf-path` at call time (it exists only once the cluster is started).
 */
export function powerSaveWrappers(dir: string, o: { cli: string; env: Record<string, string> }): { resumeProgram: string; suspendProgram: string; resumeFailProgram: string } {
  const make = (verb: string): string => {
    const path = join(dir, `${verb}.sh`);
    const env = Object.entries({ PATH: '/usr/sbin:/usr/bin:/bin', ...o.env }).map(([k, v]) => `${k}=${v}`).join(' ');
    writeFileSync(
      path,
      ['#!/bin/sh', `export ${env}`, `exec ${process.execPath} ${o.cli} slurm ${verb} "$@" --slurm-conf "$(cat ${join(dir, 'conf-path')})" >> ${join(dir, `${verb}.log`)} 2>&1`, ''].join('\n'),
      { mode: 0o755 },
    );
    return path;
  };
  return { resumeProgram: make('resume'), suspendProgram: make('suspend'), resumeFailProgram: make('resume-fail') };
}
