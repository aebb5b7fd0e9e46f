// Our hostlists against the real Slurm 22.05: `scontrol show hostnames LIST` (expand) and
// `scontrol show hostlist NAMES` (compress). Both need only a SLURM_CONF that parses, no daemon.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { compressHostlist, expandHostlist } from '../../src/slurm/hostlist.js';
import { minimalConf } from '../../testkit/slurm/local-cluster.js';

const conf = minimalConf();
afterAll(() => conf.cleanup());

function scontrol(args: string[]): { out: string; err: string; code: number | null } {
  const r = spawnSync('/usr/bin/scontrol', args, { env: { ...process.env, ...conf.env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { out: r.stdout, err: r.stderr, code: r.status };
}
const slurmExpand = (list: string) => scontrol(['show', 'hostnames', list]).out.split('\n').filter(Boolean);
const slurmCompress = (names: string[]) => scontrol(['show', 'hostlist', names.join(',')]).out.trim();

const EXPAND = [
  'node1',
  'node[1-3]',
  'node[001-010]',
  'node[01-3]',
  'node[1-03]',
  'node[9-11]',
  'node[098-101]',
  'n[00-02]',
  'node[1-3,7,10-11]',
  'n[3,1,2]',
  'n[1-3,2]',
  'a[1-2],b3',
  'a[1-2],b[3-4],c',
  'a,,b',
  'a b\tc',
  'node[1-2],',
  'rack[1-2]-node[1-3]',
  'a[1-2]-b[3-4]-c[5-6]',
  'a[1,3]-b[1-2]',
  'a[01-02]-b[1-2]',
  'a[1-2][3-4]',
  'rack[1-2]x[1-2]',
  'a[1-2]b[3-4],c1',
  '[1-3]',
  'n-[1-2]',
  'N[1-2]',
  'node',
  'a1,a1',
  'gpu-a100-[001-004],cpu[1-2]',
  'x[0-65535]',
  'a[1-1024]-b[1-2]',
  'a[0-40000,40001-65535]-b[1]',
];

describe('expandHostlist = scontrol show hostnames', () => {
  it.each(EXPAND)('%s', (list) => {
    expect(expandHostlist(list)).toEqual(slurmExpand(list));
  });
});

// Name lists: each is compressed by both, in the given order (neither sorts nor dedupes).
const COMPRESS: string[][] = [
  ['node1', 'node2', 'node3'],
  ['node001', 'node002', 'node003', 'node010'],
  ['b3', 'a1', 'a2'],
  ['n1', 'n3', 'n2'],
  ['n3', 'n2', 'n1'],
  ['n1', 'n2', 'n3', 'm1', 'n4'],
  ['n9', 'n10'],
  ['n09', 'n10'],
  ['n9', 'n010'],
  ['n01', 'n1'],
  ['n001', 'n002', 'n1000'],
  ['n99', 'n100'],
  ['n099', 'n100'],
  ['n01', 'n02', 'n03', 'n4'],
  ['n0', 'n00'],
  ['node'],
  ['node', 'node'],
  ['a', 'b1', 'b2', 'c'],
  ['n1', 'n2', 'x', 'n3'],
  ['a1b3', 'a1b4', 'a2b3'],
  ['n007'],
  ['n1', 'n3', 'n5', 'n6', 'n7'],
  ['node1', 'node2', 'node1'],
  ['rack1-n1', 'rack1-n2', 'rack2-n1'],
  ['123', '124'],
  [],
];

describe('compressHostlist = scontrol show hostlist', () => {
  it.each(COMPRESS.map((c) => [c.join(',') || '(none)', c] as const))('%s', (_, names) => {
    expect(compressHostlist(names)).toBe(names.length ? slurmCompress(names) : '');
  });

  // (the 64K-host lists are left out: they exceed what fits in one scontrol argument/output buffer)
  it.each(EXPAND.filter((l) => !/^(x\[|a\[0-40000)/.test(l)))('round trip of %s', (list) => {
    const names = slurmExpand(list);
    const ours = compressHostlist(names);
    expect(ours).toBe(slurmCompress(names));
    expect(expandHostlist(ours)).toEqual(names);
  });
});

// Random lists, each checked against scontrol (a few ms per call).
const prefix = fc.constantFrom('n', 'node', 'a1b', 'x-', 'rack2-n', '');
const numbered = fc.tuple(prefix, fc.integer({ min: 0, max: 120 }), fc.integer({ min: 1, max: 4 })).map(([p, n, w]) => `${p}${String(n).padStart(w, '0')}`);
const name = fc.oneof({ weight: 6, arbitrary: numbered }, { weight: 1, arbitrary: fc.constantFrom('login', 'head-a', 'n') });
const range = fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 3 })).map(([lo, len, w]) => (len ? `${String(lo).padStart(w, '0')}-${lo + len}` : String(lo).padStart(w, '0')));
const group = fc.array(range, { minLength: 1, maxLength: 3 }).map((rs) => `[${rs.join(',')}]`);
const entry = fc.oneof(name, fc.tuple(fc.constantFrom('n', 'gpu-', 'r'), group).map(([p, g]) => p + g), fc.tuple(group, fc.constantFrom('-n', 'x'), group).map(([a, m, b]) => `r${a}${m}${b}`));

describe('random cases against scontrol', () => {
  it('compressHostlist(names) = scontrol show hostlist, and expands back', () => {
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 12 }), (names) => {
        const ours = compressHostlist(names);
        expect(ours).toBe(slurmCompress(names));
        expect(expandHostlist(ours)).toEqual(names);
      }),
      { numRuns: 150 },
    );
  });

  it('expandHostlist(list) = scontrol show hostnames', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 4 }), (entries) => {
        const list = entries.join(',');
        expect(expandHostlist(list)).toEqual(slurmExpand(list));
      }),
      { numRuns: 150 },
    );
  });
});

