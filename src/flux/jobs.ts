// Following jobs that Flux runs, and acting on them, through the `flux` CLI
// (../shared/reference/flux-real.md, flux-samples/):
//
//  - state:     `flux jobs --json ID…` prints `{"jobs": [...]}` for the ids it knows (an unknown id
//               is reported on stderr and left out; exit 1 only when none is known). One call per
//               chunk of ids, never one per job.
//  - outcome:   INACTIVE records carry result COMPLETED/FAILED/CANCELED/TIMEOUT, returncode and
//               exception{occurred,severity,type,note}; a job whose node died fails with
//               exception type "exec", note "node failure on burst-1 (rank 2)".
//  - resubmit:  `flux job info ID jobspec` → `flux job submit` (jobspec on stdin). The new
//               jobspec carries a marker (attributes.system.fluxburst.resubmitOf = "ID.ATTEMPT"),
//               so a retried resubmit finds the job an earlier try made instead of making a second.
//               It drops `burstable` and sets `burst-scheduled` (flux-burst's mark_as_scheduled),
//               so a watch does not burst the resubmitted job a second time.
//  - drain:     `flux resource drain -u HOSTS REASON` / `flux resource undrain -u HOSTS` (-u: no
//               error for a host already in that state).
import { z } from 'zod';
import { FluxburstError } from '../core/errors.js';
import type { FluxJobOutcome } from '../core/flux.js';
import { FluxCommandError, fluxIdToDecimal, parseJobList, runFlux } from '../jobs/flux-source.js';
import { expandHostlist } from './config.js';

