// Bad input never starts anything: every case below runs the real CLI (bin/fluxburst.js) against
// the suite's Temporal dev server, expects exit 2 and the offending field named on stderr, and at
// the end the server is asked whether any burst carrying one of these cases' owners exists.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, type CliResult, address, client, uid, waitFor } from '../support/harness.js';

/** Per-file run id: owners, task queue and schedule ids all start with it. */
const RUN = uid('badin');
/** A task queue no worker polls: even a wrongly started burst would not do anything. */
const TQ = `${RUN}-tq`;
const dirs: string[] = [];
const started: string[] = []; // workflow ids the positive control started, terminated afterwards

/** A valid jobs file: one burstable job on one node. Anything that fails, fails for the case's reason. */
const GOOD_JOBS = `- id: ok-1\n  command: [echo, hi]\n  nodes: 1\n  burstable: true\n`;

/** The CLI as a child process, asynchronously (so cases can run concurrently). */
function run(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Connection and config settings come only from each case's flags and files.
    if (v === undefined || k.startsWith('TEMPORAL_') || k === 'FLUXBURST_CONFIG' || k === 'FLUXBURST_OWNER') continue;
    base[k] = v;
  }
  base.FLUXBURST_STATE_DIR = join(cwd, '.state');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A case that wrongly got past validation (e.g. a server or worker that starts) must not hang the suite.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

interface Case {
  name: string;
  /** Files written into the case's temp dir (the CLI runs there). `jobs.yaml` defaults to GOOD_JOBS. */
  files?: Record<string, string | ((dir: string) => string)>;
  /** CLI arguments; `burst` cases get --owner/--task-queue (and --address unless `noAddress`) added. */
  args: (ctx: { dir: string; addr: string }) => string[];
  kind: 'burst' | 'other';
  noAddress?: boolean;
  env?: (dir: string) => Record<string, string>;
  /** Each must appear on stderr: the field path and the gist of the complaint. */
  expect: (dir: string) => (string | RegExp)[];
}

const burst = (name: string, c: Omit<Case, 'name' | 'kind'>): Case => ({ name, kind: 'burst', ...c });
const other = (name: string, c: Omit<Case, 'name' | 'kind'>): Case => ({ name, kind: 'other', ...c });
/** `burst -c config.yaml -j jobs.yaml` with the given config text. */
const badConfig = (name: string, config: string, ...expected: (string | RegExp)[]): Case =>
  burst(name, { files: { 'config.yaml': config }, args: () => ['-c', 'config.yaml', '-j', 'jobs.yaml'], expect: () => expected });
/** `burst -j jobs.yaml` with the given jobs text. */
const badJobs = (name: string, jobs: string, ...expected: (string | RegExp)[]): Case =>
  burst(name, { files: { 'jobs.yaml': jobs }, args: () => ['-j', 'jobs.yaml'], expect: () => expected });
/**
 * Schedule ids the cases would create, fixed before any test runs: each test passes alone (`-t`),
 * and the last one checks all of them whichever ran.
 */
const SCHED = {
  nocron: `${RUN}-nocron`,
  badcron: `${RUN}-badcron`,
  eightcron: `${RUN}-eightcron`,
  badid: `${RUN.toUpperCase()}_Bad`,
  badjobs: `${RUN}-badjobs`,
} as const;
const scheduleIds: string[] = Object.values(SCHED);

const FLUX_SPEC = `  spec:\n    resources: [{ type: node, count: 1, with: [{ type: slot, count: 1, label: task, with: [{ type: core, count: 1 }] }] }]\n`;

