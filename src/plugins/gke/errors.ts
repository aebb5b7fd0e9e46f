// gRPC status codes from ClusterManager in the project's taxonomy. google-gax already retries
// UNAVAILABLE and DEADLINE_EXCEEDED on the idempotent methods (get/list/delete); what still
// reaches us is either final (permission, quota, a bad request) or for Temporal to retry.
import { status } from '@grpc/grpc-js';
import { CapacityError, FluxburstError, NotFoundError, providerCode, TransientError } from '../../core/errors.js';

export const grpcCode = (e: unknown): number | undefined => {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'number' ? c : undefined;
};
export const isNotFound = (e: unknown) => e instanceof NotFoundError || grpcCode(e) === status.NOT_FOUND;
export const isAlreadyExists = (e: unknown) => grpcCode(e) === status.ALREADY_EXISTS;
export const isBusy = (e: unknown) => grpcCode(e) === status.FAILED_PRECONDITION;

/** RESOURCE_EXHAUSTED → ResourceExhausted: our error codes are the gRPC names in PascalCase. */
export function codeName(code: number): string {
  const n = status[code] ?? `Code${code}`;
  return n
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

const PERMANENT = new Set<number>([status.PERMISSION_DENIED, status.UNAUTHENTICATED, status.INVALID_ARGUMENT, status.OUT_OF_RANGE, status.UNIMPLEMENTED]);

export function fromGrpc(e: unknown, what: string): FluxburstError {
  if (e instanceof FluxburstError) return e;
  const code = grpcCode(e);
  const msg = `${what}: ${(e as Error)?.message ?? String(e)}`;
  if (code === undefined) return new TransientError(msg, e);
  if (code === status.NOT_FOUND) return new NotFoundError(msg);
  // Quota (CPUS, IN_USE_ADDRESSES) or a zone out of machines: no retry changes that soon.
  if (code === status.RESOURCE_EXHAUSTED) return new CapacityError(msg, 'ResourceExhausted');
  if (PERMANENT.has(code)) return new FluxburstError(providerCode(codeName(code)), msg, { retryable: false, cause: e });
  return new TransientError(msg, e);
}

export async function gke<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw fromGrpc(e, what);
  }
}

/** A finished operation's error (google.rpc.Status): final, with its code; a stockout is capacity. */
export function operationFailed(what: string, err: { code?: number | null; message?: string | null }): FluxburstError {
  const code = err.code ?? status.UNKNOWN;
  const msg = `${what} failed: ${codeName(code)}: ${err.message ?? ''}`.trim();
  if (code === status.RESOURCE_EXHAUSTED || /STOCKOUT|does not have enough resources/i.test(err.message ?? '')) return new CapacityError(msg, 'ResourceExhausted');
  return new FluxburstError(providerCode(codeName(code)), msg, { retryable: false });
}
