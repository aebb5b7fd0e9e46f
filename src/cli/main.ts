import { Command, CommanderError } from 'commander';
import { FluxburstError, InputError } from '../core/errors.js';
import { EXIT } from './common.js';
import { registerBurst } from './commands/burst.js';
import { registerCodec } from './commands/codec.js';
import { registerConfigCommands } from './commands/config.js';
import { registerInspect } from './commands/inspect.js';
import { registerInterruptions } from './commands/interruptions.js';
import { registerSchedule } from './commands/schedule.js';
import { registerServer } from './commands/server.js';
import { registerSlurm } from './commands/slurm.js';
import { registerSweep } from './commands/sweep.js';
import { registerWatch } from './commands/watch.js';
import { registerWorker } from './commands/worker.js';

export function buildProgram(): Command {
  const program = new Command('fluxburst')
    .description('Burst HPC jobs from a local queue onto extra capacity, durably, on Temporal.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerServer(program);
  registerWorker(program);
  registerBurst(program);
  registerInspect(program);
  registerInterruptions(program);
  registerConfigCommands(program);
  registerSchedule(program);
  registerWatch(program);
  registerCodec(program);
  registerSlurm(program);
  registerSweep(program);
  for (const c of program.commands) {
    c.exitOverride();
    for (const s of c.commands) s.exitOverride();
  }
  return program;
}

/** Exit codes: 0 ok, 1 the burst or a call failed, 2 bad input (nothing started), 3 cancelled. */
export async function main(argv = process.argv): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.input; // commander already printed which flag or argument is wrong
    }
    if (e instanceof InputError) {
      process.stderr.write(`error: ${e.message}\n`);
      return EXIT.input;
    }
    if (e instanceof FluxburstError) {
      process.stderr.write(`error: ${e.message}\n`);
      return EXIT.failed;
    }
    // gRPC failures wrap the server's words in `cause.details`: show them, not only "… failed".
    const details = (e as { cause?: { details?: string } }).cause?.details;
    process.stderr.write(`error: ${details ? `${(e as Error).message}: ${details}\n` : ''}${(e as Error).stack ?? String(e)}\n`);
    return EXIT.failed;
  }
}
