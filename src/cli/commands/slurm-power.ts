import { slurmNodesWorkflow } from '../../../workflows/slurm-nodes.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Command } from 'commander';
import { InputError } from '../../core/errors.js';
import { SA_NODES, SA_OWNER } from '../../core/search-attributes.js';
import { allTargets, defaultOwner, narrowTargets } from '../../plan/prepare.js';
import { applyExecutionPlan, planPathFrom, planTargetName, readExecutionPlan } from '../../plugins/aws-ec2/execution-plan.js';
import { compressHostlist, expandHostlist } from '../../slurm/hostlist.js';
import { resetNodes } from '../../slurm/scontrol.js';
import { releaseNodesSignal } from '../../../workflows/messages.js';
import { type CommonOpts, connectClient, prepare, withConnectionFlags } from '../common.js';

interface ResumeFile {
  jobs?: { job_id: number; nodes: string }[];
  all_nodes?: string;
}

/** Node groups to bring up: one per job in SLURM_RESUME_FILE, the rest as one more group. */
export function resumeGroups(hostlist: string, resumeFile?: ResumeFile): { nodes: string[]; jobIds: number[] }[] {
  const all = expandHostlist(hostlist);
  const left = new Set(all);
  const groups: { nodes: string[]; jobIds: number[] }[] = [];
  for (const j of resumeFile?.jobs ?? []) {
    const nodes = expandHostlist(j.nodes).filter((n) => left.has(n));
    if (!nodes.length) continue;
    for (const n of nodes) left.delete(n);
    groups.push({ nodes, jobIds: [j.job_id] });
  }
  if (left.size) groups.push({ nodes: all.filter((n) => left.has(n)), jobIds: [] });
  return groups;
}

function slurmConf(o: { slurmConf?: string }): string {
  const conf = o.slurmConf ?? process.env.SLURM_CONF;
  if (!conf) throw new InputError('flags', [{ path: '--slurm-conf', message: 'which slurm.conf? pass --slurm-conf or set SLURM_CONF' }]);
  return resolve(conf);
}

type PowerOpts = CommonOpts & { slurmConf?: string; plugin?: string; plan?: string };

/**
 * Slurm's power-saving programs. `resume` must return quickly (booting is the workflows' job,
 * bounded by ResumeTimeout), and each may be called twice for the same nodes: workflow ids are
 * the groups' hostlists, so a second resume meets the first; a suspend for nodes no burst holds
 * has nothing to do.
 */
