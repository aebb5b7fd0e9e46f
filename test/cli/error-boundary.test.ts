// The CLI's one error boundary (src/cli/failure.ts): every failure a user can provoke ends as ONE
// line on stderr naming the flag, field or server reason, with exit 2 for bad input (nothing
// dialled or started) and exit 1 for a call the server (or whatever answers at --address) refused —
// never a Node stack trace, except under --debug. Each case runs the real bin/fluxburst.js.
import { spawn } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, address, uid } from '../support/harness.js';

const RUN = uid('eb');
const TQ = `${RUN}-tq`; // no worker polls it
const STACK = /^\s+at /m;
const GOOD_JOBS = `- id: ok-1\n  command: [echo, hi]\n  nodes: 1\n  burstable: true\n`;
const ALIAS_BOMB = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n');

let dir: string;
let http2: Http2Server;
let http1: Server;
let http2Addr = '';
let http1Addr = '';
let refusedAddr = '';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('TEMPORAL_') || k === 'FLUXBURST_CONFIG' || k === 'FLUXBURST_DEBUG') continue;
    base[k] = v;
  }
  base.FLUXBURST_STATE_DIR = join(dir, '.state');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

interface Case {
  name: string;
  args: () => string[];
  env?: () => Record<string, string>;
  exit: 1 | 2;
  /** Each must appear on the one stderr line. */
  says: (string | RegExp)[];
}

const conn = () => ['--address', address(), '--task-queue', TQ];
const cron = (expr: string, says: string): Case => ({
  name: `schedule create --cron '${expr}'`,
  args: () => ['schedule', 'create', `${RUN}-s`, '--cron', expr, '-j', 'jobs.yaml', ...conn()],
  exit: 2,
  says: ['--cron', says],
});