export interface FluxCli {
  /** The flux executable. */
  flux: string;
  /** Environment (FLUX_URI picks the instance). */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

// The outcome shape is the activities' contract with the workflow (src/core/flux.ts): one definition.
export type { FluxJobOutcome } from '../core/flux.js';

export interface FluxJobState {
  id: string;
  state: string;
  nodelist?: string;
  outcome?: FluxJobOutcome;
}

const record = z.looseObject({
  id: z.unknown(),
  jobid: z.string().optional(),
  state: z.string(),
  result: z.string().optional(),
  returncode: z.number().int().optional(),
  nodelist: z.string().optional(),
  exception: z
    .looseObject({
      occurred: z.boolean().optional(),
      type: z.string().optional(),
      note: z.string().optional(),
      severity: z.number().optional(),
    })
    .optional(),
});

const RESULTS = new Set(['COMPLETED', 'FAILED', 'CANCELED', 'TIMEOUT']);
/** How Flux says a job failed because a node under it failed (job-exec: "node failure on HOST (rank N)"; a lost broker). */
export const NODE_FAILURE = /node failure|lost connection|lost contact/i;

/** One `flux jobs --json` record → its state, and its outcome when INACTIVE. */
export function parseJobRecord(rec: unknown): FluxJobState {
  const r = record.parse(rec);
  // `jobid` (F58) is exact; `id` may have been rounded by a JSON reader above 2^53.
  const id = fluxIdToDecimal(r.jobid ?? r.id);
  const out: FluxJobState = { id, state: r.state, ...(r.nodelist ? { nodelist: r.nodelist } : {}) };
  if (r.state === 'INACTIVE') {
    const result = (RESULTS.has(r.result ?? '') ? r.result : 'FAILED') as FluxJobOutcome['result'];
    const ex = r.exception?.occurred ? { type: r.exception.type ?? '', note: r.exception.note ?? '' } : undefined;
    out.outcome = {
      id,
      result,
      ...(r.returncode !== undefined ? { returncode: r.returncode } : {}),
      ...(ex ? { exception: ex } : {}),
      ...(r.nodelist ? { nodelist: r.nodelist } : {}),
      nodeFailure: !!ex && ex.type === 'exec' && NODE_FAILURE.test(ex.note),
    };
  }
  return out;
}

// RFC 21 job states and job-list's result bits (flux-core src/common/libjob/job.h).
const STATE_NAMES: Record<number, string> = { 1: 'NEW', 2: 'DEPEND', 4: 'PRIORITY', 8: 'SCHED', 16: 'RUN', 32: 'CLEANUP', 64: 'INACTIVE' };
const RESULT_NAMES: Record<number, FluxJobOutcome['result']> = { 1: 'COMPLETED', 2: 'FAILED', 4: 'CANCELED', 8: 'TIMEOUT' };

type RawRecord = {
  state?: number | string;
  result?: number;
  waitstatus?: number;
  nodelist?: string;
  exception_occurred?: boolean;
  exception_type?: string;
  exception_note?: string;
};

/**
 * A raw job-list record (`flux job list-ids`: state and result as bits, exception_* fields,
 * waitstatus) → the same state `flux jobs --json` gives. returncode as flux-jobs derives it
 * (flux/job/info.py): the exit status, or minus the signal; -128 for a job cancelled before it ran.
 */
export function fromRawRecord(id: string, r: RawRecord): FluxJobState {
  const state = typeof r.state === 'number' ? (STATE_NAMES[r.state] ?? String(r.state)) : (r.state ?? 'NEW');
  const out: FluxJobState = { id, state, ...(r.nodelist ? { nodelist: r.nodelist } : {}) };
  if (state !== 'INACTIVE') return out;
  const ex = r.exception_occurred ? { type: r.exception_type ?? '', note: r.exception_note ?? '' } : undefined;
  const ws = r.waitstatus;
  const returncode =
    typeof ws === 'number' ? ((ws & 0x7f) === 0 ? (ws >> 8) & 0xff : -(ws & 0x7f)) : ex?.type === 'cancel' ? -128 : undefined;
  out.outcome = {
    id,
    result: RESULT_NAMES[r.result ?? 0] ?? 'FAILED',
    ...(returncode !== undefined ? { returncode } : {}),
    ...(ex ? { exception: ex } : {}),
    ...(r.nodelist ? { nodelist: r.nodelist } : {}),
    nodeFailure: !!ex && ex.type === 'exec' && NODE_FAILURE.test(ex.note),
  };
  return out;
}

/** Ids per `flux jobs` call: an argv stays far below the kernel's limit. */
export const IDS_PER_CALL = 500;

/**
 * The current state of each of these jobs (decimal ids): one `flux jobs --json` call per
 * IDS_PER_CALL ids. Ids Flux does not know (purged, or never there) are in `unknown`.
 */
export async function jobStates(
  cli: FluxCli,
  ids: string[],
  how: 'auto' | 'flux-jobs' = 'auto',
): Promise<{ states: FluxJobState[]; unknown: string[] }> {
  const states: FluxJobState[] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_CALL) {
    const chunk = ids.slice(i, i + IDS_PER_CALL);
    // Fast path: `flux job list-ids` is C (~10 ms) where `flux jobs` starts Python (~0.5 s on a
    // busy machine, every poll of every burst). It fails as a whole on an id job-list does not
    // know (ENOENT) or on a flux-core without it; then the chunk goes the `flux jobs` way.
    if (how === 'auto') {
      try {
        const text = await runFlux(cli.flux, ['job', 'list-ids', ...chunk], cli);
        states.push(...parseJobList(text, `${cli.flux} job list-ids …`).map((l) => fromRawRecord(l.id, l.record as RawRecord)));
        continue;
      } catch (e) {
        if (!(e instanceof FluxCommandError) || e.failure !== 'exit') throw e;
      }
    }
    const args = ['jobs', '--json', '--user=all', ...chunk];
    let text: string;
    try {
      text = await runFlux(cli.flux, args, cli);
    } catch (e) {
      // Exit 1 with "JobID … unknown" for each: none of the chunk is known.
      if (e instanceof FluxCommandError && e.failure === 'exit' && /unknown/.test(e.stderr ?? '') && !/Traceback/.test(e.stderr ?? ''))
        continue;
      throw e;
    }
    const doc = JSON.parse(text) as { jobs?: unknown[] } | Record<string, unknown>;
    const recs = Array.isArray((doc as { jobs?: unknown[] }).jobs) ? (doc as { jobs: unknown[] }).jobs : [doc];
    for (const rec of recs) {
      try {
        states.push(parseJobRecord(rec));
      } catch (e) {
        throw new FluxCommandError(
          `${cli.flux} ${args.slice(0, 4).join(' ')} …`,
          'malformed',
          `\`flux jobs --json\` printed a record fluxburst cannot read: ${(e as Error).message.split('\n')[0]}`,
        );
      }
    }
  }
  const known = new Set(states.map((s) => s.id));
  return { states, unknown: ids.filter((id) => !known.has(id)) };
}

