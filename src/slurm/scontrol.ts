import { runSlurmCommand } from './command.js';

/** `scontrol` against a given slurm.conf (slurmctld runs power-save programs with a bare env). */
export function scontrol(conf: string, args: string[]): Promise<string> {
  return runSlurmCommand('scontrol', args, { env: { ...process.env, SLURM_CONF: conf }, notFoundHint: 'is slurm-client installed on the worker?' });
}

/** Tell slurmctld where a node is: the step before its slurmd starts (NoAddrCache needs it). */
export function registerNode(conf: string, node: string, addr: string, host: string): Promise<string> {
  return scontrol(conf, ['update', `nodename=${node}`, `nodeaddr=${addr}`, `nodehostname=${host}`]);
}

/** Fail fast: DOWN with the cause, so Slurm requeues the job now instead of at ResumeTimeout. */
export function markDown(conf: string, hostlist: string, reason: string): Promise<string> {
  const clean = reason.replace(/["\n]/g, ' ').slice(0, 200);
  return scontrol(conf, ['update', `nodename=${hostlist}`, 'state=down', `reason=fluxburst: ${clean}`]);
}

/** After a failed resume: DOWN → powered-down idle again (`idle~`), eligible for the next resume. */
export function resetNodes(conf: string, hostlist: string): Promise<string> {
  return scontrol(conf, ['update', `nodename=${hostlist}`, 'state=resume']);
}
