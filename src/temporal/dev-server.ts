import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../core/search-attributes.js';
import { FluxburstError, InputError, isFailureType } from '../core/errors.js';
import { temporalCliPath } from './paths.js';

export interface DevServerOptions {
  stateDir: string;
  ip?: string;
  port?: number;
  uiPort?: number;
  /** Keep the UI off (tests that do not look at it). */
  headless?: boolean;
  extraArgs?: string[];
  /** Run detached from this process, logging to <stateDir>/server.log. */
  detach?: boolean;
}

export interface DevServerInfo {
  pid: number;
  address: string;
  uiUrl?: string;
  dbFile: string;
}

const SA_TYPES: Record<string, string> = { KEYWORD: 'Keyword', TEXT: 'Text', INT: 'Int', DOUBLE: 'Double', BOOL: 'Bool', DATETIME: 'Datetime', KEYWORD_LIST: 'KeywordList' };

/** Arguments for `temporal server start-dev` on a SQLite file with our search attributes. */
export function devServerArgs(o: DevServerOptions): string[] {
  const ip = o.ip ?? '127.0.0.1';
  const port = o.port ?? 7233;
  const args = [
    'server', 'start-dev',
    '--ip', ip,
    '--port', String(port),
    '--db-filename', join(o.stateDir, 'temporal.db'),
    // One SQLite connection serialises all persistence; WAL keeps readers off the writer's back.
    '--sqlite-pragma', 'journal_mode=wal',
    '--sqlite-pragma', 'synchronous=normal',
    '--log-level', 'warn',
    // start-dev has one history shard, whose task reads are capped at 20/s by default: that adds
    // ~35 ms to every workflow task once a few bursts run. Real clusters have many shards.
    '--dynamic-config-value', 'history.transferProcessorMaxPollRPS=1000',
  ];
  if (o.headless) args.push('--headless');
  else args.push('--ui-port', String(o.uiPort ?? port + 1000), '--ui-ip', ip);
  for (const k of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${k.name}=${SA_TYPES[k.type] ?? 'Keyword'}`);
  args.push(...(o.extraArgs ?? []));
  return args;
}

export async function waitHealthy(address: string, timeoutMs: number, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (!alive()) throw new FluxburstError('ServerExited', `Temporal dev server exited before it was healthy${last ? `: ${(last as Error).message}` : ''}`);
    try {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await c.workflowService.getSystemInfo({});
        return;
      } finally {
        await c.close();
      }
    } catch (e) {
      last = e;
      await sleep(200);
    }
  }
  throw new FluxburstError('ServerTimeout', `Temporal dev server at ${address} not healthy after ${timeoutMs} ms: ${(last as Error)?.message}`);
}

export const serverInfoPath = (stateDir: string) => join(stateDir, 'server.json');

export function readServerInfo(stateDir: string): DevServerInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(serverInfoPath(stateDir), 'utf8')) as DevServerInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}

/** Whether something already listens on ip:port (binding it fails with EADDRINUSE). */
export function portInUse(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE'));
    s.listen({ host: ip, port, exclusive: true }, () => s.close(() => resolve(false)));
  });
}

/** Start the dev server and resolve once it answers; the child is returned for the caller to own. */
export async function startDevServer(o: DevServerOptions): Promise<{ child: ChildProcess; info: DevServerInfo }> {
  mkdirSync(o.stateDir, { recursive: true });
  const ip = o.ip ?? '127.0.0.1';
  const port = o.port ?? 7233;
  // A port someone else holds: the new server would exit at once while the health check below
  // found the other one answering, and we would report a server that is not ours as ready.
  const ports: Array<[string, number]> = [['--port', port], ...(o.headless ? [] : ([['--ui-port', o.uiPort ?? port + 1000]] as Array<[string, number]>))];
  for (const [flag, p] of ports) {
    if (await portInUse(ip, p)) {
      const hint = flag === '--port' ? ` (a Temporal server already there? use it with --address ${ip}:${p}, or pick another --port)` : ' (pick another --ui-port, or --headless)';
      throw new InputError('flags', [{ path: flag, message: `${ip}:${p} is already in use${hint}` }]);
    }
  }
  const cli = temporalCliPath();
  if (cli !== 'temporal' && !existsSync(cli)) {
    throw new FluxburstError('MissingTemporalCli', `Temporal CLI not found at ${cli}; run scripts/setup.sh`);
  }
  const log = openSync(join(o.stateDir, 'server.log'), 'a');
  const child = spawn(cli, devServerArgs(o), { detached: !!o.detach, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', () => (exited = true));
  const address = `${ip}:${port}`;
  try {
    await waitHealthy(address, 60_000, () => !exited);
    // Healthy, but was it ours? A server that lost a port race exits while another answers.
    if (exited) throw new FluxburstError('ServerExited', `Temporal dev server exited at start while another process answers at ${address}`);
  } catch (e) {
    if (!exited) child.kill('SIGKILL');
    const tailLog = readFileSync(join(o.stateDir, 'server.log'), 'utf8').split('\n').slice(-5).join('\n');
    const code = e instanceof FluxburstError && isFailureType(e.code) ? e.code : 'ServerFailed';
    throw new FluxburstError(code, `${(e as Error).message}\n${tailLog}`);
  }
  const info: DevServerInfo = { pid: child.pid!, address, dbFile: join(o.stateDir, 'temporal.db') };
  if (!o.headless) info.uiUrl = `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${o.uiPort ?? port + 1000}`;
  writeFileSync(serverInfoPath(o.stateDir), JSON.stringify(info, null, 2));
  if (o.detach) child.unref();
  return { child, info };
}

export async function stopDevServer(stateDir: string): Promise<boolean> {
  const info = readServerInfo(stateDir);
  rmSync(serverInfoPath(stateDir), { force: true });
  if (!info) return false;
  try {
    process.kill(info.pid, 'SIGTERM');
  } catch {
    return false;
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(info.pid, 0);
    } catch {
      return true;
    }
    await sleep(100);
  }
  process.kill(info.pid, 'SIGKILL');
  return true;
}
