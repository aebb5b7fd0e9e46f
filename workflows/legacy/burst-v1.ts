import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  log,
} from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import type { Choice } from '../../src/plan/choose.js';
import { NON_RETRYABLE_CODES } from '../../src/core/errors.js';
import { SA_PHASE, SA_PLUGIN } from '../../src/core/search-attributes.js';
import type {
  BurstInput,
  BurstResult,
  BurstStatus,
  Interruption,
  Job,
  JobResult,
  JobStatus,
  Phase,
  ProvisionStep,
  ResourceRef,
  Step,
} from '../../src/core/types.js';
import { Saga, type Undo } from '../saga.js';
import { addJobsUpdate, cancelSignal, interruptionSignal, type JobDone, jobDoneUpdate, statusQuery } from '../messages.js';
import { burstMetrics } from '../metrics.js';


function messageOf(e: unknown): string {
  if (e instanceof ActivityFailure && e.cause) return messageOf(e.cause);
  if (e instanceof Error) return e.message;
  return String(e);
}

function failureType(e: unknown): string | undefined {
  if (e instanceof ActivityFailure && e.cause instanceof ApplicationFailure) return e.cause.type ?? undefined;
  if (e instanceof ApplicationFailure) return e.type ?? undefined;
  return undefined;
}

function lostNode(e: unknown): string | undefined {
  if (e instanceof ActivityFailure && e.cause instanceof ApplicationFailure && e.cause.type === 'NodeLost') {
    return (e.cause.details?.[0] as { node?: string } | undefined)?.node;
  }
  return undefined;
}

// FROZEN: the burst workflow as it was before batching (recorded histories under
// test/replay/histories replay through it). Bursts started by that code take this path until they
// end; new bursts take workflows/burst.ts's (the `burst-v2` patch). Do not change it: see
// docs/versioning.md; delete it (deprecatePatch first) once no such burst can be running.

/**
 * One burst: select → plan → provision → join → run/monitor → teardown.
 *
 * Provisioning is a saga: a step's compensation is recorded *before* its activity runs (the
 * activity may create the resource and then lose its answer), and teardown runs every recorded
 * compensation in reverse inside a non-cancellable scope, whether the burst finished, failed or
 * was cancelled.
 */
