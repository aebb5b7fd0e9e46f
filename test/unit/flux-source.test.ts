import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FluxburstError } from '../../src/core/errors.js';
import { parseJobs } from '../../src/jobs/file-source.js';
import {
  encodeF58,
  FluxCommandError,
  fluxIdToDecimal,
  fluxJobToJob,
  isPending,
  LEGACY_LIST_ARGS,
  LIST_ARGS,
  parseJobList,
  parseJobspec,
  readFluxJobs,
  runFlux,
} from '../../src/jobs/flux-source.js';
import { isBurstable, selectJobs } from '../../src/select/selectors.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/flux');
const FAKE_FLUX = join(FIXTURES, 'fake-flux.mjs');
/** Real `flux jobs --json` records (flux-core 0.89.0, via OSC/ood_core's recorded fixtures). */
const JOBS_JSON = readFileSync(join(FIXTURES, 'jobs-json.json'), 'utf8');
/** Real jobspecs: flux-burst's seed and flux-core's t/jobspec/valid_v1 use cases (see _sources). */
const SPECS = JSON.parse(readFileSync(join(FIXTURES, 'jobspecs.json'), 'utf8')) as Record<string, Record<string, unknown>>;
const specText = (name: string) => JSON.stringify(SPECS[name]);

const work = mkdtempSync(join(tmpdir(), 'fluxburst-flux-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The FluxCommandError a call throws (fails the test if it throws anything else, or nothing). */
async function fluxError(p: Promise<unknown> | (() => unknown)): Promise<FluxCommandError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(FluxCommandError);
    expect(e).toBeInstanceOf(FluxburstError);
    return e as FluxCommandError;
  }
  throw new Error('expected a FluxCommandError');
}

describe('Flux job ids (RFC 19 F58, checked against flux-core fluid.c)', () => {
  // Pairs of `id` and `jobid` from the same real `flux jobs --json` records (jobs-json.json).
  const pairs: [string, string][] = [
    ['ƒiFkbMhFM', '91088924704768'],
    ['ƒiFsPiQD5', '91093387444224'],
    ['ƒiFxrykWs', '91096977768448'],
    ['ƒiHP9Htes', '91150983626752'],
  ];

  it('encodes and decodes the pairs flux printed', () => {
    for (const [f58, dec] of pairs) {
      expect(encodeF58(dec)).toBe(f58);
      expect(fluxIdToDecimal(f58)).toBe(dec);
      expect(fluxIdToDecimal(`f${f58.slice(1)}`)).toBe(dec); // the ASCII prefix of a non-UTF-8 locale
    }
    const listed = parseJobList(JOBS_JSON);
    for (const l of listed) expect(fluxIdToDecimal(l.record.jobid)).toBe(l.id);
  });

  it('covers the whole 64-bit range exactly, and the other printed forms', () => {
    expect(encodeF58(0)).toBe('ƒ1');
    expect(fluxIdToDecimal('ƒ1')).toBe('0');
    const max = '18446744073709551615';
    expect(fluxIdToDecimal(encodeF58(max))).toBe(max);
    expect(fluxIdToDecimal(`${encodeF58(max)}\n`)).toBe(max);
    expect(fluxIdToDecimal(12420793761792)).toBe('12420793761792');
    expect(fluxIdToDecimal(2n ** 60n)).toBe('1152921504606846976');
    expect(fluxIdToDecimal('0x52d000000000')).toBe(String(0x52d000000000));
    expect(fluxIdToDecimal('0000.52d0.0000.0000')).toBe(String(0x52d000000000));
  });

  it('refuses what is not a job id', () => {
    expect(() => fluxIdToDecimal('ƒ0OIl')).toThrow(/not a base58 digit/); // 0, O, I, l are not in the alphabet
    expect(() => fluxIdToDecimal('ƒ1111111111111')).toThrow(/not an F58 job id/); // > 12 digits
    expect(() => fluxIdToDecimal('18446744073709551616')).toThrow(/64-bit/);
    expect(() => fluxIdToDecimal('job-7')).toThrow(/not a Flux job id/);
    expect(() => fluxIdToDecimal(2 ** 60)).toThrow(/not an exact integer/);
    expect(() => fluxIdToDecimal(null)).toThrow(/expected a job id/);
  });
});

