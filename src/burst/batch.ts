// Worker side of the run phase: one call runs a batch of jobs, one after another, on the nodes
// the scheduler gave it. Each job gets its own time limit (its walltime, capped by
// timeouts.jobSeconds) and its own result; a job that fails or overruns fails alone. Finished jobs
// are reported in heartbeats, so a retried call (the worker died) skips them, and a call the burst
// stops (a drain, a cancel) hands back what it finished instead of losing it.
import { FluxburstError, NodeLostError } from '../core/errors.js';
import type { Job, JobResult, ResourceRef, TaskResult } from '../core/types.js';
import type { Plugin, PluginContext } from '../plugins/contract.js';

/** How one job of a batch ended, as it travels back to the workflow (small: a tail, not the output). */
export interface BatchEnd {
  i: number;
  state: 'completed' | 'failed' | 'lost' | 'cancelled';
  exitCode?: number;
  error?: string;
  /** Each rank's output tails (together at most about `tailBytes`); absent when there was no output. */
  tasks?: TaskResult[];
  /** Its whole output's size in bytes. */
  bytes?: number;
  /** Where the whole output is kept, when the plugin keeps it. */
  output?: string;
}

export interface BatchResult {
  ends: BatchEnd[];
  /** A node that stopped answering: the burst drains it. */
  lost?: string;
  /** The call was stopped by the burst (drain or cancel) before its list was done. */
  stopped?: boolean;
}

export interface BatchJob {
  i: number;
  job: Job;
  attempt: number;
}

export interface BatchOptions {
  jobSeconds: number;
  batchSeconds: number;
  tailBytes: number;
  /** Ends already reported by an earlier try of this call (heartbeat details). */
  done?: BatchEnd[];
}

const NOW = () => Date.now();

/**
 * Most bytes of output tails one batch's answer carries, whatever tailBytes × jobs comes to: the
 * answer (and the heartbeat that carries the same ends) must stay far below Temporal's 2 MB
 * payload limit, or the batch could never report. Past it, jobs keep only their sizes.
 */
export const BATCH_TAIL_BUDGET = 256 * 1024;

/** The limit a job runs under: its own walltime when it has one, never more than jobSeconds. */
export function jobLimit(job: Job, jobSeconds: number): { seconds: number; what: string } {
  if (job.walltimeSeconds && job.walltimeSeconds > 0 && job.walltimeSeconds < jobSeconds) return { seconds: job.walltimeSeconds, what: 'its walltime' };
  return { seconds: jobSeconds, what: 'timeouts.jobSeconds' };
}

/**
 * The job's output as it may travel in the history: each rank's tail, the ranks sharing
 * `tailBytes` (at least 64 bytes each), the whole size recorded. Nothing when there was no output.
 */
export function tailsOf(r: JobResult, tailBytes: number): { tasks?: TaskResult[]; bytes: number } {
  const bytes = r.tasks.reduce((a, t) => a + (t.stdoutBytes ?? Buffer.byteLength(t.stdout)) + (t.stderrBytes ?? Buffer.byteLength(t.stderr)), 0);
  if (bytes === 0) return { bytes };
  const each = Math.max(64, Math.floor(tailBytes / Math.max(1, r.tasks.length)));
  const tasks = r.tasks.map((t) => ({
    rank: t.rank,
    node: t.node,
    exitCode: t.exitCode,
    stdout: cut(t.stdout, each),
    stderr: cut(t.stderr, each),
    stdoutBytes: t.stdoutBytes ?? Buffer.byteLength(t.stdout),
    stderrBytes: t.stderrBytes ?? Buffer.byteLength(t.stderr),
    ...(t.outputPath ? { outputPath: t.outputPath } : {}),
  }));
  return { tasks, bytes };
}

/** The last `max` bytes of s (whole characters). */
export function cut(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  const b = Buffer.from(s);
  return b.subarray(b.length - max).toString('utf8').replace(/^\uFFFD+/, '');
}

/**
 * Run the batch's jobs in order. Returns early (the rest unstarted) after `batchSeconds`, when a
 * node is lost, or when the call is stopped.
 */
export async function runBatch<P>(plugin: Plugin<P>, jobs: BatchJob[], nodes: ResourceRef[], params: P, ctx: PluginContext, o: BatchOptions): Promise<BatchResult> {
  if (!plugin.run) throw new FluxburstError('RunNotSupported', `plugin ${plugin.name} does not run jobs itself`);
  const ends: BatchEnd[] = [...(o.done ?? [])];
  const seen = new Set(ends.map((e) => e.i));
  const started = NOW();
  let tailBudget = BATCH_TAIL_BUDGET - ends.reduce((a, e) => a + tailSize(e), 0);
  for (const bj of jobs) {
    if (seen.has(bj.i)) continue;
    if (ctx.signal.aborted) return { ends, stopped: true };
    if (ends.length > (o.done?.length ?? 0) && NOW() - started > o.batchSeconds * 1000) break;
    const limit = jobLimit(bj.job, o.jobSeconds);
    const ac = new AbortController();
    let overran = false;
    const timer = setTimeout(() => {
      overran = true;
      ac.abort();
    }, limit.seconds * 1000);
    const onStop = () => ac.abort();
    ctx.signal.addEventListener('abort', onStop, { once: true });
    const jobCtx: PluginContext = {
      ...ctx,
      runAttempt: bj.attempt,
      signal: ac.signal,
      // Our own limit kills the job; an abort of the whole call is the burst's (or a dying attempt's) to judge.
      cancelledByBurst: () => overran || !ctx.cancelledByBurst || ctx.cancelledByBurst(),
      heartbeat: () => ctx.heartbeat({ done: ends }),
    };
    try {
      const r = await plugin.run(bj.job, nodes, params, jobCtx);
      const failed = r.exitCode !== 0;
      let { tasks, bytes } = tailsOf(r, o.tailBytes);
      const size = tasks ? tasks.reduce((a, t) => a + t.stdout.length + t.stderr.length, 0) : 0;
      if (size > tailBudget) tasks = tasks?.map((t) => ({ ...t, stdout: '', stderr: '' }));
      else tailBudget -= size;
      const output = r.tasks.find((t) => t.outputPath)?.outputPath;
      ends.push({ i: bj.i, state: failed ? 'failed' : 'completed', exitCode: r.exitCode, ...(r.error ? { error: r.error } : {}), ...(tasks ? { tasks } : {}), ...(bytes ? { bytes } : {}), ...(output ? { output } : {}) });
    } catch (e) {
      if (overran) {
        ends.push({ i: bj.i, state: 'failed', exitCode: 124, error: `exceeded its time limit of ${limit.seconds}s (${limit.what})` });
      } else if (e instanceof NodeLostError) {
        ends.push({ i: bj.i, state: 'lost', error: e.message });
        return { ends, lost: e.node };
      } else if (ctx.signal.aborted) {
        // Stopped by the burst: this job did not finish; the burst decides (requeue or cancel).
        ends.push({ i: bj.i, state: 'lost', error: 'stopped by the burst' });
        return { ends, stopped: true };
      } else {
        throw e;
      }
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onStop);
    }
    ctx.heartbeat({ done: ends });
  }
  return { ends };
}

function tailSize(e: BatchEnd): number {
  return e.tasks ? e.tasks.reduce((a, t) => a + t.stdout.length + t.stderr.length, 0) : 0;
}