export function registerSlurmPower(slurm: Command): void {
  withConnectionFlags(slurm.command('resume').argument('<hostlist>', 'nodes Slurm wants up').description('ResumeProgram: bring these nodes up, one burst per job group.'))
    .option('--slurm-conf <file>', 'slurm.conf of the cluster (default: $SLURM_CONF)')
    .option('-p, --plugin <name>', 'only this target (or plugin)')
    .option('--plan <file>', 'execution plan (JSON, aws-slurm-burst format) over the target\'s params (default: $SLURM_FLUXBURST_PLAN)')
    .action(async (hostlist: string, o: PowerOpts) => {
      const conf = slurmConf(o);
      let file: ResumeFile | undefined;
      // A path like /proc/<slurmctld>/fd/N: read it before anything else.
      if (process.env.SLURM_RESUME_FILE) file = JSON.parse(readFileSync(process.env.SLURM_RESUME_FILE, 'utf8')) as ResumeFile;
      const groups = resumeGroups(hostlist, file);
      const ctx = await prepare(o);
      const config = narrowTargets(ctx.loaded.config, ctx.registry, o.plugin);
      let target = allTargets(config, ctx.registry)[0]!;
      const planPath = planPathFrom(o.plan);
      if (planPath) {
        const loaded = await readExecutionPlan(planPath);
        const count = groups.reduce((a, g) => a + g.nodes.length, 0);
        // Slurm, not the plan, decides how many nodes come up: a different count means the plan is for another job.
        if (loaded.plan.instance_count !== undefined && loaded.plan.instance_count !== count) {
          throw new InputError(`execution plan ${planPath}`, [{ path: `${planPath}: instance_count`, message: `${loaded.plan.instance_count}, but Slurm asked for ${count} node(s) (${hostlist})` }]);
        }
        const name = planTargetName(config, loaded);
        target = applyExecutionPlan(allTargets(config, ctx.registry).find((x) => x.name === name)!, { path: planPath, plan: { ...loaded.plan, instance_count: undefined } }, ctx.registry);
      }
      const owner = config.owner ?? defaultOwner();
      const client = await connectClient(ctx.conn);
      // Groups start concurrently (up to 64 at once, over one connection): ResumeProgram must return within a second
      // even when Slurm resumes a hundred one-node jobs at once.
      const startOne = async (g: (typeof groups)[number]) => {
        const list = compressHostlist(g.nodes);
        try {
          await client.workflow.start(slurmNodesWorkflow, {
            workflowId: `slurm-${config.name}-${list}`,
            taskQueue: ctx.conn.taskQueue,
            args: [{ owner, nodes: g.nodes, hostlist: list, slurmJobIds: g.jobIds, target, conf, timeouts: config.timeouts }],
            typedSearchAttributes: [
              { key: SA_OWNER, value: owner },
              { key: SA_NODES, value: g.nodes },
            ],
          });
          process.stdout.write(`resume ${list}: started\n`);
        } catch (e) {
          if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
          process.stdout.write(`resume ${list}: already coming up\n`);
        }
      };
      const queue = [...groups];
      await Promise.all(Array.from({ length: Math.min(64, queue.length) }, async () => {
        for (let g = queue.shift(); g; g = queue.shift()) await startOne(g);
      }));
    });

  for (const [name, what] of [
    ['suspend', 'SuspendProgram: release these nodes; their bursts tear them down.'],
    ['resume-fail', 'ResumeFailProgram: these nodes did not come up in time; tear down what was made.'],
  ] as const) {
    withConnectionFlags(slurm.command(name).argument('<hostlist>', 'nodes').description(what))
      .option('--slurm-conf <file>', 'slurm.conf of the cluster (default: $SLURM_CONF); resume-fail uses it to power the nodes down again')
      .action(async (hostlist: string, o: PowerOpts) => {
      const nodes = expandHostlist(hostlist);
      const conf = name === 'resume-fail' ? slurmConf(o) : undefined;
      const ctx = await prepare(o);
      const client = await connectClient(ctx.conn);
      const quoted = nodes.map((n) => `'${n}'`).join(', ');
      let released = 0;
      // Node names repeat across clusters (every cluster has a `cloud1`): only this config's bursts
      // (ids `slurm-<name>-…`, as resume names them) are this cluster's.
      const ours = `slurm-${ctx.loaded.config.name}-`;
      for await (const w of client.workflow.list({ query: `WorkflowType = 'slurmNodesWorkflow' AND ExecutionStatus = 'Running' AND FluxburstNodes IN (${quoted})` })) {
        if (!w.workflowId.startsWith(ours)) continue;
        await client.workflow.getHandle(w.workflowId).signal(releaseNodesSignal, { nodes });
        released++;
      }
      process.stdout.write(`${name} ${hostlist}: ${released ? `released from ${released} burst(s)` : 'nothing holds these nodes'}\n`);
      if (conf) {
        // Like ParallelCluster resetting failed nodes: back to powered-down idle (`idle~`), so the
        // requeued job resumes them again once capacity works, instead of the nodes staying DOWN
        // until an admin steps in. The DOWN reason stays in slurmctld's log and the burst's history.
        await resetNodes(conf, hostlist);
        process.stdout.write(`${name} ${hostlist}: powered down, ready for the next resume\n`);
      }
    });
  }
}
