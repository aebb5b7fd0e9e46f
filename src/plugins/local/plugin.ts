import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CapacityError, FluxburstError, InjectedFault, NodeLostError, TransientError } from '../../core/errors.js';
import type { BurstPlan, Estimate, Job, JobResult, ProvisionStep, ResourceRef, TaskResult } from '../../core/types.js';
import { loadCatalog } from '../../catalog/catalog.js';
import { makeChooser } from '../../sizing/fit.js';
import { overrideOf } from '../../sizing/overrides.js';
import { registerNode } from '../../slurm/scontrol.js';
import { definePlugin, type PluginContext } from '../contract.js';
import {
  BURST_ENV,
  DEFAULT_WORKDIR,
  NODE_DIR_ENV,
  appendLedger,
  burstDir,
  isAgentOf,
  nodeDir,
  processesWithEnv,
  readAgentInfo,
} from './layout.js';
import { brokerInterruptions, destroySlot, fluxModeParams, fluxPlanNodes, joinBrokers, ownedSlots, provisionBroker, teardownBroker } from './flux-broker.js';

export const FAULT_STEPS = ['plan', 'provision', 'join', 'run', 'teardown'] as const;

export const localParams = z
  .strictObject({
    workdir: z.string().min(1).default(DEFAULT_WORKDIR).describe('Where node directories live; each burst gets <workdir>/<burstId>.'),
    nodes: z.number().int().positive().max(256).optional().describe('Burst size; default is the largest job (flux-burst rule).'),
    maxNodes: z.number().int().positive().max(256).default(64).describe('Largest burst this plugin accepts.'),
    latencyMs: z.number().int().nonnegative().max(600_000).default(0).describe('Injected delay per provision step, to imitate a slow cloud.'),
    costPerNodeHour: z.number().nonnegative().default(0).describe('Pretend price, for ordering and spend estimates (without `catalog`).'),
    catalog: z
      .strictObject({
        provider: z.enum(['aws', 'gce']),
        region: z.string().min(1),
        arch: z.enum(['x86_64', 'arm64']).optional(),
      })
      .optional()
      .describe('Stand in for a cloud: size and price each node as the cheapest fitting type of this catalog (dry runs, tests).'),
    instanceType: z.string().min(1).optional().describe('With `catalog`: use this type (must fit the jobs).'),
    readyTimeoutSeconds: z.number().positive().max(3600).default(30).describe('How long join waits for every node to answer.'),
    outputDir: z.string().min(1).optional().describe('Keep every job\'s whole output here (<outputDir>/<burstId>/<job>.<run>.<rank>/stdout|stderr); without it the output goes with the node at teardown and only its tail is kept, in the burst\'s history.'),
    flux: fluxModeParams.optional().describe('Flux mode: each node is a real Flux broker that claims a burst slot of the lead and joins it; Flux runs the jobs (src/plugins/local/flux-broker.ts).'),
    fault: z
      .strictObject({
        step: z.enum(FAULT_STEPS).describe('The saga step that fails.'),
        node: z.number().int().nonnegative().optional().describe('Only the node of this rank fails (provision, teardown), and its replacements.'),
        replacement: z.boolean().optional().describe('Only replacement nodes fail (provision, teardown).'),
        times: z.number().int().positive().optional().describe('Fail only the first N attempts (a transient fault); default: every attempt.'),
        afterCreate: z.boolean().default(false).describe('provision: fail after the node was made, as if the worker died before answering.'),
      })
      .optional()
      .describe('Inject a failure, to exercise rollback paths.'),
  })
  .refine((p) => !p.instanceType || p.catalog, { message: 'instanceType needs a catalog to pick from', path: ['instanceType'] })
  .describe('Nodes are local processes that really run the jobs.');
export type LocalParams = z.output<typeof localParams>;

const here = dirname(fileURLToPath(import.meta.url));
/** The compiled agent; under vitest (TS sources) use the build in dist/. */
export function agentScript(): string {
  const js = join(here, 'agent.js');
  if (existsSync(js)) return js;
  return resolve(here, '../../../dist/src/plugins/local/agent.js');
}

