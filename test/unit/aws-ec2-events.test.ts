// EventBridge event bodies as an SQS target receives them, shaped after the examples in the EC2
// user guide (spot interruption notices, rebalance recommendations, state-change events) and the
// AWS Health EventBridge schema reference.
import { describe, expect, it } from 'vitest';
import { parseInterruptionEvent } from '../../src/plugins/aws-ec2/events.js';

const ID = 'i-1234567890abcdef0';

function envelope(detailType: string, source: string, detail: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: '12345678-1234-1234-1234-123456789012',
    'detail-type': detailType,
    source,
    account: '123456789012',
    time: '2024-05-01T12:00:00Z',
    region: 'us-east-2',
    resources: [`arn:aws:ec2:us-east-2:123456789012:instance/${ID}`],
    detail,
    ...extra,
  };
}

const body = (o: unknown): string => JSON.stringify(o);

const spotWarning = (action = 'terminate') => envelope('EC2 Spot Instance Interruption Warning', 'aws.ec2', { 'instance-id': ID, 'instance-action': action });
const rebalance = () => envelope('EC2 Instance Rebalance Recommendation', 'aws.ec2', { 'instance-id': ID });
const stateChange = (state: string) => envelope('EC2 Instance State-change Notification', 'aws.ec2', { 'instance-id': ID, state });
const health = (detail: Record<string, unknown> = {}) =>
  envelope('AWS Health Event', 'aws.health', {
    eventArn: 'arn:aws:health:us-east-2::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED_ABC123-DEF456',
    service: 'EC2',
    eventTypeCode: 'AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED',
    eventTypeCategory: 'scheduledChange',
    eventScopeCode: 'ACCOUNT_SPECIFIC',
    communicationId: '1234abc01232a4012345678-1',
    startTime: 'Wed, 15 May 2024 12:00:00 GMT',
    endTime: 'Wed, 15 May 2024 14:00:00 GMT',
    lastUpdatedTime: 'Wed, 01 May 2024 12:00:00 GMT',
    statusCode: 'upcoming',
    eventRegion: 'us-east-2',
    eventDescription: [{ language: 'en_US', latestDescription: 'EC2 has detected degradation of the underlying hardware hosting your instance.' }],
    affectedEntities: [{ entityValue: ID, tags: {} }],
    affectedAccount: '123456789012',
    ...detail,
  }, { resources: [ID] });

