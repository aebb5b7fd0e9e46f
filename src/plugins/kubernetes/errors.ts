// Kubernetes API errors in the project's taxonomy. The client throws ApiException whose body is
// the server's Status object as text; its `reason` (NotFound, AlreadyExists, Forbidden, ...)
// is what we branch on, the HTTP code only where the reason is missing.
import { CapacityError, FluxburstError, NotFoundError, TransientError } from '../../core/errors.js';

export interface KubeStatus {
  code: number;
  reason: string;
  message: string;
}

export function kubeStatus(e: unknown): KubeStatus | undefined {
  const o = e as { code?: unknown; body?: unknown; statusCode?: unknown } | null;
  if (!o || typeof o !== 'object') return undefined;
  const code = typeof o.code === 'number' ? o.code : typeof o.statusCode === 'number' ? o.statusCode : undefined;
  if (code === undefined) return undefined;
  let body: { reason?: string; message?: string } = {};
  if (typeof o.body === 'string') {
    try {
      body = JSON.parse(o.body) as typeof body;
    } catch {
      body = { message: o.body.slice(0, 300) };
    }
  } else if (o.body && typeof o.body === 'object') body = o.body as typeof body;
  return { code, reason: body.reason ?? '', message: body.message ?? '' };
}

export const isNotFound = (e: unknown) => e instanceof NotFoundError || kubeStatus(e)?.code === 404;
export const isConflict = (e: unknown) => (e instanceof FluxburstError && e.code === 'AlreadyExists') || kubeStatus(e)?.code === 409;

/** Map a failed call to our errors; `what` names the call for the message. */
export function fromKube(e: unknown, what: string): Error {
  if (e instanceof FluxburstError) return e;
  const s = kubeStatus(e);
  if (!s) return new TransientError(`${what}: ${(e as Error).message ?? String(e)}`, e);
  const msg = `${what}: HTTP ${s.code}${s.reason ? ` ${s.reason}` : ''}${s.message ? `: ${s.message}` : ''}`;
  if (s.code === 404) return new NotFoundError(msg);
  if (s.code === 409) return new FluxburstError('AlreadyExists', msg, { retryable: true, cause: e });
  // A ResourceQuota or LimitRange says no: the cluster has no room for this burst.
  if (s.code === 403 && /exceeded quota|forbidden: .*limit/i.test(s.message)) return new CapacityError(msg, 'ResourceQuota');
  if (s.code === 401 || s.code === 403) return new FluxburstError('Forbidden', msg, { retryable: false, cause: e });
  // Our manifest was refused (a CRD schema, an admission webhook): retrying sends the same thing.
  if (s.code === 400 || s.code === 422) return new FluxburstError('Invalid', msg, { retryable: false, cause: e });
  return new TransientError(msg, e);
}

export async function kube<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw fromKube(e, what);
  }
}