export interface FollowOptions {
  waitSeconds: number;
  pollMs?: number;
  signal?: AbortSignal;
  /** Called after every poll (the activity heartbeats). */
  onPoll?: (p: { polls: number; running: number }) => void;
}

export interface FollowResult {
  done: FluxJobOutcome[];
  running: Array<{ id: string; nodelist: string }>;
}

/**
 * Poll Flux for these jobs until at least one is INACTIVE, or waitSeconds pass. A job Flux no
 * longer knows is reported done (FAILED, exception type "unknown"): it was purged, and waiting for
 * it would wait forever.
 */
export async function followJobs(cli: FluxCli, ids: string[], o: FollowOptions): Promise<FollowResult> {
  const want = [...new Set(ids.map((id) => fluxIdToDecimal(id)))];
  const end = Date.now() + o.waitSeconds * 1000;
  const pollMs = Math.max(50, o.pollMs ?? 1000);
  for (let polls = 1; ; polls++) {
    const { states, unknown } = await jobStates(cli, want);
    const done = states.flatMap((s) => (s.outcome ? [s.outcome] : []));
    for (const id of unknown)
      done.push({
        id,
        result: 'FAILED',
        exception: { type: 'unknown', note: `job ${id} is not known to Flux (purged, or another instance)` },
        nodeFailure: false,
      });
    const running = states.filter((s) => !s.outcome).map((s) => ({ id: s.id, nodelist: s.nodelist ?? '' }));
    o.onPoll?.({ polls, running: running.length });
    if (done.length || Date.now() + pollMs > end || want.length === 0) return { done, running };
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, pollMs);
      o.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          reject(o.signal!.reason ?? new Error('aborted'));
        },
        { once: true },
      );
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Resubmission

export const RESUBMIT_MARK = 'resubmitOf';

type Spec = {
  attributes?: { system?: Record<string, unknown> & { fluxburst?: Record<string, unknown>; job?: { name?: string } } };
} & Record<string, unknown>;

/** The original jobspec of `id`, marked as the resubmission `id.attempt`. */
export function markedJobspec(spec: Spec, id: string, attempt: number): Spec {
  const system = { ...(spec.attributes?.system ?? {}) };
  delete system.burstable;
  system['burst-scheduled'] = 'fluxburst';
  system.fluxburst = { ...(system.fluxburst ?? {}), [RESUBMIT_MARK]: `${id}.${attempt}` };
  return { ...spec, attributes: { ...(spec.attributes ?? {}), system } };
}

async function jobspecOf(cli: FluxCli, id: string): Promise<Spec> {
  return JSON.parse(await runFlux(cli.flux, ['job', 'info', id, 'jobspec'], cli)) as Spec;
}

