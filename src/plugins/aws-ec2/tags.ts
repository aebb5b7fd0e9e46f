import type { Filter, Tag } from '@aws-sdk/client-ec2';
import type { AwsEc2Params } from './params.js';

export const TAG_BURST = 'fluxburst:burst-id';
export const TAG_OWNER = 'fluxburst:owner';
export const TAG_CREATED_BY = 'fluxburst:created-by';
export const CREATED_BY = 'fluxburst';
/** The provision step an instance was launched by (the fleet step, or a replacement node step). */
export const TAG_STEP = 'fluxburst:step';
/** The burst's node name of an instance (node-0, node-1, ...). */
export const TAG_NODE = 'fluxburst:node';

/** Tags on everything a burst makes: ownership (for the orphan sweep) first, user tags after. */
export function burstTags(p: Pick<AwsEc2Params, 'tags' | 'labels'>, burstId: string, owner: string, extra: Record<string, string> = {}): Tag[] {
  const t: Record<string, string> = { ...(p.labels ?? {}), ...p.tags, ...extra, [TAG_BURST]: burstId, [TAG_OWNER]: owner, [TAG_CREATED_BY]: CREATED_BY };
  if (!('Name' in t)) t.Name = `fluxburst-${burstId}`;
  return Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
}

export function tagOf(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

export function tagFilters(tags: Record<string, string>): Filter[] {
  return Object.entries(tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] }));
}

/** EC2 names (launch templates, placement groups) allow a limited alphabet; burst ids are mostly safe already. */
export function ec2Name(prefix: string, burstId: string, max = 128): string {
  return `${prefix}-${burstId}`.replace(/[^A-Za-z0-9().\-/_]/g, '_').slice(0, max);
}
