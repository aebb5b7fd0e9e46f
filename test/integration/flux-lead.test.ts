// The Flux lead harness (testkit/flux/lead.ts) on a real flux-core: a lead with two pre-declared
// burst slots starts, answers, runs a job on itself, keeps a job that needs the slots pending,
// and stop() leaves no process and no dir. No flux → this file fails (never skips), saying how to
// get one (scripts/setup.sh --test).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isAlive } from '../../src/flux/proc.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLUX_ENV, requireFlux } from '../../src/flux/command.js';
import { expandHostlist, hostlist } from '../../src/flux/config.js';
import { type FluxLead, startFluxLead, sweepDeadLeads } from '../../testkit/flux/lead.js';

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

describe('a test process that dies', () => {
  it('takes its lead down with it (SIGKILLed: no exit handler runs), and the next harness sweeps what outlives it', async () => {
    const lead = pathToFileURL(join(process.cwd(), 'dist/testkit/flux/lead.js')).href;
    const script = `
      const { startFluxLead } = await import(${JSON.stringify(lead)});
      const { spawn } = await import('node:child_process');
      const l = await startFluxLead({ slots: 1 });
      // Like a plugin's broker (made to outlive its worker): detached, naming the lead's dir.
      const stray = spawn('sh', ['-c', 'sleep 300', l.configDir], { detached: true, stdio: 'ignore' });
      stray.unref();
      process.stdout.write(JSON.stringify({ dir: l.dir, pid: l.pid, stray: stray.pid }) + '\\n');
      await new Promise(() => undefined);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const info = await new Promise<{ dir: string; pid: number; stray: number }>((res, rej) => {
      let buf = '';
      child.stdout!.on('data', (b: Buffer) => {
        buf += b.toString();
        if (buf.includes('\n')) res(JSON.parse(buf.split('\n')[0]!) as { dir: string; pid: number; stray: number });
      });
      child.once('exit', (code) => rej(new Error(`exited ${code} before starting its lead`)));
    });
    child.kill('SIGKILL');
    for (let i = 0; i < 100 && isAlive(info.pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(isAlive(info.pid)).toBe(false);
    expect(isAlive(info.stray)).toBe(true);
    expect(await sweepDeadLeads()).toContain(info.dir);
    expect(isAlive(info.stray)).toBe(false);
    expect(existsSync(info.dir)).toBe(false);
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
