// The burst's timers under Temporal's time-skipping test server, with mocked activities: hours of
// workflow time in seconds. Only the workflow is under test here: what it decides when a job's
// report never comes, when its spend cap is reached, when a poll finds a lost node.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activities } from '../../activities/index.js';
import type { BurstInput, BurstResult, Job, ProvisionStep, ResourceRef } from '../../src/core/types.js';
import type { Choice } from '../../src/plan/choose.js';
import { bundleOptions } from '../../workers/worker.js';
import { SEARCH_ATTRIBUTES } from '../../src/core/search-attributes.js';
import { burstWorkflow } from '../../workflows/burst.js';
import { ROOT, uid } from '../support/harness.js';

const SERVER = join(ROOT, '.tools', 'bin', 'temporal-test-server');
let env: TestWorkflowEnvironment;
let bundle: { code: string };

beforeAll(async () => {
  if (!existsSync(SERVER)) throw new Error(`no time-skipping test server at ${SERVER}: run scripts/setup.sh --test (it installs Temporal's test server from Maven Central)`);
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    /* installed */
  }
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: SERVER } } });
  // Registered as `fluxburst server` does on the dev server: the burst upserts them.
  const { temporal } = await import('@temporalio/proto');
  const T = temporal.api.enums.v1.IndexedValueType;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((k) => [k.name, k.type === 'KEYWORD_LIST' ? T.INDEXED_VALUE_TYPE_KEYWORD_LIST : T.INDEXED_VALUE_TYPE_KEYWORD])),
  });
  bundle = await bundleWorkflowCode({ ...bundleOptions(), workflowsPath: join(ROOT, 'workflows', 'index.ts') });
}, 180_000);
afterAll(async () => {
  await env?.teardown();
});

const job = (id: string): Job => ({ id, name: id, nodes: 1, tasks: 1, command: ['true'], attributes: {} });

/** A plugin of two nodes at `costPerHour`, that runs jobs itself or not. Records every call. */
function mocks(o: { runs: boolean; costPerHour?: number; watches?: boolean; interruptions?: () => Array<{ node: string; kind: 'node-lost'; reason: string }> }) {
  const calls: string[] = [];
  const choice: Choice = {
    target: 'mock',
    plugin: 'mock',
    params: {},
    reason: 'mock',
    runs: o.runs,
    watches: !!o.watches,
    plan: {
      plugin: 'mock',
      nodes: 2,
      groups: [],
      steps: [{ key: 'node-0', kind: 'node', node: 'node-0' }, { key: 'node-1', kind: 'node', node: 'node-1' }],
      estimate: { nodes: 2, costPerHour: o.costPerHour ?? 0, secondsToReady: 1 },
    },
  };
  const acts: Partial<Activities> = {
    async planBurstJobs() {
      calls.push('plan');
      return choice;
    },
    async provisionStep({ step }: { step: ProvisionStep }): Promise<ResourceRef> {
      calls.push(`provision ${step.key}`);
      return { key: step.key, kind: step.kind, id: step.key, node: step.node! };
    },
    async joinNodes() {
      calls.push('join');
    },
    async teardownStep({ step }: { step: ProvisionStep }) {
      calls.push(`teardown ${step.key}`);
    },
    async runJobBatch({ items }: { items: Array<{ i: number }> }) {
      calls.push(`batch ${items.map((x) => x.i).join(',')}`);
      return { ends: items.map((x) => ({ i: x.i, state: 'completed' as const, exitCode: 0 })) };
    },
    async awaitInterruptions() {
      const found = o.interruptions?.() ?? [];
      calls.push(`poll ${found.map((f) => f.node).join(',')}`);
      return found; // at once, found or not: the workflow must not spin on empty answers
    },
  };
  return { calls, acts };
}

function input(jobs: Job[], over: Partial<BurstInput> = {}): BurstInput {
  return {
    owner: 'timers',
    source: { kind: 'inline', jobs, selected: true },
    selector: { kind: 'burstable' },
    targets: [{ name: 'mock', plugin: 'mock', params: {} }],
    maxNodes: 8,
    timeouts: { stepSeconds: 60, heartbeatSeconds: 30, jobSeconds: 3600 },
    ...over,
  };
}