/** What scontrol does with it (for the record) and the words our error must contain. */
const BAD: Array<{ list: string; slurm: 'invalid' | string[]; ours: RegExp }> = [
  { list: 'node[3-1]', slurm: 'invalid', ours: /3 is above 1/ },
  { list: 'node[a-b]', slurm: 'invalid', ours: /"a-b" is not a number/ },
  { list: 'node[1x2]', slurm: 'invalid', ours: /"1x2" is not a number/ },
  { list: 'node[-2]', slurm: 'invalid', ours: /"-2" is not a number/ },
  { list: 'node[1-2-3]', slurm: 'invalid', ours: /"1-2-3"/ },
  { list: 'node[]', slurm: 'invalid', ours: /empty range/ },
  { list: 'node[1,,2]', slurm: 'invalid', ours: /empty range/ },
  { list: 'node[1-2]x', slurm: 'invalid', ours: /"x" after the last "\]"/ },
  { list: 'rack[1-2]-node', slurm: 'invalid', ours: /"-node" after the last "\]"/ },
  { list: 'node[1-2]]', slurm: 'invalid', ours: /"\]" without "\["/ },
  { list: 'a[[1-2]]', slurm: 'invalid', ours: /nested/ },
  { list: 'x[0-65536]', slurm: 'invalid', ours: /65537 hosts.*at most 65536/ },
  { list: 'a[0-40000,40001-70000]-b[1]', slurm: 'invalid', ours: /70001 values.*at most 65536/ },
  // Slurm is lenient with these and prints something odd; we refuse.
  { list: 'node[1-2', slurm: ['node]'], ours: /"\[" without "\]"/ },
  { list: 'node1-2]', slurm: ['node1-2]'], ours: /"\]" without "\["/ },
  { list: 'no[de[1-2]', slurm: ['no[de1', 'no[de2'], ours: /nested/ },
  { list: 'node[1-]', slurm: ['node1'], ours: /"1-" is not a number/ },
  { list: 'node[ 1-2]', slurm: ['node01', 'node02'], ours: /whitespace inside brackets/ },
  { list: '', slurm: [], ours: /empty hostlist/ },
  { list: ' , ', slurm: [], ours: /empty hostlist/ },
];

describe('bad hostlists', () => {
  it.each(BAD)('$list', ({ list, slurm, ours }) => {
    const r = scontrol(['show', 'hostnames', list]);
    if (slurm === 'invalid') {
      // scontrol says so on stderr but still exits 0
      expect(r.err).toContain(`Invalid hostlist: ${list}`);
      expect(r.out).toBe('');
    } else {
      expect(r.out.split('\n').filter(Boolean)).toEqual(slurm);
    }
    let err: unknown;
    try {
      expandHostlist(list);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toContain(`hostlist "${list}"`);
    expect((err as InputError).message).toMatch(ours);
  });

  it('compressHostlist refuses names it could not write in a hostlist', () => {
    expect(() => compressHostlist(['a', 'b,c'])).toThrow(/\[1\]: "b,c" has a comma/);
    expect(() => compressHostlist(['a', ''])).toThrow(/\[1\]: empty host name/);
    expect(() => compressHostlist(['n[1]'])).toThrow(InputError);
  });
});