const cases: Case[] = [
  // ---- bad input: exit 2, nothing dialled ----
  cron('61 * * * *', 'minute 61 is out of range 0-59'),
  cron('*/0 * * * *', 'minute step "/0"'),
  cron('0 0 * * 9', 'day-of-week 9 is out of range 0-7'),
  cron('a b c d e', 'minute "a" is not a number'),
  cron('0 0 31-1 * *', 'day-of-month range "31-1" runs backwards'),
  cron('0 25 * * *', 'hour 25 is out of range 0-23'),
  cron('0 0 * 13 *', 'month 13 is out of range 1-12'),
  cron('0 0 * foo *', 'month "foo" is not a number or a name'),
  cron('@every soon', '@every takes a duration'),
  { name: 'sweep --schedule with a bad cron', args: () => ['sweep', '--schedule', '99 * * * *', ...conn()], exit: 2, says: ['--schedule', 'minute 99'] },
  { name: 'status ""', args: () => ['status', '', ...conn()], exit: 2, says: ['<burst>', 'must not be empty'] },
  { name: 'cancel "  "', args: () => ['cancel', '  ', ...conn()], exit: 2, says: ['<burst>', 'must not be empty'] },
  { name: 'report with an empty job id', args: () => ['report', 'b', '', '--exit', '0', ...conn()], exit: 2, says: ['<job>', 'must not be empty'] },
  { name: 'schedule delete ""', args: () => ['schedule', 'delete', '', ...conn()], exit: 2, says: ['<id>', 'must not be empty'] },
  { name: 'burst --task-queue ""', args: () => ['burst', '-j', 'jobs.yaml', '--address', address(), '--task-queue', ''], exit: 2, says: ['--task-queue', 'non-empty'] },
  { name: 'list --namespace ""', args: () => ['list', '--address', address(), '--namespace', ''], exit: 2, says: ['--namespace', 'must not be empty'] },
  { name: 'YAML alias bomb in the config (validate)', args: () => ['validate', '-c', 'bomb.yaml', '-j', 'jobs.yaml'], exit: 2, says: ['invalid config bomb.yaml', 'YAML: Excessive alias count'] },
  { name: 'YAML alias bomb in the config (burst)', args: () => ['burst', '-c', 'bomb.yaml', '-j', 'jobs.yaml', ...conn()], exit: 2, says: ['invalid config bomb.yaml', 'Excessive alias count'] },
  { name: 'YAML alias bomb in the jobs file', args: () => ['validate', '-j', 'bomb.yaml'], exit: 2, says: ['bomb.yaml', 'Excessive alias count'] },
  {
    name: 'selector module whose function throws (burst)',
    args: () => ['burst', '-c', 'sel.yaml', '-j', 'jobs.yaml', ...conn()],
    exit: 2,
    says: ['select.export', 'throws.mjs#default threw for job ok-1', 'boom in selector'],
  },
  { name: 'selector module whose function throws (validate)', args: () => ['validate', '-c', 'sel.yaml', '-j', 'jobs.yaml'], exit: 2, says: ['throws.mjs#default threw for job ok-1'] },
  { name: 'unknown option', args: () => ['list', '--bogus'], exit: 2, says: ["unknown option '--bogus'"] },
  { name: 'missing argument', args: () => ['status'], exit: 2, says: ["missing required argument 'burst'"] },
  { name: 'unknown command', args: () => ['burts'], exit: 2, says: ["unknown command 'burts'"] },
  { name: 'several bad config fields on one line', args: () => ['validate', '-c', 'many.yaml'], exit: 2, says: [/limits\.maxNodes: .*; .*timeouts\.stepSeconds/] },
  { name: 'invalid YAML syntax', args: () => ['validate', '-c', 'syntax.yaml'], exit: 2, says: [/invalid config syntax\.yaml: YAML: .* at line \d+, column \d+/] },

  // Counts and ids: what burst would refuse, validate and plan refuse too (issue 14).
  { name: 'validate: tasks: 1000000000', args: () => ['validate', '-j', 'huge.yaml'], exit: 2, says: [/jobs\[0\]\.tasks: .*<=1048576/] },
  { name: 'plan: tasks: 1000000000', args: () => ['plan', '-j', 'huge.yaml'], exit: 2, says: [/jobs\[0\]\.tasks: .*<=1048576/] },
  { name: 'burst: tasks: 1000000000', args: () => ['burst', '-j', 'huge.yaml', ...conn()], exit: 2, says: [/jobs\[0\]\.tasks: .*<=1048576/] },
  { name: 'validate: a job id with a space', args: () => ['validate', '-j', 'badid.yaml'], exit: 2, says: ['jobs[0].id: job id "a b"'] },
  { name: 'validate: a Flux job without spec', args: () => ['validate', '-j', 'nospec.yaml'], exit: 2, says: ['jobs[0].spec: job 42 looks like a Flux job'] },
  { name: 'plan: fewer tasks than nodes', args: () => ['plan', '-j', 'fewtasks.yaml'], exit: 2, says: ['jobs[0].tasks: job few: 1 task(s) on 2 nodes'] },

  // ---- refused calls: exit 1 with the server's (or the transport's) reason ----
  { name: 'list --namespace that does not exist', args: () => ['list', '--address', address(), '--namespace', `${RUN}-nope`], exit: 1, says: [`${RUN}-nope`, /namespace/i] },
  { name: 'status in a namespace that does not exist', args: () => ['status', 'x', '--address', address(), '--namespace', `${RUN}-nope`], exit: 1, says: [`${RUN}-nope`] },
  { name: 'burst into a namespace that does not exist', args: () => ['burst', '-j', 'jobs.yaml', ...conn(), '--namespace', `${RUN}-nope`], exit: 1, says: [`${RUN}-nope`] },
  { name: 'status of a burst that does not exist', args: () => ['status', `${RUN}-nosuch`, ...conn()], exit: 1, says: [`no burst "${RUN}-nosuch"`] },
  { name: '--address an HTTP/2 server that is not Temporal', args: () => ['list', '--address', http2Addr], exit: 1, says: [http2Addr, '404'] },
  { name: '--address an HTTP/1 server that is not Temporal', args: () => ['list', '--address', http1Addr], exit: 1, says: [`cannot reach Temporal at ${http1Addr}`] },
  { name: '--address where nothing listens', args: () => ['list', '--address', refusedAddr], exit: 1, says: [`cannot reach Temporal at ${refusedAddr}`] },
  {
    // Outside the command's promise: a plugin throws from a timer while the CLI dials.
    name: 'an exception thrown outside the command (a plugin timer)',
    args: () => ['list', '--address', refusedAddr],
    env: () => ({ FLUXBURST_PLUGIN_PATH: join(dir, 'late', 'node_modules') }),
    exit: 1,
    says: ['TypeError: late failure in a timer'],
  },
];

