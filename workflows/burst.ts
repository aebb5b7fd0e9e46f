import {
  ApplicationFailure,
  ActivityFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { initialState, spendDeadline, type SchedulerState } from '../src/burst/scheduler.js';
import { SA_PLUGIN } from '../src/core/search-attributes.js';
import type { BurstInput, BurstResult, ProvisionStep, ResourceRef, RunSettings } from '../src/core/types.js';
import { installHandlers } from './burst-handlers.js';
import { messageOf, runJobs } from './burst-run.js';
import { followFluxJobs, followsFlux } from './burst-flux.js';
import { BurstRun } from './burst-state.js';
import { burstV1 } from './legacy/burst-v1.js';
import { burstActivities, DEFAULT_RUN } from './policies.js';
import type { Undo } from './saga.js';

/** The patch that separates batched bursts from the bursts recorded before (workflows/legacy). */
export const BURST_V2 = 'burst-v2';
/** The patch after which a burst makes its node steps together. */
export const PROVISION_TOGETHER = 'provision-nodes-together';

function failureType(e: unknown): string | undefined {
  if (e instanceof ActivityFailure && e.cause instanceof ApplicationFailure) return e.cause.type ?? undefined;
  if (e instanceof ApplicationFailure) return e.type ?? undefined;
  return undefined;
}

/**
 * One burst: select → plan → provision → join → run/monitor → teardown.
 *
 * Provisioning is a saga: a step's compensation is recorded *before* its activity runs (the
 * activity may create the resource and then lose its answer), and teardown runs every recorded
 * compensation in reverse inside a non-cancellable scope, whether the burst finished, failed or
 * was cancelled. Jobs run in batches decided by a pure scheduler; the history stays bounded by
 * continuing as new with the scheduler's state, the resources and the saga.
 */
export async function burstWorkflow(input: BurstInput): Promise<BurstResult> {
  // Bursts recorded before batching replay through the frozen code; new ones (and their
  // continued runs) take this one.
  if (!patched(BURST_V2)) return burstV1(input);
  const settings: RunSettings = { ...DEFAULT_RUN, ...input.run };
  const b = new BurstRun(workflowInfo().workflowId, input, settings);
  const acts = burstActivities(input.timeouts, settings);
  const body = new CancellationScope();
  let cancelledBySignal = false;
  const stop = (reason: string) => {
    if (b.st.cancelReason || ['teardown', 'completed', 'failed', 'cancelled'].includes(b.st.phase)) return;
    b.st.cancelReason = reason || 'cancelled';
    cancelledBySignal = true;
    body.cancel();
  };
  const handlers = installHandlers(b, stop);

  const provisionOne = async (s: ProvisionStep): Promise<ResourceRef> => {
    // Each step carries its own inputs and the plan's summary, never every other step.
    const plan = { ...b.st.plan!, steps: [] };
    const ref = await b.saga.provision(s, (x) => acts.steps.provisionStep({ ...b.call(), step: x, plan }));
    b.st.resources.push(ref);
    return ref;
  };
  const teardownOne = async (u: Undo): Promise<void> => {
    await acts.steps.teardownStep({ ...b.call(), step: u.step, ...(u.ref ? { ref: u.ref } : {}) });
    b.st.resources = b.st.resources.filter((r) => r.key !== u.step.key);
  };

  const capSpend = () => {
    const at = b.spendFrom === undefined ? undefined : spendDeadline(b.spendFrom, b.costPerHour, input.budget?.maxSpend);
    if (at === undefined) return;
    // Outside the body scope: the cap must fire whatever the body is doing.
    void CancellationScope.nonCancellable(() => sleep(Math.max(1, at - Date.now()))).then(() =>
      stop(`spend cap reached: ~$${input.budget!.maxSpend} at $${b.costPerHour.toFixed(2)}/h (limits.maxSpend)`),
    );
  };

  let caught: unknown;
  let next = 'done' as 'done' | 'continue';
  try {
    await body.run(async () => {
      if (input.carried) resume(b, input);
      else if (!(await start(b, acts, provisionOne))) return;
      capSpend();
      b.step = 'run';
      const deps = { acts, handlers, provisionOne, teardownOne };
      next = followsFlux(b) ? await followFluxJobs(b, deps) : await runJobs(b, deps);
    });
  } catch (err) {
    caught = err;
    if (!isCancellation(err)) b.st.error = { step: b.step, message: messageOf(err) };
  }

  if (next === 'continue' && caught === undefined) {
    await condition(allHandlersFinished);
    return continueAsNew<typeof burstWorkflow>(carry(b, input));
  }

  await teardownAll(b, teardownOne);
  if (b.spendFrom !== undefined) b.st.spend = b.spend();

  if (b.st.error) {
    b.setPhase('failed');
    throw ApplicationFailure.create({
      type: 'BurstFailed',
      message: `burst ${b.burstId} failed at ${b.st.error.step}: ${b.st.error.message}`,
      nonRetryable: true,
      details: [{ step: b.st.error.step, type: failureType(caught) }],
      cause: caught instanceof Error ? caught : undefined,
    });
  }
  if (caught !== undefined && !cancelledBySignal) {
    // Cancelled through Temporal (UI button, `temporal workflow cancel`): end as Canceled.
    b.setPhase('cancelled');
    throw caught;
  }
  if (cancelledBySignal) {
    const c = b.sched.s.counts;
    c.cancelled = Math.max(0, b.total() - c.completed - c.failed);
    for (const j of b.recent.values()) if (j.state === 'pending' || j.state === 'running') j.state = 'cancelled';
    b.setPhase('cancelled');
    return { burstId: b.burstId, outcome: 'cancelled', status: b.status() };
  }
  b.setPhase('completed');
  return { burstId: b.burstId, outcome: b.total() === 0 ? 'nothing-to-do' : 'completed', status: b.status() };
}

/** select → plan → provision → join. False when there is nothing to burst. */
async function start(b: BurstRun, acts: ReturnType<typeof burstActivities>, provisionOne: (s: ProvisionStep) => Promise<ResourceRef>): Promise<boolean> {
  const input = b.input;
  b.setPhase('select');
  b.step = 'select';
  if (input.jobs) {
    b.jobs = input.jobs;
    b.count = input.jobs.kind === 'inline' ? input.jobs.jobs.length : input.jobs.count;
  } else if (input.source.kind === 'inline' && input.source.selected) {
    b.jobs = { kind: 'inline', jobs: input.source.jobs };
    b.count = input.source.jobs.length;
  } else {
    const sel = await acts.quick.selectBurstJobs({ source: input.source, selector: input.selector });
    b.jobs = sel.jobs;
    b.count = sel.count;
  }
  b.sched.grow(b.count);
  if (b.count === 0) return false;

  b.setPhase('plan');
  b.step = 'plan';
  const choice = await acts.quick.planBurstJobs({
    burstId: b.burstId,
    owner: input.owner,
    jobs: b.jobs,
    targets: input.targets,
    maxNodes: input.maxNodes,
    ...(input.budget?.maxCostPerHour !== undefined ? { maxCostPerHour: input.budget.maxCostPerHour } : {}),
  });
  b.choice = { plugin: choice.plugin, params: choice.params, runs: choice.runs, watches: choice.watches, ...(choice.credentials ? { credentials: choice.credentials } : {}) };
  b.st.plugin = choice.plugin;
  b.st.target = choice.target;
  b.st.reason = input.reason ? `${input.reason}; at plan time: ${choice.reason}` : choice.reason;
  b.st.plan = choice.plan;
  upsertSearchAttributes([{ key: SA_PLUGIN, value: choice.plugin }]);

  // provision: from here on the burst costs money.
  b.setPhase('provision');
  b.step = 'provision';
  b.spendFrom = Date.now();
  b.costPerHour = choice.plan.estimate.costPerHour;
  // Node steps next to each other are made together (a burst of 2 brokers, 64 local nodes); other
  // steps one after another, in plan order. Bursts recorded before this made every step in turn.
  if (patched(PROVISION_TOGETHER)) await provisionInGroups(choice.plan.steps, provisionOne);
  else for (const s of choice.plan.steps) await provisionOne(s);

  b.setPhase('join');
  b.step = 'join';
  await acts.steps.joinNodes({ ...b.call(), resources: b.st.resources });

  b.setPhase('run');
  const nodes = [...new Set(b.st.resources.flatMap((r) => (r.node ? [r.node] : (r.nodes ?? []))))];
  const state = initialState(nodes, b.count);
  b.useScheduler(state, choice.plan.nodes * 2, !choice.runs);
  return true;
}

/**
 * Provision the plan's steps: runs of `node` steps concurrently, the rest in turn. Each step's
 * compensation is recorded before its activity starts (Saga.provision), so whatever fails, every
 * step that may have made something is torn down; the first failure is raised once its group settled.
 */
async function provisionInGroups(steps: ProvisionStep[], provisionOne: (s: ProvisionStep) => Promise<ResourceRef>): Promise<void> {
  for (let i = 0; i < steps.length; ) {
    let j = i;
    while (j < steps.length && steps[j]!.kind === 'node') j++;
    if (j === i) {
      await provisionOne(steps[i]!);
      i++;
      continue;
    }
    const settled = await Promise.allSettled(steps.slice(i, j).map((s) => provisionOne(s)));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    i = j;
  }
}

/** A continued run picks up where the previous one stopped: in the run phase, nothing re-made. */
function resume(b: BurstRun, input: BurstInput): void {
  const c = input.carried!;
  b.jobs = c.jobs;
  b.count = c.count;
  b.cursor = c.cursor;
  b.added = c.added;
  b.choice = c.choice;
  b.runNo = c.runs + 1;
  Object.assign(b.st, c.status, { run: b.runNo });
  for (const u of [...c.undo].reverse()) b.saga.undo.unshift(u);
  if (c.spendFrom !== undefined) b.spendFrom = c.spendFrom;
  b.costPerHour = b.st.plan?.estimate.costPerHour ?? 0;
  b.useScheduler(c.scheduler as SchedulerState, (b.st.plan?.nodes ?? 0) * 2, !c.choice.runs);
  b.step = 'run';
  log.info('burst continues', { run: b.runNo, cursor: b.cursor, count: b.count });
}

function carry(b: BurstRun, input: BurstInput): BurstInput {
  const { carried: _old, jobs: _jobs, ...rest } = input;
  return {
    ...rest,
    // The job list travels once, in `carried`; an inline source is not repeated.
    source: input.source.kind === 'inline' ? { kind: 'inline', jobs: [], selected: true } : input.source,
    carried: {
      jobs: b.jobs,
      count: b.count,
      cursor: b.cursor,
      added: b.added,
      status: { ...b.st, jobs: [] },
      choice: b.choice!,
      undo: b.saga.undo.map((u) => ({ step: u.step, ...(u.ref ? { ref: u.ref } : {}) })),
      scheduler: b.sched.s,
      ...(b.spendFrom !== undefined ? { spendFrom: b.spendFrom } : {}),
      runs: b.runNo,
    },
  };
}

/** Runs every recorded compensation, newest first; never cancelled, always finishes the list. */
async function teardownAll(b: BurstRun, teardownOne: (u: Undo) => Promise<void>): Promise<void> {
  if (b.saga.undo.length === 0) return;
  await CancellationScope.nonCancellable(async () => {
    b.setPhase('teardown');
    const left = await b.saga.compensate(teardownOne);
    for (const { undo: u, error } of left) log.error('teardown step failed', { step: u.step.key, error: messageOf(error) });
    if (left.length && !b.st.error) {
      b.step = 'teardown';
      b.st.error = { step: 'teardown', message: `${messageOf(left[0]!.error)}; left behind: ${left.map(({ undo: u }) => `${u.step.key}${u.ref ? ` (${u.ref.id})` : ''}`).join(', ')}` };
    }
  });
}
