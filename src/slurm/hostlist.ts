// Slurm hostlists (`node[001-010],gpu[1-2]`), expanded and compressed the way Slurm 22.05 does it
// (src/common/hostlist.c: _hostlist_create_bracketed, _parse_single_range, _push_range_list,
// hostlist_push_range, _width_equiv, _get_bracketed_list), checked against `scontrol show
// hostnames` / `scontrol show hostlist` in test/unit/hostlist.test.ts.
//
// Expansion:
//  - Entries are separated by commas, spaces or tabs (not inside brackets); empty entries are skipped.
//  - `prefix[ranges]`: ranges are comma lists of `N` or `LO-HI` (LO <= HI); numbers are zero-padded
//    to the width LO is written with (`[01-3]` → 01 02 03, `[1-03]` → 1 2 3, `[9-11]` → 9 10 11).
//  - Several bracket groups in one entry (`rack[1-2]-node[1-3]`) expand to every combination. The
//    order is Slurm's: the last group varies fastest, the others loop from the one before the last
//    (outermost) back to the first (`a[1-2]-b[3-4]-c[5-6]` → a1-b3-c5, a1-b3-c6, a2-b3-c5, …).
//  - Nothing may follow the last `]` (Slurm: "Invalid hostlist: node[1-2]x").
//  - Limits as in Slurm 22.05: at most 65536 hosts in one range and 65536 values in one group that
//    is not the last.
//  - Order and duplicates are kept (Slurm does not sort or dedupe).
// Stricter than Slurm (Slurm is lenient and prints something odd or nothing; we refuse):
//  unbalanced or nested brackets (`node[1-2` → Slurm prints `node]`), an empty list, `N-` (Slurm
//  reads `[1-]` as 1), whitespace inside brackets (Slurm reads `[ 1-2]` as 01 02).
//
// Compression (`compressHostlist`), like `scontrol show hostlist` (hostlist_ranged_string): names
// keep their order; a name whose numeric suffix continues the previous name's range (same prefix,
// next number, compatible zero padding) joins it; consecutive ranges with one prefix share one
// bracket (`n[1-3,5]`); a lone host stays bare (`n007`). Not sorted, duplicates kept
// (`n1,n2,n1` → `n[1-2,1]`).

import { InputError } from '../core/errors.js';

/** Most hosts in one `LO-HI` range (hostlist.c MAX_RANGE). */
export const MAX_RANGE = 64 * 1024;
/** Most values in one bracket group that is not the last (hostlist.c MAX_PREFIX_CNT; 64K in 22.05). */
export const MAX_PREFIX_CNT = 64 * 1024;

interface Range {
  lo: number;
  hi: number;
  width: number;
}

type Segment = { text: string } | { ranges: Range[]; source: string };

const SEPARATORS = new Set([',', ' ', '\t']);

function bad(list: string, message: string): InputError {
  return new InputError(`hostlist "${list}"`, [{ path: '', message }]);
}

/** Split on separators outside brackets; brackets must balance and not nest. */
function tokens(list: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (const c of list) {
    if (c === '[') {
      if (depth > 0) throw bad(list, 'nested "[" (brackets do not nest)');
      depth = 1;
    } else if (c === ']') {
      if (depth === 0) throw bad(list, 'unbalanced brackets: "]" without "["');
      depth = 0;
    } else if (SEPARATORS.has(c) && depth === 0) {
      if (cur) out.push(cur);
      cur = '';
      continue;
    } else if ((c === ' ' || c === '\t') && depth > 0) {
      throw bad(list, 'whitespace inside brackets');
    }
    cur += c;
  }
  if (depth > 0) throw bad(list, 'unbalanced brackets: "[" without "]"');
  if (cur) out.push(cur);
  return out;
}

function parseRanges(list: string, body: string): Range[] {
  return body.split(',').map((item) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (!m) {
      const what = item === '' ? 'an empty range' : `"${item}" is not a number or a LO-HI range of numbers`;
      throw bad(list, `invalid range in "[${body}]": ${what}`);
    }
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi)) throw bad(list, `invalid range "${item}": number too large`);
    if (lo > hi) throw bad(list, `invalid range "${item}": ${m[1]} is above ${m[2]}`);
    if (hi - lo + 1 > MAX_RANGE) throw bad(list, `range "${item}" has ${hi - lo + 1} hosts (Slurm allows at most ${MAX_RANGE} in one range)`);
    return { lo, hi, width: m[1]!.length };
  });
}

function segments(list: string, token: string): Segment[] {
  const out: Segment[] = [];
  const re = /([^[\]]*)\[([^[\]]*)\]/y;
  let at = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(token))) {
    if (m[1]) out.push({ text: m[1] });
    out.push({ ranges: parseRanges(list, m[2]!), source: `[${m[2]}]` });
    at = re.lastIndex;
  }
  const rest = token.slice(at);
  if (out.length === 0) return [{ text: token }];
  if (rest) throw bad(list, `"${rest}" after the last "]" in "${token}" (Slurm allows nothing after the last bracket group)`);
  return out;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

