import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FluxburstError } from '../core/errors.js';

const run = promisify(execFile);

/** `scontrol` against a given slurm.conf (slurmctld runs power-save programs with a bare env). */
export async function scontrol(conf: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('scontrol', args, { env: { ...process.env, SLURM_CONF: conf }, timeout: 30_000 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string; code?: string };
    throw new FluxburstError(err.code === 'ENOENT' ? 'SlurmNotFound' : 'SlurmCommandFailed', `scontrol ${args.join(' ')}: ${(err.stderr ?? '').trim() || err.message}`, {
      retryable: err.code !== 'ENOENT',
    });
  }
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
