// The Flux lead harness (testkit/flux/lead.ts) on a real flux-core: a lead with two pre-declared
// burst slots starts, answers, runs a job on itself, keeps a job that needs the slots pending,
// and stop() leaves no process and no dir. No flux → this file fails (never skips), saying how to
// get one (scripts/setup.sh --test).
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLUX_ENV, requireFlux } from '../../src/flux/command.js';
import { expandHostlist, hostlist } from '../../src/flux/config.js';
import { type FluxLead, startFluxLead } from '../../testkit/flux/lead.js';

let lead: FluxLead | undefined;
beforeAll(async () => {
  lead = await startFluxLead({ slots: 2 });
});
afterAll(async () => {
  await lead?.stop();
});

describe('flux lead harness', () => {
  it('answers with the burst slots down, runs a job on the lead, keeps a 3-node job pending', async () => {
    const l = lead!;
    expect(l.hosts).toEqual(['burst-0', 'burst-1']);
    expect(await l.onlineHosts()).toEqual(['lead']);
    const offline = (await l.run(['resource', 'status', '--states=offline', '-no', '{nodelist}'])).trim();
    expect(expandHostlist(offline)).toEqual(['burst-0', 'burst-1']);
    // rank 0 is the lead: `flux overlay status` shows the two children offline.
    const overlay = await l.run(['overlay', 'status', '--no-pretty']);
    expect(overlay.trim().split('\n')).toEqual(['0 lead: partial', '1 burst-0: offline', '2 burst-1: offline']);
    const id = (await l.run(['submit', '-N1', 'hostname'])).trim();
    await l.run(['job', 'attach', id], 30_000);
    const done = JSON.parse(await l.run(['jobs', '--json', id])) as { result: string; nodelist: string };
    expect(done).toMatchObject({ result: 'COMPLETED', nodelist: 'lead' });
    const pend = (await l.run(['submit', '-N3', '--setattr=system.burstable=1', 'hostname'])).trim();
    await new Promise((r) => setTimeout(r, 1000));
    const p = JSON.parse(await l.run(['jobs', '--json', pend])) as { state: string };
    expect(p.state).toBe('SCHED');
    await l.run(['cancel', pend]);
  });

  it('a hand-started broker claims a slot and joins; stop() ends it', async () => {
    const l = lead!;
    const b = await l.startBroker('burst-1');
    await l.waitOnline(['burst-1'], 30_000);
    expect((await l.onlineHosts()).sort()).toEqual(['burst-1', 'lead']);
    await b.stop();
    for (let i = 0; i < 100 && (await l.onlineHosts()).includes('burst-1'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await l.onlineHosts()).toEqual(['lead']);
  });

  it('stop() leaves no broker, socket or dir (a second lead with a running broker)', async () => {
    const l2 = await startFluxLead({ slots: 1, prefix: 'b' });
    await l2.startBroker('b0');
    await l2.waitOnline(['b0']);
    await l2.run(['submit', '-N2', 'sleep', '300']);
    expect(l2.processes().length).toBeGreaterThan(1);
    const left = await l2.stop();
    expect(left).toEqual({ processes: [], dir: false });
    expect(existsSync(l2.dir)).toBe(false);
  });
});

describe('finding flux', () => {
  it('hostlists compress and expand', () => {
    expect(hostlist(['lead', 'burst-0', 'burst-1', 'burst-2', 'x'])).toBe('lead,burst-[0-2],x');
    expect(expandHostlist('lead,burst-[0-2,5]')).toEqual(['lead', 'burst-0', 'burst-1', 'burst-2', 'burst-5']);
  });
  it('no usable flux is an error naming how to provide one', () => {
    expect(() => requireFlux({ ...process.env, [FLUX_ENV]: '/nonexistent/flux' })).toThrow(/scripts\/setup\.sh --test.*FLUXBURST_FLUX/);
  });
});