describe('parseInterruptionEvent', () => {
  it('spot interruption warning → spot-interruption with the instance action', () => {
    for (const action of ['terminate', 'stop', 'hibernate']) {
      const r = parseInterruptionEvent(body(spotWarning(action)));
      expect(r).toEqual({ events: [{ instanceId: ID, kind: 'spot-interruption', reason: expect.stringContaining(action), time: '2024-05-01T12:00:00Z' }] });
    }
  });

  it('rebalance recommendation → rebalance', () => {
    expect(parseInterruptionEvent(body(rebalance()))).toEqual({
      events: [{ instanceId: ID, kind: 'rebalance', reason: expect.stringContaining(ID), time: '2024-05-01T12:00:00Z' }],
    });
  });

  it('state changes that take the instance away → termination; others ignored', () => {
    for (const state of ['stopping', 'stopped', 'shutting-down', 'terminated', 'Terminated']) {
      const r = parseInterruptionEvent(body(stateChange(state)));
      expect(r).toEqual({ events: [{ instanceId: ID, kind: 'termination', reason: expect.stringContaining(state.toLowerCase()), time: '2024-05-01T12:00:00Z' }] });
    }
    for (const state of ['pending', 'running']) {
      const r = parseInterruptionEvent(body(stateChange(state)));
      expect(r).toEqual({ ignored: expect.stringContaining(state) });
    }
  });

  it('AWS Health EC2 scheduled change → one scheduled-change per affected instance', () => {
    const other = 'i-0fedcba9876543210';
    const r = parseInterruptionEvent(body(health({ affectedEntities: [{ entityValue: ID }, { entityValue: other }] })));
    expect(r).toEqual({
      events: [
        { instanceId: ID, kind: 'scheduled-change', reason: expect.stringContaining('AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED'), time: '2024-05-01T12:00:00Z' },
        { instanceId: other, kind: 'scheduled-change', reason: expect.stringContaining('Wed, 15 May 2024 12:00:00 GMT'), time: '2024-05-01T12:00:00Z' },
      ],
    });
  });

  it('Health events that are not EC2 scheduled changes, or name no instance, are ignored', () => {
    expect(parseInterruptionEvent(body(health({ eventTypeCategory: 'issue', eventTypeCode: 'AWS_EC2_OPERATIONAL_ISSUE' })))).toEqual({ ignored: expect.stringContaining('not an EC2 scheduled change') });
    expect(parseInterruptionEvent(body(health({ service: 'RDS', eventTypeCode: 'AWS_RDS_MAINTENANCE_SCHEDULED' })))).toEqual({ ignored: expect.stringContaining('RDS') });
    expect(parseInterruptionEvent(body(health({ affectedEntities: [{ entityValue: 'vol-0123456789abcdef0' }] })))).toEqual({ ignored: expect.stringContaining('names no EC2 instance') });
    expect(parseInterruptionEvent(body(health({ affectedEntities: undefined })))).toEqual({ ignored: expect.stringContaining('names no EC2 instance') });
    // Duplicate entities are one instance.
    const r = parseInterruptionEvent(body(health({ affectedEntities: [{ entityValue: ID }, { entityValue: ID }, { entityValue: 'vol-0123456789abcdef0' }] })));
    expect('events' in r && r.events.map((e) => e.instanceId)).toEqual([ID]);
  });

  it('malformed JSON and non-events are ignored with a reason, never thrown', () => {
    for (const b of ['', 'not json', '{"detail-type":', 'null', '42', '[]', '"str"']) {
      const r = parseInterruptionEvent(b);
      expect(r).toEqual({ ignored: expect.any(String) });
    }
    expect(parseInterruptionEvent('garbage')).toEqual({ ignored: expect.stringContaining('not JSON') });
    expect(parseInterruptionEvent(body({ hello: 'world' }))).toEqual({ ignored: expect.stringContaining('not an EventBridge event') });
  });

  it('wrong shapes are ignored: bad detail, wrong source, unknown detail-type, bad instance id', () => {
    const cases: Array<[unknown, string]> = [
      [envelope('EC2 Spot Instance Interruption Warning', 'aws.ec2', { 'instance-id': ID }), 'instance-action'],
      [envelope('EC2 Spot Instance Interruption Warning', 'aws.ec2', null), 'detail: '],
      [envelope('EC2 Instance Rebalance Recommendation', 'aws.ec2', { 'instance-id': 42 }), 'instance-id'],
      [envelope('EC2 Instance State-change Notification', 'aws.ec2', { 'instance-id': ID }), 'state'],
      [envelope('EC2 Instance State-change Notification', 'aws.ec2', { 'instance-id': 'i-nothex!', state: 'terminated' }), 'not an EC2 instance id'],
      [envelope('EC2 Spot Instance Interruption Warning', 'custom.app', { 'instance-id': ID, 'instance-action': 'terminate' }), 'unhandled event'],
      [envelope('AWS Health Event', 'aws.health', { service: 'EC2' }), 'eventTypeCode'],
      [envelope('AWS API Call via CloudTrail', 'aws.ec2', {}), 'unhandled event'],
      [{ ...spotWarning(), 'detail-type': 7 }, 'not an EventBridge event'],
    ];
    for (const [b, why] of cases) expect(parseInterruptionEvent(body(b)), why).toEqual({ ignored: expect.stringContaining(why) });
  });

  it('lenient where it costs nothing: missing optional envelope fields, extra fields, legacy ids', () => {
    const { time: _t, account: _a, region: _r, resources: _res, ...bare } = spotWarning();
    expect(parseInterruptionEvent(body(bare))).toEqual({ events: [{ instanceId: ID, kind: 'spot-interruption', reason: expect.any(String) }] });
    expect(parseInterruptionEvent(body({ ...rebalance(), resources: 'arn:aws:ec2:us-east-2:123456789012:instance/x', extra: true }))).toMatchObject({ events: [{ kind: 'rebalance' }] });
    expect(parseInterruptionEvent(body(envelope('EC2 Instance State-change Notification', 'aws.ec2', { 'instance-id': 'i-abcd1111', state: 'stopped' })))).toMatchObject({
      events: [{ instanceId: 'i-abcd1111', kind: 'termination' }],
    });
  });
});
