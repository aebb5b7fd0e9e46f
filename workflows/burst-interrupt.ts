// An interruption (spot notice, rebalance, a lost node): drain the node in the scheduler, stop
// what runs there (its batches hand their unfinished jobs back), let the local scheduler know
// first when it places the jobs itself (Flux: drain the rank), delete the node or release it from
// its fleet, and provision + join a replacement within the burst's budget.
import { isCancellation, log } from '@temporalio/workflow';
import type { Interruption, ProvisionStep, ResourceRef } from '../src/core/types.js';
import type { BurstRun } from './burst-state.js';
import type { RunDeps } from './burst-run.js';
import { messageOf } from './errors.js';

export async function handleInterruption(
  b: BurstRun,
  d: RunDeps,
  refs: Map<string, ResourceRef>,
  n: Interruption,
  stopBatches: (ids: string[]) => void,
  drainFirst?: (node: string, reason: string) => Promise<void>,
): Promise<void> {
  // A notice for a node already drained (SQS delivers at least once; a poll and a signal may both
  // report it) or not ours changes nothing and is not recorded again.
  if (!refs.has(n.node) || b.sched.s.nodes[n.node] === undefined || b.sched.s.nodes[n.node] === 'drained') return;
  b.st.interruptions.push(n);
  if (b.st.interruptions.length > 50) b.st.interruptions.shift();
  b.metrics.interruption(b.st, n.kind);
  const dr = b.sched.drain(n.node);
  stopBatches(dr.stop);
  if (drainFirst) {
    await drainFirst(n.node, `${n.kind}: ${n.reason}`).catch((e) => log.warn('drain at the local scheduler failed', { node: n.node, error: messageOf(e) }));
  }
  const gone = b.saga.undo.find((u) => u.step.node === n.node || u.ref?.node === n.node);
  const holder = refs.get(n.node);
  if (gone) {
    b.saga.undo.splice(b.saga.undo.indexOf(gone), 1);
    await d.teardownOne(gone).catch((e) => {
      b.saga.undo.push(gone); // retried at final teardown
      log.warn('teardown of interrupted node failed', { node: n.node, error: messageOf(e) });
    });
  } else if (holder?.nodes) {
    // One member of a fleet: only it goes now; the rest of the fleet stays (its undo entry remains).
    await d.acts.steps
      .releaseNode({ ...b.call(), node: n.node, ref: holder })
      .catch((e) => log.warn('release of interrupted node failed; final teardown removes it', { node: n.node, error: messageOf(e) }));
    holder.nodes = holder.nodes.filter((x) => x !== n.node);
  }
  refs.delete(n.node);
  if (!dr.replace) return;
  const k = b.sched.s.replacements;
  // The replacement takes the rank of the node it replaces; its name says which replacement it is.
  const rank = gone?.step.rank;
  const base = rank !== undefined && gone?.step.node && !gone.step.replacement ? gone.step.node : n.node.replace(/-r\d+$/, '');
  const s: ProvisionStep = { key: `${n.node}-r${k}`, kind: 'node', node: `${base}-r${k}`, replaces: { node: n.node, kind: n.kind }, replacement: k, ...(rank !== undefined ? { rank } : {}) };
  try {
    const ref = await d.provisionOne(s);
    await d.acts.steps.joinNodes({ ...b.call(), resources: [ref] });
    refs.set(ref.node!, ref);
    b.sched.nodeJoined(ref.node!);
  } catch (e) {
    if (isCancellation(e)) throw e;
    // No replacement (no capacity, or the plugin cannot add one node): the burst goes on with
    // the nodes it has; jobs that no longer fit fail with that reason.
    b.sched.replacementFailed();
    log.warn('replacement node failed; continuing with fewer nodes', { node: s.node, error: messageOf(e) });
    b.replacementErrors.push(`${s.node}: ${messageOf(e)}`);
  }
}
