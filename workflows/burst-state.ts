// The state one run of a burst keeps, and what it carries into the next run (continue-as-new).
// Pure workflow code: the status is what the `status` query answers, bounded whatever the job count.
import { upsertSearchAttributes } from '@temporalio/workflow';
import { SA_PHASE } from '../src/core/search-attributes.js';
import { Scheduler, type SchedulerState, initialState, spendAt } from '../src/burst/scheduler.js';
import type { BurstInput, BurstStatus, CarriedChoice, Interruption, Job, JobStatus, JobsRef, Phase, RunSettings, Step } from '../src/core/types.js';
import { Saga } from './saga.js';
import { burstMetrics } from './metrics.js';

/** Jobs shown in the status besides the counts: the running ones and the latest finished. */
const RECENT = 100;

export class BurstRun {
  readonly st: BurstStatus;
  readonly saga = new Saga();
  readonly metrics: ReturnType<typeof burstMetrics>;
  step: Step = 'select';
  choice?: CarriedChoice;
  jobs: JobsRef = { kind: 'inline', jobs: [] };
  /** Jobs in `jobs`. */
  count = 0;
  /** Next index of `jobs` not yet given to the scheduler. */
  cursor = 0;
  /** Jobs added to the running burst (update addJobs): indexes count on from `count`. */
  added: Job[] = [];
  sched: Scheduler;
  /** Statuses of the jobs in view: running and recently finished. */
  readonly recent = new Map<number, JobStatus>();
  readonly interrupts: Interruption[] = [];
  /** Why replacements could not be made (named when a job no longer fits). */
  readonly replacementErrors: string[] = [];
  wake = 0;
  stopReason?: string;
  spendFrom?: number;
  costPerHour = 0;
  runNo = 1;
  /** Jobs another scheduler runs now (Flux follows its own): counted as running. */
  externalRunning = 0;

  constructor(
    readonly burstId: string,
    readonly input: BurstInput,
    readonly settings: RunSettings,
  ) {
    this.st = { burstId, owner: input.owner, phase: 'pending', resources: [], jobs: [], interruptions: [], timeline: [], run: 1 };
    this.metrics = burstMetrics(input);
    this.sched = new Scheduler(initialState([]), { maxBatch: settings.batchMax });
  }

  touch(): void {
    this.wake++;
  }

  setPhase(phase: Phase): void {
    this.st.phase = phase;
    this.st.timeline.push({ phase, at: Date.now() });
    this.metrics.phase(this.status());
    upsertSearchAttributes([{ key: SA_PHASE, value: phase }]);
  }

  call() {
    const c = this.choice;
    return { burstId: this.burstId, owner: this.input.owner, plugin: c?.plugin ?? '', params: c?.params ?? {}, ...(c?.credentials ? { credentials: c.credentials } : {}) };
  }

  /** `oneByOne`: the local scheduler runs the jobs, each reported on its own (no batches). */
  useScheduler(state: SchedulerState, maxReplacements: number, oneByOne: boolean): void {
    this.sched = new Scheduler(state, { maxBatch: oneByOne ? 1 : this.settings.batchMax, maxReplacements });
  }

  total(): number {
    return this.count + this.added.length;
  }

  /** A job whose definition the workflow holds: added to the running burst, or in an inline list (spooled ones the worker reads). */
  inlineJob(i: number): Job | undefined {
    if (i >= this.count) return this.added[i - this.count];
    return this.jobs.kind === 'inline' ? this.jobs.jobs[i] : undefined;
  }

  see(js: JobStatus): void {
    this.recent.delete(js.i!);
    this.recent.set(js.i!, js);
    if (this.recent.size > RECENT) {
      for (const [k, v] of this.recent) {
        if (this.recent.size <= RECENT) break;
        if (v.state !== 'running') this.recent.delete(k);
      }
    }
  }

  spend(): number {
    return spendAt(this.spendFrom, Date.now(), this.costPerHour);
  }

  /** The status query's answer: counts over all jobs, the first failures, a page of jobs. */
  status(): BurstStatus {
    const c = this.sched.s.counts;
    const running = this.sched.runningJobs() + this.externalRunning;
    const counts = {
      total: this.total(),
      pending: Math.max(0, this.total() - running - c.completed - c.failed - c.cancelled),
      running,
      completed: c.completed,
      failed: c.failed,
      cancelled: c.cancelled,
      requeued: c.requeued,
    };
    return {
      ...this.st,
      jobs: [...this.recent.values()],
      counts,
      failures: this.sched.s.failures,
      run: this.runNo,
      ...(this.spendFrom !== undefined ? { spend: this.spend() } : {}),
    };
  }
}
