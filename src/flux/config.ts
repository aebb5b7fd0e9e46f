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

// ---------------------------------------------------------------------------------------------
// Reading a broker config (what a burst broker will be started with)

export interface BrokerConfigFacts {
  /** The files read, in order. */
  files: string[];
  /** bootstrap.hosts, expanded, in rank order. */
  hosts: string[];
  /** bootstrap.curve_cert. */
  curveCert?: string;
  /** Rank 0's `connect` (or `bind`) URI: where followers connect. */
  leadConnect?: string;
  /** Whether `[resource] noverify = true` is set. */
  noverify: boolean;
}

/** The `[...]` text after `key = ` starting at `from`, brackets balanced, strings skipped. */
function arrayAfter(text: string, start: number): string | undefined {
  const open = text.indexOf('[', start);
  if (open < 0) return undefined;
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    } else if (ch === '[') depth++;
    else if (ch === ']' && --depth === 0) return text.slice(open, i + 1);
  }
  return undefined;
}

const str = (s: string | undefined) => (s === undefined ? undefined : s.startsWith('"') ? (JSON.parse(s) as string) : s.slice(1, -1));

/** The facts fluxburst needs from one TOML config text (the subset flux's own configs use). */
export function parseBrokerToml(text: string): Omit<BrokerConfigFacts, 'files'> {
  const lines = text.split('\n');
  // section of each line's start offset
  let section = '';
  let offset = 0;
  const out: Omit<BrokerConfigFacts, 'files'> = { hosts: [], noverify: false };
  const STR = /("(?:[^"\\]|\\.)*"|'[^']*')/;
  for (const line of lines) {
    const t = line.trim();
    const header = /^\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?$/.exec(t) ?? /^\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]\s*(#.*)?$/.exec(t);
    if (header) section = header[1]!;
    else {
      const key = (k: string) => new RegExp(`^${k.replaceAll('.', '\\.')}\\s*=\\s*`).exec(t);
      const full = (k: string) => (section === k.split('.').slice(0, -1).join('.') && key(k.split('.').at(-1)!)) || (section === '' && key(k));
      if (full('bootstrap.curve_cert')) out.curveCert = str(STR.exec(t.slice(t.indexOf('=') + 1))?.[1]);
      if (full('resource.noverify')) out.noverify = /=\s*true\b/.test(t);
      if (full('bootstrap.hosts')) {
        const arr = arrayAfter(text, offset + line.indexOf('='));
        if (arr) {
          const entries = arr.slice(1, -1).split(/\}\s*,?/);
          for (const e of entries) {
            const host = str(/\bhost\s*=\s*("(?:[^"\\]|\\.)*"|'[^']*')/.exec(e)?.[1]);
            if (host === undefined) continue;
            const expanded = expandHostlist(host);
            if (out.hosts.length === 0) {
              const c = str(/\bconnect\s*=\s*("(?:[^"\\]|\\.)*"|'[^']*')/.exec(e)?.[1]) ?? str(/\bbind\s*=\s*("(?:[^"\\]|\\.)*"|'[^']*')/.exec(e)?.[1]);
              if (c) out.leadConnect = c;
            }
            out.hosts.push(...expanded);
          }
        }
      }
    }
    offset += line.length + 1;
  }
  return out;
}

/** bootstrap facts from a JSON config object. */
function fromJson(doc: unknown): Omit<BrokerConfigFacts, 'files'> {
  const d = (doc ?? {}) as { bootstrap?: { curve_cert?: string; hosts?: Array<{ host?: string; bind?: string; connect?: string }> }; resource?: { noverify?: boolean } };
  const out: Omit<BrokerConfigFacts, 'files'> = { hosts: [], noverify: d.resource?.noverify === true };
  if (d.bootstrap?.curve_cert) out.curveCert = d.bootstrap.curve_cert;
  for (const [i, h] of (d.bootstrap?.hosts ?? []).entries()) {
    if (!h.host) continue;
    if (i === 0 && (h.connect ?? h.bind)) out.leadConnect = h.connect ?? h.bind;
    out.hosts.push(...expandHostlist(h.host));
  }
  return out;
}

/**
 * What a broker started with `--config-path=PATH` will read: PATH is a dir (every *.toml in it,
 * as flux reads them) or one .toml/.json file. Throws naming the path when it cannot be read.
 */
export async function readBrokerConfig(path: string): Promise<BrokerConfigFacts> {
  const { readFile, readdir, stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const st = await stat(path);
  const files = st.isDirectory() ? (await readdir(path)).filter((f) => f.endsWith('.toml')).sort().map((f) => join(path, f)) : [path];
  const out: BrokerConfigFacts = { files, hosts: [], noverify: false };
  for (const f of files) {
    const text = await readFile(f, 'utf8');
    const facts = f.endsWith('.json') ? fromJson(JSON.parse(text)) : parseBrokerToml(text);
    if (facts.hosts.length) {
      out.hosts = facts.hosts;
      if (facts.leadConnect) out.leadConnect = facts.leadConnect;
    }
    if (facts.curveCert) out.curveCert = facts.curveCert;
    if (facts.noverify) out.noverify = true;
  }
  return out;
}
