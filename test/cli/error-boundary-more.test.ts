// More of what a new user tries, beyond test/cli/error-boundary.test.ts: each case ends with exit
// 2 (bad input, nothing started) or 1 (a refused call, with the reason) and ONE line on stderr —
// never a Node stack trace. Found by running a 129-case corpus against main.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, address, uid } from '../support/harness.js';

const RUN = uid('ebm');
const TQ = `${RUN}-tq`;
const dir = mkdtempSync(join(tmpdir(), 'fb-ebm-'));
let http: Server;
let httpAddr = '';
const f = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return name;
};

beforeAll(async () => {
  http = createServer((_q, r) => {
    r.writeHead(404);
    r.end('not here');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpAddr = `127.0.0.1:${(http.address() as { port: number }).port}`;
  f('local.yaml', 'targets:\n  - plugin: local\n    params: { maxNodes: 4 }\n');
  f('jobs.yaml', '- id: a\n  command: [echo, hi]\n  burstable: true\n');
  f('sel-syntax.mjs', 'export default (j) => {{ ;\n');
  f('sel-import.mjs', 'throw new Error("thrown at import");\n');
  f('sel-async.mjs', 'export default async () => { throw new Error("async boom"); };\n');
});
afterAll(async () => {
  await new Promise((r) => http.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('TEMPORAL_') && k !== 'FLUXBURST_CONFIG' && k !== 'FLUXBURST_DEBUG') base[k] = v;
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [CLI, ...args], {
      cwd: dir,
      env: { ...base, FLUXBURST_STATE_DIR: join(dir, '.state'), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => c.kill('SIGKILL'), 40_000);
    c.on('error', reject);
    c.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stderr });
    });
  });
}

