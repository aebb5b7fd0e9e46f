// Ownership labels and deterministic names. Everything a burst makes lives in its own namespace,
// so the namespace's labels are what teardown without a ref and the orphan sweep go by.
import { createHash } from 'node:crypto';

export const LABEL_BURST = 'fluxburst.io/burst-id';
export const LABEL_OWNER = 'fluxburst.io/owner';
export const LABEL_CREATED_BY = 'fluxburst.io/created-by';
export const CREATED_BY = 'fluxburst';
/** Label values are limited to 63 chars of [A-Za-z0-9-_.]; the exact burst id is kept here too. */
export const ANNOTATION_BURST = 'fluxburst.io/burst-id';

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

/** A valid label value for any string: itself when it already is one, else a readable stem + hash. */
export function labelValue(s: string): string {
  if (/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/.test(s)) return s;
  const stem = s.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 50).replace(/[^A-Za-z0-9]+$/, '');
  return `${stem}${stem ? '-' : ''}${short(s)}`;
}

/** The burst's namespace: a valid DNS label derived only from prefix and burst id (stable across retries). */
export function namespaceFor(prefix: string, burstId: string): string {
  const plain = `${prefix}${burstId}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const trimmed = plain.replace(/-+$/, '');
  if (trimmed.length <= 63 && trimmed === `${prefix}${burstId}`) return trimmed;
  return `${trimmed.slice(0, 54).replace(/-+$/, '')}-${short(burstId)}`;
}

export function ownerLabels(burstId: string, owner: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...extra, [LABEL_BURST]: labelValue(burstId), [LABEL_OWNER]: labelValue(owner), [LABEL_CREATED_BY]: CREATED_BY };
}

/** Whether an object's labels say the burst made it (a foreign one must never be adopted or deleted). */
export function isOurs(labels: Record<string, string> | undefined, burstId: string): boolean {
  return labels?.[LABEL_CREATED_BY] === CREATED_BY && labels?.[LABEL_BURST] === labelValue(burstId);
}

export const burstSelector = (burstId: string) => `${LABEL_BURST}=${labelValue(burstId)}`;
export const ownedSelector = () => `${LABEL_CREATED_BY}=${CREATED_BY}`;