const cases: Case[] = [
  // ---- config files ----
  badConfig('unknown top-level config key', 'name: demo\nbogus: 1\n', 'bogus: unknown field'),
  badConfig('unknown nested key in plugin params', 'targets:\n  - plugin: local\n    params:\n      bogus: 1\n', 'targets[0].params.bogus: unknown field'),
  badConfig('wrong type: maxNodes "lots"', 'limits: { maxNodes: lots }\n', /limits\.maxNodes: .*expected number, received string/),
  badConfig('negative latencyMs', 'targets:\n  - plugin: local\n    params:\n      latencyMs: -5\n', /targets\[0\]\.params\.latencyMs: .*>=0/),
  badConfig(
    'bad fault step enum',
    'targets:\n  - plugin: local\n    params:\n      fault: { step: explode }\n',
    /targets\[0\]\.params\.fault\.step: .*"plan"\|"provision"\|"join"\|"run"\|"teardown"/,
  ),
  badConfig('name with uppercase', 'name: Demo\n', 'name: lowercase letters, digits and dashes'),
  badConfig('unknown plugin name in config', 'targets:\n  - plugin: aws\n', /targets\[0\]\.plugin: .*"local"/),
  badConfig('empty targets list', 'targets: []\n', 'targets: name at least one target'),
  badConfig('two targets with one name', 'targets:\n  - plugin: local\n  - plugin: local\n', 'targets[1].name: target name "local" is used twice'),
  badConfig('fallback names an unknown target', 'ordering: { fallback: [local, cloud] }\n', 'ordering.fallback[1]: no target named "cloud"'),
  badConfig('match selector without conditions', 'select: { kind: match }\n', 'select: give `all` or `any` conditions'),
  badConfig('selector condition with two tests', 'select: { kind: match, all: [{ path: nodes, min: 1, equals: 2 }] }\n', 'select.all[0]: give exactly one test'),
  badConfig('selector condition on an unknown field', 'select: { kind: match, all: [{ path: color, exists: true }] }\n', 'select.all[0].path: a job field'),
  badConfig('invalid YAML syntax', 'name: demo\ntargets: [local\nmaxNodes: 3\n', /invalid config config\.yaml: YAML: .* at line \d+, column \d+/),
  badConfig('duplicate YAML keys', 'name: demo\nmaxNodes: 2\nname: other\n', 'YAML: Map keys must be unique at line 3, column 1'),
  badConfig('top level is a list, not a mapping', '- name: demo\n', 'invalid config config.yaml: expected a mapping at the top level'),
  badConfig('timeouts.heartbeatSeconds 0', 'timeouts:\n  heartbeatSeconds: 0\n', /timeouts\.heartbeatSeconds: .*>0/),
  badConfig('every bad field named at once', 'limits: { maxNodes: 20000 }\ntimeouts:\n  stepSeconds: 99999999\n', /limits\.maxNodes: .*<=10000/, /timeouts\.stepSeconds: .*<=21600/),
  badConfig('select.kind not a known selector', 'select:\n  kind: all\n', /select\.kind: Invalid discriminator value\. Expected 'burstable' \| 'match' \| 'module'/),
  badConfig('temporal.tls certFile without keyFile', 'temporal:\n  tls:\n    certFile: /nonexistent/client.pem\n', 'temporal.tls.keyFile: certFile and keyFile go together'),
  badConfig('temporal.apiKeyEnv not an env var name', 'temporal:\n  apiKeyEnv: my_key\n', 'temporal.apiKeyEnv: must be an environment variable name'),
  badConfig('temporal.apiKeyEnv names an unset variable', `temporal:\n  apiKeyEnv: FB_UNSET_${RUN.replace(/\W/g, '_').toUpperCase()}\n`, /temporal\.apiKeyEnv: environment variable FB_UNSET_\w+ is not set/),
  burst('config file missing', { args: () => ['-c', 'no-such-config.yaml', '-j', 'jobs.yaml'], expect: () => ['invalid config no-such-config.yaml', 'cannot read: ENOENT'] }),
  burst('bad config named by FLUXBURST_CONFIG', {
    files: { 'env-config.yaml': 'targets:\n  - plugin: local\n    params:\n      readyTimeoutSeconds: 0\n' },
    env: (dir) => ({ FLUXBURST_CONFIG: join(dir, 'env-config.yaml') }),
    args: () => ['-j', 'jobs.yaml'],
    expect: (dir) => [`invalid config ${join(dir, 'env-config.yaml')}`, 'targets[0].params.readyTimeoutSeconds'],
  }),
  burst('temporal.address in config not host:port', {
    files: { 'config.yaml': 'temporal:\n  address: nohost\n' },
    noAddress: true,
    args: () => ['-c', 'config.yaml', '-j', 'jobs.yaml'],
    expect: () => ['temporal.address: "nohost" is not host:port'],
  }),
  burst('config jobs: path (relative to the config) does not exist', {
    files: { 'sub/config.yaml': 'jobs: missing/jobs.yaml\n' },
    args: () => ['-c', 'sub/config.yaml'],
    expect: (dir) => [`invalid jobs file ${join(dir, 'sub', 'missing', 'jobs.yaml')}`, 'cannot read: ENOENT'],
  }),
  burst('no jobs anywhere', { args: () => [], expect: () => ['--jobs: no jobs: pass --jobs FILE'] }),

  // ---- CLI flags ----
  burst('--address foo', { noAddress: true, args: () => ['--address', 'foo', '-j', 'jobs.yaml'], expect: () => ['--address: "foo" is not host:port'] }),
  burst('--address with a port over 65535', { noAddress: true, args: () => ['--address', '127.0.0.1:70000', '-j', 'jobs.yaml'], expect: () => ['--address: "127.0.0.1:70000" is not host:port'] }),
  burst('--plugin unknown', { args: () => ['-j', 'jobs.yaml', '--plugin', 'nope'], expect: () => ['--plugin: no target or plugin "nope" (targets: local; plugins: local'] }),
  burst('unknown flag', { args: () => ['-j', 'jobs.yaml', '--bogus'], expect: () => ["unknown option '--bogus'"] }),
  burst('--tls-cert-path without --tls-key-path', {
    args: () => ['-j', 'jobs.yaml', '--tls-cert-path', '/nonexistent/client.pem'],
    expect: () => ['--tls-key-path: a client certificate and its key go together'],
  }),
  // Owner cases name their own --owner (a burst case's generated one would come last and win);
  // the task-queue check at the end proves neither started anything.
  other('burst --owner ""', { args: ({ addr }) => ['burst', '-j', 'jobs.yaml', '--owner', '', '--task-queue', TQ, '--address', addr], expect: () => ['--owner: letters, digits and . _ : - only'] }),
  other('burst --owner with a space', { args: ({ addr }) => ['burst', '-j', 'jobs.yaml', '--owner', 'a b', '--task-queue', TQ, '--address', addr], expect: () => ['--owner: letters, digits and . _ : - only'] }),
  badConfig('config owner with a quote', "owner: \"o'brien\"\n", 'owner: letters, digits and . _ : - only'),
  other('server --port 70000', { args: () => ['server', '--port', '70000', '--headless'], expect: () => [/--port: .*<=65535/] }),
  other('server --ui-port 0', { args: () => ['server', '--ui-port', '0', '--headless'], expect: () => [/--ui-port: .*>=1/] }),
  other('interruptions start without any queue in the config', { args: ({ addr }) => ['interruptions', 'start', '--address', addr, '--task-queue', TQ], expect: () => ['targets[].params.interruptionQueueUrl: no aws-ec2 target names an interruption queue'] }),
  other('report with a non-integer exit code', { args: ({ addr }) => ['report', 'some-burst', 'job-1', '--exit', 'ok', '--address', addr], expect: () => ['--exit: must be an integer exit code, got "ok"'] }),
  badConfig('jobs and slurm both as the job source', 'jobs: jobs.yaml\nslurm: { partitions: [burst] }\n', 'slurm: give one job source: `jobs` or `slurm`, not both'),
  badConfig('gke regional location without nodeZone', 'targets:\n  - plugin: gke\n    params: { project: my-project, location: us-central1 }\n', /targets\[0\]\.params\.nodeZone: location us-central1 is a region/),
  badConfig('limits.maxSpend negative', 'limits: { maxSpend: -1 }\n', /limits\.maxSpend: .*>0/),
  other('worker --max-activities 0', { args: ({ addr }) => ['worker', '--address', addr, '--task-queue', TQ, '--max-activities', '0'], expect: () => [/--max-activities: .*>=1/] }),
  other('schedule create without --cron', {
    args: ({ addr }) => ['schedule', 'create', SCHED.nocron, '--address', addr, '-j', 'jobs.yaml'],
    expect: () => ["required option '--cron <expr>' not specified"],
  }),
  other('schedule create with a bad cron', {
    args: ({ addr }) => ['schedule', 'create', SCHED.badcron, '--cron', 'every day', '--address', addr, '-j', 'jobs.yaml'],
    expect: () => ['--cron: "every day" is not a cron expression'],
  }),
  other('schedule create with an eight-field cron', {
    args: ({ addr }) => ['schedule', 'create', SCHED.eightcron, '--cron', '0 0 */5 * * * * 2030', '--address', addr, '-j', 'jobs.yaml'],
    expect: () => ['--cron: "0 0 */5 * * * * 2030" is not a cron expression'],
  }),
  other('schedule create with a bad schedule id', {
    args: ({ addr }) => ['schedule', 'create', SCHED.badid, '--cron', '*/5 * * * *', '--address', addr, '-j', 'jobs.yaml'],
    expect: () => ['<id>: lowercase letters, digits and dashes'],
  }),
  other('schedule create with a bad jobs file', {
    files: { 'jobs.yaml': '- id: a\n  command: [x]\n  nodez: 2\n' },
    args: ({ addr }) => ['schedule', 'create', SCHED.badjobs, '--cron', '*/5 * * * *', '--address', addr, '-j', 'jobs.yaml'],
    expect: () => ['jobs[0].nodez: unknown field'],
  }),
  other("list --phase \"x' OR 1=1\"", { args: ({ addr }) => ['list', '--address', addr, '--phase', "x' OR 1=1"], expect: () => ['--phase: letters, digits, . _ : - only'] }),
  other('list --limit 0', { args: ({ addr }) => ['list', '--address', addr, '--limit', '0'], expect: () => ['--limit: must be a whole number >= 1'] }),

  // ---- jobs files ----
  burst('jobs file missing', { args: () => ['-j', 'no-such-jobs.yaml'], expect: (dir) => [`invalid jobs file ${join(dir, 'no-such-jobs.yaml')}`, 'cannot read: ENOENT'] }),
  badJobs('jobs not a list', 'id: a\ncommand: [x]\n', 'jobs: expected a list of jobs'),
  badJobs('job with an empty command', '- id: a\n  command: [x]\n  burstable: true\n- id: b\n  command: []\n  burstable: true\n', 'jobs[1].command: must name a program to run'),
  badJobs('duplicate job ids', '- id: a\n  command: [x]\n  burstable: true\n- id: a\n  command: [y]\n  burstable: true\n', 'jobs[1].id: duplicate job id "a" (also jobs[0])'),
  badJobs('Flux jobinfo with tasks: []', `- id: 12420793761792\n${FLUX_SPEC}    tasks: []\n    attributes: { system: { burstable: 1 } }\n`, 'jobs[0].spec.tasks: a jobspec needs at least one task'),
  badJobs(
    'Flux jobinfo with zero counts (every issue reported)',
    '- id: 5\n  nnodes: 0\n  spec:\n    resources: [{ type: node, count: { min: 0 } }]\n    tasks: [{ command: [x] }]\n',
    /jobs\[0\]\.nnodes: .*>0/,
    /jobs\[0\]\.spec\.resources\[0\]\.count\.min: .*>0/,
  ),
  badJobs('short-form typo', '- id: a\n  command: [x]\n  nodez: 2\n', 'jobs[0].nodez: unknown field'),
  badJobs('entry that is not a mapping', '- id: a\n  command: [x]\n- just a string\n', 'jobs[1]: expected a mapping'),
  burst('jobs JSON syntax error', { files: { 'jobs.json': '[{"id": "a", "command": ["x"],}]' }, args: () => ['-j', 'jobs.json'], expect: () => [/invalid jobs file \S*jobs\.json: not valid JSON/] }),
  burst('job needs more nodes than local maxNodes', {
    files: { 'config.yaml': 'targets:\n  - plugin: local\n    params:\n      maxNodes: 2\n', 'jobs.yaml': '- id: wide\n  command: [x]\n  nodes: 3\n  burstable: true\n' },
    args: () => ['-c', 'config.yaml', '-j', 'jobs.yaml'],
    expect: () => ['job wide: no target fits: local: needs 3 nodes, local maxNodes is 2'],
  }),
  burst('job needs more nodes than config maxNodes', {
    files: { 'config.yaml': 'limits: { maxNodes: 2 }\n', 'jobs.yaml': '- id: wide\n  command: [x]\n  nodes: 3\n  burstable: true\n' },
    args: () => ['-c', 'config.yaml', '-j', 'jobs.yaml'],
    expect: () => [/job wide: .*3 nodes.*maxNodes 2/],
  }),
];

