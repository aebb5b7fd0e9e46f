// Benchmark baseline: the Temporal floor under a 1-job, 1-node burst. Same activity sequence
// (select → plan → provision ×1 → join → run ×1 → teardown ×1), the same activity options and
// the same search-attribute upserts as workflows/burst.ts, but every activity is a no-op.
// Bundled on its own by bench/run.ts; nothing in the product imports it.
import { ActivityCancellationType, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { SA_PHASE, SA_PLUGIN } from '../src/core/search-attributes.js';

/** No-op stand-ins, named as the burst's activities so histories compare type by type. */
export interface NoopActivities {
  selectJobs(): Promise<void>;
  planBurst(): Promise<void>;
  provisionStep(): Promise<void>;
  joinNodes(): Promise<void>;
  runJob(): Promise<void>;
  teardownStep(): Promise<void>;
}

export interface BaselineInput {
  /** Do the 8 upsertSearchAttributes the burst does (one per phase, plus the plugin). */
  upserts: boolean;
  timeouts: { stepSeconds: number; heartbeatSeconds: number; jobSeconds: number };
}

export async function baselineWorkflow(input: BaselineInput): Promise<{ phases: number }> {
  const t = input.timeouts;
  const quick = proxyActivities<NoopActivities>({
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '500ms', maximumAttempts: 5 },
  });
  const steps = proxyActivities<NoopActivities>({
    startToCloseTimeout: t.stepSeconds * 1000,
    heartbeatTimeout: t.heartbeatSeconds * 1000,
    retry: { initialInterval: '500ms', maximumInterval: '30s', maximumAttempts: 8 },
  });
  const runner = proxyActivities<NoopActivities>({
    startToCloseTimeout: t.jobSeconds * 1000,
    heartbeatTimeout: t.heartbeatSeconds * 1000,
    retry: { initialInterval: '500ms', maximumInterval: '30s', maximumAttempts: 5 },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  let phases = 0;
  const phase = (p: string) => {
    phases++;
    if (input.upserts) upsertSearchAttributes([{ key: SA_PHASE, value: p }]);
  };

  phase('select');
  await quick.selectJobs();
  phase('plan');
  await quick.planBurst();
  if (input.upserts) upsertSearchAttributes([{ key: SA_PLUGIN, value: 'noop' }]);
  phase('provision');
  await steps.provisionStep();
  phase('join');
  await steps.joinNodes();
  phase('run');
  await runner.runJob();
  phase('teardown');
  await steps.teardownStep();
  phase('completed');
  return { phases };
}
