// Flux job source: the pending queue of a running Flux instance, read through the `flux` CLI
// (no shell, configurable path). flux-core cannot be linked from Node, and its CLI output is
// documented and stable, so we read exactly what these two commands print:
//
//  1. `flux jobs --json --filter=pending --user=all --count=0`            (one call)
//     flux-core >= 0.49 (added after flux-core#4994, 2023). Prints `{"jobs": [ ... ]}`, one JobInfo.to_dict() per job: job-list
//     attributes (id as a decimal integer, userid, username, urgency, priority, t_submit, state as a
//     name like "SCHED", name, queue, ntasks, nnodes when known, duration, annotations, ...); keys
//     with empty values are left out. Pending jobs come in queue (priority) order.
//     Where: flux-core doc/man1/flux-jobs.rst (--json, -f/--filter, -u/--user, -c/--count),
//     src/cmd/flux-jobs.py, src/bindings/python/flux/job/info.py (JobInfo.to_dict),
//     t/t2800-jobs-cmd.t ("flux-jobs: --json option works": `.jobs[0].id`, no `result` while
//     active). `--count=0` is "no limit": src/modules/job-list/list.c ("0=unlimited").
//     Fallback, only when `flux jobs` rejects --json (flux-core < 0.49, argparse: "unrecognized
//     arguments: --json", exit 2): `flux job list --states=pending --user=all`, one raw job-list
//     record per line (state as the RFC 21 bit: DEPEND 2, PRIORITY 4, SCHED 8; no username).
//     Where: flux-core src/cmd/job/list.c (formerly in src/cmd/flux-job.c), a hidden subcommand.
//  2. `flux job info <decimal id> jobspec`                                  (one call per job)
//     Prints the job's current jobspec (RFC 25 v1: resources, tasks, attributes, version) as one
//     JSON object on one line; updates from jobspec-update events are applied.
//     Where: flux-core doc/man1/flux-job.rst ("info"), src/cmd/job/info.c, job-info module
//     src/modules/job-info/lookup.c (errors: "invalid job id", "access is restricted to
//     job/instance owner"). There is no batched form (the CLI takes one id), so these run a few at
//     a time. `flux job info <id> R` is not used: a pending job has no R yet ("R: key not found").
//
// Job ids: Flux ids are 64-bit (RFC 19). We keep Flux's decimal form as Job.id, exact (BigInt;
// JSON.parse would round ids above 2^53, so JSON is read through `yaml` with intAsBigInt, as the
// file source does). A listing that shows F58 (`ƒ2Tq4Jwnpc`, or ASCII `f2Tq4Jwnpc`) or 0x-hex ids
// is converted. F58 is big-endian base58 over "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopq
// rstuvwxyz" after the prefix: flux-core src/common/libutil/fluid.c (b58digits, fluid_f58_encode,
// fluid_parse). docs/flux-formats.md has the same map for readers.

import { execFile } from 'node:child_process';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type FieldIssue, FluxburstError, formatIssues } from '../core/errors.js';
import type { Job } from '../core/types.js';
import { issuePath, toFieldIssues } from '../core/zod-issues.js';
import { fromFluxJobinfo } from './normalize.js';
import { type FluxJobinfo, type Jobspec, type ResourceVertex, jobspec as jobspecSchema } from './schema.js';

/** The listing call (flux-core >= 0.49). */
export const LIST_ARGS = ['jobs', '--json', '--filter=pending', '--user=all', '--count=0'] as const;
/** The listing call on older flux-core, whose `flux jobs` has no --json. */
export const LEGACY_LIST_ARGS = ['job', 'list', '--states=pending', '--user=all'] as const;
/** The per-job call. */
export const jobspecArgs = (id: string) => ['job', 'info', id, 'jobspec'];

// ---------------------------------------------------------------------------------------------
// Errors

export type FluxFailure = 'not-found' | 'not-executable' | 'exit' | 'signal' | 'timeout' | 'too-large' | 'malformed';

/**
 * A `flux` command that could not be run, failed, or printed something we cannot read. The
 * message always names the command line. Codes: FluxNotFound (no such executable; fix the
 * configured path), FluxCommandFailed (non-zero exit, signal, timeout: retryable, the instance
 * may be restarting), FluxOutputInvalid (output not in flux-core's format: not retryable).
 */
