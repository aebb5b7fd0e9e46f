import { Command, CommanderError } from 'commander';
import { EXIT, debugWanted, reportFailure } from './failure.js';
import { registerBurst } from './commands/burst.js';
import { registerCodec } from './commands/codec.js';
import { registerConfigCommands } from './commands/config.js';
import { registerFlux } from './commands/flux.js';
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
    // commander's own complaints (unknown option, missing argument) end as one line like every other failure.
    .configureOutput({ outputError: (str, write) => write(`${str.replace(/\s*\n\s*/g, ' ').trim()} (run with --help for usage)\n`) })
    .option('--debug', 'on failure, print the stack too (env FLUXBURST_DEBUG=1)')
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
  registerFlux(program);
  registerSweep(program);
  for (const c of program.commands) {
    c.exitOverride();
    for (const s of c.commands) s.exitOverride();
  }
  return program;
}

/**
 * Exit codes: 0 ok, 1 the burst or a call failed, 2 bad input (nothing started), 3 cancelled.
 * Every failure — thrown, rejected, or raised outside the command's promise — goes through one
 * boundary (./failure.ts): one line on stderr, the stack only under --debug.
 */
export async function main(argv = process.argv): Promise<number> {
  const debug = debugWanted(argv);
  installProcessBoundary(debug);
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.input; // commander already printed which flag or argument is wrong
    }
    return reportFailure(e, debug);
  }
}

let installed = false;
/** A rejection or exception outside the command's promise (an event handler, a timer) ends the same way. */
function installProcessBoundary(debug: boolean): void {
  if (installed) return;
  installed = true;
  const fail = (e: unknown) => {
    const code = reportFailure(e, debug);
    process.exitCode = code;
    // Let stderr drain, then go: what was running is in an unknown state.
    setImmediate(() => process.exit(code));
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
}
