import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { startDevServer, stopDevServer, readServerInfo } from '../../temporal/dev-server.js';
import { stateDir } from '../../temporal/paths.js';
import { intArg, printJson } from '../common.js';
import { runClusterServer, stopClusterServer } from './server-cluster.js';

export function registerServer(program: Command): void {
  program
    .command('server')
    .description('Start the embedded Temporal dev server (SQLite under the state dir, UI included).')
    .option('--port <n>', 'gRPC port', intArg('--port', 1, 65535), 7233)
    .option('--ui-port <n>', 'UI port (default: port + 1000)', intArg('--ui-port', 1, 65535))
    .option('--ip <ip>', 'address to bind', '127.0.0.1')
    .option('--headless', 'no UI')
    .option('--detach', 'run in the background; `fluxburst stop` ends it')
    .option('--codec-endpoint <url>', 'codec server the UI uses to show encrypted payloads (`fluxburst codec-server`)')
    .option('--json', 'print addresses as JSON')
    .option('--cluster', 'a real Temporal cluster instead: temporal-server\'s four services on a private PostgreSQL, with the UI (deploy/temporal/config/cluster.yaml, as docker-compose.yml)')
    .action(async (o: { port: number; uiPort?: number; ip: string; headless?: boolean; detach?: boolean; json?: boolean; codecEndpoint?: string; cluster?: boolean }) => {
      if (o.cluster) return runClusterServer(o);
      const dir = stateDir();
      const running = readServerInfo(dir);
      if (running) {
        if (o.json) printJson(running);
        else process.stdout.write(`Temporal dev server already running (pid ${running.pid})\n  gRPC: ${running.address}\n  UI:   ${running.uiUrl ?? '(headless)'}\n`);
        return;
      }
      const extraArgs = o.codecEndpoint ? ['--ui-codec-endpoint', o.codecEndpoint] : [];
      const { child, info } = await startDevServer({ stateDir: dir, port: o.port, uiPort: o.uiPort, ip: o.ip, headless: o.headless, detach: o.detach, extraArgs });
      if (o.json) printJson(info);
      else process.stdout.write(`Temporal dev server ready (pid ${info.pid}, state ${dir})\n  gRPC: ${info.address}\n  UI:   ${info.uiUrl ?? '(headless)'}\n`);
      if (o.detach) return;
      const stop = () => child.kill('SIGTERM');
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      await new Promise<void>((resolve) => child.on('exit', () => resolve()));
      rmSync(join(dir, 'server.json'), { force: true });
    });

  program
    .command('stop')
    .description('Stop the detached dev server and worker started from this state dir.')
    .action(async () => {
      const dir = stateDir();
      // Every detached worker has its own pid file (worker.<pid>.pid; worker.pid from older versions).
      const files = existsSync(dir) ? readdirSync(dir).filter((f) => /^worker(\.\d+)?\.pid$/.test(f)) : [];
      const workers = (await Promise.all(files.map((f) => stopPidFile(join(dir, f))))).filter(Boolean).length;
      const server = await stopDevServer(dir);
      const cluster = await stopClusterServer();
      process.stdout.write(`worker: ${workers ? `stopped${workers > 1 ? ` (${workers})` : ''}` : 'not running'}\nserver: ${server ? 'stopped' : 'not running'}\n${cluster ? 'cluster: stopped\n' : ''}`);
    });
}

/**
 * Re-run this CLI in the background with the same arguments minus --detach. Its pid goes to
 * `<name>.pid`, or with `perProcess` to `<name>.<pid>.pid` (several workers may run at once:
 * a second must not hide the first from `fluxburst stop`).
 */
export function detachSelf(name: string, perProcess = false): number {
  const dir = stateDir();
  mkdirSync(dir, { recursive: true });
  const log = openSync(join(dir, `${name}.log`), 'a');
  const args = process.argv.slice(1).filter((a) => a !== '--detach');
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log], env: process.env });
  closeSync(log);
  child.unref();
  writeFileSync(join(dir, perProcess ? `${name}.${child.pid}.pid` : `${name}.pid`), String(child.pid));
  return child.pid!;
}

async function stopPidFile(path: string): Promise<boolean> {
  let pid: number;
  try {
    pid = Number(readFileSync(path, 'utf8'));
    process.kill(pid, 'SIGTERM');
  } catch {
    rmSync(path, { force: true });
    return false;
  }
  for (let i = 0; i < 300; i++) {
    try {
      process.kill(pid, 0);
      await sleep(100);
    } catch {
      break;
    }
  }
  rmSync(path, { force: true });
  return true;
}