export class FluxCommandError extends FluxburstError {
  readonly command: string;
  readonly failure: FluxFailure;
  readonly exitCode?: number;
  readonly stderr?: string;
  /** For `malformed`: what was wrong, by field path. */
  readonly issues: FieldIssue[];
  constructor(
    command: string,
    failure: FluxFailure,
    message: string,
    o: { exitCode?: number; stderr?: string; issues?: FieldIssue[]; cause?: unknown } = {},
  ) {
    const code = failure === 'malformed' || failure === 'too-large' ? 'FluxOutputInvalid' : failure === 'not-found' || failure === 'not-executable' ? 'FluxNotFound' : 'FluxCommandFailed';
    super(code, message, { retryable: code === 'FluxCommandFailed', cause: o.cause });
    this.command = command;
    this.failure = failure;
    if (o.exitCode !== undefined) this.exitCode = o.exitCode;
    if (o.stderr !== undefined) this.stderr = o.stderr;
    this.issues = o.issues ?? [];
  }
}

function malformed(command: string, issues: FieldIssue[]): FluxCommandError {
  return new FluxCommandError(command, 'malformed', formatIssues(`output of \`${command}\``, issues), { issues });
}

// ---------------------------------------------------------------------------------------------
// Job ids (RFC 19 FLUIDs)

const F58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const U64_MAX = (1n << 64n) - 1n;

/** F58 form of a job id, with the `ƒ` prefix (flux-core's fluid_f58_encode in a UTF-8 locale). */
export function encodeF58(id: bigint | number | string): string {
  let n = BigInt(id);
  if (n < 0n || n > U64_MAX) throw new RangeError(`${id} is not a 64-bit job id`);
  let out = '';
  do {
    out = F58_ALPHABET[Number(n % 58n)]! + out;
    n /= 58n;
  } while (n > 0n);
  return `ƒ${out}`;
}

/**
 * A job id as Flux prints or accepts it (decimal, F58 with `ƒ` or `f`, 0x-hex, dotted hex) →
 * the decimal string. Throws a plain Error saying why not.
 */
export function fluxIdToDecimal(id: unknown): string {
  let n: bigint;
  if (typeof id === 'bigint') n = id;
  else if (typeof id === 'number') {
    if (!Number.isSafeInteger(id)) throw new Error(`${id} is not an exact integer job id`);
    n = BigInt(id);
  } else if (typeof id === 'string') {
    const s = id.trim();
    if (/^\d+$/.test(s)) n = BigInt(s);
    else if (/^0x[0-9a-f]+$/i.test(s)) n = BigInt(s);
    else if (/^[0-9a-f]{1,4}(\.[0-9a-f]{1,4}){3}$/i.test(s)) n = s.split('.').reduce((acc, p) => (acc << 16n) | BigInt(`0x${p}`), 0n);
    else if (s.startsWith('ƒ') || s.startsWith('f')) {
      const digits = s.slice(1);
      // fluid.c: at most 12 base58 digits after the prefix.
      if (!digits || digits.length > 12) throw new Error(`"${id}" is not an F58 job id`);
      n = 0n;
      for (const c of digits) {
        const d = F58_ALPHABET.indexOf(c);
        if (d < 0) throw new Error(`"${id}" is not an F58 job id ("${c}" is not a base58 digit)`);
        n = n * 58n + BigInt(d);
      }
    } else throw new Error(`"${id}" is not a Flux job id (decimal, F58 like ƒ2Tq4Jwnpc, or 0x hex)`);
  } else throw new Error(`expected a job id, got ${id === null ? 'null' : typeof id}`);
  if (n < 0n || n > U64_MAX) throw new Error(`${String(id)} is outside the 64-bit job id range`);
  return n.toString();
}

// ---------------------------------------------------------------------------------------------
// Reading JSON exactly

/** bigint → number where that is exact; larger ones stay bigint (ids accept them, counts refuse). */
function exactInts(v: unknown): unknown {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(exactInts);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, exactInts(x)]));
  return v;
}

/** One JSON document, integers exact. Throws with JSON's own syntax message. */
function readJson(text: string): unknown {
  JSON.parse(text); // JSON's syntax rules and messages; YAML below would accept more
  return exactInts(parseYaml(text, { intAsBigInt: true }));
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

const tooLarge = (v: bigint) => `${v} is too large: numbers above 2^53-1 (${Number.MAX_SAFE_INTEGER}) cannot be held exactly`;

/** Issues for integers too large to hold exactly, anywhere under v. */
function hugeInts(v: unknown, path: PropertyKey[], out: FieldIssue[], prefix = ''): FieldIssue[] {
  if (typeof v === 'bigint') out.push({ path: issuePath(path, prefix), message: tooLarge(v) });
  else if (Array.isArray(v)) v.forEach((x, i) => hugeInts(x, [...path, i], out, prefix));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) hugeInts(x, [...path, k], out, prefix);
  return out;
}

