// What a test run leaves behind, checked at its end (test/support/global-setup.ts): every process a
// test started (munged, slurmctld/slurmd, etcd, kube-apiserver, flux brokers, moto, Temporal dev
// servers of a file's own, local node agents, ...) and every temp dir or file.
//
// How "started by this run" is told apart from what other runs on the same machine started: the
// run gets a marker in its environment (FLUXBURST_TEST_RUN), which every test worker and every
// process they spawn inherits, and a TMPDIR of its own, where os.tmpdir(), mkdtemp and Python's
// tempfile put everything. At the end, a live process carrying the marker that is not the runner's
// own (its global dev server and other global-setup services are its children) is a leak, with the
// ports it listens on; so is anything left in the run's TMPDIR.
import { mkdtempSync, chmodSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export const RUN_ENV = 'FLUXBURST_TEST_RUN';

export interface LeftProcess {
  pid: number;
  args: string;
  ports: number[];
}
export interface Leftovers {
  processes: LeftProcess[];
  paths: string[];
}

const pids = (): number[] =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function parentOf(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Ports in LISTEN state, by socket inode (IPv4 and IPv6). */
function listeningByInode(): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (read(f) ?? '').split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c[3] !== '0A') continue; // LISTEN
      out.set(c[9]!, parseInt(c[1]!.split(':').pop()!, 16));
    }
  }
  return out;
}

function portsOf(pid: number, listening: Map<string, number>): number[] {
  const ports = new Set<number>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    let l = '';
    try {
      l = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(l);
    const port = m ? listening.get(m[1]!) : undefined;
    if (port !== undefined) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

/** Live processes carrying `marker` in their environment, except `keep`'s own tree. */
export function markedProcesses(marker: string, keep = process.pid): LeftProcess[] {
  const all = pids();
  const parent = new Map(all.map((p) => [p, parentOf(p)]));
  const underKeep = (p: number): boolean => {
    for (let q: number | undefined = p, n = 0; q && n < 64; q = parent.get(q), n++) if (q === keep) return true;
    return false;
  };
  const listening = listeningByInode();
  const out: LeftProcess[] = [];
  for (const pid of all) {
    if (underKeep(pid)) continue;
    const env = read(`/proc/${pid}/environ`);
    if (!env?.split('\0').includes(marker)) continue;
    const args = (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');
    if (!args) continue; // a zombie
    out.push({ pid, args, ports: portsOf(pid, listening) });
  }
  return out;
}

export interface LeftoverWatch {
  /** The run's TMPDIR. */
  tmp: string;
  marker: string;
  /** What is left now (waits up to `graceMs` for processes that are on their way out). */
  check(graceMs?: number): Promise<Leftovers>;
  /** Kill what is left (by pid) and remove the run's TMPDIR. */
  clean(l: Leftovers): void;
}

/** Marks this process's environment (inherited by every test worker from here on) and gives the run a TMPDIR. */
export function watchLeftovers(): LeftoverWatch {
  const tmp = mkdtempSync(join(tmpdir(), 'fbt-'));
  chmodSync(tmp, 0o1777); // as /tmp: daemons that drop privileges (munged) make their dirs here
  const marker = `${RUN_ENV}=${basename(tmp)}`;
  process.env[RUN_ENV] = basename(tmp);
  process.env.TMPDIR = tmp;
  process.env.FLUXBURST_RUN_TMPDIR = tmp; // test/support/per-file-tmp.ts makes one dir per test file here
  return {
    tmp,
    marker,
    async check(graceMs = 3000) {
      const until = Date.now() + graceMs;
      let processes = markedProcesses(marker);
      while (processes.length && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 200));
        processes = markedProcesses(marker);
      }
      // One level down in the per-file dirs (named after their test file): what that file left.
      const paths = readdirSync(tmp).flatMap((e) => (e.endsWith('.ts') ? readdirSync(join(tmp, e)).map((x) => join(tmp, e, x)) : [join(tmp, e)]));
      return { processes, paths };
    },
    clean(l) {
      for (const p of l.processes) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export function describeLeftovers(l: Leftovers): string {
  return [
    ...l.processes.map((p) => `process ${p.pid}${p.ports.length ? ` listening on ${p.ports.join(', ')}` : ''}: ${p.args.slice(0, 300)}`),
    ...l.paths.map((p) => `temp path: ${p}`),
  ].join('\n');
}

/** Throws (after removing them) when processes or temp paths of this run are left; `ignore`: names in the run's TMPDIR that are not the tests' (vitest's own). */
export async function failOnLeftovers(watch: LeftoverWatch, ignore: string[] = []): Promise<void> {
  const found = await watch.check();
  const left = { ...found, paths: found.paths.filter((p) => !ignore.includes(basename(p))) };
  watch.clean(left);
  if (left.processes.length || left.paths.length) {
    throw new Error(`the tests left ${left.processes.length} process(es) and ${left.paths.length} temp path(s) behind:\n${describeLeftovers(left)}`);
  }
}