function maybeFault(p: LocalParams, step: (typeof FAULT_STEPS)[number], ctx: PluginContext, nodeIndex?: number, replacement?: boolean): void {
  const f = p.fault;
  if (!f || f.step !== step) return;
  if (f.node !== undefined && nodeIndex !== undefined && f.node !== nodeIndex) return;
  if (f.replacement && !replacement) return;
  if (f.times !== undefined && ctx.attempt > f.times) return;
  throw new InjectedFault(step, f.times !== undefined);
}

/** Sleep that keeps heartbeating, so a slow step is not mistaken for a dead worker. */
async function pause(ms: number, ctx: PluginContext): Promise<void> {
  const until = Date.now() + ms;
  for (let left = ms; left > 0; left = until - Date.now()) {
    await sleep(Math.min(left, 1000), undefined, { signal: ctx.signal });
    ctx.heartbeat({ waiting: until - Date.now() });
  }
}

/** The node's rank; steps recorded before ranks existed carry it only in the name (node-1, node-1-r2). */
export function nodeIndexOf(step: ProvisionStep): number {
  if (step.rank !== undefined) return step.rank;
  return Number(/^\D*(\d+)/.exec(step.node ?? step.key)?.[1] ?? -1);
}

async function call(port: number, method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : undefined,
    body: body ? JSON.stringify(body) : undefined,
    signal,
  });
  const json = (await res.json()) as { error?: string };
  if (!res.ok) throw new TransientError(`agent ${method} ${path}: HTTP ${res.status} ${json.error ?? ''}`);
  return json;
}

function isConnRefused(e: unknown): boolean {
  const c = (e as { cause?: { code?: string } }).cause?.code;
  return c === 'ECONNREFUSED' || c === 'ECONNRESET' || c === 'UND_ERR_SOCKET';
}

/** Kill everything carrying the node's marker (agent and any task it left), then wait for it. */
async function killNode(dir: string): Promise<number> {
  let pids = processesWithEnv(NODE_DIR_ENV, dir);
  const found = pids.length;
  const info = readAgentInfo(dir);
  if (info && isAgentOf(info.pid, dir)) {
    try {
      process.kill(info.pid, 'SIGTERM'); // lets the agent kill its tasks' groups first
    } catch {
      /* gone */
    }
  }
  // The agent is usually gone within ~10 ms of SIGTERM; poll briskly, give up on grace after 2 s.
  for (let i = 0; i < 200 && pids.length; i++) {
    await sleep(10);
    pids = processesWithEnv(NODE_DIR_ENV, dir);
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (let i = 0; i < 100 && processesWithEnv(NODE_DIR_ENV, dir).length; i++) await sleep(20);
  return found;
}

async function waitForAgent(dir: string, ms: number, signal: AbortSignal, exited: () => number | null): Promise<ReturnType<typeof readAgentInfo>> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const info = readAgentInfo(dir);
    if (info && isAgentOf(info.pid, dir)) return info;
    const code = exited();
    if (code !== null && code !== 3) return undefined; // the agent died on its own
    await sleep(5, undefined, { signal });
  }
  return undefined;
}

type Chooser = ReturnType<typeof makeChooser>;
/** Choosers per params object (the planner parses a target's params once per plan). */
const choosers = new WeakMap<object, { plain: Chooser; perJob: Chooser }>();

/** One node's shape and price: a catalog type when `catalog` is set, else a plain process. */
function shapeOf(job: Job, p: LocalParams): { shape: string; costPerNodeHour: number } | { unfit: string } {
  if (job.nodes > p.maxNodes) return { unfit: `needs ${job.nodes} nodes, local maxNodes is ${p.maxNodes}` };
  if (!p.catalog) return { shape: 'process', costPerNodeHour: p.costPerNodeHour };
  let c = choosers.get(p);
  if (!c) {
    const base = { ...p.catalog, ...(p.instanceType ? { instanceType: p.instanceType } : {}) };
    // x86_64 unless the job (or the target) says otherwise: arm types are cheaper but only right
    // for jobs built for them.
    const arch = base.arch ?? ('x86_64' as const);
    c = {
      plain: makeChooser(loadCatalog(), { ...base, arch }),
      perJob: makeChooser(loadCatalog(), (j: Job) => ({ ...base, arch: overrideOf(j)?.requires?.arch ?? arch })),
    };
    choosers.set(p, c);
  }
  const wantsArch = (job.attributes.system as { fluxburst?: { requires?: { arch?: unknown } } } | undefined)?.fluxburst?.requires?.arch;
  const r = (wantsArch ? c.perJob : c.plain)(job);
  return 'unfit' in r ? r : { shape: r.shape, costPerNodeHour: r.costPerNodeHour };
}

