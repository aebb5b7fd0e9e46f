// Guards the EC2 issue's API-call budget in CI: the N=10 case of bench/ec2-calls.ts (a whole
// burst through the aws-ec2 plugin on the patched moto) stays within ⌈nodes/500⌉ + 3
// create/terminate calls, polls a bounded number of times, and leaves nothing behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureBurst, motoBase, target } from '../../bench/ec2-calls.js';
import { onEc2Call } from '../../src/plugins/aws-ec2/client.js';
import { type Moto, startMoto } from '../../testkit/moto/index.js';

let m: Moto | undefined;
let base: Record<string, unknown>;

beforeAll(async () => {
  m = await startMoto();
  // The plugin's clients get explicit keys from the context; this only keeps any fallback off real AWS.
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  base = await motoBase(m.endpoint);
});

afterAll(async () => {
  await m?.stop();
});

describe('aws-ec2 API calls per burst', () => {
  it('a 10-node burst makes at most ⌈10/500⌉ + 3 create/terminate calls, counted by middleware and by moto alike', async () => {
    const r = await measureBurst(m!, base, 10, 'on-demand', 'calls-10');
    expect(r.error).toBeUndefined();
    expect(r.createTerminate).toBeLessThanOrEqual(target(10));
    expect(r.byAction).toMatchObject({ CreateLaunchTemplate: 1, CreateFleet: 1, DeleteFleets: 1, DeleteLaunchTemplate: 1 });
    // Bounded polling: a handful of lookups, not one per node.
    expect(r.describe).toBeLessThanOrEqual(20);
    expect(r.other).toBe(0);
    // The middleware sees each command once; moto saw the same requests (no retries on moto).
    expect(r.total).toBe(r.motoTotal);
    expect(r.leftInstances).toBe(0);
    expect(r.leftOther).toEqual([]);
  });

  it('onEc2Call stops reporting once unsubscribed', async () => {
    const seen: string[] = [];
    const off = onEc2Call((a) => seen.push(a));
    off();
    await measureBurst(m!, base, 1, 'on-demand', 'calls-off');
    expect(seen).toEqual([]);
  });
});
