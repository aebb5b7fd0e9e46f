// Deterministic names and ownership labels. A retried step (or a new worker after a kill -9)
// must ask for the very same cluster or node pool, so GKE answers ALREADY_EXISTS instead of
// making a second one; the labels then tell ours from someone else's.
import { createHash } from 'node:crypto';
import { GKE_NAME } from './params.js';

export const LABEL_BURST = 'fluxburst-burst-id';
export const LABEL_OWNER = 'fluxburst-owner';
export const LABEL_CREATED_BY = 'fluxburst-created-by';
export const CREATED_BY = 'fluxburst';
/** GKE names are ≤ 40 chars (cluster and node pool alike). */
export const MAX_NAME = 40;

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

/**
 * `<prefix><burst id>` when that is already a valid GKE name; otherwise a readable stem plus a
 * hash of the exact burst id, so two burst ids never share a name after sanitising/truncating.
 */
export function gkeName(prefix: string, burstId: string): string {
  const plain = `${prefix}${burstId}`;
  if (plain.length <= MAX_NAME && GKE_NAME.test(plain)) return plain;
  const stem = plain
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, MAX_NAME - 9)
    .replace(/-+$/, '');
  const name = `${stem}-${short(burstId)}`;
  // The prefix starts with a letter, so the stem does too.
  return /^[a-z]/.test(name) ? name : `fb-${name}`.slice(0, MAX_NAME);
}

export const clusterNameFor = (burstId: string) => gkeName('fb-', burstId);
export const nodePoolNameFor = (burstId: string) => gkeName('fb-', burstId);

/** A GCE label value for any string: itself when valid, else a readable stem + hash. */
export function labelValue(s: string): string {
  if (/^[a-z0-9_-]{0,63}$/.test(s)) return s;
  const stem = s.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').slice(0, 54);
  return `${stem}-${short(s)}`;
}

export function ownerLabels(burstId: string, owner: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...extra, [LABEL_BURST]: labelValue(burstId), [LABEL_OWNER]: labelValue(owner), [LABEL_CREATED_BY]: CREATED_BY };
}

/** Whether GKE labels say this burst made it: a foreign cluster/pool must never be adopted or deleted. */
export function isOurs(labels: Record<string, string> | null | undefined, burstId: string): boolean {
  return labels?.[LABEL_CREATED_BY] === CREATED_BY && labels?.[LABEL_BURST] === labelValue(burstId);
}

/**
 * The exact burst id: labels may have been shortened, and the orphan sweep asks Temporal about
 * the id it is given, so a shortened one would look like a finished burst. Clusters keep it in
 * their description, node pools in their instance metadata.
 */
export const META_BURST = 'fluxburst-burst-id';
export const describeBurst = (burstId: string, owner: string) => `fluxburst burst ${burstId} (owner ${owner})`;
export function burstFromDescription(d: string | null | undefined): string | undefined {
  return /^fluxburst burst (\S+) \(owner /.exec(d ?? '')?.[1];
}
