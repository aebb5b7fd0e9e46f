// A local "node": one process per provisioned node that runs the tasks the burst sends it.
// It is started detached, so it outlives the worker that made it (as a cloud VM outlives the
// process that launched it), and only teardown ends it.
//
//   node agent.js <nodeDir> <nodeName> <burstId> <workdir>
//
// HTTP on 127.0.0.1 (port in agent.json):
//   GET    /health                 → {node, pid, burstId}
//   PUT    /tasks/<key>?waitMs=N   body {command: string[]}; starts it once, later PUTs attach;
//                                  then answers like GET
//   GET    /tasks/<key>?waitMs=N   → task status, long-polling up to N ms for it to finish
//   DELETE /tasks/<key>            kills the task's process group
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, fstatSync, mkdirSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { appendLedger } from './layout.js';

const [dir, node, burstId, workdir] = process.argv.slice(2);
if (!dir || !node || !burstId || !workdir) {
  process.stderr.write('usage: agent <nodeDir> <node> <burstId> <workdir>\n');
  process.exit(64);
}

// Exactly one agent per node, whatever retries happen: the claim directory is made exclusively.
try {
  mkdirSync(join(dir, 'claim'));
} catch {
  process.exit(3);
}
appendLedger(workdir, { event: 'create', burstId, node, pid: process.pid });

const OUTPUT_LIMIT = 16 * 1024;

interface Task {
  key: string;
  command: string[];
  child?: ChildProcess;
  state: 'running' | 'exited' | 'killed';
  exitCode?: number;
  outDir: string;
  waiters: Array<() => void>;
}
const tasks = new Map<string, Task>();

/** The last OUTPUT_LIMIT bytes of a file and its whole size, reading only the tail (outputs can be GBs). */
function tail(path: string): { text: string; bytes: number } {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const bytes = fstatSync(fd).size;
    const n = Math.min(bytes, OUTPUT_LIMIT);
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, bytes - n);
    // A cut through a multi-byte character leaves replacement characters at the start: drop them.
    return { text: buf.toString('utf8').replace(/^\uFFFD+/, ''), bytes };
  } catch {
    return { text: '', bytes: 0 };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function view(t: Task) {
  if (t.state === 'running') return { key: t.key, node, state: t.state, stdout: '', stderr: '' };
  const out = tail(join(t.outDir, 'stdout'));
  const err = tail(join(t.outDir, 'stderr'));
  return { key: t.key, node, state: t.state, exitCode: t.exitCode, stdout: out.text, stderr: err.text, stdoutBytes: out.bytes, stderrBytes: err.bytes, outDir: t.outDir };
}

function finish(t: Task, code: number, state: Task['state']) {
  if (t.state !== 'running') return;
  t.state = state;
  t.exitCode = code;
  for (const w of t.waiters.splice(0)) w();
}

/** Why a program could not be started, in words. */
function cannotStart(e: NodeJS.ErrnoException): string {
  if (e.code === 'ENOENT') return `no such program (not on PATH, or no such file) [ENOENT]`;
  if (e.code === 'EACCES') return `permission denied (is it executable?) [EACCES]`;
  return `${e.message.split('\n')[0]}${e.code && !e.message.includes(e.code) ? ` [${e.code}]` : ''}`;
}

function start(key: string, command: string[], outputDir?: string): Task {
  // The whole output goes where the burst keeps it (`outputDir`), or stays with the node.
  const outDir = outputDir ? join(outputDir, key) : join(dir!, 'tasks', key);
  mkdirSync(outDir, { recursive: true });
  const t: Task = { key, command, state: 'running', outDir, waiters: [] };
  tasks.set(key, t);
  const out = createWriteStream(join(outDir, 'stdout'));
  const err = createWriteStream(join(outDir, 'stderr'));
  let child: ChildProcess;
  try {
    child = spawn(command[0]!, command.slice(1), {
      cwd: dir,
      detached: true, // own process group, so a kill reaches everything the task started
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FLUXBURST_NODE: node, FLUXBURST_TASK: key },
    });
  } catch (e) {
    // Refused before a process existed (a NUL byte in an argument, a bad option): the reason is
    // the task's stderr, flushed before the task is reported, with the shell's 127.
    out.end();
    err.end(`fluxburst: cannot start ${JSON.stringify(command[0])}: ${cannotStart(e as NodeJS.ErrnoException)}\n`, () => finish(t, 127, 'exited'));
    return t;
  }
  t.child = child;
  child.stdout!.pipe(out);
  child.stderr!.pipe(err);
  child.on('error', (e) => {
    if (child.pid !== undefined) return; // a failed kill of a running task: its exit says the rest
    // The program could not be started (missing, not executable): say why in its stderr, and
    // report the task once that line is on disk (an empty output with 127 told nobody anything).
    child.stdout?.unpipe(out);
    child.stderr?.unpipe(err);
    exit = 127;
    out.end();
    err.end(`fluxburst: cannot start ${JSON.stringify(command[0])}: ${cannotStart(e as NodeJS.ErrnoException)}\n`);
  });
  let pending = 2;
  const closed = () => {
    if (--pending === 0) done();
  };
  out.on('close', closed);
  err.on('close', closed);
  let exit: number | undefined;
  const done = () => exit !== undefined && finish(t, exit, t.state === 'running' ? 'exited' : t.state);
  child.on('exit', (code, signal) => {
    exit ??= code ?? 128 + (signal ? (os_signals[signal] ?? 15) : 15);
    // Output streams may close a moment after exit; finish once both are flushed.
    if (pending === 0) done();
  });
  return t;
}