function estimate(jobs: Job[], p: LocalParams): Estimate | { unfit: string } {
  const nodes = p.nodes ?? Math.max(1, ...jobs.map((j) => j.nodes));
  if (nodes > p.maxNodes) return { unfit: `needs ${nodes} nodes, local maxNodes is ${p.maxNodes}` };
  let perNode = 0;
  for (const j of jobs) {
    const s = shapeOf(j, p);
    if ('unfit' in s) return s;
    perNode = Math.max(perNode, s.costPerNodeHour);
  }
  return { nodes, costPerHour: nodes * perNode, secondsToReady: 0.2 + (p.latencyMs * nodes) / 1000 };
}

/** The burst's node shape: that of its largest job (all nodes of a burst are alike). */
function shapeOfBurst(jobs: Job[], p: LocalParams): string {
  const biggest = [...jobs].sort((a, b) => b.nodes - a.nodes)[0];
  const s = biggest ? shapeOf(biggest, p) : undefined;
  return s && !('unfit' in s) ? s.shape : 'process';
}

/** Kill a node's processes and remove its directory (and the burst's, with its last node). */
async function removeNode(workdir: string, burstId: string, node: string): Promise<void> {
  const bdir = burstDir(workdir, burstId);
  const dir = nodeDir(workdir, burstId, node);
  const killed = await killNode(dir);
  const existed = existsSync(dir);
  rmSync(dir, { recursive: true, force: true });
  if (killed || existed) appendLedger(workdir, { event: 'destroy', burstId, node });
  try {
    const left = readdirSync(bdir).filter((e) => e !== 'owner.json');
    if (left.length === 0) rmSync(bdir, { recursive: true, force: true });
  } catch {
    /* already gone */
  }
}

