// Waiting on the API server the way controllers do: list once (state + resourceVersion), then
// watch from that version, re-listing only when the stream ends. No tight polling; a heartbeat
// timer proves the activity alive while nothing changes.
import type { PluginContext } from '../contract.js';
import type { Kube } from './client.js';
import { fromKube } from './errors.js';

export interface KubeObject {
  metadata?: { name?: string; resourceVersion?: string; labels?: Record<string, string>; deletionTimestamp?: unknown };
  [k: string]: unknown;
}

export interface WaitSpec<T> {
  /** API path of the collection, e.g. /api/v1/namespaces/x/pods. */
  path: string;
  query?: Record<string, string>;
  list(): Promise<{ items: KubeObject[]; resourceVersion: string }>;
  /** The current objects by name → a result when done, undefined to keep waiting (may throw). */
  check(objects: Map<string, KubeObject>): T | undefined;
  timeoutMs: number;
  onTimeout(objects: Map<string, KubeObject>): Error;
  what: string;
}

export async function waitWatching<T>(k: Kube, ctx: PluginContext, spec: WaitSpec<T>): Promise<T> {
  const objects = new Map<string, KubeObject>();
  const deadline = Date.now() + spec.timeoutMs;
  const beat = setInterval(() => ctx.heartbeat({ waiting: spec.what, have: objects.size }), 1000);
  try {
    for (;;) {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('cancelled');
      let listed: { items: KubeObject[]; resourceVersion: string };
      try {
        listed = await spec.list();
      } catch (e) {
        throw fromKube(e, `list (${spec.what})`);
      }
      objects.clear();
      for (const o of listed.items) objects.set(o.metadata?.name ?? '', o);
      const now = spec.check(objects);
      if (now !== undefined) return now;
      const left = deadline - Date.now();
      if (left <= 0) throw spec.onTimeout(objects);
      // One watch stream; resolves with the result, or undefined when the stream ended (re-list).
      const r = await new Promise<{ done: T } | { timeout: true } | { again: true }>((resolve, reject) => {
        let controller: AbortController | undefined;
        let settled = false;
        const finish = (v: { done: T } | { timeout: true } | { again: true } | Error) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          ctx.signal.removeEventListener('abort', onAbort);
          controller?.abort();
          if (v instanceof Error) reject(v);
          else resolve(v);
        };
        const timer = setTimeout(() => finish({ timeout: true }), left);
        const onAbort = () => finish(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('cancelled'));
        ctx.signal.addEventListener('abort', onAbort);
        k.watch
          .watch(
            spec.path,
            { ...spec.query, resourceVersion: listed.resourceVersion, allowWatchBookmarks: 'true' },
            (type, obj: KubeObject) => {
              if (settled) return;
              const name = obj?.metadata?.name ?? '';
              if (type === 'ADDED' || type === 'MODIFIED') objects.set(name, obj);
              else if (type === 'DELETED') objects.delete(name);
              else if (type === 'ERROR') return finish({ again: true }); // e.g. 410 Gone: resourceVersion too old
              else return; // BOOKMARK
              try {
                const v = spec.check(objects);
                if (v !== undefined) finish({ done: v });
              } catch (e) {
                finish(e as Error);
              }
            },
            () => finish({ again: true }),
          )
          .then((c) => {
            controller = c;
            if (settled) c.abort();
          }, () => finish({ again: true }));
      });
      if ('done' in r) return r.done;
      if ('timeout' in r) throw spec.onTimeout(objects);
      // The stream ended (server timeout, connection drop): list again after a breath.
      await new Promise((res) => setTimeout(res, 200));
    }
  } finally {
    clearInterval(beat);
  }
}
