import { interruptionQueueWorkflow } from '../../../workflows/interruptions.js';
import { createHash } from 'node:crypto';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import type { Config } from '../../config/schema.js';
import { FluxburstError, InputError } from '../../core/errors.js';
import { allTargets } from '../../plan/prepare.js';
import type { PluginRegistry } from '../../plugins/registry.js';
import type { InterruptionQueueInput } from '../../../workflows/interruptions.js';
import { interruptionQueueStatusQuery, stopWatchSignal } from '../../../workflows/messages.js';
import { type CommonOpts, connectClient, prepare, printJson, uiUrlFor, withConnectionFlags } from '../common.js';
import { table } from '../render.js';

/** One watcher per queue, whatever config or CLI call asks for it. */
export const queueWorkflowId = (queueUrl: string) => `interruptions-${createHash('sha256').update(queueUrl).digest('hex').slice(0, 12)}`;

/** The interruption queues the config's aws-ec2 targets name (deduplicated by URL). */
export function interruptionQueues(config: Config, reg: PluginRegistry): InterruptionQueueInput[] {
  const out = new Map<string, InterruptionQueueInput>();
  for (const t of allTargets(config, reg)) {
    const p = t.params as { interruptionQueueUrl?: string; region?: string; endpoint?: string };
    if (t.plugin !== 'aws-ec2' || !p.interruptionQueueUrl || out.has(p.interruptionQueueUrl)) continue;
    out.set(p.interruptionQueueUrl, {
      queueUrl: p.interruptionQueueUrl,
      region: p.region!,
      ...(p.endpoint ? { endpoint: p.endpoint } : {}),
      ...(t.credentials ? { credentials: t.credentials } : {}),
    });
  }
  return [...out.values()];
}

/** Start the queue watchers the config needs; already running ones are left as they are. */
export async function ensureInterruptionWatchers(client: Client, config: Config, reg: PluginRegistry, taskQueue: string): Promise<string[]> {
  const ids: string[] = [];
  for (const q of interruptionQueues(config, reg)) {
    const h = await client.workflow.start(interruptionQueueWorkflow, {
      workflowId: queueWorkflowId(q.queueUrl),
      taskQueue,
      args: [q],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    ids.push(h.workflowId);
  }
  return ids;
}

export function registerInterruptions(program: Command): void {
  const cmd = program.command('interruptions').description('Route EC2 spot/rebalance/state-change/Health notices from SQS to the bursts (one watcher per queue).');

  withConnectionFlags(cmd.command('start').description("Start a watcher for every aws-ec2 target's interruptionQueueUrl (idempotent)."))
    .option('--json', 'machine-readable output')
    .action(async (o: CommonOpts) => {
      const ctx = await prepare(o);
      if (interruptionQueues(ctx.loaded.config, ctx.registry).length === 0) {
        throw new InputError('config', [{ path: 'targets[].params.interruptionQueueUrl', message: 'no aws-ec2 target names an interruption queue' }]);
      }
      const client = await connectClient(ctx.conn);
      const ids = await ensureInterruptionWatchers(client, ctx.loaded.config, ctx.registry, ctx.conn.taskQueue);
      if (o.json) return printJson({ watchers: ids });
      for (const id of ids) process.stdout.write(`watching: ${id}  ${uiUrlFor(ctx.conn, id)}\n`);
    });

  withConnectionFlags(cmd.command('status').description('What each watcher has routed.'))
    .option('--json', 'machine-readable output')
    .action(async (o: CommonOpts) => {
    const ctx = await prepare(o);
    const client = await connectClient(ctx.conn);
    const rows = [];
    for (const q of interruptionQueues(ctx.loaded.config, ctx.registry)) {
      const id = queueWorkflowId(q.queueUrl);
      const s = await client.workflow.getHandle(id).query(interruptionQueueStatusQuery).catch(() => undefined);
      rows.push({ id, queueUrl: q.queueUrl, ...(s ? { counts: s.counts, recent: s.recent } : { counts: undefined }) });
    }
    if (o.json) return printJson(rows);
    process.stdout.write(
      table(
        ['WATCHER', 'QUEUE', 'DELIVERED', 'BURST GONE', 'NOT OURS', 'IGNORED'],
        rows.map((r) => [r.id, r.queueUrl, ...(r.counts ? [r.counts.delivered, r.counts.burstGone, r.counts.notOurs, r.counts.ignored].map(String) : ['not running', '-', '-', '-'])]),
      ),
    );
  });

  withConnectionFlags(cmd.command('stop').description('Stop the watchers after their current receive.')).action(async (o: CommonOpts) => {
    const ctx = await prepare(o);
    const client = await connectClient(ctx.conn);
    for (const q of interruptionQueues(ctx.loaded.config, ctx.registry)) {
      const id = queueWorkflowId(q.queueUrl);
      try {
        await client.workflow.getHandle(id).signal(stopWatchSignal);
        process.stdout.write(`stopping ${id}\n`);
      } catch (e) {
        if (!(e instanceof WorkflowNotFoundError)) throw e;
        throw new FluxburstError('NotFound', `no watcher running for ${q.queueUrl}`);
      }
    }
  });
}