/** Each burst case's own owner, fixed by its place in the list (not by which tests ran before). */
const ownerOf = (i: number) => `${RUN}-c${i}`;
const owners: string[] = cases.flatMap((c, i) => (c.kind === 'burst' ? [ownerOf(i)] : []));

describe('bad input exits 2, names the field and starts nothing', () => {
  afterAll(async () => {
    const c = await client();
    for (const id of started) await c.workflow.getHandle(id).terminate('bad-input test control').catch(() => undefined);
    await c.connection.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const [i, tc] of cases.entries()) {
    it.concurrent(tc.name, async ({ expect }) => {
      const dir = mkdtempSync(join(tmpdir(), 'fb-badin-'));
      dirs.push(dir);
      const files: NonNullable<Case['files']> = { 'jobs.yaml': GOOD_JOBS, ...tc.files };
      for (const [name, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, name)), { recursive: true });
        writeFileSync(join(dir, name), typeof text === 'function' ? text(dir) : text);
      }
      const addr = address();
      let args = tc.args({ dir, addr });
      if (tc.kind === 'burst') {
        const owner = ownerOf(i);
        args = ['burst', ...args, '--owner', owner, '--task-queue', TQ, ...(tc.noAddress ? [] : ['--address', addr])];
      }
      const r = await run(args, dir, tc.env?.(dir));
      const shown = `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
      expect(r.code, shown).toBe(2);
      for (const want of tc.expect(dir)) {
        if (typeof want === 'string') expect(r.stderr, shown).toContain(want);
        else expect(r.stderr, shown).toMatch(want);
      }
      expect(r.stdout, shown).not.toMatch(/started burst|schedule .* created/);
      expect(r.stderr, shown).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace for bad input
    });
  }

  it('has at least 20 cases, each burst case with an owner of its own', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(new Set(owners).size).toBe(owners.length);
    expect(owners.length).toBe(cases.filter((c) => c.kind === 'burst').length);
  });

  it('started no burst workflow and created no schedule for any of them (a good burst, as control, is seen)', async () => {
    const c = await client();
    // Control: the same invocation with valid input does start a burst, and the query finds it.
    const dir = mkdtempSync(join(tmpdir(), 'fb-badin-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'jobs.yaml'), GOOD_JOBS);
    const control = `${RUN}-control`;
    const r = await run(['burst', '-j', 'jobs.yaml', '--owner', control, '--task-queue', TQ, '--address', address(), '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const out = (JSON.parse(r.stdout) as { bursts: { started: boolean; burstId: string }[] }).bursts[0] as { started: boolean; burstId: string };
    expect(out.started).toBe(true);
    started.push(out.burstId);
    await waitFor(async () => (await c.workflow.count(`WorkflowType = 'burstWorkflow' AND FluxburstOwner = '${control}'`)).count === 1 || undefined, 15_000, 'control burst visible');

    // None of the bad cases' owners has a burst (any status, any task queue): the same query over
    // their owners plus the control's finds the control and nothing else.
    const list = [...owners, control].map((o) => `'${o}'`).join(', ');
    const { count } = await c.workflow.count(`WorkflowType = 'burstWorkflow' AND FluxburstOwner IN (${list})`);
    expect(count).toBe(1);
    const found: string[] = [];
    for await (const w of c.workflow.list({ query: `FluxburstOwner IN (${list})` })) found.push(w.workflowId);
    expect(found).toEqual([out.burstId]);
    // Nothing at all on this file's task queue except the control.
    const onQueue: string[] = [];
    for await (const w of c.workflow.list({ query: `TaskQueue = '${TQ}'` })) onQueue.push(w.workflowId);
    expect(onQueue).toEqual([out.burstId]);

    for (const id of scheduleIds) {
      await expect(c.schedule.getHandle(id).describe(), `schedule ${id}`).rejects.toBeInstanceOf(ScheduleNotFoundError);
    }
    await c.connection.close();
  });

});