export async function burstV1(input: BurstInput): Promise<BurstResult> {
  const burstId = workflowInfo().workflowId;
  const st: BurstStatus = { burstId, owner: input.owner, phase: 'pending', resources: [], jobs: [], interruptions: [], timeline: [] };
  const metrics = burstMetrics(input);
  let spendFrom: number | undefined;
  let costPerHour = 0;
  const spendNow = () => (spendFrom === undefined ? 0 : Math.round(((Date.now() - spendFrom) / 3_600_000) * costPerHour * 10_000) / 10_000);
  setHandler(statusQuery, () => ({ ...st, ...(spendFrom !== undefined ? { spend: spendNow() } : {}) }));

  const t = input.timeouts;
  const nonRetryableErrorTypes = [...NON_RETRYABLE_CODES];
  // select reads the source (heartbeating); plan is pure CPU. A dead worker's call is retried
  // after the heartbeat timeout, not at the deadline.
  const quick = proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: t.heartbeatSeconds * 1000,
    retry: { initialInterval: '500ms', maximumAttempts: 5, nonRetryableErrorTypes },
  });
  const steps = proxyActivities<Activities>({
    startToCloseTimeout: t.stepSeconds * 1000,
    heartbeatTimeout: t.heartbeatSeconds * 1000,
    retry: { initialInterval: '500ms', maximumInterval: '30s', maximumAttempts: 8, nonRetryableErrorTypes },
  });
  const runner = proxyActivities<Activities>({
    startToCloseTimeout: t.jobSeconds * 1000,
    heartbeatTimeout: t.heartbeatSeconds * 1000,
    retry: { initialInterval: '500ms', maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes },
    // A cancelled job must really stop (its tasks killed) before its nodes are reused or deleted.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });

  // Each poll returns within a few minutes, so the next one sees the burst's current resources.
  const watcher = proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: Math.max(t.heartbeatSeconds, 2 * (t.interruptionPollSeconds ?? 15)) * 1000,
    retry: { initialInterval: '1s', maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes },
  });

  const setPhase = (phase: Phase) => {
    st.phase = phase;
    st.timeline.push({ phase, at: Date.now() });
    metrics.phase(st);
    upsertSearchAttributes([{ key: SA_PHASE, value: phase }]);
  };

  const saga = new Saga();
  const undo = saga.undo;
  let step: Step = 'select';
  let plugin = '';
  let params: Record<string, unknown> = {};
  let credentials: Choice['credentials'];
  const call = () => ({ burstId, owner: input.owner, plugin, params, credentials });

  const jobsById = new Map<string, Job>();
  const interrupts: Interruption[] = [];
  let wake = 0;
  let cancelledBySignal = false;

  const body = new CancellationScope();
  const stop = (reason: string) => {
    if (st.cancelReason || ['teardown', 'completed', 'failed', 'cancelled'].includes(st.phase)) return;
    st.cancelReason = reason || 'cancelled';
    cancelledBySignal = true;
    body.cancel();
  };
  setHandler(cancelSignal, ({ reason }) => stop(reason));
  // Plugins without `run`: the local scheduler runs the jobs and reports each one's end here.
  const reports = new Map<string, JobDone>();
  let runs = true;
  let watches = false;
  setHandler(
    jobDoneUpdate,
    (d) => {
      reports.set(d.id, d);
      wake++;
      return { state: d.exitCode === 0 ? 'completed' : 'failed' };
    },
    {
      validator: (d) => {
        if (!d || typeof d.id !== 'string' || !Number.isInteger(d.exitCode)) throw new Error('a job report needs id and an integer exitCode');
        if (runs) throw new Error(`plugin ${plugin || '(not chosen yet)'} runs jobs itself; reports are for plugins whose nodes join the local scheduler`);
        const js = st.jobs.find((j) => j.id === d.id);
        if (!js) throw new Error(`job ${d.id} is not in this burst`);
        if (js.state !== 'pending' && js.state !== 'running') throw new Error(`job ${d.id} is already ${js.state}`);
        if (reports.has(d.id)) throw new Error(`job ${d.id} was already reported`);
      },
    },
  );
  setHandler(interruptionSignal, (n) => {
    interrupts.push(n);
    wake++;
  });
  setHandler(
    addJobsUpdate,
    (jobs) => {
      for (const j of jobs) {
        const js: JobStatus = { id: j.id, name: j.name, nodes: j.nodes, state: 'pending', attempts: 0, assigned: [] };
        jobsById.set(j.id, j);
        st.jobs.push(js);
      }
      wake++;
      return { accepted: jobs.map((j) => j.id) };
    },
    {
      validator: (jobs) => {
        if (st.phase !== 'run' && st.phase !== 'join' && st.phase !== 'provision') {
          throw new Error(`burst is in phase ${st.phase}; jobs can be added while it provisions or runs`);
        }
        const size = st.plan?.nodes ?? 0;
        for (const j of jobs) {
          if (!j || typeof j.id !== 'string' || !Array.isArray(j.command) || !(j.nodes >= 1)) throw new Error('each job needs id, nodes >= 1 and command');
          if (jobsById.has(j.id)) throw new Error(`job ${j.id} is already in this burst`);
          if (j.nodes > size) throw new Error(`job ${j.id} needs ${j.nodes} nodes; this burst has ${size}`);
        }
      },
    },
  );

  const provisionOne = async (s: ProvisionStep): Promise<ResourceRef> => {
    const ref = await saga.provision(s, (x) => steps.provisionStep({ ...call(), step: x, plan: st.plan! }));
    st.resources.push(ref);
    return ref;
  };

  const teardownOne = async (u: Undo): Promise<void> => {
    await steps.teardownStep({ ...call(), step: u.step, ref: u.ref });
    st.resources = st.resources.filter((r) => r.key !== u.step.key);
  };

  let caught: unknown;
  try {
    await body.run(async () => {
      // select
      setPhase('select');
      step = 'select';
      const sel = await quick.selectJobs({ source: input.source, selector: input.selector });
      for (const j of sel.selected) {
        jobsById.set(j.id, j);
        st.jobs.push({ id: j.id, name: j.name, nodes: j.nodes, state: 'pending', attempts: 0, assigned: [] });
      }
      if (sel.selected.length === 0) return;

      // plan
      setPhase('plan');
      step = 'plan';
      const choice = await quick.planBurst({
        burstId,
        owner: input.owner,
        jobs: sel.selected,
        targets: input.targets,
        maxNodes: input.maxNodes,
        ...(input.budget?.maxCostPerHour !== undefined ? { maxCostPerHour: input.budget.maxCostPerHour } : {}),
      });
      plugin = choice.plugin;
      // Histories from before `runs` existed had only plugins that run jobs.
      runs = choice.runs !== false;
      // Absent in histories from before polling existed: those bursts did not poll.
      watches = choice.watches === true;
      params = choice.params;
      credentials = choice.credentials;
      st.plugin = choice.plugin;
      st.target = choice.target;
      st.reason = input.reason ? `${input.reason}; at plan time: ${choice.reason}` : choice.reason;
      st.plan = choice.plan;
      upsertSearchAttributes([{ key: SA_PLUGIN, value: plugin }]);

      // provision: from here on the burst costs money.
      setPhase('provision');
      step = 'provision';
      spendFrom = Date.now();
      costPerHour = choice.plan.estimate.costPerHour;
      const maxSpend = input.budget?.maxSpend;
      if (maxSpend !== undefined && costPerHour > 0) {
        // Outside the body scope: the cap must fire whatever the body is doing.
        void CancellationScope.nonCancellable(() => sleep(Math.ceil((maxSpend / costPerHour) * 3_600_000))).then(() =>
          stop(`spend cap reached: ~$${maxSpend} at $${costPerHour.toFixed(2)}/h (limits.maxSpend)`),
        );
      }
      for (const s of choice.plan.steps) await provisionOne(s);

      // join
      setPhase('join');
      step = 'join';
      await steps.joinNodes({ ...call(), resources: st.resources });

      // run / monitor
      setPhase('run');
      step = 'run';
      await runJobs();
    });
  } catch (err) {
    caught = err;
    if (!isCancellation(err)) st.error = { step, message: messageOf(err) };
  }

  await teardownAll();
  if (spendFrom !== undefined) st.spend = spendNow();

  if (st.error) {
    setPhase('failed');
    throw ApplicationFailure.create({
      type: 'BurstFailed',
      message: `burst ${burstId} failed at ${st.error.step}: ${st.error.message}`,
      nonRetryable: true,
      details: [{ step: st.error.step, type: failureType(caught) }],
      cause: caught instanceof Error ? caught : undefined,
    });
  }
  if (caught !== undefined && !cancelledBySignal) {
    // Cancelled through Temporal (UI button, `temporal workflow cancel`): end as Canceled.
    setPhase('cancelled');
    throw caught;
  }
  if (cancelledBySignal) {
    for (const j of st.jobs) if (j.state === 'pending' || j.state === 'running') j.state = 'cancelled';
    setPhase('cancelled');
    return { burstId, outcome: 'cancelled', status: st };
  }
  setPhase('completed');
  return { burstId, outcome: st.jobs.length === 0 ? 'nothing-to-do' : 'completed', status: st };

  /** Runs every recorded compensation, newest first; never cancelled, always finishes the list. */
  async function teardownAll(): Promise<void> {
    if (undo.length === 0) return;
    await CancellationScope.nonCancellable(async () => {
      setPhase('teardown');
      const left = await saga.compensate(teardownOne);
      for (const { undo: u, error } of left) log.error('teardown step failed', { step: u.step.key, error: messageOf(error) });
      if (left.length && !st.error) {
        step = 'teardown';
        st.error = { step: 'teardown', message: `${messageOf(left[0]!.error)}; left behind: ${left.map(({ undo: u }) => `${u.step.key}${u.ref ? ` (${u.ref.id})` : ''}`).join(', ')}` };
      }
    });
  }

  /** Hand pending jobs to free nodes until all are done; handle interruptions as they come. */
  async function runJobs(): Promise<void> {
    // A resource is one node (`node`) or holds several (`nodes`: a fleet, a node pool).
    const refs = new Map<string, ResourceRef>();
    for (const r of st.resources) for (const n of r.node ? [r.node] : (r.nodes ?? [])) refs.set(n, r);
    const free: string[] = [...refs.keys()].sort();
    const running = new Map<string, { scope: CancellationScope; requeue: boolean }>();
    const drained = new Set<string>();
    let replacements = 0;
    const replacementErrors: string[] = [];
    let runError: unknown;

    const release = (names: string[]) => {
      for (const n of names) if (!drained.has(n) && refs.has(n) && !free.includes(n)) free.push(n);
      free.sort();
    };

    const startJob = (js: JobStatus) => {
      const job = jobsById.get(js.id)!;
      const alloc = free.splice(0, job.nodes);
      js.state = 'running';
      js.attempts += 1;
      js.assigned = alloc;
      delete js.error;
      const scope = new CancellationScope();
      const entry = { scope, requeue: false };
      running.set(js.id, entry);
      scope
        .run(() => (runs ? runner.runJob({ ...call(), job, nodes: [...new Set(alloc.map((n) => refs.get(n)!))], runAttempt: js.attempts }) : scheduled(js)))
        .then(
          (result) => {
            js.result = result;
            js.state = result.exitCode === 0 ? 'completed' : 'failed';
          },
          (e) => {
            const lost = lostNode(e);
            if (lost && !drained.has(lost)) interrupts.push({ node: lost, kind: 'node-lost', reason: messageOf(e) });
            if (lost) entry.requeue = true;
            if (entry.requeue) {
              js.state = 'pending';
              js.assigned = [];
            } else {
              js.state = isCancellation(e) ? 'cancelled' : 'failed';
              js.error = messageOf(e);
              // The plugin could not run the job (not the job's own non-zero exit): the burst fails.
              if (!isCancellation(e)) runError ??= e;
            }
          },
        )
        .finally(() => {
          running.delete(js.id);
          release(alloc);
          wake++;
        });
    };

    /** The local scheduler runs the job; wait for its report (bounded like a run). */
    const scheduled = async (js: JobStatus): Promise<JobResult> => {
      if (await condition(() => reports.has(js.id), t.jobSeconds * 1000)) {
        const r = reports.get(js.id)!;
        if (r.message) js.error = r.message;
        return { jobId: js.id, exitCode: r.exitCode, tasks: [] };
      }
      js.error = `no report from the local scheduler within ${t.jobSeconds}s (timeouts.jobSeconds)`;
      return { jobId: js.id, exitCode: 124, tasks: [] };
    };

    const interrupt = async (n: Interruption) => {
      st.interruptions.push(n);
      metrics.interruption(st, n.kind);
      if (!refs.has(n.node) || drained.has(n.node)) return;
      drained.add(n.node);
      const i = free.indexOf(n.node);
      if (i >= 0) free.splice(i, 1);
      // Requeue what runs there: the job loses its nodes, not its place.
      for (const js of st.jobs) {
        if (js.state === 'running' && js.assigned.includes(n.node)) {
          const r = running.get(js.id);
          if (r) {
            r.requeue = true;
            r.scope.cancel();
          }
        }
      }
      const gone = undo.find((u) => u.step.node === n.node);
      const holder = refs.get(n.node);
      if (gone) {
        undo.splice(undo.indexOf(gone), 1);
        await teardownOne(gone).catch((e) => {
          undo.push(gone); // retried at final teardown
          log.warn('teardown of interrupted node failed', { node: n.node, error: messageOf(e) });
        });
      } else if (holder?.nodes) {
        // One member of a fleet: only it goes now; the rest of the fleet stays (its undo entry remains).
        await steps.releaseNode({ ...call(), node: n.node, ref: holder }).catch((e) => log.warn('release of interrupted node failed; final teardown removes it', { node: n.node, error: messageOf(e) }));
        holder.nodes = holder.nodes.filter((x) => x !== n.node);
      }
      refs.delete(n.node);
      if (replacements >= (st.plan?.nodes ?? 0) * 2) return;
      replacements += 1;
      const s: ProvisionStep = {
        key: `${n.node}-r${replacements}`,
        kind: 'node',
        node: `${n.node.replace(/-r\d+$/, '')}-r${replacements}`,
        replaces: { node: n.node, kind: n.kind },
      };
      try {
        const ref = await provisionOne(s);
        await steps.joinNodes({ ...call(), resources: [ref] });
        refs.set(ref.node!, ref);
        release([ref.node!]);
      } catch (e) {
        if (isCancellation(e)) throw e;
        // No replacement (no capacity, or the plugin cannot add one node): the burst goes on with
        // the nodes it has; jobs that no longer fit fail with that reason. Whatever the attempt
        // made is still in the undo list.
        log.warn('replacement node failed; continuing with fewer nodes', { node: s.node, error: messageOf(e) });
        replacementErrors.push(`${s.node}: ${messageOf(e)}`);
      }
    };

    // Plugins that can tell lost or reclaimed nodes are asked in the background while jobs run.
    let watching = true;
    let pollScope: CancellationScope | undefined;
    const pollSeconds = t.interruptionPollSeconds ?? 15;
    if (watches) {
      void (async () => {
        while (watching) {
          pollScope = new CancellationScope();
          try {
            const known = [...drained, ...interrupts.map((x) => x.node)];
            const found = await pollScope.run(() => watcher.awaitInterruptions({ ...call(), resources: st.resources, known, pollSeconds, maxSeconds: 300 }));
            for (const n of found) if (!drained.has(n.node) && !interrupts.some((x) => x.node === n.node)) interrupts.push(n);
            if (found.length) wake++;
          } catch (e) {
            if (!watching) return;
            if (!isCancellation(e)) {
              log.warn('interruption poll failed; trying again', { error: messageOf(e) });
              await sleep(pollSeconds * 1000);
            }
          }
        }
      })().catch(() => undefined); // cancelled with the burst: nothing left to watch
    }
    try {
      await schedule();
    } finally {
      watching = false;
      pollScope?.cancel();
    }

    async function schedule(): Promise<void> {
      for (;;) {
        if (runError !== undefined) {
          for (const r of running.values()) r.scope.cancel();
          throw runError;
        }
        if (interrupts.length) {
          while (interrupts.length) await interrupt(interrupts.shift()!);
          // The poll in flight was given the old resources: start it again with the replacements.
          pollScope?.cancel();
        }
        for (const js of st.jobs) {
          if (js.state !== 'pending') continue;
          const job = jobsById.get(js.id)!;
          if (job.nodes > refs.size) {
            js.state = 'failed';
            js.error = `needs ${job.nodes} nodes; only ${refs.size} left in the burst${replacementErrors.length ? ` (no replacement: ${replacementErrors.join('; ')})` : ''}`;
            continue;
          }
          if (job.nodes <= free.length) startJob(js);
        }
        if (running.size === 0 && !st.jobs.some((j) => j.state === 'pending')) return;
        const seen = wake;
        await condition(() => wake !== seen || interrupts.length > 0);
      }
    }
  }
}