describe('parseJobList', () => {
  it('reads real `flux jobs --json` output: decimal ids, usernames, states as names', () => {
    const listed = parseJobList(JOBS_JSON);
    expect(listed.map((l) => l.id)).toEqual(['91096977768448', '91093387444224', '91150983626752']);
    expect(listed[0]!.record).toMatchObject({ name: 'sh', username: 'fluxuser', userid: 1002, state: 'SCHED', ntasks: 1, nnodes: 1 });
    expect(listed.every((l) => isPending(l.record))).toBe(true);
  });

  it('reads an empty queue either way flux prints it', () => {
    expect(parseJobList('{"jobs": []}\n')).toEqual([]);
    expect(parseJobList('')).toEqual([]); // flux job list, or flux jobs --json with an unknown id
  });

  it('reads `flux job list` JSON lines (raw job-list records, state as a bit, no username)', () => {
    const text = [
      '{"id": 12420793761792, "userid": 1000, "urgency": 16, "priority": 16, "t_submit": 1687638917.9938345, "t_depend": 1687638918.005533, "state": 8, "name": "hostname", "ntasks": 4, "duration": 0.0, "nnodes": 4}',
      '{"id": 17839985524736, "userid": 1000, "urgency": 16, "priority": 16, "t_submit": 1687638920.1, "state": 16, "name": "sleep", "ntasks": 1}',
      '',
    ].join('\n');
    const listed = parseJobList(text, 'flux job list --states=pending --user=all');
    expect(listed.map((l) => [l.id, isPending(l.record)])).toEqual([
      ['12420793761792', true],
      ['17839985524736', false],
    ]);
    expect(listed[0]!.record.username).toBeUndefined();
  });

  it('reads the single object `flux jobs --json ID` prints', () => {
    const one = JOBS_JSON.slice(JOBS_JSON.indexOf('[') + 1, JOBS_JSON.indexOf('}, {') + 1);
    expect(parseJobList(one).map((l) => l.id)).toEqual(['91096977768448']);
  });

  it('keeps ids above 2^53 exact and converts F58 ids to decimal', () => {
    const text = '{"jobs": [{"id": 9007199254740993, "state": "SCHED", "ntasks": 1}, {"id": 18446744073709551615, "state": "DEPEND", "ntasks": 1}, {"id": "\\u0192iHP9Htes", "state": "PRIORITY", "ntasks": 1}]}';
    expect(parseJobList(text).map((l) => l.id)).toEqual(['9007199254740993', '18446744073709551615', '91150983626752']);
  });

  it('tells pending from not, whichever way the state is printed', () => {
    for (const state of ['DEPEND', 'PRIORITY', 'SCHED', 2, 4, 8, undefined]) expect(isPending({ id: 1, state })).toBe(true);
    for (const state of ['RUN', 'CLEANUP', 'INACTIVE', 'NEW', 1, 16, 32, 64]) expect(isPending({ id: 1, state })).toBe(false);
  });

  it('reports output that is not JSON, naming the command', async () => {
    const e = await fluxError(() => parseJobList('flux-jobs: ERROR: something\n', 'flux jobs --json'));
    expect(e.failure).toBe('malformed');
    expect(e.code).toBe('FluxOutputInvalid');
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/^invalid output of `flux jobs --json`:\n {2}- \(root\): not JSON: /);
  });

  it('reports each bad record and line by path', async () => {
    expect((await fluxError(() => parseJobList('{"jobs": 3}'))).issues).toEqual([{ path: 'jobs', message: 'expected a list of jobs' }]);
    expect((await fluxError(() => parseJobList('[1, 2]'))).message).toMatch(/expected a JSON object with a `jobs` list/);
    const bad = await fluxError(() =>
      parseJobList('{"jobs": [{"id": 1, "ntasks": 1}, {"id": "job-2"}, {"name": "x"}, {"id": 4, "ntasks": 0}, {"id": 5, "nnodes": 18446744073709551615}, 7]}'),
    );
    expect(bad.issues.map((i) => i.path)).toEqual(['jobs[1].id', 'jobs[2].id', 'jobs[3].ntasks', 'jobs[4].nnodes', 'jobs[5]']);
    expect(bad.issues[3]!.message).toMatch(/too large/);
    const lines = await fluxError(() => parseJobList('{"id": 1}\n{"id": 2,\n{"id": 3}\n', 'flux job list'));
    expect(lines.issues).toEqual([{ path: 'line 2', message: expect.stringMatching(/^not JSON: /) }]);
  });
});

