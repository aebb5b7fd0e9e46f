import { ActivityFailure, ApplicationFailure, log, proxyActivities, sleep } from '@temporalio/workflow';
import type { SweepActivities } from '../activities/sweep.js';
import { NON_RETRYABLE_CODES } from '../src/core/errors.js';
import type { TargetChoice } from '../src/core/types.js';
import type { OwnedResource } from '../src/plugins/contract.js';

export interface SweepInput {
  targets: TargetChoice[];
  /** Find and report, delete nothing. */
  dryRun?: boolean;
  /**
   * Only delete what was already an orphan this long ago: the sweep looks twice, this far apart,
   * and deletes what both looks found with no running burst. Guards against a burst whose
   * workflow is not visible yet, or a resource caught mid-teardown.
   */
  minAgeSeconds?: number;
}

/** A resource and the target (config name) it was found through. */
export type SweptResource = OwnedResource & { target: string };

export interface SweepResult {
  dryRun: boolean;
  /** Distinct resources found (targets sharing an account list the same ones). */
  found: number;
  /** Their burst's workflow is running. */
  kept: SweptResource[];
  /** No running burst: removed, failed, or left by a dry run. */
  orphans: SweptResource[];
  /** Orphans the second look found that the first did not (with minAgeSeconds): next sweep's. */
  deferred: SweptResource[];
  removed: SweptResource[];
  failed: { resource: SweptResource; error: string }[];
  /** Targets that could not be listed or swept at all (credentials, endpoint down). */
  targetErrors: { target: string; error: string }[];
}

const keyOf = (r: SweptResource, plugin: string) => `${plugin}|${r.kind}|${r.id}`;

const retry = { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 3, nonRetryableErrorTypes: [...NON_RETRYABLE_CODES] };
const { listOwned, burstsRunning } = proxyActivities<SweepActivities>({ startToCloseTimeout: '10 minutes', heartbeatTimeout: '30 seconds', retry });
// A placement group waits for its instances to finish terminating before it can go.
const { destroyOwned } = proxyActivities<SweepActivities>({ startToCloseTimeout: '30 minutes', heartbeatTimeout: '2 minutes', retry });

function message(e: unknown): string {
  const cause = e instanceof ActivityFailure ? e.cause : e;
  return cause instanceof ApplicationFailure || cause instanceof Error ? cause.message : String(cause);
}

interface Look {
  kept: SweptResource[];
  orphans: SweptResource[];
  found: Set<string>;
  errors: { target: string; error: string }[];
}

/** List every target's resources and split them by whether their burst is running. */
async function look(targets: TargetChoice[], pluginOf: Map<string, string>): Promise<Look> {
  const all: SweptResource[] = [];
  const errors: Look['errors'] = [];
  for (const target of targets) {
    try {
      for (const r of await listOwned({ target })) all.push({ ...r, target: target.name });
    } catch (e) {
      log.warn('sweep: cannot list a target', { target: target.name, error: message(e) });
      errors.push({ target: target.name, error: message(e) });
    }
  }
  const ids = [...new Set(all.map((r) => r.burstId))].filter((id) => id !== '');
  const running = new Set(ids.length ? await burstsRunning({ burstIds: ids }) : []);
  return {
    kept: all.filter((r) => running.has(r.burstId)),
    orphans: all.filter((r) => !running.has(r.burstId)),
    found: new Set(all.map((r) => keyOf(r, pluginOf.get(r.target)!))),
    errors,
  };
}

/**
 * The orphan sweep: resources tagged as ours whose burst is not running (its worker died with no
 * one to finish the teardown, or it was made outside any workflow) are deleted. A burst's
 * workflow id is its burst id, the value every resource is tagged with, so "running" is asked of
 * Temporal itself. All I/O is in activities; this only decides.
 */
export async function sweepWorkflow(input: SweepInput): Promise<SweepResult> {
  const pluginOf = new Map(input.targets.map((t) => [t.name, t.plugin] as const));
  const dedupe = (rs: SweptResource[]) => {
    const seen = new Set<string>();
    return rs.filter((r) => {
      const k = keyOf(r, pluginOf.get(r.target)!);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  };

  let now = await look(input.targets, pluginOf);
  let deferred: SweptResource[] = [];
  const minAge = input.minAgeSeconds ?? 0;
  if (minAge > 0 && now.orphans.length > 0) {
    const first = new Set(now.orphans.map((r) => `${r.target}|${r.kind}|${r.id}`));
    await sleep(minAge * 1000);
    now = await look(input.targets, pluginOf);
    deferred = now.orphans.filter((r) => !first.has(`${r.target}|${r.kind}|${r.id}`));
    now.orphans = now.orphans.filter((r) => first.has(`${r.target}|${r.kind}|${r.id}`));
  }

  const result: SweepResult = {
    dryRun: !!input.dryRun,
    found: now.found.size,
    kept: dedupe(now.kept),
    orphans: dedupe(now.orphans),
    deferred: dedupe(deferred),
    removed: [],
    failed: [],
    targetErrors: now.errors,
  };
  if (input.dryRun) return result;

  // Through every target that listed a resource: two targets may be two regions holding
  // same-named resources, and deleting the same one twice is harmless (already gone is success).
  const removed: SweptResource[] = [];
  const failed: SweepResult['failed'] = [];
  for (const target of input.targets) {
    const mine = now.orphans.filter((r) => r.target === target.name);
    if (mine.length === 0) continue;
    try {
      const r = await destroyOwned({ target, resources: mine.map(({ target: _t, ...o }) => o) });
      removed.push(...r.removed.map((o) => ({ ...o, target: target.name })));
      failed.push(...r.failed.map((f) => ({ resource: { ...f.resource, target: target.name }, error: f.error })));
    } catch (e) {
      result.targetErrors.push({ target: target.name, error: message(e) });
      for (const r of mine) failed.push({ resource: r, error: message(e) });
    }
  }
  result.removed = dedupe(removed);
  const gone = new Set(result.removed.map((r) => keyOf(r, pluginOf.get(r.target)!)));
  const failedSeen = new Set<string>();
  result.failed = failed.filter((f) => {
    const k = keyOf(f.resource, pluginOf.get(f.resource.target)!);
    if (gone.has(k) || failedSeen.has(k)) return false;
    failedSeen.add(k);
    return true;
  });
  return result;
}
