import { ApplicationFailure, CancellationScope, condition, isCancellation, proxyActivities, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { NON_RETRYABLE_CODES } from '../src/core/errors.js';
import { SA_NODES, SA_PHASE, SA_PLUGIN } from '../src/core/search-attributes.js';
import type { BurstPlan, BurstTimeouts, Job, TargetChoice } from '../src/core/types.js';
import { Saga } from './saga.js';
import { releaseNodesSignal, type SlurmNodesStatus, slurmNodesQuery } from './messages.js';

export interface SlurmNodesInput {
  owner: string;
  /** The Slurm node names to bring up (one group of SLURM_RESUME_FILE). */
  nodes: string[];
  /** As Slurm prints it, for `scontrol update nodename=…`. */
  hostlist: string;
  slurmJobIds: number[];
  target: TargetChoice;
  /** slurm.conf of the cluster the nodes join. */
  conf: string;
  timeouts: BurstTimeouts;
}

/**
 * Slurm power-save: ResumeProgram starts one of these per group of nodes. It provisions a node
 * per Slurm node name (a saga, as a burst), joins each to slurmctld, and holds them until
 * SuspendProgram (or ResumeFailProgram) releases them; then tears them down. If bringing them up
 * fails, the nodes go DOWN with the cause first, so Slurm requeues the job at once instead of
 * waiting out ResumeTimeout.
 */
export async function slurmNodesWorkflow(input: SlurmNodesInput): Promise<SlurmNodesStatus> {
  const st: SlurmNodesStatus = { phase: 'provision', nodes: input.nodes, released: [], resources: [] };
  setHandler(slurmNodesQuery, () => st);
  const held = new Set(input.nodes);
  setHandler(releaseNodesSignal, ({ nodes }) => {
    for (const n of nodes) if (held.delete(n)) st.released.push(n);
  });
  upsertSearchAttributes([
    { key: SA_NODES, value: input.nodes },
    { key: SA_PLUGIN, value: input.target.plugin },
    { key: SA_PHASE, value: 'provision' },
  ]);
  const t = input.timeouts;
  const nonRetryableErrorTypes = [...NON_RETRYABLE_CODES];
  const steps = proxyActivities<Activities>({
    startToCloseTimeout: t.stepSeconds * 1000,
    heartbeatTimeout: t.heartbeatSeconds * 1000,
    retry: { initialInterval: '500ms', maximumInterval: '30s', maximumAttempts: 8, nonRetryableErrorTypes },
  });
  const call = { burstId: workflowInfo().workflowId, owner: input.owner, plugin: input.target.plugin, params: input.target.params, credentials: input.target.credentials };
  const saga = new Saga();
  const phase = (p: SlurmNodesStatus['phase']) => {
    st.phase = p;
    upsertSearchAttributes([{ key: SA_PHASE, value: p }]);
  };

  let failure: unknown;
  try {
    // The plugin plans the group with Slurm's node names (aws-ec2 adds its launch template first).
    const n = input.nodes.length;
    const job: Job = { id: `slurm-${input.hostlist}`, name: input.hostlist, nodes: n, tasks: n, command: [], attributes: {} };
    const choice = await steps.planBurst({ burstId: call.burstId, owner: input.owner, jobs: [job], targets: [input.target], maxNodes: n, nodeNames: input.nodes });
    const named = new Set(choice.plan.steps.map((s) => s.node));
    const missing = input.nodes.filter((x) => !named.has(x));
    if (missing.length) throw ApplicationFailure.nonRetryable(`plugin ${input.target.plugin} cannot make nodes named by Slurm (no step for ${missing.join(', ')})`, 'Unfit');
    const plan: BurstPlan = choice.plan;
    for (const s of plan.steps) st.resources.push(await saga.provision(s, (x) => steps.provisionStep({ ...call, step: x, plan })));
    phase('join');
    await steps.joinNodes({ ...call, resources: st.resources, broker: { kind: 'slurm', conf: input.conf } });
    phase('run');
    await condition(() => held.size === 0);
  } catch (e) {
    if (!isCancellation(e)) failure = e;
  }
  await CancellationScope.nonCancellable(async () => {
    if (failure) {
      st.error = messageOf(failure);
      await steps.slurmMarkDown({ conf: input.conf, hostlist: input.hostlist, reason: st.error }).catch(() => undefined);
    }
    phase('teardown');
    const left = await saga.compensate((u) => steps.teardownStep({ ...call, step: u.step, ref: u.ref }));
    st.resources = [];
    if (left.length && !failure) failure = new Error(`teardown left ${left.map(({ undo: u, error }) => `${u.step.key}: ${messageOf(error)}`).join('; ')}`);
  });
  if (failure) {
    phase('failed');
    throw ApplicationFailure.create({ type: 'SlurmResumeFailed', message: `nodes ${input.hostlist} failed to come up: ${st.error}`, nonRetryable: true });
  }
  phase('completed');
  return st;
}

function messageOf(e: unknown): string {
  const c = (e as { cause?: unknown }).cause;
  if (c instanceof Error) return c.message;
  return e instanceof Error ? e.message : String(e);
}
