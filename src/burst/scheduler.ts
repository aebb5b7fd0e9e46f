// The burst's run-phase scheduler: pure data in, decisions out. No Temporal, no clocks, no I/O —
// the workflow feeds it events (a batch ended, a node was interrupted, a replacement joined, the
// time is now T) and carries out what it returns. Its whole state is one plain object, so a burst
// can continue-as-new with it and a unit test can drive every decision directly.

/** One job as the scheduler sees it: its place in the burst's job list, its id and its size. */
export interface SchedJob {
  i: number;
  id: string;
  nodes: number;
  /** Starts so far (more than one after a requeue). */
  attempts?: number;
}

export type NodeState = 'free' | 'busy' | 'drained';

/** Jobs handed to a set of nodes, run one after another there (one activity call). */
export interface Batch {
  id: string;
  nodes: string[];
  jobs: SchedJob[];
}

/** How one job of a batch ended. `lost`: its node went away under it; `unstarted`: never began. */
export type JobEnd =
  | { i: number; state: 'completed' | 'failed'; exitCode?: number; error?: string }
  | { i: number; state: 'lost' | 'unstarted' | 'cancelled'; error?: string };

export interface JobFailure {
  i: number;
  id: string;
  exitCode?: number;
  error?: string;
}

export interface Counts {
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  requeued: number;
}

export interface SchedulerState {
  nodes: Record<string, NodeState>;
  /** Jobs waiting to start, in order (requeued jobs go to the front). */
  queue: SchedJob[];
  running: Batch[];
  /** Next batch number (batch ids are unique across continue-as-new). */
  seq: number;
  counts: Counts;
  /** The first `maxFailures` failures with their reasons; later ones are only counted. */
  failures: JobFailure[];
  replacements: number;
  /** Replacements on their way (allowed, not joined yet): jobs that will fit then are not failed now. */
  coming?: number;
}

export interface SchedulerLimits {
  /** Most jobs in one batch. */
  maxBatch: number;
  /** Failures kept with details (the rest counted). */
  maxFailures: number;
  /** Replacement nodes the burst may make in all (interruptions). */
  maxReplacements: number;
  /** Starts per job before a job that keeps losing its node fails. */
  maxAttempts: number;
}

export const DEFAULT_LIMITS: SchedulerLimits = { maxBatch: 500, maxFailures: 100, maxReplacements: 0, maxAttempts: 3 };

export type Decision =
  | { kind: 'start'; batch: Batch }
  | { kind: 'fail'; job: SchedJob; reason: string };

export function initialState(nodes: string[], total = 0): SchedulerState {
  return {
    nodes: Object.fromEntries([...nodes].sort().map((n) => [n, 'free' as NodeState])),
    queue: [],
    running: [],
    seq: 0,
    counts: { total, completed: 0, failed: 0, cancelled: 0, requeued: 0 },
    failures: [],
    replacements: 0,
  };
}

export class Scheduler {
  readonly s: SchedulerState;
  readonly limits: SchedulerLimits;

