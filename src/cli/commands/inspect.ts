import { WorkflowNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import { FluxburstError, InputError } from '../../core/errors.js';
import type { BurstResult, BurstStatus } from '../../core/types.js';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { cancelSignal, jobDoneUpdate, statusQuery } from '../../../workflows/messages.js';
import { type CommonOpts, connectClient, idArg, prepare, printJson, uiUrlFor, withConnectionFlags } from '../common.js';
import { jobsTable, table, timelineTable } from '../render.js';

const KEYWORD = /^[\w.:-]+$/;

export function registerInspect(program: Command): void {
  withConnectionFlags(program.command('status').argument('<burst>', 'burst id (workflow id)', idArg('<burst>')).description("Show a burst's phases, resources and jobs."))
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: CommonOpts) => {
      const ctx = await prepare(o);
      const client = await connectClient(ctx.conn);
      const handle = client.workflow.getHandle(id);
      let desc;
      try {
        desc = await handle.describe();
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) throw new FluxburstError('NotFound', `no burst "${id}" in namespace ${ctx.conn.namespace}`);
        throw e;
      }
      let status: BurstStatus | undefined;
      if (desc.status.name === 'COMPLETED') status = ((await handle.result()) as BurstResult).status;
      else {
        try {
          status = await handle.query(statusQuery);
        } catch {
          status = undefined; // closed without a result, or no worker to answer
        }
      }
      const url = uiUrlFor(ctx.conn, id);
      if (o.json) return printJson({ burstId: id, workflowStatus: desc.status.name, url, status });
      process.stdout.write(`burst ${id}  (${desc.status.name})\n`);
      if (status) {
        process.stdout.write(`phase: ${status.phase}   plugin: ${status.plugin ?? '-'}   target: ${status.target ?? '-'}   owner: ${status.owner}\n`);
        if (status.reason) process.stdout.write(`chosen: ${status.reason}\n`);
        if (status.error) process.stdout.write(`error at ${status.error.step}: ${status.error.message}\n`);
        process.stdout.write(`\n${timelineTable(status, (desc.closeTime ?? new Date()).getTime())}`);
        if (status.resources.length) process.stdout.write(`\n${table(['RESOURCE', 'KIND', 'ID', 'NODE'], status.resources.map((r) => [r.key, r.kind, r.id, r.node ?? '-']))}`);
        if (status.jobs.length) process.stdout.write(`\n${jobsTable(status)}`);
      }
      process.stdout.write(`history: ${url}\n`);
    });

  withConnectionFlags(program.command('list').description('List bursts, filtered by search attributes.'))
    .option('--plugin <name>', 'only bursts on this plugin')
    .option('--phase <phase>', 'only bursts in this phase')
    .option('--owner <name>', 'only bursts of this owner')
    .option('--limit <n>', 'at most this many', (v) => Number(v), 50)
    .option('--json', 'machine-readable output')
    .action(async (o: CommonOpts & { plugin?: string; phase?: string; owner?: string; limit: number }) => {
      const filters: string[] = [`WorkflowType = 'burstWorkflow'`];
      for (const [flag, key, v] of [
        ['--plugin', 'FluxburstPlugin', o.plugin],
        ['--phase', 'FluxburstPhase', o.phase],
        ['--owner', 'FluxburstOwner', o.owner],
      ] as const) {
        if (v === undefined) continue;
        if (!KEYWORD.test(v)) throw new InputError('flags', [{ path: flag, message: 'letters, digits, . _ : - only' }]);
        filters.push(`${key} = '${v}'`);
      }
      if (!Number.isInteger(o.limit) || o.limit < 1) throw new InputError('flags', [{ path: '--limit', message: 'must be a whole number >= 1' }]);
      const ctx = await prepare(o);
      const client = await connectClient(ctx.conn);
      const rows = [];
      for await (const w of client.workflow.list({ query: filters.join(' AND ') })) {
        const sa = w.searchAttributes as Record<string, unknown[] | undefined>;
        rows.push({
          burstId: w.workflowId,
          status: w.status.name,
          phase: String(sa.FluxburstPhase?.[0] ?? '-'),
          plugin: String(sa.FluxburstPlugin?.[0] ?? '-'),
          owner: String(sa.FluxburstOwner?.[0] ?? '-'),
          started: w.startTime.toISOString(),
        });
        if (rows.length >= o.limit) break;
      }
      if (o.json) return printJson(rows);
      process.stdout.write(table(['BURST', 'STATUS', 'PHASE', 'PLUGIN', 'OWNER', 'STARTED'], rows.map((r) => [r.burstId, r.status, r.phase, r.plugin, r.owner, r.started])));
    });

  withConnectionFlags(program.command('cancel').argument('<burst>', 'burst id', idArg('<burst>')).description('Stop a burst: running jobs are cancelled and everything it made is torn down.'))
    .option('--reason <text>', 'why (kept in the burst status)', 'cancelled from the CLI')
    .option('--wait', 'wait until teardown has finished')
    .action(async (id: string, o: CommonOpts & { reason: string; wait?: boolean }) => {
      const ctx = await prepare(o);
      const client = await connectClient(ctx.conn);
      const handle = client.workflow.getHandle(id);
      try {
        await handle.signal(cancelSignal, { reason: o.reason });
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) throw new FluxburstError('NotFound', `no running burst "${id}"`);
        throw e;
      }
      process.stdout.write(`cancel sent to ${id}\n`);
      if (o.wait) {
        const r = (await handle.result()) as BurstResult;
        process.stdout.write(`burst ${id}: ${r.outcome}; resources left: ${r.status.resources.length}\n`);
      }
    });

  withConnectionFlags(
    program
      .command('report')
      .argument('<burst>', 'burst id', idArg('<burst>'))
      .argument('<job>', 'job id', idArg('<job>'))
      .description("Tell a burst that one of its jobs finished on the local scheduler (for a scheduler epilog; plugins that only add nodes, like aws-ec2)."),
  )
    .requiredOption('--exit <code>', 'the job\'s exit code')
    .option('--message <text>', 'why it ended, kept in the burst status')
    .action(async (id: string, job: string, o: CommonOpts & { exit: string; message?: string }) => {
      if (!/^-?\d+$/.test(o.exit)) throw new InputError('flags', [{ path: '--exit', message: `must be an integer exit code, got "${o.exit}"` }]);
      const ctx = await prepare(o);
      const client = await connectClient(ctx.conn);
      try {
        const r = await client.workflow.getHandle(id).executeUpdate(jobDoneUpdate, { args: [{ id: job, exitCode: Number(o.exit), ...(o.message ? { message: o.message } : {}) }] });
        process.stdout.write(`job ${job} of ${id}: ${r.state}\n`);
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) throw new FluxburstError('NotFound', `no running burst "${id}"`);
        if (e instanceof WorkflowUpdateFailedError) throw new InputError('report', [{ path: job, message: e.cause?.message ?? e.message }]);
        throw e;
      }
    });
}
