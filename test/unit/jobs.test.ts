import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { parseJobs, readJobsFile } from '../../src/jobs/file-source.js';
import { isBurstable, selectJobs } from '../../src/select/selectors.js';
import { inputError } from '../support/errors.js';

/** flux-burst's seed example: the job dict its client hands a selector (job-list record + jobspec). */
const SEED = `
- id: 12420793761792
  userid: 1000
  urgency: 16
  priority: 16
  state: 8
  name: hostname
  ntasks: 4
  nnodes: 4
  t_submit: 1671057329.4326725
  spec:
    version: 1
    resources:
      - type: node
        count: 4
        exclusive: true
        with:
          - type: slot
            count: 1
            label: task
            with:
              - type: core
                count: 1
    tasks:
      - command: [hostname]
        slot: task
        count: { per_slot: 1 }
    attributes:
      system:
        duration: 0
        cwd: /home/fluxuser
        shell: { options: { rlimit: { cpu: -1 } } }
        burstable: 1
`;


const paths = (e: InputError) => e.issues.map((i) => i.path);

const fluxEntry = (id: string | number, resources: string, extra = '') =>
  `- id: ${id}\n${extra}  spec:\n    resources: ${resources}\n    tasks: [{ command: [app], slot: task, count: { per_slot: 1 } }]\n`;

