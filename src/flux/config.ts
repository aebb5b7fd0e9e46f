// The lead broker's TOML config for a burstable Flux instance (../shared/reference/flux-real.md):
// every host that may ever burst is declared up front (only the lead binds; with the default
// topology every rank's parent is rank 0), one CURVE certificate for all brokers, static
// resources so the lead has them before anyone joins, and `[resource] noverify` so a broker that
// claims a host name other than the machine's does not drain itself.
//
// Every broker (lead and burst) must read the same file: same hosts in the same order and length,
// same certificate. Only the host name, run dir, local URI and state dir differ per broker, and
// those are command-line attributes (-Shostname, -Srundir, -Slocal-uri, -Sstatedir).

export interface LeadConfigInput {
  /** Path of the CURVE certificate (`flux keygen PATH`), as every broker will read it. */
  curveCert: string;
  /** The lead's host name in `bootstrap.hosts` (rank 0). */
  leadHost: string;
  /** Where the lead binds and the others connect: `tcp://ADDR:PORT`. */
  bind: string;
  /** What followers connect to; default `bind`. */
  connect?: string;
  /** The burst slots' host names, in rank order (ranks 1..N). */
  burstHosts: string[];
  /** Cores per host, `0-1` style (Flux idset); default "0-1". */
  cores?: string;
}

const q = (s: string) => JSON.stringify(s);

/** Compress `burst-0,burst-1,burst-2` into Flux hostlist form `burst-[0-2]` where it can. */
export function hostlist(hosts: string[]): string {
  const groups = new Map<string, { width: number; nums: number[] }>();
  const plain: string[] = [];
  const order: string[] = [];
  for (const h of hosts) {
    const m = /^(.*?)(\d+)$/.exec(h);
    if (!m) {
      plain.push(h);
      order.push(`=${h}`);
      continue;
    }
    const key = `${m[1]}|${m[2]!.length > 1 && m[2]!.startsWith('0') ? m[2]!.length : 0}`;
    if (!groups.has(key)) {
      groups.set(key, { width: Number(key.split('|')[1]), nums: [] });
      order.push(key);
    }
    groups.get(key)!.nums.push(Number(m[2]));
  }
  const out: string[] = [];
  for (const k of order) {
    if (k.startsWith('=')) {
      out.push(k.slice(1));
      continue;
    }
    const [prefix] = k.split('|');
    const { width, nums } = groups.get(k)!;
    const pad = (n: number) => String(n).padStart(width, '0');
    if (nums.length === 1) {
      out.push(`${prefix}${pad(nums[0]!)}`);
      continue;
    }
    const sorted = [...new Set(nums)].sort((a, b) => a - b);
    const ranges: string[] = [];
    for (let i = 0; i < sorted.length; ) {
      let j = i;
      while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
      ranges.push(i === j ? pad(sorted[i]!) : `${pad(sorted[i]!)}-${pad(sorted[j]!)}`);
      i = j + 1;
    }
    out.push(`${prefix}[${ranges.join(',')}]`);
  }
  return out.join(',');
}

/** `lead,burst-[0-1]` → ['lead','burst-0','burst-1'] (Flux/RFC 29 hostlists, one bracket per host). */
export function expandHostlist(s: string): string[] {
  const out: string[] = [];
  if (!s) return out;
  // split on commas outside brackets
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) parts.push(cur);
  for (const p of parts) {
    const m = /^(.*)\[([^\]]+)\](.*)$/.exec(p);
    if (!m) {
      out.push(p);
      continue;
    }
    for (const r of m[2]!.split(',')) {
      const [a, b] = r.split('-');
      const width = a!.length;
      const lo = Number(a);
      const hi = b === undefined ? lo : Number(b);
      for (let i = lo; i <= hi; i++) out.push(`${m[1]}${String(i).padStart(width, '0')}${m[3]}`);
    }
  }
  return out;
}

/** The lead's (and every burst broker's) config file text. */
export function renderLeadConfig(c: LeadConfigInput): string {
  const connect = c.connect ?? c.bind;
  const lines = [
    '# fluxburst: a burstable Flux instance. Every broker (lead and burst) must read this same file.',
    '[bootstrap]',
    `curve_cert = ${q(c.curveCert)}`,
    'hosts = [',
    `  { host = ${q(c.leadHost)}, bind = ${q(c.bind)}, connect = ${q(connect)} },`,
    ...c.burstHosts.map((h) => `  { host = ${q(h)} },`),
    ']',
    '',
    '[resource]',
    '# brokers claim host names that are not the machine\'s: without this each drains itself',
    'noverify = true',
    '',
    '[[resource.config]]',
    `hosts = ${q(hostlist([c.leadHost, ...c.burstHosts]))}`,
    `cores = ${q(c.cores ?? '0-1')}`,
    '',
  ];
  return lines.join('\n');
}