/**
 * Free-form values (attributes) keep huge integers as their exact decimal text: a bigint cannot
 * travel in a JSON payload (Temporal activity results), and rounding would change the value.
 */
function bigintsToText(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(bigintsToText);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bigintsToText(x)]));
  return v;
}

// ---------------------------------------------------------------------------------------------
// Listing

/** "" means unset in flux-jobs' unfiltered dicts; treat it as absent. */
const optionalCount = z.preprocess((v) => (v === '' ? undefined : v), z.number().int().positive().optional());

const listRecord = z.looseObject({
  id: z.unknown(),
  userid: z.preprocess((v) => (v === '' ? undefined : v), z.number().int().nonnegative().optional()),
  username: z.string().optional(),
  name: z.string().optional(),
  queue: z.string().optional(),
  state: z.union([z.number().int(), z.string()]).optional(),
  ntasks: optionalCount,
  nnodes: optionalCount,
});
export type FluxListRecord = z.infer<typeof listRecord>;

/** One listed job: its decimal id and the job-list record as flux printed it. */
export interface FluxListedJob {
  id: string;
  record: FluxListRecord;
}

// RFC 21 job state bits (flux-core src/common/libjob/job.h).
const PENDING_BITS = 2 | 4 | 8; // DEPEND | PRIORITY | SCHED
const PENDING_NAMES = new Set(['DEPEND', 'PRIORITY', 'SCHED']);

/** Pending (DEPEND, PRIORITY, SCHED), whichever way the state is printed; no state: assume so. */
export function isPending(r: FluxListRecord): boolean {
  if (r.state === undefined) return true;
  return typeof r.state === 'number' ? (r.state & PENDING_BITS) !== 0 : PENDING_NAMES.has(r.state.toUpperCase());
}

/**
 * Parse a job listing: `flux jobs --json` (`{"jobs": [...]}`, or one job object), or
 * `flux job list` (one JSON record per line). Empty output is an empty queue. Ids come back
 * decimal, exact.
 */