const os_signals: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1 };

function kill(t: Task) {
  if (t.state !== 'running' || !t.child?.pid) return;
  try {
    process.kill(-t.child.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  t.state = 'killed';
  t.exitCode = 137;
  for (const w of t.waiters.splice(0)) w();
}

function body(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (s += c));
    req.on('end', () => {
      try {
        resolve(s ? JSON.parse(s) : {});
      } catch (e) {
        reject(e);
      }
    });
  });
}

function send(res: ServerResponse, code: number, v: unknown) {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(v));
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://agent');
    if (url.pathname === '/health') return send(res, 200, { node, pid: process.pid, burstId, hostname: hostname() });
    const m = /^\/tasks\/([\w.:-]+)$/.exec(url.pathname);
    if (!m) return send(res, 404, { error: 'no such route' });
    const key = m[1]!;
    let t = tasks.get(key);
    if (req.method === 'PUT') {
      const b = (await body(req)) as { command?: unknown; outputDir?: unknown };
      if (!Array.isArray(b.command) || b.command.length === 0 || !b.command.every((c) => typeof c === 'string')) {
        return send(res, 400, { error: 'command must be a non-empty list of strings' });
      }
      t ??= start(key, b.command as string[], typeof b.outputDir === 'string' ? b.outputDir : undefined);
    }
    if (!t) return send(res, 404, { error: `no task ${key}` });
    if (req.method === 'DELETE') {
      kill(t);
      return send(res, 200, view(t));
    }
    const waitMs = Math.min(Number(url.searchParams.get('waitMs') ?? 0) || 0, 30_000);
    if (t.state === 'running' && waitMs > 0) {
      const task = t;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        task.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return send(res, 200, view(t));
  } catch (e) {
    return send(res, 500, { error: (e as Error).message });
  }
});

function shutdown() {
  for (const t of tasks.values()) kill(t);
  server.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  // Atomic: a reader sees no file or a whole one.
  const tmp = join(dir, `.agent.json.${process.pid}`);
  writeFileSync(tmp, JSON.stringify({ pid: process.pid, port, node, burstId }));
  renameSync(tmp, join(dir, 'agent.json'));
});
