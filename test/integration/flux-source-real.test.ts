// The Flux source (src/jobs/flux-source.ts) against a real flux-core lead with two burst slots
// down (testkit/flux/lead.ts): pending jobs of every shape Flux prints differently (-N, -n,
// -N -n, held), system.burstable read from the jobspec (it is not in `flux jobs --json`), running
// and finished jobs left out, and 64-bit ids as Flux itself converts them. The fake flux
// (test/fixtures/flux) stays for what a real Flux will not print on demand; its output is checked
// byte for byte against real samples in test/unit/flux-source.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeF58, fluxIdToDecimal, readFluxJobs } from '../../src/jobs/flux-source.js';
import { selectJobs } from '../../src/select/selectors.js';
import { type FluxLead, startFluxLead } from '../../testkit/flux/lead.js';

let lead: FluxLead;
beforeAll(async () => {
  lead = await startFluxLead({ slots: 2 });
});
afterAll(async () => {
  expect(await lead?.stop()).toEqual({ processes: [], dir: false });
});

const submit = async (...args: string[]) => fluxIdToDecimal((await lead.run(['submit', ...args])).trim());

describe('the Flux source on a real instance', () => {
  it('reads pending jobs with their sizes and burstable flag; running and finished jobs are not pending', async () => {
    const done = await submit('--job-name=done', 'true');
    await lead.run(['job', 'wait-event', done, 'clean']);
    const running = await submit('--job-name=running', '-N1', 'sleep', '300');
    await lead.run(['job', 'wait-event', running, 'start']);
    const n3 = await submit('-N3', '--setattr=system.burstable=1', '--job-name=n3', 'hostname');
    const c4 = await submit('-n4', '--job-name=c4', 'hostname');
    const n2c4 = await submit('-N2', '-n4', '--setattr=system.burstable=1', '--job-name=n2c4', 'hostname');
    const held = await submit('--urgency=0', '--setattr=system.burstable=1', '--job-name=held', 'hostname');

    const jobs = await readFluxJobs({ flux: lead.flux, env: lead.env });
    const byId = new Map(jobs.map((j) => [j.id, j]));
    expect(byId.has(done)).toBe(false);
    expect(byId.has(running)).toBe(false);
    expect([...byId.keys()].sort()).toEqual([n3, c4, n2c4, held].sort());
    expect(byId.get(n3)).toMatchObject({ name: 'n3', nodes: 3, tasks: 3, command: ['hostname'], user: 'root' });
    expect(byId.get(c4)).toMatchObject({ name: 'c4', nodes: 1, tasks: 4 });
    expect(byId.get(n2c4)).toMatchObject({ name: 'n2c4', nodes: 2, tasks: 4 });
    expect(byId.get(held)).toMatchObject({ name: 'held', nodes: 1, tasks: 1 });
    // burstable comes from the jobspec, not the listing
    expect((byId.get(n3)!.attributes.system as Record<string, unknown> | undefined)?.burstable).toBe(1);
    expect((byId.get(c4)!.attributes.system as Record<string, unknown> | undefined)?.burstable).toBeUndefined();
    const sel = await selectJobs(jobs, { kind: 'burstable' });
    expect(sel.selected.map((j) => j.id).sort()).toEqual([n3, n2c4, held].sort());

    for (const id of [n3, c4, n2c4, held, running]) await lead.run(['cancel', id]);
  });

  it('ids: decimal and F58 as flux itself converts them, over the whole 64-bit range', async () => {
    const id = await submit('--urgency=0', 'hostname');
    const f58 = (await lead.run(['jobs', '-no', '{id.f58}', id])).trim();
    expect(encodeF58(id)).toBe(f58);
    expect(fluxIdToDecimal(f58)).toBe(id);
    for (const big of ['9007199254740993', '18446744073709551614', '1']) {
      const theirs = (await lead.run(['job', 'id', '--to=f58', big])).trim();
      expect(encodeF58(big)).toBe(theirs);
      expect(fluxIdToDecimal(theirs)).toBe(big);
      const back = (await lead.run(['job', 'id', '--to=dec', theirs])).trim();
      expect(back).toBe(big);
    }
    await lead.run(['cancel', id]);
  });
});