describe('one error boundary: one line, an exit code, no stack', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fb-eb-'));
    const files: Record<string, string> = {
      'jobs.yaml': GOOD_JOBS,
      'bomb.yaml': `${ALIAS_BOMB}\n`,
      'throws.mjs': "export default function select(job) { throw new Error('boom in selector'); }\n",
      'sel.yaml': 'select: { kind: module, path: ./throws.mjs }\n',
      'many.yaml': 'limits: { maxNodes: 20000 }\ntimeouts:\n  stepSeconds: 99999999\n',
      'syntax.yaml': 'name: demo\ntargets: [local\nmaxNodes: 3\n',
      'huge.yaml': '- id: huge\n  command: [echo]\n  tasks: 1000000000\n  burstable: true\n',
      'badid.yaml': '- id: "a b"\n  command: [echo]\n  burstable: true\n',
      'nospec.yaml': '- id: 42\n  nnodes: 1\n  ntasks: 1\n  userid: 1000\n',
      'fewtasks.yaml': '- id: few\n  command: [echo]\n  nodes: 2\n  tasks: 1\n  burstable: true\n',
      'v6.yaml': 'temporal: { address: "[::1]:7233" }\n',
      'late/node_modules/fluxburst-plugin-late/package.json': JSON.stringify({ name: 'fluxburst-plugin-late', type: 'module', main: 'index.js' }),
      'late/node_modules/fluxburst-plugin-late/index.js': [
        `import { plugin as echo } from ${JSON.stringify(join(ROOT, 'test/fixtures/plugins/node_modules/fluxburst-plugin-echo/index.js'))};`,
        "export const plugin = { ...echo, name: 'late' };",
        "setTimeout(() => { throw new TypeError('late failure\\nin a timer'); }, 50);",
      ].join('\n'),
    };
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    // An HTTP/2 server answering every request 404 (what a web server or proxy says to gRPC).
    http2 = createHttp2Server((_req, res) => {
      res.statusCode = 404;
      res.end('not found');
    });
    http1 = createHttpServer((_req, res) => {
      res.statusCode = 404;
      res.end('not found');
    });
    const listen = (s: Http2Server | Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));
    http2Addr = `127.0.0.1:${await listen(http2)}`;
    http1Addr = `127.0.0.1:${await listen(http1)}`;
    // A port nothing listens on: bound by us and closed (only its refusal matters here).
    const probe = createNetServer();
    const port = await new Promise<number>((r) => probe.listen(0, '127.0.0.1', () => r((probe.address() as { port: number }).port)));
    await new Promise((r) => probe.close(r));
    refusedAddr = `127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await new Promise((r) => http2?.close(r));
    await new Promise((r) => http1?.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('has many cases', () => expect(cases.length).toBeGreaterThanOrEqual(30));

  for (const tc of cases) {
    it.concurrent(tc.name, async ({ expect }) => {
      const r = await run(tc.args(), tc.env?.());
      const shown = `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
      expect(r.code, shown).toBe(tc.exit);
      expect(r.stderr, shown).not.toMatch(STACK);
      const lines = r.stderr.split('\n').filter((l) => l.trim());
      expect(lines, shown).toHaveLength(1);
      expect(lines[0], shown).toMatch(/^error: /);
      for (const want of tc.says) {
        if (typeof want === 'string') expect(lines[0], shown).toContain(want);
        else expect(lines[0], shown).toMatch(want);
      }
      expect(r.stdout, shown).not.toMatch(/started burst|schedule .* created/);
    });
  }

  it('--debug (or FLUXBURST_DEBUG=1) adds the stack under the same one-line message', async () => {
    const args = ['status', 'x', '--address', address(), '--namespace', `${RUN}-nope`];
    for (const r of [await run([...args, '--debug']), await run(args, { FLUXBURST_DEBUG: '1' })]) {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^error: .*${RUN}-nope`));
      expect(r.stderr, r.stderr).toMatch(STACK);
    }
  });

  it("accepts an IPv6 literal address ('[::1]:7233')", async () => {
    for (const args of [['validate', '--json', '-c', 'v6.yaml'], ['validate', '--json']]) {
      const r = await run(args, args.length === 2 ? { TEMPORAL_ADDRESS: '[::1]:7233' } : {});
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { connection: { address: string } }).connection.address).toBe('[::1]:7233');
    }
  });
});
