// /proc helpers for the Flux broker processes fluxburst starts (and the test kit stops): which
// processes are alive (a zombie is not: PID 1 here does not reap orphans, so a broker whose worker
// was SIGKILLed stays a zombie after it exits), their descendants, and stopping a broker with
// everything it started (SIGTERM, then SIGKILL).

import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
}

function stat(pid: number): ProcInfo | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(rest[1]), state: rest[0]! };
  } catch {
    return undefined;
  }
}

/** Every process but zombies and this one. */
export function liveProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    const s = stat(pid);
    if (s && s.state !== 'Z' && s.state !== 'X') out.push(s);
  }
  return out;
}

/** Alive and not a zombie. */
export function isAlive(pid: number): boolean {
  const s = stat(pid);
  return !!s && s.state !== 'Z' && s.state !== 'X';
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((x) => x !== '');
  } catch {
    return [];
  }
}

export function environ(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
  } catch {
    return [];
  }
}

/** Live descendants of the given pids (not the pids themselves). */
export function descendants(roots: number[], procs = liveProcesses()): number[] {
  const kids = new Map<number, number[]>();
  for (const p of procs) kids.set(p.ppid, [...(kids.get(p.ppid) ?? []), p.pid]);
  const out: number[] = [];
  const seen = new Set(roots);
  const stack = [...roots];
  while (stack.length) {
    for (const k of kids.get(stack.pop()!) ?? []) {
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(k);
      stack.push(k);
    }
  }
  return out;
}

/** Live processes whose command line contains `text` in one of its arguments. */
export function processesMentioning(text: string, procs = liveProcesses()): number[] {
  return procs.filter((p) => cmdline(p.pid).some((a) => a.includes(text))).map((p) => p.pid);
}

export function signalAll(pids: Iterable<number>, sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  }
}

/**
 * Stop these processes and everything they started: SIGTERM the roots (a broker shuts down its
 * jobs and children itself), wait up to graceMs, then SIGKILL whatever of them and their
 * descendants (as seen before and after) is left. Resolves once none is alive, or after killMs more.
 */
export async function terminateTree(roots: number[], o: { graceMs?: number; killMs?: number } = {}): Promise<void> {
  const live = roots.filter(isAlive);
  if (!live.length) return;
  const tree = new Set([...live, ...descendants(live)]);
  signalAll(live, 'SIGTERM');
  const graceEnd = Date.now() + (o.graceMs ?? 5000);
  while (Date.now() < graceEnd && live.some(isAlive)) await sleep(50);
  for (const d of descendants([...tree])) tree.add(d);
  signalAll([...tree].filter(isAlive), 'SIGKILL');
  // Roots started detached lead their own process group: take what is left in it too.
  signalAll(live.map((p) => -p), 'SIGKILL');
  const killEnd = Date.now() + (o.killMs ?? 5000);
  while (Date.now() < killEnd && [...tree].some(isAlive)) await sleep(20);
}