export function parseJobList(text: string, command = `flux ${LIST_ARGS.join(' ')}`): FluxListedJob[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  let records: unknown[];
  let at: (i: number) => string;
  let whole: unknown;
  let wholeError: unknown;
  try {
    whole = readJson(trimmed);
  } catch (e) {
    wholeError = e;
  }
  if (wholeError === undefined) {
    if (whole && typeof whole === 'object' && !Array.isArray(whole) && 'jobs' in whole) {
      const jobs = (whole as { jobs: unknown }).jobs;
      if (!Array.isArray(jobs)) throw malformed(command, [{ path: 'jobs', message: 'expected a list of jobs' }]);
      records = jobs;
      at = (i) => `jobs[${i}]`;
    } else if (whole && typeof whole === 'object' && !Array.isArray(whole)) {
      records = [whole]; // `flux jobs --json ID` prints the one job
      at = () => '';
    } else {
      throw malformed(command, [{ path: '', message: 'expected a JSON object with a `jobs` list (flux jobs --json) or one JSON job record per line (flux job list)' }]);
    }
  } else {
    // JSON lines (flux job list); a single line that failed is simply not JSON.
    const lines = trimmed.split('\n').map((l) => l.trim());
    if (lines.length === 1) throw malformed(command, [{ path: '', message: `not JSON: ${firstLine(wholeError)}` }]);
    records = [];
    const issues: FieldIssue[] = [];
    lines.forEach((line, i) => {
      if (!line) return;
      try {
        records.push(readJson(line));
      } catch (e) {
        issues.push({ path: `line ${i + 1}`, message: `not JSON: ${firstLine(e)}` });
      }
    });
    if (issues.length) throw malformed(command, issues);
    at = (i) => `line ${i + 1}`;
  }

  const issues: FieldIssue[] = [];
  const out: FluxListedJob[] = [];
  records.forEach((rec, i) => {
    const where = at(i);
    if (!rec || typeof rec !== 'object' || Array.isArray(rec)) {
      issues.push({ path: where, message: 'expected a job record (a JSON object)' });
      return;
    }
    // Only the fields we read must be exact numbers; the id may be any 64-bit value.
    const big = (['userid', 'ntasks', 'nnodes'] as const).flatMap((k) => hugeInts((rec as Record<string, unknown>)[k], [k], [], where));
    if (big.length) {
      issues.push(...big);
      return;
    }
    const r = listRecord.safeParse(rec);
    if (!r.success) {
      issues.push(...toFieldIssues(r.error, where));
      return;
    }
    if (!('id' in rec)) {
      issues.push({ path: issuePath(['id'], where), message: 'missing (every job-list record has an id)' });
      return;
    }
    try {
      out.push({ id: fluxIdToDecimal(r.data.id), record: r.data });
    } catch (e) {
      issues.push({ path: issuePath(['id'], where), message: firstLine(e) });
    }
  });
  if (issues.length) throw malformed(command, issues);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Jobspec

/**
 * Parse what `flux job info <id> jobspec` prints into a validated jobspec (the schema the file
 * source uses). `attributes: null` (allowed by RFC 25's schema) reads as no attributes.
 */
export function parseJobspec(text: string, jobId: string, command = `flux ${jobspecArgs(jobId).join(' ')}`): Jobspec {
  const trimmed = text.trim();
  if (!trimmed) throw malformed(command, [{ path: '', message: 'no output (expected the jobspec as a JSON object)' }]);
  let doc: unknown;
  try {
    doc = readJson(trimmed);
  } catch (e) {
    throw malformed(command, [{ path: '', message: `not JSON: ${firstLine(e)}` }]);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw malformed(command, [{ path: '', message: 'expected a jobspec (a JSON object)' }]);
  const spec = { ...(doc as Record<string, unknown>) };
  // Counts must be exact numbers; attributes are free-form and keep huge integers as text.
  const big = (['version', 'resources', 'tasks'] as const).flatMap((k) => hugeInts(spec[k], [k], []));
  if (big.length) throw malformed(command, big);
  if (spec.attributes === null) delete spec.attributes;
  else if (spec.attributes !== undefined) spec.attributes = bigintsToText(spec.attributes);
  const r = jobspecSchema.safeParse(spec);
  if (!r.success) throw malformed(command, toFieldIssues(r.error));
  return r.data;
}

// ---------------------------------------------------------------------------------------------
// Normalisation

const countOf = (v: ResourceVertex) => (typeof v.count === 'number' ? v.count : v.count.min);

/** Nodes the jobspec asks for: counts multiplied down to the node vertex (slot>node too). */
function specNodes(vs: ResourceVertex[], above = 1): number | undefined {
  for (const v of vs) {
    if (v.type === 'node') return above * countOf(v);
    const deeper = specNodes(v.with ?? [], above * countOf(v));
    if (deeper !== undefined) return deeper;
  }
  return undefined;
}

/**
 * A listed job and its jobspec → Job, through the same fromFluxJobinfo the file source uses
 * (job-list fields win over what the jobspec implies). Job.user is the username when the listing
 * has one (flux jobs --json), else the decimal userid (flux job list).
 */
export function fluxJobToJob(listed: FluxListedJob, spec: Jobspec): Job {
  const r = listed.record;
  const info: FluxJobinfo = { id: listed.id, spec };
  if (r.name) info.name = r.name;
  if (r.userid !== undefined) info.userid = r.userid;
  if (r.username) info.username = r.username;
  if (r.ntasks !== undefined) info.ntasks = r.ntasks;
  const nnodes = r.nnodes ?? specNodes(spec.resources);
  if (nnodes !== undefined) info.nnodes = nnodes;
  const job = fromFluxJobinfo(info);
  const queue = r.queue || (typeof spec.attributes?.system?.queue === 'string' ? spec.attributes.system.queue : undefined);
  if (queue) job.queue = queue;
  return job;
}

// ---------------------------------------------------------------------------------------------
// Running flux

export interface FluxSourceOptions {
  /** The flux executable: a path, or a name looked up on PATH. Default `flux`. */
  flux?: string;
  /** Environment for flux (FLUX_URI picks the instance). Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Longest any one flux command may take, ms. Default 30 s. */
  timeoutMs?: number;
  /** `flux job info` calls at once. Default 8. */
  concurrency?: number;
  /**
   * Told about a listed job left out because flux would not show its jobspec: it left the
   * instance since the listing ("invalid job id"), or it belongs to another user and we are not
   * the instance owner ("access is restricted to job/instance owner").
   */
  onSkip?: (jobId: string, reason: string) => void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_OUTPUT = 256 * 1024 * 1024;

const shown = (flux: string, args: readonly string[]) => [flux, ...args].join(' ');
const tail = (s: string, n = 2000) => (s.length > n ? `…${s.slice(-n)}` : s);

/** Run one flux command; stdout on success, a FluxCommandError naming the command otherwise. */
export function runFlux(flux: string, args: readonly string[], o: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const command = shown(flux, args);
  const timeout = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    execFile(
      flux,
      [...args],
      { env: o.env ?? process.env, timeout, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT, encoding: 'utf8', windowsHide: true },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: NodeJS.Signals | null };
        const errText = stderr.trim();
        if (e.code === 'ENOENT') {
          return reject(new FluxCommandError(command, 'not-found', `cannot run \`${command}\`: ${flux} not found (ENOENT); is flux-core installed, and is the source's \`flux\` path right?`, { cause: err }));
        }
        if (e.code === 'EACCES' || e.code === 'ENOTDIR' || e.code === 'EISDIR') {
          return reject(new FluxCommandError(command, 'not-executable', `cannot run \`${command}\`: ${flux} is not an executable (${e.code})`, { cause: err }));
        }
        if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
          return reject(new FluxCommandError(command, 'too-large', `\`${command}\` printed more than ${MAX_OUTPUT} bytes`, { cause: err }));
        }
        if (e.killed) {
          return reject(new FluxCommandError(command, 'timeout', `\`${command}\` timed out after ${timeout} ms (killed)${errText ? `; stderr: ${tail(errText)}` : ''}`, { stderr, cause: err }));
        }
        if (typeof e.code === 'number') {
          return reject(
            new FluxCommandError(command, 'exit', `\`${command}\` exited with status ${e.code}${errText ? `: ${tail(errText)}` : ' (no stderr)'}`, { exitCode: e.code, stderr, cause: err }),
          );
        }
        if (e.signal) {
          return reject(new FluxCommandError(command, 'signal', `\`${command}\` was killed by ${e.signal}${errText ? `: ${tail(errText)}` : ''}`, { stderr, cause: err }));
        }
        return reject(new FluxCommandError(command, 'exit', `cannot run \`${command}\`: ${firstLine(err)}`, { cause: err }));
      },
    );
  });
}