describe('Flux jobinfo shape', () => {
  it('normalises the flux-burst seed example', () => {
    const [job, ...rest] = parseJobs(SEED, 'seed');
    expect(rest).toEqual([]);
    expect(job).toEqual({
      id: '12420793761792',
      name: 'hostname',
      user: '1000',
      nodes: 4,
      tasks: 4,
      coresPerNode: 1,
      exclusive: true,
      command: ['hostname'],
      attributes: { system: { duration: 0, cwd: '/home/fluxuser', shell: { options: { rlimit: { cpu: -1 } } }, burstable: 1 } },
    });
    expect(job!.walltimeSeconds).toBeUndefined(); // duration 0 means unlimited
    expect(isBurstable(job!)).toBe(true);
  });

  it('derives nodes and tasks from the jobspec when the job-list fields are absent', () => {
    const [job] = parseJobs(fluxEntry(7, '[{ type: node, count: 3, with: [{ type: slot, count: 2, label: task, with: [{ type: core, count: 4 }] }] }]'), 't');
    expect(job).toMatchObject({ id: '7', name: 'app', nodes: 3, tasks: 6, coresPerNode: 8 });
    expect(job!.exclusive).toBeUndefined();
    expect(job!.gpusPerNode).toBeUndefined();
  });

  it('counts GPUs in the slot as gpusPerNode (slots × per-slot GPUs)', () => {
    const [job] = parseJobs(
      fluxEntry(8, '[{ type: node, count: 2, with: [{ type: slot, count: 2, label: task, with: [{ type: core, count: 4 }, { type: gpu, count: 1 }] }] }]'),
      't',
    );
    expect(job).toMatchObject({ nodes: 2, tasks: 4, coresPerNode: 8, gpusPerNode: 2 });
  });

  it('reads a count range as its minimum and the duration as the walltime', () => {
    const text = `- id: 9\n  spec:\n    resources: [{ type: node, count: { min: 2, max: 8 }, with: [{ type: slot, count: 1, label: task, with: [{ type: core, count: 2 }] }] }]\n    tasks: [{ command: [app], slot: task, count: { per_slot: 1 } }]\n    attributes: { system: { duration: 3600, burstable: 1 } }\n`;
    const [job] = parseJobs(text, 't');
    expect(job).toMatchObject({ nodes: 2, tasks: 2, coresPerNode: 2, walltimeSeconds: 3600 });
  });

  it('has no attributes at all: not burstable, and attributes normalised to an empty system map', async () => {
    const [job] = parseJobs(fluxEntry(10, '[{ type: node, count: 1, with: [{ type: slot, count: 1, label: task, with: [{ type: core, count: 1 }] }] }]'), 't');
    expect(job!.attributes).toEqual({ system: {} });
    expect(isBurstable(job!)).toBe(false);
    expect(await selectJobs([job!], { kind: 'burstable' })).toEqual({ selected: [], skipped: [{ id: '10', reason: 'not marked burstable' }] });
  });

  it("selects by key presence, flux-burst's rule: burstable: 0, false, null, 1 or a word all select; no key does not", async () => {
    const entry = (id: string, b: string | undefined) =>
      `- id: ${id}\n  spec:\n    resources: [{ type: slot, count: 1, label: task, with: [{ type: core, count: 1 }] }]\n    tasks: [{ command: [x] }]\n    attributes: { system: { ${b === undefined ? 'queue: q' : `burstable: ${b}`} } }\n`;
    const jobs = parseJobs([entry('zero', '0'), entry('no', 'false'), entry('nothing', 'null'), entry('one', '1'), entry('yes', 'true'), entry('word', 'gpu'), entry('absent', undefined)].join(''), 't');
    const r = await selectJobs(jobs, { kind: 'burstable' });
    expect(r.selected.map((j) => j.id)).toEqual(['zero', 'no', 'nothing', 'one', 'yes', 'word']);
    expect(r.skipped).toEqual([{ id: 'absent', reason: 'not marked burstable' }]);
    // The short form: burstable: true sets the key, burstable: false (the default) leaves it out.
    const short = parseJobs('- { id: s1, command: [x], burstable: true }\n- { id: s2, command: [x], burstable: false }\n- { id: s3, command: [x] }\n', 't');
    expect((await selectJobs(short, { kind: 'burstable' })).selected.map((j) => j.id)).toEqual(['s1']);
  });

  it('keeps user attributes and takes username over userid', () => {
    const text = `- id: 11\n  userid: 1000\n  username: alice\n  spec:\n    resources: [{ type: slot, count: 1, label: task, with: [{ type: core, count: 1 }] }]\n    tasks: [{ command: [x] }]\n    attributes: { system: { burstable: 1 }, user: { project: p1 } }\n`;
    const [job] = parseJobs(text, 't');
    expect(job!.user).toBe('alice');
    expect(job!.attributes).toEqual({ system: { burstable: 1 }, user: { project: 'p1' } });
  });

  it('accepts large counts within the bounds; beyond them the field is named (issue 14: 1e9 tasks killed workers)', () => {
    const [job] = parseJobs(fluxEntry(12, '[{ type: node, count: 10000, with: [{ type: slot, count: 1, label: task, with: [{ type: core, count: 1024 }] }] }]', '  nnodes: 10000\n  ntasks: 1000000\n'), 't');
    expect(job).toMatchObject({ nodes: 10_000, tasks: 1_000_000, coresPerNode: 1024 });
    expect(() => parseJobs(fluxEntry(12, '[{ type: node, count: 1 }]', '  nnodes: 100000\n  ntasks: 1000000000\n'), 't')).toThrow(/jobs\[0\]\.nnodes: .*<=10000[\s\S]*jobs\[0\]\.ntasks: .*<=1048576/);
  });

  it('keeps 64-bit Flux ids exact, as numbers or as strings, in YAML and JSON', () => {
    const [ok] = parseJobs(fluxEntry(Number.MAX_SAFE_INTEGER, '[{ type: node, count: 1 }]'), 't');
    expect(ok!.id).toBe('9007199254740991');
    // 2^53+1 cannot be held by a JS number: read as one it would silently become ...992.
    const [big] = parseJobs(fluxEntry('9007199254740993', '[{ type: node, count: 1 }]'), 't');
    expect(big!.id).toBe('9007199254740993');
    const json = `[{"id": 18446744073709551615, "spec": {"resources": [{"type": "node", "count": 1}], "tasks": [{"command": ["x"]}]}}]`;
    expect(parseJobs(json, 't', 'json')[0]!.id).toBe('18446744073709551615');
    // Quoted, any Flux id survives exactly.
    const [quoted] = parseJobs(fluxEntry('"18446744073709551615"', '[{ type: node, count: 1 }]'), 't');
    expect(quoted!.id).toBe('18446744073709551615');
  });

  it('refuses a count too large to be a safe integer, naming the field', () => {
    const e = inputError(() => parseJobs(fluxEntry(13, '[{ type: node, count: 1 }]', '  nnodes: 100000000000000000000\n'), 't'));
    expect(paths(e)).toEqual(['jobs[0].nnodes']);
  });

  it('passes extra Flux keys through (job-list prints many more than are read)', () => {
    const [job] = parseJobs(SEED.replace('  urgency: 16\n', '  urgency: 16\n  expiration: 0\n  annotations: { sched: { queue: batch } }\n'), 't');
    expect(job!.id).toBe('12420793761792');
  });
});