describe('parseJobspec', () => {
  it('reads a real jobspec (flux-burst seed) as printed by `flux job info ID jobspec`', () => {
    const spec = parseJobspec(specText('seed-hostname'), '12420793761792');
    expect(spec.resources[0]).toMatchObject({ type: 'node', count: 4, exclusive: true });
    expect(spec.tasks[0]!.command).toEqual(['hostname']);
    expect(spec.attributes?.system?.burstable).toBe(1);
  });

  it('accepts no attributes, null attributes (RFC 25 allows null) and count ranges', () => {
    const base = { version: 1, resources: [{ type: 'node', count: { min: 2, max: 8 }, with: [{ type: 'slot', count: 1, label: 'task', with: [{ type: 'core', count: 1 }] }] }], tasks: [{ command: ['a'], slot: 'task', count: { per_slot: 1 } }] };
    expect(parseJobspec(JSON.stringify(base), '1').attributes).toBeUndefined();
    expect(parseJobspec(JSON.stringify({ ...base, attributes: null }), '1').attributes).toBeUndefined();
    expect(parseJobspec(JSON.stringify(base), '1').resources[0]!.count).toEqual({ min: 2, max: 8 });
  });

  it('refuses a jobspec missing tasks, naming the command and the field', async () => {
    const { tasks: _, ...noTasks } = SPECS['seed-hostname']!;
    const e = await fluxError(() => parseJobspec(JSON.stringify(noTasks), '42'));
    expect(e.command).toBe('flux job info 42 jobspec');
    expect(e.issues.map((i) => i.path)).toEqual(['tasks']);
    expect(e.message).toMatch(/^invalid output of `flux job info 42 jobspec`:\n {2}- tasks: /);
  });

  it('refuses empty output, non-JSON and non-objects', async () => {
    expect((await fluxError(() => parseJobspec('\n', '1'))).message).toMatch(/no output/);
    expect((await fluxError(() => parseJobspec('flux-job: invalid job id', '1'))).message).toMatch(/not JSON/);
    expect((await fluxError(() => parseJobspec('[]', '1'))).message).toMatch(/expected a jobspec/);
  });

  it('refuses counts too large to hold exactly; keeps huge attribute values as exact text', async () => {
    const huge = specText('seed-hostname').replace('"count":4', '"count":9223372036854775807');
    const e = await fluxError(() => parseJobspec(huge, '1'));
    expect(e.issues).toEqual([{ path: 'resources[0].count', message: expect.stringMatching(/^9223372036854775807 is too large/) }]);
    const attr = specText('seed-hostname').replace('"burstable":1', '"burstable":1,"project":18446744073709551615');
    expect(parseJobspec(attr, '1').attributes?.system?.project).toBe('18446744073709551615');
  });
});

