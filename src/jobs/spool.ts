// The job spool: a claim check for big job lists. A workflow input (like any Temporal payload)
// must stay far below the server's 2 MB blob limit, and a burst's history should hold each job
// once at most; so the starter writes the selected jobs to a content-addressed JSONL file and the
// workflow carries only {path, sha256, count}. Workers read pages of it. The file must be where
// the workers can read it: the same machine (the embedded default) or a shared filesystem, as HPC
// sites have; `FLUXBURST_SPOOL` names the directory.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FluxburstError } from '../core/errors.js';
import type { Job, JobsRef } from '../core/types.js';
import { stateDir } from '../temporal/paths.js';

/** Job lists up to this size (JSON bytes) travel inside the workflow input; bigger ones are spooled. */
export const INLINE_LIMIT = 256 * 1024;

export function spoolDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.FLUXBURST_SPOOL ?? join(stateDir(env), 'spool'));
}

/** Inline when small, else a spool file (idempotent: the same jobs give the same file). */
export function jobsRef(jobs: Job[], opts: { dir?: string; inlineLimit?: number } = {}): JobsRef {
  const lines = jobs.map((j) => JSON.stringify(j));
  const size = lines.reduce((a, l) => a + l.length + 1, 0);
  if (size <= (opts.inlineLimit ?? INLINE_LIMIT)) return { kind: 'inline', jobs };
  return writeSpool(lines, opts.dir ?? spoolDir());
}

function writeSpool(lines: string[], dir: string): JobsRef {
  const body = lines.join('\n') + '\n';
  const sha256 = createHash('sha256').update(body).digest('hex');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${sha256}.jsonl`);
  if (!existsSync(path)) {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, body);
    renameSync(tmp, path); // a reader sees no file or the whole one
  }
  return { kind: 'spool', path, sha256, count: lines.length };
}

export function refCount(ref: JobsRef): number {
  return ref.kind === 'inline' ? ref.jobs.length : ref.count;
}

// One parsed copy per worker process: a burst's batches read pages of the same file many times.
const cache = new Map<string, Job[]>();
const CACHE_MAX = 8;

/** Every job of the ref; a spool file that is missing or changed is a clear, non-retryable error. */
export function readJobs(ref: JobsRef): Job[] {
  if (ref.kind === 'inline') return ref.jobs;
  const hit = cache.get(ref.sha256);
  if (hit) return hit;
  let body: string;
  try {
    body = readFileSync(ref.path, 'utf8');
  } catch (e) {
    throw new FluxburstError('SpoolUnreadable', `job spool ${ref.path} cannot be read on this worker (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): FLUXBURST_SPOOL must be a directory the starter and every worker share`);
  }
  const sha = createHash('sha256').update(body).digest('hex');
  if (sha !== ref.sha256) throw new FluxburstError('SpoolUnreadable', `job spool ${ref.path} changed since the burst started (sha256 ${sha.slice(0, 12)}…, expected ${ref.sha256.slice(0, 12)}…)`);
  const jobs = body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Job);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(ref.sha256, jobs);
  return jobs;
}

/** Jobs [offset, offset+limit) of the ref. */
export function readPage(ref: JobsRef, offset: number, limit: number): Job[] {
  return readJobs(ref).slice(offset, offset + limit);
}