export const localPlugin = definePlugin<LocalParams>({
  name: 'local',
  description: 'Nodes are processes on this machine that really run the jobs (demo, tests, Slurm slurmd hosts).',
  params: localParams,

  estimate,

  shape: shapeOf,

  async plan(jobs, p, ctx, opts) {
    maybeFault(p, 'plan', ctx);
    const biggest = Math.max(1, ...jobs.map((j) => j.nodes));
    const names = opts?.nodeNames;
    const nodes = p.flux ? await fluxPlanNodes(jobs, p, names?.length ?? p.nodes) : (names?.length ?? p.nodes ?? biggest);
    if (!p.flux && nodes < biggest) throw new CapacityError(`params.nodes=${nodes} is smaller than the largest job (${biggest} nodes)`, 'Unfit');
    if (nodes > p.maxNodes) throw new CapacityError(`burst needs ${nodes} nodes but local maxNodes is ${p.maxNodes}`, 'Unfit');
    const est = estimate(jobs, p);
    const steps: ProvisionStep[] = names
      ? names.map((n, rank) => ({ key: `node-${n}`, kind: 'node', node: n, rank }))
      : Array.from({ length: nodes }, (_, i) => ({ key: `node-${i}`, kind: 'node', node: `node-${i}`, rank: i }));
    const plan: BurstPlan = {
      plugin: 'local',
      nodes,
      groups: [{ name: 'local', count: nodes, shape: p.flux ? 'flux-broker' : shapeOfBurst(jobs, p), gangMin: nodes }],
      steps,
      estimate: 'unfit' in est ? { nodes, costPerHour: 0, secondsToReady: 0 } : est,
    };
    return plan;
  },

  async provision(step, _plan, p, ctx) {
    if (step.kind !== 'node' || !step.node) throw new FluxburstError('Unsupported', `local plugin cannot provision a ${step.kind}`);
    const index = nodeIndexOf(step);
    if (!p.fault?.afterCreate) maybeFault(p, 'provision', ctx, index, !!step.replaces);
    if (p.flux) {
      const ref = await provisionBroker(step, p, ctx);
      if (p.fault?.afterCreate) maybeFault(p, 'provision', ctx, index, !!step.replaces);
      return ref;
    }
    const bdir = burstDir(p.workdir, ctx.burstId);
    const dir = nodeDir(p.workdir, ctx.burstId, step.node);
    mkdirSync(dir, { recursive: true });
    const ownerFile = join(bdir, 'owner.json');
    if (!existsSync(ownerFile)) writeFileSync(ownerFile, JSON.stringify({ burstId: ctx.burstId, owner: ctx.owner }));

    let info = readAgentInfo(dir);
    if (!(info && isAgentOf(info.pid, dir))) {
      if (existsSync(join(dir, 'claim'))) {
        // An earlier try started an agent; give it a moment to publish agent.json before we
        // decide it died and clear the claim.
        info = await waitForAgent(dir, 3000, ctx.signal, () => null);
        if (!info) {
          await killNode(dir);
          rmSync(join(dir, 'claim'), { recursive: true, force: true });
          rmSync(join(dir, 'agent.json'), { force: true });
        }
      }
      if (!info) {
        if (p.latencyMs) await pause(p.latencyMs, ctx);
        const log = openSync(join(dir, 'agent.log'), 'a');
        const child = spawn(process.execPath, [agentScript(), dir, step.node, ctx.burstId, p.workdir], {
          detached: true,
          stdio: ['ignore', log, log],
          env: { ...process.env, [NODE_DIR_ENV]: dir, [BURST_ENV]: ctx.burstId },
        });
        closeSync(log);
        child.unref();
        let code: number | null = null;
        child.on('exit', (c) => (code = c ?? 1));
        info = await waitForAgent(dir, 10_000, ctx.signal, () => code);
        if (!info) throw new TransientError(`node ${step.node}: agent did not start (see ${join(dir, 'agent.log')})`);
      }
    }
    if (p.fault?.afterCreate) maybeFault(p, 'provision', ctx, index, !!step.replaces);
    return { key: step.key, kind: 'node', id: String(info.pid), node: step.node, data: { port: info.port, dir } };
  },

  async join(resources, p, ctx, broker) {
    maybeFault(p, 'join', ctx);
    if (p.flux) return joinBrokers(resources, p, ctx);
    const deadline = Date.now() + p.readyTimeoutSeconds * 1000;
    for (const r of resources.filter((x) => x.kind === 'node')) {
      for (;;) {
        try {
          const h = (await call(Number(r.data?.port), 'GET', '/health', undefined, ctx.signal)) as { node: string };
          if (h.node === r.node) break;
          throw new TransientError(`port ${r.data?.port} answers as ${h.node}, not ${r.node}`);
        } catch (e) {
          if (Date.now() > deadline) throw new NodeLostError(r.node!, `node ${r.node} did not answer within ${p.readyTimeoutSeconds}s: ${(e as Error).message}`);
          ctx.heartbeat({ waitingFor: r.node });
          await sleep(100, undefined, { signal: ctx.signal });
        }
      }
      ctx.heartbeat({ joined: r.node });
    }
    if (broker?.kind === 'slurm') {
      // Each node becomes a Slurm node: registered where it is, then a slurmd run by its agent
      // (-b reports the boot at once, else slurmctld keeps waiting for it).
      for (const r of resources.filter((x) => x.kind === 'node')) {
        await registerNode(broker.conf, r.node!, '127.0.0.1', hostname());
        await call(Number(r.data?.port), 'PUT', '/tasks/slurmd', { command: ['slurmd', '-D', '-b', '-f', broker.conf, '-N', r.node!] }, ctx.signal);
        ctx.heartbeat({ slurmd: r.node });
      }
    }
  },

  async run(job, nodes, p, ctx) {
    maybeFault(p, 'run', ctx);
    if (nodes.length === 0) throw new TransientError(`job ${job.id} was given no nodes`);
    const runKey = `${job.id}.${ctx.runAttempt ?? 1}`;
    const outputDir = p.outputDir ? join(resolve(p.outputDir), ctx.burstId) : undefined;
    const ranks = Array.from({ length: Math.max(1, job.tasks) }, (_, rank) => ({ rank, node: nodes[rank % nodes.length]! }));
    const portOf = (r: ResourceRef) => Number(r.data?.port);
    const onAbort = () => {
      // Only when the burst cancelled this job (cancel or interruption). Temporal also aborts an
      // attempt it has given up on (heartbeats lost while the server restarted: NOT_FOUND or
      // TIMED_OUT) or that a draining worker drops; the next attempt re-attaches to the same tasks
      // by runKey, so killing them here would fail a job that is running fine (exit 137).
      if (ctx.cancelledByBurst && !ctx.cancelledByBurst()) return;
      for (const { rank, node } of ranks) void call(portOf(node), 'DELETE', `/tasks/${runKey}.${rank}`).catch(() => undefined);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const results = await Promise.all(
        ranks.map(async ({ rank, node }): Promise<TaskResult> => {
          const path = `/tasks/${runKey}.${rank}`;
          try {
            type View = { state: string; exitCode?: number; stdout: string; stderr: string; stdoutBytes?: number; stderrBytes?: number; outDir?: string };
            // PUT starts the task (or attaches to it after a retry) and long-polls like GET.
            let v = (await call(portOf(node), 'PUT', `${path}?waitMs=1000`, { command: job.command, ...(outputDir ? { outputDir } : {}) }, ctx.signal)) as View;
            for (;;) {
              ctx.heartbeat({ job: job.id, rank });
              if (v.state !== 'running') {
                return {
                  rank,
                  node: node.node!,
                  exitCode: v.exitCode ?? -1,
                  stdout: v.stdout,
                  stderr: v.stderr,
                  ...(v.stdoutBytes !== undefined ? { stdoutBytes: v.stdoutBytes, stderrBytes: v.stderrBytes ?? 0 } : {}),
                  ...(outputDir && v.outDir ? { outputPath: v.outDir } : {}),
                };
              }
              v = (await call(portOf(node), 'GET', `${path}?waitMs=1000`, undefined, ctx.signal)) as View;
            }
          } catch (e) {
            if (isConnRefused(e)) throw new NodeLostError(node.node!, `node ${node.node} stopped answering while running job ${job.id}`);
            throw e;
          }
        }),
      );
      const failed = results.find((r) => r.exitCode !== 0);
      const result: JobResult = { jobId: job.id, exitCode: failed?.exitCode ?? 0, tasks: results };
      return result;
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  },

  async teardown(step, _ref, p, ctx) {
    if (step.kind !== 'node' || !step.node) return;
    maybeFault(p, 'teardown', ctx, nodeIndexOf(step), !!step.replaces);
    if (p.flux) return teardownBroker(step, _ref, p, ctx);
    await removeNode(p.workdir, ctx.burstId, step.node);
  },

  // Flux mode: Flux runs the jobs on the brokers; the burst follows them there.
  runsJobs: (p) => !p.flux,
  watchesNodes: (p) => !!p.flux,

  async interruptions(resources, p) {
    return p.flux ? brokerInterruptions(resources, p) : [];
  },

  async owned(p) {
    if (p.flux) return ownedSlots(p);
    if (!existsSync(p.workdir)) return [];
    const out = [];
    for (const e of readdirSync(p.workdir, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      let owner = 'unknown';
      try {
        owner = (JSON.parse(readFileSync(join(p.workdir, e.name, 'owner.json'), 'utf8')) as { owner: string }).owner;
      } catch {
        /* a burst dir without owner.json is still ours: it is in our workdir */
      }
      for (const n of readdirSync(join(p.workdir, e.name), { withFileTypes: true })) {
        if (n.isDirectory()) out.push({ burstId: e.name, owner, kind: 'node', id: n.name });
      }
    }
    return out;
  },

  async destroy(r, p, ctx) {
    if (p.flux) return destroySlot(r, p, ctx);
    // The ids become paths under the workdir: one that is not a plain name must not reach outside it.
    const plain = (s: string) => s !== '' && s !== '.' && s !== '..' && !/[/\\]/.test(s);
    if (r.kind !== 'node' || !plain(r.burstId) || !plain(r.id)) throw new FluxburstError('Unsupported', `local cannot delete ${r.kind} ${r.burstId}/${r.id}`);
    await removeNode(p.workdir, r.burstId, r.id);
  },
});