  constructor(state: SchedulerState, limits: Partial<SchedulerLimits> = {}) {
    this.s = state;
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Nodes that still belong to the burst (free or busy). */
  liveNodes(): string[] {
    return Object.keys(this.s.nodes).filter((n) => this.s.nodes[n] !== 'drained').sort();
  }

  freeNodes(): string[] {
    return Object.keys(this.s.nodes).filter((n) => this.s.nodes[n] === 'free').sort();
  }

  /** Jobs known to the burst but not yet handed to the scheduler (a page not loaded yet). */
  add(jobs: SchedJob[]): void {
    for (const j of jobs) this.s.queue.push(j);
  }

  /** The burst's job count grows (jobs added to a running burst). */
  grow(n: number): void {
    this.s.counts.total += n;
  }

  runningJobs(): number {
    return this.s.running.reduce((a, b) => a + b.jobs.length, 0);
  }

  finished(): number {
    const c = this.s.counts;
    return c.completed + c.failed + c.cancelled;
  }

  /** Nothing waits and nothing runs (more jobs may still be loaded by the caller). */
  idle(): boolean {
    return this.s.queue.length === 0 && this.s.running.length === 0;
  }

  /**
   * Hand waiting jobs to free nodes. A batch takes the job at the head of the queue and, behind
   * it, further jobs of the same size, up to an even share of the queue per free node (so four
   * free nodes get four similar batches) and `maxBatch`. A job larger than the
   * burst's live nodes can never run: it fails with that reason.
   */
  schedule(): Decision[] {
    const out: Decision[] = [];
    const live = this.liveNodes().length;
    const kept: SchedJob[] = [];
    for (const j of this.s.queue) {
      if (j.nodes > live + (this.s.coming ?? 0)) out.push(this.fail(j, `needs ${j.nodes} nodes; only ${live} left in the burst`));
      else kept.push(j);
    }
    this.s.queue = kept;
    let free = this.freeNodes();
    while (this.s.queue.length && free.length) {
      const head = this.s.queue[0]!;
      if (head.nodes > free.length) break; // keep order: the head waits for its nodes
      // An even share of what waits per free slot: few, big batches (each is one activity call);
      // a batch hands back what it has not started after batchSeconds, so no node hoards work.
      const share = Math.max(1, Math.ceil(this.s.queue.length / Math.max(1, Math.floor(free.length / head.nodes))));
      const size = Math.min(this.limits.maxBatch, share);
      const jobs: SchedJob[] = [];
      const rest: SchedJob[] = [];
      for (const j of this.s.queue) {
        if (jobs.length < size && j.nodes === head.nodes) jobs.push({ ...j, attempts: (j.attempts ?? 0) + 1 });
        else rest.push(j);
      }
      this.s.queue = rest;
      const nodes = free.slice(0, head.nodes);
      free = free.slice(head.nodes);
      for (const n of nodes) this.s.nodes[n] = 'busy';
      const batch: Batch = { id: `b${++this.s.seq}`, nodes, jobs };
      this.s.running.push(batch);
      out.push({ kind: 'start', batch });
    }
    return out;
  }

  /**
   * A batch ended (completed, cut short by a drain, or failed as a whole). Jobs without an end
   * are taken as never started and go back to the head of the queue, as do lost ones (their node
   * went away) until they have used their attempts.
   */
  batchEnded(batchId: string, ends: JobEnd[]): Decision[] {
    const idx = this.s.running.findIndex((b) => b.id === batchId);
    if (idx < 0) return [];
    const batch = this.s.running.splice(idx, 1)[0]!;
    for (const n of batch.nodes) if (this.s.nodes[n] === 'busy') this.s.nodes[n] = 'free';
    const byI = new Map(ends.map((e) => [e.i, e]));
    const back: SchedJob[] = [];
    const out: Decision[] = [];
    for (const j of batch.jobs) {
      const e = byI.get(j.i);
      if (!e || e.state === 'unstarted') {
        back.push({ ...j, attempts: (j.attempts ?? 1) - 1 });
      } else if (e.state === 'completed') {
        this.s.counts.completed++;
      } else if (e.state === 'failed') {
        this.record(j, e.error ?? `exit ${e.exitCode}`, e.exitCode);
        this.s.counts.failed++;
      } else if (e.state === 'cancelled') {
        this.s.counts.cancelled++;
      } else if ((j.attempts ?? 1) >= this.limits.maxAttempts) {
        out.push(this.fail(j, `lost its node ${j.attempts} times${e.error ? ` (last: ${e.error})` : ''}`));
      } else {
        this.s.counts.requeued++;
        back.push(j);
      }
    }
    this.s.queue.unshift(...back);
    return out;
  }

  /**
   * A node is interrupted or lost: no new work goes there; the batches on it must be stopped
   * (their unfinished jobs come back through `batchEnded`). Returns those batches' ids, and
   * whether the burst may provision a replacement (within `maxReplacements`).
   */
  drain(node: string): { stop: string[]; replace: boolean; known: boolean } {
    const st = this.s.nodes[node];
    if (st === undefined || st === 'drained') return { stop: [], replace: false, known: st !== undefined };
    this.s.nodes[node] = 'drained';
    const stop = this.s.running.filter((b) => b.nodes.includes(node)).map((b) => b.id);
    const replace = this.s.replacements < this.limits.maxReplacements;
    if (replace) {
      this.s.replacements++;
      this.s.coming = (this.s.coming ?? 0) + 1;
    }
    return { stop, replace, known: true };
  }

  /** A replacement node joined and can take work. */
  nodeJoined(node: string): void {
    this.s.nodes[node] = 'free';
    this.s.coming = Math.max(0, (this.s.coming ?? 0) - 1);
  }

  /** A replacement could not be made: jobs that need it can no longer wait for it. */
  replacementFailed(): void {
    this.s.coming = Math.max(0, (this.s.coming ?? 0) - 1);
  }

  /** Cancel everything that waits (a cancel, a spend cap): running batches are stopped by the caller. */
  cancelQueued(): void {
    this.s.counts.cancelled += this.s.queue.length;
    this.s.queue = [];
  }

  /** Jobs the caller never loaded (a cancelled burst's tail) count as cancelled too. */
  cancelUnloaded(n: number): void {
    this.s.counts.cancelled += n;
  }

  /**
   * A job that another scheduler ran (Flux follows its own jobs) has ended. Jobs run that way are
   * never queued here; the counts and failures cover them all the same.
   */
  ended(j: SchedJob, e: { state: 'completed' | 'failed' | 'cancelled'; exitCode?: number; error?: string }): void {
    if (e.state === 'completed') this.s.counts.completed++;
    else if (e.state === 'cancelled') this.s.counts.cancelled++;
    else {
      this.s.counts.failed++;
      this.record(j, e.error ?? `exit ${e.exitCode}`, e.exitCode);
    }
  }

  /** Fail one job outside any batch (it cannot run here at all). */
  failJob(j: SchedJob, reason: string): Decision {
    return this.fail(j, reason);
  }

  private fail(j: SchedJob, reason: string): Decision {
    this.s.counts.failed++;
    this.record(j, reason);
    return { kind: 'fail', job: j, reason };
  }

  private record(j: SchedJob, error: string, exitCode?: number): void {
    if (this.s.failures.length < this.limits.maxFailures) this.s.failures.push({ i: j.i, id: j.id, ...(exitCode !== undefined ? { exitCode } : {}), error });
  }
}

/**
 * When a running burst must stop for its spend cap: the moment (ms, workflow time) its spend
 * reaches `maxSpend` at `costPerHour` from `since`; undefined when nothing caps it.
 */
export function spendDeadline(since: number, costPerHour: number, maxSpend?: number): number | undefined {
  if (maxSpend === undefined || !(costPerHour > 0)) return undefined;
  return since + Math.ceil((maxSpend / costPerHour) * 3_600_000);
}

/** Spend so far (USD, 4 decimals) at `costPerHour` from `since` to `now`. */
export function spendAt(since: number | undefined, now: number, costPerHour: number): number {
  if (since === undefined) return 0;
  return Math.round(((now - since) / 3_600_000) * costPerHour * 10_000) / 10_000;
}
