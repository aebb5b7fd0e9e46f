// Counts and ids are bounded where jobs enter (short form and Flux jobinfo alike): each refusal
// names the job and the field, so a typo never reaches a worker.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { parseJobs } from '../../src/jobs/file-source.js';

const FLUX = (over: { id?: string; spec?: string; extra?: string } = {}) =>
  `- id: ${over.id ?? 5}\n${over.extra ?? ''}  spec:\n${
    over.spec ??
    '    resources: [{ type: node, count: 1, with: [{ type: slot, count: 1, label: task, with: [{ type: core, count: 1 }] }] }]\n    tasks: [{ command: [x], slot: task, count: { per_slot: 1 } }]\n'
  }`;
const taskCount = (count: string) =>
  `    resources: [{ type: node, count: 2, with: [{ type: slot, count: 1, label: task, with: [{ type: core, count: 1 }] }] }]\n    tasks: [{ command: [x], slot: task, count: ${count} }]\n`;

function refusal(text: string): string {
  try {
    parseJobs(text, 'jobs file t.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).issues.map((i) => `${i.path}: ${i.message}`).join('\n');
  }
  throw new Error('accepted');
}

describe('job bounds at the boundary', () => {
  it.each([
    ['tasks: 1000000000 (short form)', '- id: big\n  command: [x]\n  tasks: 1000000000\n', /jobs\[0\]\.tasks: .*<=1048576/],
    ['tasks over 1024 per node', '- id: big\n  command: [x]\n  nodes: 2\n  tasks: 4096\n', /jobs\[0\]\.tasks: job big: 4096 tasks on 2 node\(s\); at most 1024 per node/],
    ['nodes: 20000', '- id: wide\n  command: [x]\n  nodes: 20000\n  tasks: 20000\n', /jobs\[0\]\.nodes: .*<=10000/],
    ['coresPerNode: 100000', '- id: c\n  command: [x]\n  coresPerNode: 100000\n', /jobs\[0\]\.coresPerNode: .*<=1024/],
    ['gpusPerNode: 1000', '- id: g\n  command: [x]\n  gpusPerNode: 1000\n', /jobs\[0\]\.gpusPerNode: .*<=64/],
    ['tasks < nodes (short form)', '- id: few\n  command: [x]\n  nodes: 4\n  tasks: 2\n', 'jobs[0].tasks: job few: 2 task(s) on 4 nodes; give at least one task per node'],
    ['Flux ntasks: 1000000000', FLUX({ extra: '  ntasks: 1000000000\n' }), /jobs\[0\]\.ntasks: .*<=1048576/],
    ['Flux per_slot: -3', FLUX({ spec: taskCount('{ per_slot: -3 }') }), /jobs\[0\]\.spec\.tasks\[0\]\.count\.per_slot: .*>0/],
    ['Flux total: 0.5', FLUX({ spec: taskCount('{ total: 0.5 }') }), /jobs\[0\]\.spec\.tasks\[0\]\.count\.total: .*int/i],
    ['Flux total < nodes', FLUX({ id: '77', spec: taskCount('{ total: 1 }') }), 'jobs[0].spec.tasks[0].count: job 77: 1 task(s) on 2 nodes'],
    ['Flux job without spec', '- id: 42\n  nnodes: 1\n  ntasks: 1\n  userid: 1000\n', /jobs\[0\]\.spec: job 42 looks like a Flux job \(nnodes, ntasks, userid\) but has no jobspec/],
    ['job id with a space', '- id: "a b"\n  command: [x]\n', 'jobs[0].id: job id "a b": ASCII letters, digits'],
    ['job id with a slash', '- id: a/b\n  command: [x]\n', 'jobs[0].id: job id "a/b"'],
    ['job id with non-ASCII', '- id: ƒ2abc\n  command: [x]\n', 'jobs[0].id: job id "ƒ2abc"'],
    ['job id "..": a path component', '- id: ".."\n  command: [x]\n', 'jobs[0].id: job id ".."'],
    ['job id of 241 characters', `- id: ${'a'.repeat(241)}\n  command: [x]\n`, /jobs\[0\]\.id: job id "a{40}…" is 241 characters; at most 240/],
    ['a NUL byte in an argument', '- id: nul\n  command: [echo, "a\\0b"]\n', 'jobs[0].command[1]: an argument contains a NUL byte'],
  ])('refuses %s', (_name, text, want) => {
    const got = refusal(text);
    if (typeof want === 'string') expect(got).toContain(want);
    else expect(got).toMatch(want);
  });

  it('accepts what is in bounds: Flux ids, Slurm-style ids, 1024 tasks per node, 240-character ids', () => {
    const jobs = parseJobs(
      `- id: 12420793761792\n  command: [x]\n- id: "1234_5"\n  command: [x]\n  nodes: 2\n  tasks: 2048\n- id: ${'b'.repeat(240)}\n  command: [x]\n- id: job-1.a:2\n  command: [x]\n`,
      't',
    );
    expect(jobs.map((j) => j.tasks)).toEqual([1, 2048, 1, 1]);
    expect(parseJobs(FLUX({ spec: taskCount('{ total: 2 }') }), 't')[0]).toMatchObject({ nodes: 2, tasks: 2 });
  });
});