/** A job an earlier try of this resubmission made: same name, submitted since, carrying the marker. */
async function findResubmitted(cli: FluxCli, name: string | undefined, mark: string): Promise<string | undefined> {
  const args = ['jobs', '--json', '-a', '--user=all', '--count=0', ...(name ? [`--name=${name}`] : [])];
  const doc = JSON.parse(await runFlux(cli.flux, args, cli)) as { jobs?: Array<{ jobid?: string; id?: unknown }> };
  for (const j of doc.jobs ?? []) {
    const jid = fluxIdToDecimal(j.jobid ?? j.id);
    try {
      const spec = await jobspecOf(cli, jid);
      if (spec.attributes?.system?.fluxburst?.[RESUBMIT_MARK] === mark) return jid;
    } catch {
      /* gone since the listing */
    }
  }
  return undefined;
}

/** Submit job `id` again with its original jobspec; the same (id, attempt) never makes two jobs. */
export async function resubmitJob(cli: FluxCli, id: string, attempt: number): Promise<{ newId: string; existed: boolean }> {
  const dec = fluxIdToDecimal(id);
  const mark = `${dec}.${attempt}`;
  const spec = await jobspecOf(cli, dec);
  const name = typeof spec.attributes?.system?.job?.name === 'string' ? spec.attributes.system.job.name : undefined;
  const earlier = await findResubmitted(cli, name, mark);
  if (earlier) return { newId: earlier, existed: true };
  const marked = markedJobspec(spec, dec, attempt);
  const out = await new Promise<string>((resolve, reject) => {
    import('node:child_process').then(({ execFile }) => {
      const child = execFile(
        cli.flux,
        ['job', 'submit'],
        { env: cli.env ?? process.env, timeout: cli.timeoutMs ?? 30_000, encoding: 'utf8' },
        (err, stdout, stderr) => {
          if (err)
            reject(
              new FluxCommandError(
                `${cli.flux} job submit`,
                'exit',
                `\`flux job submit\` (resubmitting ${dec}) failed: ${stderr.trim() || err.message}`,
                { stderr },
              ),
            );
          else resolve(stdout);
        },
      );
      child.stdin!.end(JSON.stringify(marked));
    }, reject);
  });
  const newId = fluxIdToDecimal(out.trim());
  return { newId, existed: false };
}

// ---------------------------------------------------------------------------------------------
// Drain

const hostArg = (hosts: string[]) => {
  const bad = hosts.find((h) => !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(h));
  if (bad !== undefined) throw new FluxburstError('InvalidInput', `"${bad}" is not a host name fluxburst can drain`);
  return hosts.join(',');
};

/** Drain these hosts (no new job lands there); a host already drained keeps its reason. */
export async function drainHosts(cli: FluxCli, hosts: string[], reason: string): Promise<void> {
  if (!hosts.length) return;
  await runFlux(cli.flux, ['resource', 'drain', '-u', hostArg(hosts), reason || 'fluxburst'], cli);
}

/** Undrain these hosts; one not drained is fine. */
export async function undrainHosts(cli: FluxCli, hosts: string[]): Promise<void> {
  if (!hosts.length) return;
  await runFlux(cli.flux, ['resource', 'undrain', '-u', hostArg(hosts)], cli);
}

/** Hosts in a resource state at the lead (`online`, `offline`, `drained`, `draining`, …). */
export async function hostsIn(cli: FluxCli, state: string): Promise<string[]> {
  const out = await runFlux(cli.flux, ['resource', 'status', `--states=${state}`, '-no', '{nodelist}'], cli);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .flatMap(expandHostlist);
}

/** Ids of jobs running (RUN or CLEANUP) with a rank on any of these hosts. */
export async function jobsOnHosts(cli: FluxCli, hosts: string[]): Promise<string[]> {
  const doc = JSON.parse(await runFlux(cli.flux, ['jobs', '--json', '--user=all', '--count=0', '--filter=running'], cli)) as {
    jobs?: unknown[];
  };
  const want = new Set(hosts);
  const out: string[] = [];
  for (const rec of doc.jobs ?? []) {
    const s = parseJobRecord(rec);
    if (s.nodelist && expandHostlist(s.nodelist).some((h) => want.has(h))) out.push(s.id);
  }
  return out;
}
