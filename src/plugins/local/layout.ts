import { appendFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The local plugin's resources live on disk so that any worker, after any crash, finds them:
//   <workdir>/<burstId>/owner.json          who owns the burst (for the orphan sweep)
//   <workdir>/<burstId>/<node>/claim/       made exclusively by the one agent allowed to run
//   <workdir>/<burstId>/<node>/agent.json   {pid, port} once that agent listens
//   <workdir>/ledger.jsonl                  create/destroy events, for audits and tests

export const DEFAULT_WORKDIR = join(tmpdir(), 'fluxburst-local');
/** Env marker every agent and task process carries; teardown kills by it, tests scan for it. */
export const NODE_DIR_ENV = 'FLUXBURST_NODE_DIR';
export const BURST_ENV = 'FLUXBURST_BURST_ID';

export interface AgentInfo {
  pid: number;
  port: number;
  node: string;
  burstId: string;
}

export const burstDir = (workdir: string, burstId: string) => join(workdir, burstId);
export const nodeDir = (workdir: string, burstId: string, node: string) => join(workdir, burstId, node);

export function readAgentInfo(dir: string): AgentInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8')) as AgentInfo;
  } catch {
    return undefined;
  }
}

export type LedgerEvent = { event: 'create' | 'destroy'; burstId: string; node: string; pid?: number; at: string };

export function appendLedger(workdir: string, e: Omit<LedgerEvent, 'at'>): void {
  mkdirSync(workdir, { recursive: true });
  appendFileSync(join(workdir, 'ledger.jsonl'), `${JSON.stringify({ ...e, at: new Date().toISOString() })}\n`);
}

export function readLedger(workdir: string): LedgerEvent[] {
  try {
    return readFileSync(join(workdir, 'ledger.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LedgerEvent);
  } catch {
    return [];
  }
}

function readEnviron(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return undefined;
  }
}

/** Processes whose environment carries `key=value` (or any value starting with it when prefix). */
export function processesWithEnv(key: string, value: string, prefix = false): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    const env = readEnviron(pid);
    if (!env) continue;
    for (const kv of env.split('\0')) {
      if (!kv.startsWith(`${key}=`)) continue;
      const v = kv.slice(key.length + 1);
      if (prefix ? v.startsWith(value) : v === value) out.push(pid);
      break;
    }
  }
  return out;
}

/** True when `pid` is alive and is the agent of `dir` (guards against pid reuse). */
export function isAgentOf(pid: number, dir: string): boolean {
  const env = readEnviron(pid);
  if (!env) return false;
  const state = procState(pid);
  if (state === 'Z' || state === 'X') return false;
  return env.split('\0').includes(`${NODE_DIR_ENV}=${dir}`);
}

function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}