type Case = [name: string, args: () => string[], exit: 1 | 2, says: RegExp, env?: () => Record<string, string>];
const conn = () => ['--address', address(), '--task-queue', TQ];
const V = (name: string, text: string) => () => ['validate', '-c', 'local.yaml', '-j', f(name, text)];
const cases: Case[] = [
  [
    'burst into a namespace that does not exist',
    () => ['burst', '-c', 'local.yaml', '-j', 'jobs.yaml', '--owner', RUN, ...conn(), '--namespace', `${RUN}-nope`],
    1,
    /namespace/i,
  ],
  ['worker on a namespace that does not exist', () => ['worker', ...conn(), '--namespace', `${RUN}-nope`], 1, /not found|namespace/i],
  [
    'worker at an HTTP server that is not Temporal',
    () => ['worker', '--address', httpAddr, '--task-queue', TQ],
    1,
    new RegExp(`cannot reach Temporal at ${'127\\.0\\.0\\.1'}`),
  ],
  [
    'TEMPORAL_CONFIG_FILE that is not TOML',
    () => ['list'],
    2,
    /TEMPORAL_CONFIG_FILE: .*TOML/,
    () => ({ TEMPORAL_CONFIG_FILE: join(dir, f('bad.toml', '[profile.default\naddress = ')) }),
  ],
  [
    'TEMPORAL_PROFILE not in the file',
    () => ['list'],
    2,
    /TEMPORAL_PROFILE: .*nosuch/,
    () => ({ TEMPORAL_CONFIG_FILE: join(dir, f('ok.toml', `[profile.default]\naddress = "${address()}"\n`)), TEMPORAL_PROFILE: 'nosuch' }),
  ],
  [
    '--api-key-env naming an unset variable',
    () => ['list', ...conn(), '--api-key-env', `${RUN.toUpperCase().replace(/\W/g, '_')}_UNSET`],
    2,
    /--api-key-env: environment variable .* is not set/,
  ],
  [
    '--tls-cert that does not exist',
    () => ['list', ...conn(), '--tls-cert', '/nonexistent.pem', '--tls-key', '/nonexistent.key'],
    2,
    /--tls-cert-path: cannot read \/nonexistent\.pem: ENOENT/,
  ],
  [
    'TEMPORAL_ADDRESS that is not host:port',
    () => ['list'],
    2,
    /TEMPORAL_ADDRESS: "not an address" is not host:port/,
    () => ({ TEMPORAL_ADDRESS: 'not an address' }),
  ],
  ['config that is binary junk', () => ['validate', '-c', f('bin.yaml', '\u0000\u0001\u0002junk\u00ff')], 2, /invalid config bin\.yaml/],
  ['config number too big for JSON', () => ['validate', '-c', f('inf.yaml', 'limits: { maxNodes: 1e400 }\n')], 2, /limits\.maxNodes/],
  [
    'selector module with a syntax error',
    () => ['validate', '-c', f('ss.yaml', 'jobs: jobs.yaml\nselect: { kind: module, path: ./sel-syntax.mjs }\n')],
    2,
    /select\.path: cannot load .*sel-syntax\.mjs/,
  ],
  [
    'selector module that throws at import',
    () => ['validate', '-c', f('si.yaml', 'jobs: jobs.yaml\nselect: { kind: module, path: ./sel-import.mjs }\n')],
    2,
    /select\.path: cannot load .*sel-import\.mjs: thrown at import/,
  ],
  [
    'selector function that is async (returns a promise)',
    () => ['plan', '-c', f('sa.yaml', 'jobs: jobs.yaml\nselect: { kind: module, path: ./sel-async.mjs }\ntargets: [{ plugin: local }]\n')],
    2,
    /sel-async\.mjs#default returned object for job a/,
  ],
  ['jobs JSON nested 5000 deep', V('deep.json', '['.repeat(5000) + ']'.repeat(5000)), 2, /invalid jobs file .*deep\.json: not valid JSON/],
  [
    'jobs id of 400 digits',
    V('long.yaml', `- id: ${'9'.repeat(400)}\n  command: [x]\n`),
    2,
    /jobs\[0\]\.id: .*400 characters; at most 240/,
  ],
  [
    'a job override with a bad maxPrice',
    V('ob.yaml', '- id: a\n  command: [x]\n  burstable: true\n  attributes: { system: { fluxburst: { maxPrice: -1 } } }\n'),
    2,
    /job a: attributes\.system\.fluxburst\.maxPrice/,
  ],
  ['list --limit abc', () => ['list', ...conn(), '--limit', 'abc'], 2, /--limit/],
  ['watch --interval 0', () => ['watch', '-c', 'local.yaml', '-j', 'jobs.yaml', ...conn(), '--interval', '0'], 2, /--interval/],
  [
    'sweep --schedule with minute 99',
    () => ['sweep', '-c', 'local.yaml', ...conn(), '--schedule', '99 * * * *'],
    2,
    /--schedule: .*minute 99 is out of range 0-59/,
  ],
  [
    'schedule create --cron with month 13',
    () => ['schedule', 'create', `${RUN}-m13`, '--cron', '0 0 1 13 *', '-j', 'jobs.yaml', ...conn()],
    2,
    /--cron: .*month 13 is out of range 1-12/,
  ],
  ['status of an id with a control character', () => ['status', 'b\u0001', ...conn()], 2, /<burst>: must not contain control characters/],
  ['cancel of a burst that does not exist', () => ['cancel', `${RUN}-nope`, ...conn()], 1, new RegExp(`no running burst "${RUN}-nope"`)],
  [
    'schedule delete of one that does not exist',
    () => ['schedule', 'delete', `${RUN}-nope`, ...conn()],
    1,
    new RegExp(`no schedule "${RUN}-nope"`),
  ],
  [
    'a Flux source whose flux is not installed',
    () => ['plan', '-c', f('fx.yaml', 'flux: { command: /nonexistent/flux }\ntargets: [{ plugin: local }]\n')],
    1,
    /cannot run `\/nonexistent\/flux .*not found/,
  ],
];

describe('more bad input: one line, the right exit code, no stack', () => {
  for (const [name, args, exit, says, env] of cases) {
    it.concurrent(name, async ({ expect }) => {
      const r = await run(args(), env?.());
      const shown = `exit ${r.code}\n${r.stderr}`;
      expect(r.code, shown).toBe(exit);
      expect(r.stderr.trim().split('\n'), shown).toHaveLength(1);
      expect(r.stderr, shown).toMatch(/^error: /);
      expect(r.stderr, shown).toMatch(says);
      expect(r.stderr, shown).not.toMatch(/^\s+at |node:internal/m);
    });
  }
  it('has 24 cases', () => expect(cases.length).toBe(24));
});