function* values(ranges: Range[]): Generator<string> {
  for (const r of ranges) for (let n = r.lo; n <= r.hi; n++) yield pad(n, r.width);
}

/** Expand the prefix's bracket groups Slurm's way (rightmost group outermost), then the last group. */
function expandToken(list: string, segs: Segment[], out: string[]): void {
  const last = segs[segs.length - 1]!;
  if (!('ranges' in last)) {
    out.push((last as { text: string }).text);
    return;
  }
  const prefix = segs.slice(0, -1);
  const rec = (pre: Segment[]) => {
    let idx = -1;
    for (let i = pre.length - 1; i >= 0; i--) if ('ranges' in pre[i]!) { idx = i; break; }
    if (idx < 0) {
      const p = pre.map((s) => (s as { text: string }).text).join('');
      for (const v of values(last.ranges)) out.push(p + v);
      return;
    }
    const group = pre[idx] as { ranges: Range[]; source: string };
    const count = group.ranges.reduce((a, r) => a + r.hi - r.lo + 1, 0);
    if (count > MAX_PREFIX_CNT) throw bad(list, `bracket group "${group.source}" before the last one has ${count} values (Slurm allows at most ${MAX_PREFIX_CNT})`);
    for (const v of values(group.ranges)) rec([...pre.slice(0, idx), { text: v }, ...pre.slice(idx + 1)]);
  };
  rec(prefix);
}

/** Every host name in a Slurm hostlist, in Slurm's order. Bad input → InputError naming the list. */
export function expandHostlist(list: string): string[] {
  const toks = tokens(list);
  if (toks.length === 0) throw bad(list, 'empty hostlist (no host names)');
  const out: string[] = [];
  for (const t of toks) expandToken(list, segments(list, t), out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Compression

interface HostRange {
  prefix: string;
  /** A name without a numeric suffix: prefix is the whole name. */
  single: boolean;
  lo: number;
  hi: number;
  width: number;
}

/** hostname_create: the trailing digits are the number, the rest the prefix. */
function hostRange(name: string): HostRange {
  const m = /^(.*?)(\d+)$/s.exec(name);
  if (!m || !Number.isSafeInteger(Number(m[2]))) return { prefix: name, single: true, lo: 0, hi: 0, width: 0 };
  const n = Number(m[2]);
  return { prefix: m[1]!, single: false, lo: n, hi: n, width: m[2]!.length };
}

/** Zeros `num` gets when printed `width` wide (_zero_padded). */
function zeroPadded(num: number, width: number): number {
  const digits = String(num).length;
  return width > digits ? width - digits : 0;
}

/** _width_equiv: may n (width a.width) and m (width b.width) share a range? Adjusts the width like Slurm. */
function widthEquiv(a: HostRange, b: HostRange): boolean {
  if (a.width === b.width) return true;
  const npad = zeroPadded(a.lo, a.width);
  const nmpad = zeroPadded(a.lo, b.width);
  const mpad = zeroPadded(b.lo, b.width);
  const mnpad = zeroPadded(b.lo, a.width);
  if (npad !== nmpad && mpad !== mnpad) return false;
  if (npad !== nmpad) {
    b.width = a.width;
    return true;
  }
  a.width = b.width;
  return true;
}

const withinRange = (a: HostRange, b: HostRange | undefined) => !!b && a.prefix === b.prefix && !a.single && !b.single;

function numstr(r: HostRange): string {
  return r.lo === r.hi ? pad(r.lo, r.width) : `${pad(r.lo, r.width)}-${pad(r.hi, r.width)}`;
}

/** Slurm's ranged form of these names, in their order (`scontrol show hostlist`). */
export function compressHostlist(names: readonly string[]): string {
  const ranges: HostRange[] = [];
  names.forEach((name, i) => {
    if (!name || /[\s,[\]]/.test(name)) {
      throw new InputError('host names', [{ path: `[${i}]`, message: name ? `"${name}" has a comma, bracket or whitespace` : 'empty host name' }]);
    }
    const hr = hostRange(name);
    const tail = ranges[ranges.length - 1];
    if (tail && !tail.single && !hr.single && tail.prefix === hr.prefix && tail.hi === hr.lo - 1 && widthEquiv(tail, hr)) tail.hi = hr.hi;
    else ranges.push(hr);
  });
  const parts: string[] = [];
  for (let i = 0; i < ranges.length; ) {
    const first = ranges[i]!;
    if (first.single) {
      parts.push(first.prefix);
      i++;
      continue;
    }
    const bracket = first.hi > first.lo || withinRange(first, ranges[i + 1]);
    const nums = [numstr(first)];
    for (i++; i < ranges.length && withinRange(ranges[i]!, ranges[i - 1]); i++) nums.push(numstr(ranges[i]!));
    parts.push(bracket ? `${first.prefix}[${nums.join(',')}]` : `${first.prefix}${nums[0]}`);
  }
  return parts.join(',');
}
