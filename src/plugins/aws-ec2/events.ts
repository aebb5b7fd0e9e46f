import { z } from 'zod';
import type { Interruption } from '../../core/types.js';

/**
 * EventBridge events about EC2 instances, as an EventBridge rule with an SQS target delivers them:
 * the message body is the event JSON itself. The four kinds are the ones Karpenter's interruption
 * controller acts on (aws/karpenter-provider-aws, pkg/controllers/interruption/messages), with the
 * same filters: state changes only for states that take the instance away, Health events only
 * for EC2 scheduled changes.
 */

export type InterruptionEventKind = Extract<Interruption['kind'], 'spot-interruption' | 'rebalance' | 'termination' | 'scheduled-change'>;

export interface InterruptionEvent {
  instanceId: string;
  kind: InterruptionEventKind;
  reason: string;
  /** The event's `time` (when AWS emitted it), not when the instance goes away. */
  time?: string;
}

export type ParsedInterruption = { events: InterruptionEvent[] } | { ignored: string };

export const DETAIL_SPOT_WARNING = 'EC2 Spot Instance Interruption Warning';
export const DETAIL_REBALANCE = 'EC2 Instance Rebalance Recommendation';
export const DETAIL_STATE_CHANGE = 'EC2 Instance State-change Notification';
export const DETAIL_HEALTH = 'AWS Health Event';

/** States after which the instance will not run our work again (Karpenter's acceptedStates). */
export const TERMINAL_STATES: ReadonlySet<string> = new Set(['stopping', 'stopped', 'shutting-down', 'terminated']);

// Legacy 8-hex and current 17-hex ids. Health entities can be other resources (volumes, hosts),
// and a malformed id would otherwise reach DescribeInstances.
const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const instanceId = z.string().regex(INSTANCE_ID, 'not an EC2 instance id');

// Only the fields we use are required: an event missing `account` or `region` still announces
// a real interruption, and dropping it would cost the node's work.
export const eventBridgeEnvelope = z.object({
  version: z.string().optional(),
  id: z.string().optional(),
  'detail-type': z.string(),
  source: z.string(),
  account: z.string().optional(),
  time: z.string().optional(),
  region: z.string().optional(),
  // Some EC2 examples show a bare string here; it is unused, so never a reason to drop the event.
  resources: z.array(z.string()).optional().catch(undefined),
  detail: z.unknown(),
});

export const spotInterruptionDetail = z.object({
  'instance-id': instanceId,
  /** terminate | stop | hibernate */
  'instance-action': z.string(),
});

export const rebalanceDetail = z.object({
  'instance-id': instanceId,
});

export const stateChangeDetail = z.object({
  'instance-id': instanceId,
  state: z.string(),
});

export const healthDetail = z.object({
  eventArn: z.string().optional(),
  service: z.string(),
  eventTypeCode: z.string(),
  eventTypeCategory: z.string(),
  startTime: z.string().optional(),
  endTime: z.string().optional(),
  affectedEntities: z.array(z.object({ entityValue: z.string() })).default([]),
});

const EC2 = 'aws.ec2';
const HEALTH = 'aws.health';

/** The interruptions an SQS message body announces, or why it announces none. Never throws. */
export function parseInterruptionEvent(body: string): ParsedInterruption {
  try {
    return parse(body);
  } catch (e) {
    return { ignored: `unparseable event: ${(e as Error)?.message ?? String(e)}` };
  }
}

function parse(body: string): ParsedInterruption {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (e) {
    return { ignored: `body is not JSON: ${(e as Error).message}` };
  }
  const env = eventBridgeEnvelope.safeParse(json);
  if (!env.success) return { ignored: `not an EventBridge event: ${issues(env.error)}` };
  const { 'detail-type': detailType, source, detail } = env.data;
  const time = env.data.time ? { time: env.data.time } : {};
  const what = `${source} "${detailType}"`;

  if (source === EC2 && detailType === DETAIL_SPOT_WARNING) {
    const d = spotInterruptionDetail.safeParse(detail);
    if (!d.success) return { ignored: `${what}: ${issues(d.error, 'detail')}` };
    const id = d.data['instance-id'];
    return { events: [{ instanceId: id, kind: 'spot-interruption', reason: `spot interruption warning for ${id}: ${d.data['instance-action']}`, ...time }] };
  }
  if (source === EC2 && detailType === DETAIL_REBALANCE) {
    const d = rebalanceDetail.safeParse(detail);
    if (!d.success) return { ignored: `${what}: ${issues(d.error, 'detail')}` };
    const id = d.data['instance-id'];
    return { events: [{ instanceId: id, kind: 'rebalance', reason: `rebalance recommendation for ${id}`, ...time }] };
  }
  if (source === EC2 && detailType === DETAIL_STATE_CHANGE) {
    const d = stateChangeDetail.safeParse(detail);
    if (!d.success) return { ignored: `${what}: ${issues(d.error, 'detail')}` };
    const state = d.data.state.toLowerCase();
    const id = d.data['instance-id'];
    if (!TERMINAL_STATES.has(state)) return { ignored: `${what}: state ${state} of ${id} does not take it away` };
    return { events: [{ instanceId: id, kind: 'termination', reason: `instance ${id} is ${state}`, ...time }] };
  }
  if (source === HEALTH && detailType === DETAIL_HEALTH) {
    const d = healthDetail.safeParse(detail);
    if (!d.success) return { ignored: `${what}: ${issues(d.error, 'detail')}` };
    const h = d.data;
    if (h.service !== 'EC2' || h.eventTypeCategory !== 'scheduledChange') {
      return { ignored: `${what}: ${h.service} ${h.eventTypeCategory} ${h.eventTypeCode} is not an EC2 scheduled change` };
    }
    const ids = [...new Set(h.affectedEntities.map((e) => e.entityValue).filter((v) => INSTANCE_ID.test(v)))];
    if (ids.length === 0) return { ignored: `${what}: ${h.eventTypeCode} names no EC2 instance` };
    const when = h.startTime ? ` starting ${h.startTime}` : '';
    return { events: ids.map((id) => ({ instanceId: id, kind: 'scheduled-change' as const, reason: `scheduled change ${h.eventTypeCode} for ${id}${when}`, ...time })) };
  }
  return { ignored: `unhandled event ${what}` };
}

function issues(e: z.ZodError, under?: string): string {
  return e.issues
    .slice(0, 3)
    .map((i) => `${[...(under ? [under] : []), ...i.path.map(String)].join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