/** The pending jobs' listing, in queue order, with the fallback for flux-core < 0.49. */
export async function listPendingJobs(o: FluxSourceOptions = {}): Promise<FluxListedJob[]> {
  const flux = o.flux ?? 'flux';
  let text: string;
  let args: readonly string[] = LIST_ARGS;
  try {
    text = await runFlux(flux, args, o);
  } catch (e) {
    const old = e instanceof FluxCommandError && e.failure === 'exit' && /unrecognized arguments:.*--json/.test(e.stderr ?? '');
    if (!old) throw e;
    args = LEGACY_LIST_ARGS;
    text = await runFlux(flux, args, o);
  }
  return parseJobList(text, shown(flux, args)).filter((l) => isPending(l.record));
}

const SKIPPABLE = /invalid job id|access is restricted to job\/instance owner/;

async function mapPool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * The instance's pending jobs, as Jobs, in queue order: one listing call plus one
 * `flux job info ID jobspec` per job. Every failure is a FluxCommandError naming the command.
 */
export async function readFluxJobs(opts: FluxSourceOptions = {}): Promise<Job[]> {
  const flux = opts.flux ?? 'flux';
  const listed = await listPendingJobs(opts);
  const seen = new Set<string>();
  const unique = listed.filter((l) => !seen.has(l.id) && seen.add(l.id));
  const jobs = await mapPool(unique, Math.max(1, opts.concurrency ?? 8), async (l): Promise<Job | undefined> => {
    const args = jobspecArgs(l.id);
    let text: string;
    try {
      text = await runFlux(flux, args, opts);
    } catch (e) {
      if (e instanceof FluxCommandError && e.failure === 'exit' && SKIPPABLE.test(e.stderr ?? '')) {
        opts.onSkip?.(l.id, e.stderr!.trim());
        return undefined;
      }
      throw e;
    }
    return fluxJobToJob(l, parseJobspec(text, l.id, shown(flux, args)));
  });
  return jobs.filter((j): j is Job => j !== undefined);
}