describe('normalisation (listing record + jobspec → Job)', () => {
  const listed = (record: Record<string, unknown>) => parseJobList(JSON.stringify({ jobs: [record] }))[0]!;

  it('gives the same Job as the file source for flux-burst seed job (job-list record + spec)', () => {
    const record = { id: 12420793761792, userid: 1000, urgency: 16, priority: 16, t_submit: 1687638917.9938345, state: 8, name: 'hostname', ntasks: 4, duration: 0.0, nnodes: 4 };
    const job = fluxJobToJob(listed(record), parseJobspec(specText('seed-hostname'), '12420793761792'));
    const [fromFile] = parseJobs(JSON.stringify([{ ...record, spec: SPECS['seed-hostname'] }]), 'seed', 'json');
    expect(job).toEqual(fromFile);
    expect(job).toMatchObject({ id: '12420793761792', user: '1000', nodes: 4, tasks: 4, coresPerNode: 1, exclusive: true, command: ['hostname'] });
    expect(isBurstable(job)).toBe(true);
  });

  it('counts GPUs under the slot per node', () => {
    const job = fluxJobToJob(listed({ id: 1, name: 'myapp', ntasks: 16, nnodes: 4, username: 'flux', userid: 500 }), parseJobspec(specText('gpu-per-node'), '1'));
    expect(job).toMatchObject({ nodes: 4, tasks: 16, coresPerNode: 4, gpusPerNode: 4, walltimeSeconds: 3600, user: 'flux' });
    expect(job.exclusive).toBeUndefined();
  });

  it('spreads slot-only requests over the nodes job-list reports (or one node when it reports none)', () => {
    const spec = parseJobspec(specText('gpu-no-node'), '2');
    expect(fluxJobToJob(listed({ id: 2, ntasks: 10 }), spec)).toMatchObject({ nodes: 1, tasks: 10, coresPerNode: 20, gpusPerNode: 10 });
    expect(fluxJobToJob(listed({ id: 2, ntasks: 10, nnodes: 5 }), spec)).toMatchObject({ nodes: 5, coresPerNode: 4, gpusPerNode: 2 });
  });

  it('takes tasks from count.total, nodes through a slot>node nest, the queue from the listing', () => {
    const uneven = fluxJobToJob(listed({ id: 3, queue: 'batch' }), parseJobspec(specText('uneven-tasks'), '3'));
    expect(uneven).toMatchObject({ name: 'app', nodes: 2, tasks: 5, coresPerNode: 6, queue: 'batch', command: ['app', '--in', 'data'] });
    const nested = { version: 1, resources: [{ type: 'slot', count: 4, label: 'task', with: [{ type: 'node', count: 1, with: [{ type: 'core', count: 8 }] }] }], tasks: [{ command: ['flux', 'start'], slot: 'task', count: { per_slot: 1 } }], attributes: { system: { duration: 60, queue: 'debug' } } };
    expect(fluxJobToJob(listed({ id: 4 }), parseJobspec(JSON.stringify(nested), '4'))).toMatchObject({ nodes: 4, tasks: 4, coresPerNode: 8, walltimeSeconds: 60, queue: 'debug' });
  });

  it('has no attributes at all: an empty system map, not burstable', () => {
    const spec = { version: 1, resources: [{ type: 'slot', count: 1, label: 'task', with: [{ type: 'core', count: 1 }] }], tasks: [{ command: ['true'], slot: 'task', count: { per_slot: 1 } }] };
    const job = fluxJobToJob(listed({ id: 5 }), parseJobspec(JSON.stringify(spec), '5'));
    expect(job).toEqual({ id: '5', name: 'true', nodes: 1, tasks: 1, coresPerNode: 1, command: ['true'], attributes: { system: {} } });
    expect(isBurstable(job)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// End to end through the fake `flux` executable

type FakeJob = Record<string, unknown> & { id: number | string; jobspec?: unknown; jobspecText?: string };
interface Scenario {
  jobs: FakeJob[];
  jsonOption?: boolean;
  faults?: { argv: string[]; delayMs?: number; stdout?: string; stderr?: string; exit?: number }[];
}

let n = 0;
/** Write a scenario; returns the env and the log of argv the fake received. */
function fake(s: Scenario) {
  const dir = join(work, `s${++n}`);
  const scenario = `${dir}.json`;
  const log = `${dir}.log`;
  writeFileSync(scenario, JSON.stringify(s));
  writeFileSync(log, '');
  return {
    env: { ...process.env, FAKE_FLUX_SCENARIO: scenario, FAKE_FLUX_LOG: log },
    calls: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string[]),
  };
}

const pending = (id: number | string, name: string, spec: string | object, extra: Record<string, unknown> = {}): FakeJob => ({
  id,
  userid: 1001,
  username: 'alice',
  urgency: 16,
  priority: 16,
  t_submit: 1791485339.8,
  state: 'SCHED',
  name,
  status: 'SCHED',
  dependencies: [],
  annotations: {},
  exception: { occurred: false },
  ...(typeof spec === 'string' ? { jobspec: SPECS[spec] } : { jobspec: spec }),
  ...extra,
});

const QUEUE: FakeJob[] = [
  pending(12420793761792, 'hostname', 'seed-hostname', { ntasks: 4, nnodes: 4 }),
  pending(91096977768448, 'myapp', 'gpu-per-node', { ntasks: 16, nnodes: 4, username: 'bob', userid: 1002 }),
  pending(91150983626752, 'app', 'uneven-tasks', { ntasks: 5, nnodes: 2, state: 'DEPEND', queue: 'batch' }),
  { ...pending(17839985524736, 'running', 'seed-hostname', { ntasks: 4, nnodes: 4 }), state: 'RUN', status: 'RUN' },
];

describe('readFluxJobs through a fake flux', () => {
  it('reads a normal queue: pending jobs of all users, in order, burstable or not', async () => {
    const f = fake({ jobs: QUEUE });
    const jobs = await readFluxJobs({ flux: FAKE_FLUX, env: f.env });
    expect(jobs.map((j) => [j.id, j.name, j.user])).toEqual([
      ['12420793761792', 'hostname', 'alice'],
      ['91096977768448', 'myapp', 'bob'],
      ['91150983626752', 'app', 'alice'],
    ]);
    expect(jobs[0]).toMatchObject({ nodes: 4, tasks: 4, coresPerNode: 1, exclusive: true });
    expect(jobs[1]).toMatchObject({ nodes: 4, tasks: 16, coresPerNode: 4, gpusPerNode: 4, walltimeSeconds: 3600 });
    expect(jobs[2]).toMatchObject({ nodes: 2, tasks: 5, coresPerNode: 6, queue: 'batch' });
    expect(await selectJobs(jobs, { kind: 'burstable' })).toMatchObject({
      selected: [{ id: '12420793761792' }],
      skipped: [{ id: '91096977768448' }, { id: '91150983626752' }],
    });
    // Exactly one listing call, then one jobspec lookup per pending job, by decimal id.
    const calls = f.calls();
    expect(calls[0]).toEqual([...LIST_ARGS]);
    expect(calls.slice(1).sort()).toEqual(jobs.map((j) => ['job', 'info', j.id, 'jobspec']).sort());
  });

  it('reads an empty queue with one call', async () => {
    const f = fake({ jobs: [QUEUE[3]!] });
    expect(await readFluxJobs({ flux: FAKE_FLUX, env: f.env })).toEqual([]);
    expect(f.calls()).toEqual([[...LIST_ARGS]]);
  });

  it('handles no attributes, GPUs without nodes, exclusive nodes and huge (but exact) counts', async () => {
    const noAttrs = { version: 1, resources: [{ type: 'slot', count: 2, label: 'task', with: [{ type: 'core', count: 1 }] }], tasks: [{ command: ['a.out'], slot: 'task', count: { per_slot: 1 } }] };
    const hugeSpec = { version: 1, resources: [{ type: 'node', count: 100000, exclusive: true, with: [{ type: 'slot', count: 1, label: 'task', with: [{ type: 'core', count: 1024 }] }] }], tasks: [{ command: ['big'], slot: 'task', count: { per_slot: 1 } }], attributes: { system: { duration: 86400, burstable: 1 } } };
    const f = fake({
      jobs: [
        pending(1001, 'a.out', noAttrs, { ntasks: 2 }),
        pending(1002, 'myapp', 'gpu-no-node', { ntasks: 10 }),
        pending(1003, 'big', hugeSpec, { ntasks: 100000, nnodes: 100000 }),
      ],
    });
    const [plain, gpus, huge] = await readFluxJobs({ flux: FAKE_FLUX, env: f.env });
    expect(plain).toEqual({ id: '1001', name: 'a.out', user: 'alice', nodes: 1, tasks: 2, coresPerNode: 2, command: ['a.out'], attributes: { system: {} } });
    expect(gpus).toMatchObject({ nodes: 1, tasks: 10, coresPerNode: 20, gpusPerNode: 10 });
    expect(huge).toMatchObject({ nodes: 100_000, tasks: 100_000, coresPerNode: 1024, exclusive: true, walltimeSeconds: 86400 });
    expect(isBurstable(huge!)).toBe(true);
  });

  it('refuses a count too large to be exact, naming the job and the field', async () => {
    const text = specText('seed-hostname').replace('"count":4', '"count":18446744073709551615');
    const f = fake({ jobs: [pending(77, 'hostname', 'seed-hostname', { ntasks: 4, jobspecText: text })] });
    const e = await fluxError(readFluxJobs({ flux: FAKE_FLUX, env: f.env }));
    expect(e.command).toBe(`${FAKE_FLUX} job info 77 jobspec`);
    expect(e.issues).toEqual([{ path: 'resources[0].count', message: expect.stringMatching(/too large/) }]);
  });

  it('converts F58 ids in the listing to decimal, and keeps 64-bit ids exact', async () => {
    const f = fake({
      jobs: [pending('ƒiHP9Htes', 'hostname', 'seed-hostname', { ntasks: 4 }), pending('18446744073709551615', 'hostname', 'seed-hostname', { ntasks: 4 })],
    });
    const jobs = await readFluxJobs({ flux: FAKE_FLUX, env: f.env });
    expect(jobs.map((j) => j.id)).toEqual(['91150983626752', '18446744073709551615']);
    expect(f.calls().slice(1).sort()).toEqual([
      ['job', 'info', '18446744073709551615', 'jobspec'],
      ['job', 'info', '91150983626752', 'jobspec'],
    ]);
  });

  it('falls back to `flux job list` on flux-core without `flux jobs --json` (users as userids)', async () => {
    const f = fake({ jobs: QUEUE, jsonOption: false });
    const jobs = await readFluxJobs({ flux: FAKE_FLUX, env: f.env });
    expect(jobs.map((j) => [j.id, j.user])).toEqual([
      ['12420793761792', '1001'],
      ['91096977768448', '1002'],
      ['91150983626752', '1001'],
    ]);
    expect(f.calls().slice(0, 2)).toEqual([[...LIST_ARGS], [...LEGACY_LIST_ARGS]]);
  });

  it('reports malformed listing output, naming the command', async () => {
    const f = fake({ jobs: QUEUE, faults: [{ argv: ['jobs'], stdout: 'JOBID USER NAME\n' }] });
    const e = await fluxError(readFluxJobs({ flux: FAKE_FLUX, env: f.env }));
    expect(e.failure).toBe('malformed');
    expect(e.message).toContain(`\`${FAKE_FLUX} jobs --json --filter=pending --user=all --count=0\``);
    expect(e.message).toMatch(/not JSON/);
  });

  it('reports a malformed jobspec (no tasks), naming the job', async () => {
    const { tasks: _, ...noTasks } = SPECS['seed-hostname']!;
    const f = fake({ jobs: [QUEUE[0]!, pending(4242, 'broken', noTasks, { ntasks: 1 })] });
    const e = await fluxError(readFluxJobs({ flux: FAKE_FLUX, env: f.env }));
    expect(e.message).toMatch(new RegExp(`^invalid output of \`${FAKE_FLUX} job info 4242 jobspec\`:\\n {2}- tasks: `));
  });

  it('reports flux missing (ENOENT) and flux not executable', async () => {
    const missing = await fluxError(readFluxJobs({ flux: join(work, 'no-such-flux') }));
    expect(missing).toMatchObject({ failure: 'not-found', code: 'FluxNotFound', retryable: false });
    expect(missing.message).toMatch(/no-such-flux not found \(ENOENT\)/);
    const notExec = join(work, 'not-executable');
    writeFileSync(notExec, '#!/bin/sh\n');
    chmodSync(notExec, 0o644);
    expect(await fluxError(readFluxJobs({ flux: notExec }))).toMatchObject({ failure: 'not-executable', code: 'FluxNotFound' });
  });

  it('surfaces a non-zero exit with its stderr (retryable)', async () => {
    const stderr = 'flux-jobs: ERROR: Unable to connect to Flux: broker socket /run/flux/local was not found\n';
    const f = fake({ jobs: QUEUE, faults: [{ argv: ['jobs'], stderr, exit: 1 }] });
    const e = await fluxError(readFluxJobs({ flux: FAKE_FLUX, env: f.env }));
    expect(e).toMatchObject({ failure: 'exit', exitCode: 1, code: 'FluxCommandFailed', retryable: true, stderr });
    expect(e.message).toBe(`\`${FAKE_FLUX} jobs --json --filter=pending --user=all --count=0\` exited with status 1: ${stderr.trim()}`);
  });

  it('times out a slow flux and kills it', async () => {
    const f = fake({ jobs: QUEUE, faults: [{ argv: ['job', 'info', '91096977768448'], delayMs: 20_000 }] });
    const started = Date.now();
    // The timeout leaves room for a loaded CI machine to start the fake's other calls (a Node
    // start each); only the slow one should hit it.
    const e = await fluxError(readFluxJobs({ flux: FAKE_FLUX, env: f.env, timeoutMs: 4000 }));
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(e).toMatchObject({ failure: 'timeout', code: 'FluxCommandFailed', retryable: true });
    expect(e.message).toBe(`\`${FAKE_FLUX} job info 91096977768448 jobspec\` timed out after 4000 ms (killed)`);
  });

  it('answers slowly but within the timeout: fine', async () => {
    const f = fake({ jobs: [QUEUE[0]!], faults: [{ argv: ['jobs'], delayMs: 300 }] });
    expect(await readFluxJobs({ flux: FAKE_FLUX, env: f.env, timeoutMs: 10_000 })).toHaveLength(1);
  });

  it('leaves out jobs that vanished or belong to another user, and says so', async () => {
    const f = fake({
      jobs: QUEUE,
      faults: [
        { argv: ['job', 'info', '91096977768448'], stderr: 'flux-job: access is restricted to job/instance owner\n', exit: 1 },
        { argv: ['job', 'info', '91150983626752'], stderr: 'flux-job: invalid job id\n', exit: 1 },
      ],
    });
    const skipped: [string, string][] = [];
    const jobs = await readFluxJobs({ flux: FAKE_FLUX, env: f.env, onSkip: (id, why) => skipped.push([id, why]) });
    expect(jobs.map((j) => j.id)).toEqual(['12420793761792']);
    expect(skipped.sort()).toEqual([
      ['91096977768448', 'flux-job: access is restricted to job/instance owner'],
      ['91150983626752', 'flux-job: invalid job id'],
    ]);
  });
});

describe('the fake flux rejects what flux rejects', () => {
  const f = fake({ jobs: QUEUE });
  const run = (...args: string[]) => fluxError(runFlux(FAKE_FLUX, args, { env: f.env }));

  it('unknown commands and subcommands', async () => {
    expect(await run('frobnicate')).toMatchObject({ exitCode: 1, stderr: "flux: `frobnicate' is not a flux command.  See 'flux --help'\n" });
    expect((await run('job', 'frobnicate')).stderr).toMatch(/^Usage: flux-job \[OPTIONS\] COMMAND ARGS/);
  });

  it('unknown flags, argparse-style for flux-jobs, optparse-style for flux-job', async () => {
    const jobs = await run('jobs', '--json', '--bogus');
    expect(jobs.exitCode).toBe(2);
    expect(jobs.stderr).toMatch(/flux-jobs: error: unrecognized arguments: --bogus\n$/);
    const info = await run('job', 'info', '--bogus', '1', 'jobspec');
    expect(info).toMatchObject({ exitCode: 1, stderr: "flux-job: unrecognized option '--bogus'\nTry `flux-job info --help' for more information.\n" });
  });

  it('bad job ids, unknown jobs, keys a pending job lacks, wrong argument counts', async () => {
    expect((await run('job', 'info', 'xyz', 'jobspec')).stderr).toBe('flux-job: error parsing jobid: "xyz"\n');
    expect((await run('job', 'info', '5', 'jobspec')).stderr).toBe('flux-job: invalid job id\n');
    expect((await run('job', 'info', '12420793761792', 'R')).stderr).toBe('flux-job: R: key not found\n');
    expect((await run('job', 'info', '12420793761792')).stderr).toMatch(/^Usage: flux job info id key/);
  });
});

describe('the fake flux prints what flux-core 0.88 printed (../shared/reference/flux-samples)', () => {
  // Real output captured from flux-core 0.88.0 (flux-real.md); the fake must match it byte for
  // byte so tests that use it see Flux's format, not ours. A missing sample fails the test.
  const SAMPLES = join(dirname(fileURLToPath(import.meta.url)), '../../../shared/reference/flux-samples');
  const sample = (f: string) => readFileSync(join(SAMPLES, f), 'utf8');
  const asFake = (rec: Record<string, unknown>, jobspec?: unknown): FakeJob => ({ ...rec, id: String(rec.id), ...(jobspec ? { jobspec } : {}) }) as FakeJob;

  it('`flux jobs --json --filter=pending …` and `flux job info ID jobspec`', async () => {
    const spec = JSON.parse(sample('job-info-jobspec.json')) as unknown;
    const listing = JSON.parse(sample('jobs-pending.json')) as { jobs: Record<string, unknown>[] };
    const f = fake({ jobs: listing.jobs.map((r) => asFake(r, spec)) });
    expect(await runFlux(FAKE_FLUX, LIST_ARGS, { env: f.env })).toBe(sample('jobs-pending.json'));
    expect(await runFlux(FAKE_FLUX, ['job', 'info', '14176747520', 'jobspec'], { env: f.env })).toBe(sample('job-info-jobspec.json'));
  });

  it('`flux jobs --json ID` (one bare object), and unknown ids as flux reports them', async () => {
    const running = JSON.parse(sample('jobs-one-running.json')) as Record<string, unknown>;
    const f = fake({ jobs: [asFake(running)] });
    expect(await runFlux(FAKE_FLUX, ['jobs', '--json', '8925478912'], { env: f.env })).toBe(sample('jobs-one-running.json'));
    const e = await fluxError(runFlux(FAKE_FLUX, ['jobs', '--json', '1', '2'], { env: f.env }));
    expect(e).toMatchObject({ exitCode: 1, stderr: 'JobID 1 unknown\nJobID 2 unknown\n' });
    const both = JSON.parse(await runFlux(FAKE_FLUX, ['jobs', '--json', '8925478912', '1'], { env: f.env })) as { jobs: unknown[] };
    expect(both.jobs).toHaveLength(1);
  });
});