describe('jobs document formats', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-jobs-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const seedJson = {
    id: 12420793761792,
    userid: 1000,
    nnodes: 4,
    ntasks: 4,
    spec: {
      version: 1,
      resources: [{ type: 'node', count: 4, exclusive: true, with: [{ type: 'slot', count: 1, label: 'task', with: [{ type: 'core', count: 1 }] }] }],
      tasks: [{ command: ['hostname'], slot: 'task', count: { per_slot: 1 } }],
      attributes: { system: { duration: 0, burstable: 1 } },
    },
  };

  it('parses JSON (a list) the same way as YAML', () => {
    const [job] = parseJobs(JSON.stringify([seedJson]), 't', 'json');
    expect(job).toMatchObject({ id: '12420793761792', user: '1000', nodes: 4, tasks: 4, coresPerNode: 1, exclusive: true, command: ['hostname'] });
    expect(job).toEqual(parseJobs(SEED, 't').map((j) => ({ ...j, attributes: { system: { duration: 0, burstable: 1 } } }))[0]);
  });

  it('readJobsFile picks JSON by the .json extension and YAML otherwise', async () => {
    const json = join(dir, 'jobs.json');
    writeFileSync(json, JSON.stringify({ jobs: [seedJson] }));
    expect((await readJobsFile(json)).map((j) => j.id)).toEqual(['12420793761792']);
    const yml = join(dir, 'jobs.yml');
    writeFileSync(yml, SEED);
    expect((await readJobsFile(yml)).map((j) => j.nodes)).toEqual([4]);
    // JSON rules apply to .json: a trailing comma is an error there, naming the format.
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '[{"id": "a", "command": ["x"],}]');
    await expect(readJobsFile(bad)).rejects.toThrow(/invalid jobs file .*bad\.json:\n {2}- \(root\): not valid JSON/);
  });

  it('readJobsFile names the file it cannot read', async () => {
    const missing = join(dir, 'missing.yaml');
    await expect(readJobsFile(missing)).rejects.toThrow(`invalid jobs file ${missing}:\n  - (root): cannot read: ENOENT`);
  });

  it('accepts a {jobs: [...]} wrapper in YAML and JSON', () => {
    expect(parseJobs('jobs:\n  - { id: a, command: [x] }\n  - { id: b, command: [y] }\n', 't').map((j) => j.id)).toEqual(['a', 'b']);
    expect(parseJobs(JSON.stringify({ jobs: [{ id: 'a', command: ['x'] }] }), 't', 'json').map((j) => j.id)).toEqual(['a']);
  });

  it('an empty list is no jobs, not an error', () => {
    expect(parseJobs('[]', 't')).toEqual([]);
    expect(parseJobs('jobs: []', 't')).toEqual([]);
  });

  it('mixes Flux jobinfo and the short form in one file (examples/jobs.yaml)', async () => {
    const jobs = await readJobsFile(join(import.meta.dirname, '../../examples/jobs.yaml'));
    expect(jobs.map((j) => j.id)).toEqual(['12420793761792', 'sleepy', 'stays-home']);
    expect((await selectJobs(jobs, { kind: 'burstable' })).selected.map((j) => j.id)).toEqual(['12420793761792', 'sleepy']);
    expect(jobs[0]).toMatchObject({ nodes: 2, tasks: 2, coresPerNode: 1, exclusive: true, user: '1000' });
  });
});