async function run(acts: Partial<Activities>, inp: BurstInput): Promise<{ result: BurstResult; elapsedMs: number; skippedMs: number }> {
  const taskQueue = uid('tq-timers');
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: acts });
  const t0 = Date.now();
  const w0 = await env.currentTimeMs();
  const result = await worker.runUntil(env.client.workflow.execute(burstWorkflow, { workflowId: uid('timers'), taskQueue, args: [inp] }));
  return { result, elapsedMs: Date.now() - t0, skippedMs: (await env.currentTimeMs()) - w0 };
}

describe('timers, with time skipped', () => {
  it('a job whose report never comes fails after timeouts.jobSeconds (an hour, in seconds); the other completes; everything is torn down', async () => {
    const { calls, acts } = mocks({ runs: false });
    // Only one job gets a report: the test reports it through the update as an epilog would.
    const taskQueue = uid('tq-timers');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: acts });
    const t0 = Date.now();
    const result = await worker.runUntil(async () => {
      const h = await env.client.workflow.start(burstWorkflow, { workflowId: uid('report'), taskQueue, args: [input([job('reported'), job('silent')])] });
      for (;;) {
        const s = await h.query('status').catch(() => undefined);
        if ((s as { phase?: string } | undefined)?.phase === 'run') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await h.executeUpdate('jobDone', { args: [{ id: 'reported', exitCode: 0 }] });
      return (await h.result()) as BurstResult;
    });
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(result.outcome).toBe('completed');
    expect(result.status.counts).toMatchObject({ total: 2, completed: 1, failed: 1 });
    expect(result.status.failures).toEqual([{ i: 1, id: 'silent', exitCode: 124, error: 'no report from the local scheduler within 3600s (timeouts.jobSeconds)' }]);
    expect(calls.filter((c) => c.startsWith('teardown'))).toEqual(['teardown node-1', 'teardown node-0']);
  });

  it('maxSpend stops a running burst when its nodes have cost that much (30 min at $2/h for $1), cancelled and torn down', async () => {
    const { calls, acts } = mocks({ runs: false, costPerHour: 2 });
    const { result, skippedMs } = await run(acts, input([job('forever')], { budget: { maxSpend: 1 } }));
    expect(result.outcome).toBe('cancelled');
    expect(result.status.cancelReason).toBe('spend cap reached: ~$1 at $2.00/h (limits.maxSpend)');
    expect(result.status.spend).toBeCloseTo(1, 2);
    expect(skippedMs).toBeGreaterThanOrEqual(1_800_000);
    expect(result.status.counts).toMatchObject({ total: 1, cancelled: 1, completed: 0 });
    expect(calls.filter((c) => c.startsWith('teardown'))).toEqual(['teardown node-1', 'teardown node-0']);
  });

  it('a lost node found by the interruption poll is drained and replaced; the burst still completes its jobs', async () => {
    let polls = 0;
    const { calls, acts } = mocks({ runs: true, watches: true, interruptions: () => (++polls === 1 ? [{ node: 'node-1', kind: 'node-lost', reason: 'gone' }] : []) });
    // The batch on node-1 hangs until the drain stops it: a job that never ends on its own.
    const slow: Partial<Activities> = {
      ...acts,
      async runJobBatch(a) {
        const { items, nodes } = a as { items: Array<{ i: number }>; nodes: ResourceRef[] };
        calls.push(`batch ${items.map((x) => x.i).join(',')} on ${nodes.map((n) => n.node).join(',')}`);
        if (nodes[0]!.node === 'node-1') {
          // Like the real batch: heartbeat until the burst stops it, then hand back the unfinished job.
          const ctx = Context.current();
          while (!ctx.cancellationSignal.aborted) {
            ctx.heartbeat();
            await new Promise((r) => setTimeout(r, 100));
          }
          calls.push('stopped on node-1');
          return { ends: items.map((x) => ({ i: x.i, state: 'lost' as const, error: 'stopped by the burst' })), stopped: true };
        }
        return { ends: items.map((x) => ({ i: x.i, state: 'completed' as const, exitCode: 0 })) };
      },
    };
    const { result } = await run(slow, input([job('a'), job('b')], { timeouts: { stepSeconds: 60, heartbeatSeconds: 2, jobSeconds: 3600, interruptionPollSeconds: 15 } }));
    expect(result.outcome).toBe('completed');
    expect(result.status.counts).toMatchObject({ total: 2, completed: 2, failed: 0 });
    expect(result.status.interruptions.map((n) => n.node)).toEqual(['node-1']);
    expect(calls).toContain('provision node-1-r1');
    expect(calls).toContain('stopped on node-1');
    console.log(calls);
  });
});
