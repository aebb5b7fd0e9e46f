import { execFile } from 'node:child_process';
import { type FieldIssue, FluxburstError } from '../core/errors.js';

export type SlurmFailure = 'not-found' | 'exit' | 'timeout' | 'malformed';

/**
 * A Slurm command that could not run, failed, or printed something we cannot read. Codes:
 * SlurmNotFound, SlurmCommandFailed (retryable: slurmctld may be restarting), SlurmOutputInvalid.
 */
export class SlurmCommandError extends FluxburstError {
  readonly command: string;
  readonly failure: SlurmFailure;
  readonly issues: FieldIssue[];
  constructor(command: string, failure: SlurmFailure, message: string, o: { issues?: FieldIssue[]; cause?: unknown } = {}) {
    const code = failure === 'malformed' ? 'SlurmOutputInvalid' : failure === 'not-found' ? 'SlurmNotFound' : 'SlurmCommandFailed';
    super(code, message, { retryable: code === 'SlurmCommandFailed', cause: o.cause });
    this.command = command;
    this.failure = failure;
    this.issues = o.issues ?? [];
  }
}

/**
 * Run one Slurm client command (squeue, scontrol, …) and return its stdout; every way it can fail
 * is a SlurmCommandError (not installed, non-zero exit with its stderr, timeout).
 */
export function runSlurmCommand(exe: string, args: readonly string[], o: { env?: NodeJS.ProcessEnv; timeoutMs?: number; notFoundHint?: string } = {}): Promise<string> {
  const command = [exe, ...args].join(' ');
  const timeout = o.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    execFile(exe, [...args], { env: o.env ?? process.env, timeout, killSignal: 'SIGKILL', maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      if (e.code === 'ENOENT') return reject(new SlurmCommandError(command, 'not-found', `cannot run \`${command}\`: ${exe} not found${o.notFoundHint ? `; ${o.notFoundHint}` : ''}`, { cause: err }));
      if (e.killed) return reject(new SlurmCommandError(command, 'timeout', `\`${command}\` timed out after ${timeout} ms`, { cause: err }));
      reject(new SlurmCommandError(command, 'exit', `\`${command}\` failed (exit ${String(e.code)}): ${stderr.trim().slice(-2000) || 'no stderr'}`, { cause: err }));
    });
  });
}
