// Waiting on ClusterManager's long-running operations: GetOperation until DONE, heartbeating
// every poll (so a dead worker's wait is retried elsewhere within the heartbeat timeout, and a
// new worker picks the same operation up again by listing the target's operations).
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterManagerClient, protos } from '@google-cloud/container';
import { TransientError } from '../../core/errors.js';
import type { PluginContext } from '../contract.js';
import { gke, operationFailed } from './errors.js';

type Operation = protos.google.container.v1.IOperation;

/** The enum arrives as its name from google-gax; numbers are accepted too. */
const STATUS_NAMES = ['STATUS_UNSPECIFIED', 'PENDING', 'RUNNING', 'DONE', 'ABORTING'] as const;
export function statusName(s: Operation['status']): string {
  return typeof s === 'number' ? (STATUS_NAMES[s] ?? String(s)) : String(s ?? 'STATUS_UNSPECIFIED');
}

export const opPath = (project: string, location: string, op: Operation) => `projects/${project}/locations/${op.location || op.zone || location}/operations/${op.name}`;

export interface WaitOptions {
  project: string;
  location: string;
  pollSeconds: number;
  timeoutSeconds: number;
  /** For messages: what the operation does ("create cluster fb-x"). */
  what: string;
}

/** Resolves when the operation is DONE without error; an operation error fails with its code. */
export async function waitOperation(client: ClusterManagerClient, op: Operation, o: WaitOptions, ctx: PluginContext): Promise<Operation> {
  const name = opPath(o.project, o.location, op);
  const deadline = Date.now() + o.timeoutSeconds * 1000;
  let cur = op;
  const seen: string[] = [];
  for (;;) {
    const st = statusName(cur.status);
    if (seen[seen.length - 1] !== st) seen.push(st);
    ctx.heartbeat({ operation: cur.name, status: st, what: o.what });
    if (st === 'DONE') {
      if (cur.error && (cur.error.code ?? 0) !== 0) throw operationFailed(`${o.what} (operation ${cur.name})`, cur.error);
      // statusMessage is the pre-`error` way GKE reported a failure.
      if (!cur.error && cur.statusMessage && /error|fail/i.test(cur.statusMessage)) throw operationFailed(`${o.what} (operation ${cur.name})`, { code: 2, message: cur.statusMessage });
      ctx.log.info(`gke: ${o.what} done`, { operation: cur.name, statuses: seen.join('→') });
      return cur;
    }
    if (st === 'ABORTING') throw new TransientError(`${o.what}: operation ${cur.name} is being aborted`);
    if (Date.now() > deadline) throw new TransientError(`${o.what}: operation ${cur.name} not done after ${o.timeoutSeconds}s (last status ${st})`);
    await sleep(o.pollSeconds * 1000, undefined, { signal: ctx.signal });
    [cur] = await gke(`GetOperation ${name}`, () => client.getOperation({ name }));
  }
}

/**
 * The target's operations that are not DONE yet: after a worker died mid-wait, the one to
 * resume; before a delete, the ones GKE would refuse it for (one operation per cluster at a time).
 */
export async function pendingOperations(client: ClusterManagerClient, project: string, location: string, target: string): Promise<Operation[]> {
  const parent = `projects/${project}/locations/${location}`;
  const [r] = await gke(`ListOperations ${parent}`, () => client.listOperations({ parent }));
  const suffix = target.replace(/^.*?(projects\/)/, '$1');
  return (r.operations ?? []).filter((o) => statusName(o.status) !== 'DONE' && !!o.targetLink && (o.targetLink.endsWith(suffix) || o.targetLink.includes(`${suffix}/`)));
}

/** Wait for every unfinished operation on the target (errors in them are not ours to report). */
export async function settle(client: ClusterManagerClient, project: string, location: string, target: string, o: Omit<WaitOptions, 'what' | 'project' | 'location'>, ctx: PluginContext): Promise<void> {
  for (const op of await pendingOperations(client, project, location, target)) {
    try {
      await waitOperation(client, op, { ...o, project, location, what: `${op.operationType ?? 'operation'} on ${target}` }, ctx);
    } catch (e) {
      if (e instanceof TransientError) throw e;
      // A failed earlier operation (e.g. the create) is why we are here; what matters is that it ended.
    }
  }
}