describe('short form', () => {
  it('fills defaults: one node, tasks = nodes, name = program, not burstable', () => {
    const [job] = parseJobs('- { id: a, command: [sh, -c, "echo hi"] }\n', 't');
    expect(job).toEqual({ id: 'a', name: 'sh', nodes: 1, tasks: 1, command: ['sh', '-c', 'echo hi'], attributes: { system: {} } });
    expect(isBurstable(job!)).toBe(false);
  });

  it('maps every field, and burstable: true to attributes.system.burstable = 1', () => {
    const text = `- id: 42
  name: sim
  user: bob
  command: [sim, --steps, "10"]
  nodes: 4
  tasks: 16
  coresPerNode: 8
  gpusPerNode: 0
  memoryMiB: 4096
  walltimeSeconds: 600
  exclusive: false
  burstable: true
  attributes: { system: { queue: batch }, user: { tag: x } }
`;
    const [job] = parseJobs(text, 't');
    expect(job).toEqual({
      id: '42',
      name: 'sim',
      user: 'bob',
      command: ['sim', '--steps', '10'],
      nodes: 4,
      tasks: 16,
      coresPerNode: 8,
      gpusPerNode: 0,
      memoryMiB: 4096,
      walltimeSeconds: 600,
      exclusive: false,
      attributes: { system: { queue: 'batch', burstable: 1 }, user: { tag: 'x' } },
    });
    expect(isBurstable(job!)).toBe(true);
  });
});

describe('errors name jobs[i].field', () => {
  it('reports every bad entry in one error, each field by path', () => {
    const text = `
- { id: ok, command: [x] }
- { id: a, command: [] }
- { id: b, command: [x], nodes: 0 }
- { id: c, command: [x], nodez: 2 }
- { command: [x] }
- just a string
- id: f
  spec:
    resources: []
    tasks: [{ command: [""] }]
`;
    const e = inputError(() => parseJobs(text, 'jobs file j.yaml'));
    expect(paths(e)).toEqual(['jobs[1].command', 'jobs[2].nodes', 'jobs[3].nodez', 'jobs[4].id', 'jobs[5]', 'jobs[6].spec.resources', 'jobs[6].spec.tasks[0].command[0]']);
    expect(e.message).toMatch(/^invalid jobs file j\.yaml:\n/);
    expect(e.message).toContain('  - jobs[1].command: must name a program to run');
    expect(e.message).toContain('  - jobs[3].nodez: unknown field (not in the schema)');
    expect(e.message).toContain('  - jobs[5]: expected a mapping');
    expect(e.message).toContain('  - jobs[6].spec.resources: a jobspec needs at least one resource');
  });

  it('Flux jobinfo with tasks: [] names jobs[i].spec.tasks', () => {
    const e = inputError(() => parseJobs('- id: 1\n  spec:\n    resources: [{ type: node, count: 1 }]\n    tasks: []\n', 't'));
    expect(e.issues).toEqual([{ path: 'jobs[0].spec.tasks', message: 'a jobspec needs at least one task' }]);
  });

  it('names nested resource fields', () => {
    const e = inputError(() => parseJobs(fluxEntry(1, '[{ type: node, count: 1, with: [{ type: slot, count: -1 }] }]'), 't'));
    expect(paths(e)).toEqual(['jobs[0].spec.resources[0].with[0].count']);
  });

  it('duplicate ids (also across number and string spellings) name the later entry and the earlier one', () => {
    const e = inputError(() => parseJobs('- { id: 7, command: [x] }\n- { id: "7", command: [y] }\n', 't'));
    expect(e.issues).toEqual([{ path: 'jobs[1].id', message: 'duplicate job id "7" (also jobs[0])' }]);
  });

  it('a document that is not a list names `jobs`; bad syntax names the format and line', () => {
    expect(inputError(() => parseJobs('id: a\ncommand: [x]\n', 't')).issues).toEqual([{ path: 'jobs', message: 'expected a list of jobs (or a mapping with a `jobs` list)' }]);
    expect(inputError(() => parseJobs('jobs: 3\n', 't')).issues[0]!.path).toBe('jobs');
    const yaml = inputError(() => parseJobs('- id: a\n  id: b\n', 't'));
    expect(yaml.issues[0]!.message).toMatch(/^not valid YAML: Map keys must be unique at line 2/);
    expect(inputError(() => parseJobs('[', 't', 'json')).issues[0]!.message).toMatch(/^not valid JSON/);
  });
});
