import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { INPUT_LIMITS, readInputFile } from '../config/read-input.js';
import { InputError, type FieldIssue } from '../core/errors.js';
import type { Job } from '../core/types.js';
import { toFieldIssues } from '../core/zod-issues.js';
import { fromFluxJobinfo, fromSimpleJob, jobProblems } from './normalize.js';
import { fluxJobinfo, simpleJob } from './schema.js';

/** Keys of a Flux job-list record that fluxburst's short form does not have. */
const FLUX_ONLY = ['nnodes', 'ntasks', 'userid', 'username', 't_submit', 'state', 'urgency', 'priority', 'queue'];

/**
 * Parse a jobs document: a YAML or JSON list (or `{jobs: [...]}`) whose entries are either Flux
 * jobinfo dicts (they have `spec`) or fluxburst's short form. Every bad entry is reported, each
 * field by path (`jobs[2].spec.tasks`), in one error.
 */
export function parseJobs(text: string, origin: string, format: 'yaml' | 'json' = 'yaml'): Job[] {
  let doc: unknown;
  try {
    if (format === 'json') JSON.parse(text); // JSON's own syntax errors, before the YAML reading below
    // JSON is YAML 1.2; reading both through yaml with bigints keeps 64-bit Flux ids exact.
    doc = exactInts(parseYaml(text, { intAsBigInt: true }));
  } catch (e) {
    throw new InputError(origin, [{ path: '', message: `not valid ${format.toUpperCase()}: ${(e as Error).message.split('\n')[0]}` }]);
  }
  if (doc && typeof doc === 'object' && !Array.isArray(doc) && 'jobs' in doc) doc = (doc as { jobs: unknown }).jobs;
  if (!Array.isArray(doc)) {
    throw new InputError(origin, [{ path: 'jobs', message: 'expected a list of jobs (or a mapping with a `jobs` list)' }]);
  }
  const issues: FieldIssue[] = [];
  const jobs: Job[] = [];
  const seen = new Map<string, number>();
  doc.forEach((entry, i) => {
    const at = `jobs[${i}]`;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      issues.push({ path: at, message: 'expected a mapping' });
      return;
    }
    const isFlux = 'spec' in entry;
    // A Flux job-list record without its jobspec: say so, not "command: required".
    if (!isFlux && !('command' in entry) && FLUX_ONLY.some((k) => k in entry)) {
      const jid = (entry as { id?: unknown }).id;
      issues.push({ path: `${at}.spec`, message: `job ${jid === undefined ? `at ${at}` : String(jid)} looks like a Flux job (${FLUX_ONLY.filter((k) => k in entry).join(', ')}) but has no jobspec: add its \`spec\` (flux job info <id> jobspec)` });
      return;
    }
    const r = isFlux ? fluxJobinfo.safeParse(entry) : simpleJob.safeParse(entry);
    if (!r.success) {
      issues.push(...toFieldIssues(r.error, at));
      return;
    }
    const job = isFlux ? fromFluxJobinfo(r.data as never) : fromSimpleJob(r.data as never);
    const problems = jobProblems(job);
    if (problems.length) {
      issues.push(...problems.map((p) => ({ path: `${at}.${isFlux && p.path === 'tasks' ? 'spec.tasks[0].count' : isFlux && p.path === 'nodes' ? 'nnodes' : p.path}`, message: p.message })));
      return;
    }
    const prev = seen.get(job.id);
    if (prev !== undefined) {
      issues.push({ path: `${at}.id`, message: `duplicate job id "${job.id}" (also jobs[${prev}])` });
      return;
    }
    seen.set(job.id, i);
    jobs.push(job);
  });
  if (issues.length) throw new InputError(origin, issues);
  return jobs;
}

/**
 * bigint → number where that is exact; larger ones become decimal text (ids take it as is, counts
 * refuse it by name, and no bigint reaches a Temporal payload, which JSON cannot carry).
 */
function exactInts(v: unknown): unknown {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(exactInts);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, exactInts(x)]));
  return v;
}

export async function readJobsFile(path: string): Promise<Job[]> {
  const text = readInputFile(path, `jobs file ${path}`, INPUT_LIMITS.jobs);
  return parseJobs(text, `jobs file ${path}`, extname(path) === '.json' ? 'json' : 'yaml');
}
