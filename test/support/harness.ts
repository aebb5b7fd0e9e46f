import { spawnSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { SA_OWNER } from '../../src/core/search-attributes.js';
import type { BurstInput, BurstResult, Job } from '../../src/core/types.js';
import { NODE_DIR_ENV, processesWithEnv, readLedger } from '../../src/plugins/local/layout.js';
import { loadRegistry, type PluginRegistry } from '../../src/plugins/registry.js';
import { createBurstWorker } from '../../workers/worker.js';
import { burstWorkflow } from '../../workflows/burst.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'bin', 'fluxburst.js');

let runtimeInstalled = false;
function quietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    /* already installed by another helper */
  }
}

export function address(): string {
  return inject('temporalAddress');
}

export async function client(addr = address()): Promise<Client> {
  const connection = await Connection.connect({ address: addr });
  return new Client({ connection });
}

/** A worker in this process on its own task queue; stop() drains it. */
export async function startWorker(taskQueue: string, opts: { registry?: PluginRegistry; addr?: string } = {}) {
  quietRuntime();
  const registry = opts.registry ?? (await loadRegistry());
  const { worker, connection } = await createBurstWorker({
    connection: { address: opts.addr ?? address(), namespace: 'default', taskQueue },
    registry,
  });
  const running = worker.run();
  return {
    worker: worker as Worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

export { workdir } from './workdirs.js';

/** What a local burst left behind: node processes and burst directories under the workdir. */
export function leftovers(dir: string): { processes: number[]; dirs: string[] } {
  const dirs = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : [];
  return { processes: processesWithEnv(NODE_DIR_ENV, `${dir}/`, true), dirs };
}

/** Node creations per (burst, node) from the local plugin's ledger. */
export function createCounts(dir: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of readLedger(dir)) {
    if (e.event !== 'create') continue;
    const k = `${e.burstId}/${e.node}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

export function job(id: string, over: Partial<Job> = {}): Job {
  return { id, name: id, nodes: 1, tasks: 1, command: ['echo', `hello-${id}`], attributes: { system: { burstable: 1 } }, ...over };
}

export function input(jobs: Job[], params: Record<string, unknown>, over: Partial<BurstInput> = {}): BurstInput {
  return {
    owner: 'tester',
    source: { kind: 'inline', jobs },
    selector: { kind: 'burstable' },
      targets: [{ name: 'local', plugin: 'local', params }],
    maxNodes: 64,
    timeouts: { stepSeconds: 60, heartbeatSeconds: 5, jobSeconds: 120 },
    ...over,
  };
}

export async function start(c: Client, taskQueue: string, id: string, inp: BurstInput): Promise<WorkflowHandleWithFirstExecutionRunId<typeof burstWorkflow>> {
  return c.workflow.start(burstWorkflow, {
    workflowId: id,
    taskQueue,
    args: [inp],
    typedSearchAttributes: [{ key: SA_OWNER, value: inp.owner }],
  });
}

export async function result(h: WorkflowHandle): Promise<BurstResult> {
  return (await h.result()) as BurstResult;
}

export function uid(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: Record<string, string> = {}, cwd = ROOT): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI without blocking this process (needed when this process also runs the worker). */
export function cliAsync(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<CliResult> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** `fluxburst worker` as a child process (so a test can SIGKILL it). */
export function spawnWorker(args: string[], env: Record<string, string> = {}): ChildProcess & { ready: Promise<void> } {
  const child = spawn(process.execPath, [CLI, 'worker', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<void>((resolveReady, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('polling')) resolveReady();
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`worker exited ${code}: ${out}`)));
  });
  ready.catch(() => undefined);
  return Object.assign(child, { ready });
}

export async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, ms = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Everything a history holds as text: payload bytes decoded as UTF-8, plus every string field.
 * What a person with raw access to the server's history would see.
 */
export function historyText(history: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (v === null || v === undefined) return;
    if (typeof v === 'string') out.push(v);
    else if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('utf8'));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object') Object.values(v as Record<string, unknown>).forEach(walk);
  };
  walk(history);
  return out.join('\n');
}
