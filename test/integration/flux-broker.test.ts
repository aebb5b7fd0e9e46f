// The local plugin's Flux mode driven directly (no Temporal), against a real lead broker
// (testkit/flux/lead.ts, real flux-core): burst nodes are real brokers that claim the lead's
// pre-declared slots and join. No flux → the file fails saying how to get one (never skips).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, ProvisionStep, ResourceRef } from '../../src/core/types.js';
import { renderLeadConfig } from '../../src/flux/config.js';
import type { PluginContext } from '../../src/plugins/contract.js';
import { FLUX_SLOT_ENV, slotsDir } from '../../src/plugins/local/flux-broker.js';
import { processesWithEnv, readLedger } from '../../src/plugins/local/layout.js';
import { localParams, localPlugin, type LocalParams } from '../../src/plugins/local/plugin.js';
import { chooseAndPlan } from '../../src/plan/choose.js';
import { PluginRegistry } from '../../src/plugins/registry.js';
import { freePort } from '../../src/temporal/ports.js';
import { type FluxLead, startFluxLead } from '../../testkit/flux/lead.js';
import { runSaga } from '../support/saga.js';

let lead: FluxLead;
let n = 0;
beforeAll(async () => {
  lead = await startFluxLead({ slots: 2 });
});
afterAll(async () => {
  const left = await lead?.stop();
  expect(left).toEqual({ processes: [], dir: false });
});

const job = (nodes: number, id = 'j'): Job => ({ id, name: id, nodes, tasks: nodes, command: ['true'], attributes: { system: { burstable: 1 } } });

/** A fresh workdir per test (its own slot claims), inside the lead's dir. */
function params(over: Partial<LocalParams['flux']> = {}, top: Record<string, unknown> = {}): LocalParams {
  const workdir = join(lead.dir, `w${n++}`);
  return localParams.parse({ workdir, readyTimeoutSeconds: 20, ...top, flux: { config: lead.configDir, lead: lead.uri, stopGraceSeconds: 5, ...over } });
}

function ctx(burstId: string, attempt = 1): PluginContext {
  return {
    burstId,
    owner: 'tester',
    attempt,
    credentials: {},
    signal: new AbortController().signal,
    heartbeat: () => undefined,
    log: { info: () => undefined, warn: () => undefined },
  };
}

/** Live brokers (and their marked children) the plugin started under this params' slots dir. */
const brokers = (p: LocalParams) => processesWithEnv(FLUX_SLOT_ENV, slotsDir(p), true);
const jobInfo = async (id: string) => JSON.parse(await lead.run(['jobs', '--json', id])) as { state: string; result?: string; nodelist?: string; returncode?: number };
const drained = async () => (await lead.run(['resource', 'status', '--states=drained,draining', '-no', '{nodelist}'])).trim();

async function waitFor<T>(what: string, f: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function expectClean(p: LocalParams) {
  expect(brokers(p)).toEqual([]);
  const dir = slotsDir(p);
  expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  expect((await lead.onlineHosts()).sort()).toEqual(['lead']);
  expect(await drained()).toBe('');
}

describe('local plugin, Flux mode, on a real lead', () => {
  it('a pending -N3 job COMPLETES on the two burst brokers; teardown leaves the ranks offline, nothing drained, nothing left', async () => {
    const p = params();
    const id = (await lead.run(['submit', '-N3', '--setattr=system.burstable=1', '--output=' + join(lead.dir, 'out.{{id}}'), lead.flux, 'getattr', 'hostname'])).trim();
    await sleep(500);
    expect((await jobInfo(id)).state).toBe('SCHED');

    // The burst does not run the jobs itself in Flux mode: Flux does.
    const reg = new PluginRegistry();
    reg.register(localPlugin);
    const choice = await chooseAndPlan([job(3)], [{ name: 'flux', plugin: 'local', params: { workdir: p.workdir, flux: { config: lead.configDir, lead: lead.uri } } }], reg, 10, ctx('choose'));
    expect(choice).toMatchObject({ runs: false, watches: true, plan: { nodes: 2 } });
    expect(localPlugin.runsJobs!(localParams.parse({}))).toBe(true);

    const c = ctx('burst-happy');
    const { plan, refs, error } = await runSaga(localPlugin, [job(3)], p, c, async (refs) => {
      expect(refs.map((r) => r.node).sort()).toEqual(['burst-0', 'burst-1']);
      expect((await jobInfo(id)).state).toBe('SCHED');
      await localPlugin.join(refs, p, c);
      expect((await lead.onlineHosts()).sort()).toEqual(['burst-0', 'burst-1', 'lead']);
      const done = await waitFor('the job to end', async () => {
        const j = await jobInfo(id);
        return j.state === 'INACTIVE' && j;
      });
      expect(done).toMatchObject({ result: 'COMPLETED', nodelist: 'lead,burst-[0-1]' });
      // Its output names the burst hosts: each task asked its own broker for its host name.
      const out = readFileSync(join(lead.dir, `out.${id}`), 'utf8').trim().split('\n').sort();
      expect(out).toEqual(['burst-0', 'burst-1', 'lead']);
      expect(brokers(p).length).toBeGreaterThanOrEqual(2);
    });
    expect(error).toBeUndefined();
    expect(plan.nodes).toBe(2);
    expect(refs).toHaveLength(2);
    await expectClean(p);
    // One broker per slot, ever.
    const created = readLedger(p.workdir).filter((e) => e.event === 'create');
    expect(created.map((e) => e.node).sort()).toEqual(['burst-0', 'burst-1']);
    // The lead still takes work.
    const again = (await lead.run(['submit', '-N1', 'true'])).trim();
    await lead.run(['job', 'attach', again]);
  });

  it('a second provision of the same step adopts its claim and broker (one broker per slot)', async () => {
    const p = params();
    const c = ctx('burst-adopt');
    const step: ProvisionStep = { key: 'node-0', kind: 'node', node: 'node-0' };
    const plan = await localPlugin.plan([job(2)], p, c);
    const a = await localPlugin.provision(step, plan, p, c);
    const b = await localPlugin.provision(step, plan, p, ctx('burst-adopt', 2));
    expect(b).toEqual(a);
    await localPlugin.join([b], p, c);
    const roots = brokers(p).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('-Shostname='));
    expect(roots).toEqual([Number(a.id)]);
    // A retry after provision's answer was lost (no ref) still finds and removes it.
    await localPlugin.teardown(step, undefined, p, c);
    await localPlugin.teardown(step, undefined, p, c); // already gone: success
    await expectClean(p);
  });

  it('a worker SIGKILLed mid-join: the retry adopts the broker it left (even with no pid recorded); one broker per slot, ever', async () => {
    const p = params();
    const plugin = pathToFileURL(join(process.cwd(), 'dist/src/plugins/local/plugin.js')).href;
    // The "worker": provision then join, from the built plugin, in a process of its own.
    const script = `
      const { localPlugin, localParams } = await import(${JSON.stringify(plugin)});
      const p = localParams.parse(JSON.parse(process.argv[1]));
      const ctx = { burstId: 'burst-kill', owner: 'tester', attempt: 1, credentials: {}, signal: new AbortController().signal, heartbeat() {}, log: { info() {}, warn() {} } };
      const job = { id: 'j', name: 'j', nodes: 2, tasks: 2, command: ['true'], attributes: {} };
      const plan = await localPlugin.plan([job], p, ctx);
      const ref = await localPlugin.provision(plan.steps[0], plan, p, ctx);
      process.stdout.write(JSON.stringify(ref) + '\\n');
      await localPlugin.join([ref], p, ctx);
      await new Promise(() => undefined);
    `;
    const worker = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(p)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const first = await new Promise<ResourceRef>((res, rej) => {
      let buf = '';
      worker.stdout!.on('data', (b: Buffer) => {
        buf += b.toString();
        if (buf.includes('\n')) {
          worker.kill('SIGKILL'); // mid-join
          res(JSON.parse(buf.split('\n')[0]!) as ResourceRef);
        }
      });
      worker.once('exit', (code) => rej(new Error(`worker exited ${code} before provisioning`)));
    });
    await new Promise((r) => worker.once('exit', r));
    // As if it had died before recording the broker's pid: the env marker still finds the broker.
    rmSync(join(String(first.data!.slotDir), 'broker.json'));
    const c = ctx('burst-kill', 2);
    const plan = await localPlugin.plan([job(2)], p, c);
    const again = await localPlugin.provision(plan.steps[0]!, plan, p, c);
    expect(again).toEqual(first);
    await localPlugin.join([again], p, c);
    const roots = brokers(p).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('-Shostname='));
    expect(roots).toEqual([Number(first.id)]);
    await localPlugin.teardown(plan.steps[0]!, again, p, c);
    expect(readLedger(p.workdir).filter((e) => e.event === 'create')).toHaveLength(1);
    await expectClean(p);
  });

  it('slots are claimed exclusively: two bursts racing for 2 slots get one each; a slot held by a foreign broker is skipped', async () => {
    const p = params();
    const plan = await localPlugin.plan([job(2)], p, ctx('x'));
    const steps: ProvisionStep[] = [0, 1].map((i) => ({ key: `node-${i}`, kind: 'node', node: `node-${i}` }));
    const results = await Promise.allSettled([
      ...steps.map((s) => localPlugin.provision(s, plan, p, ctx('race-a'))),
      ...steps.map((s) => localPlugin.provision(s, plan, p, ctx('race-b'))),
    ]);
    const ok = results.filter((r): r is PromiseFulfilledResult<ResourceRef> => r.status === 'fulfilled').map((r) => r.value);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok.map((r) => r.node).sort()).toEqual(['burst-0', 'burst-1']);
    expect(failed).toHaveLength(2);
    for (const f of failed) expect(String(f.reason.message)).toMatch(/no free Flux burst slot: all 2 are taken; claimed: burst-0 \(burst race-.\), burst-1/);
    for (const [i, s] of steps.entries()) {
      await localPlugin.teardown(s, undefined, p, ctx('race-a'));
      await localPlugin.teardown(s, undefined, p, ctx('race-b'));
      void i;
    }
    await expectClean(p);

    // burst-0 taken by a broker fluxburst did not start: the burst claims burst-1, then runs out.
    const foreign = await lead.startBroker('burst-0');
    await lead.waitOnline(['burst-0']);
    const q = params();
    const r0 = await localPlugin.provision(steps[0]!, plan, q, ctx('beside'));
    expect(r0.node).toBe('burst-1');
    await expect(localPlugin.provision(steps[1]!, plan, q, ctx('beside'))).rejects.toThrow(/online at the lead without a claim: burst-0/);
    await localPlugin.teardown(steps[0]!, r0, q, ctx('beside'));
    await foreign.stop();
    await waitFor('burst-0 offline', async () => !(await lead.onlineHosts()).includes('burst-0'));
    await expectClean(q);
  });

  it('teardown drains the rank and waits for the job running there before stopping the broker', async () => {
    const p = params();
    const c = ctx('burst-busy');
    let id = '';
    const { error } = await runSaga(localPlugin, [job(3)], p, c, async (refs) => {
      await localPlugin.join(refs, p, c);
      id = (await lead.run(['submit', '-N3', 'sleep', '4'])).trim();
      await waitFor('the job to run', async () => (await jobInfo(id)).state === 'RUN');
    });
    const tornDownAt = Date.now() / 1000;
    expect(error).toBeUndefined();
    const j = (await jobInfo(id)) as { state: string; result?: string; t_inactive?: number };
    // Not killed by the scale-down: it ran to its end, and the brokers stopped after that.
    expect(j).toMatchObject({ state: 'INACTIVE', result: 'COMPLETED', nodelist: 'lead,burst-[0-1]' });
    expect(tornDownAt).toBeGreaterThan(j.t_inactive!);
    await expectClean(p);
  });

  it('a broker that dies is reported as node-lost; its teardown is still clean', async () => {
    const p = params();
    const c = ctx('burst-lost');
    const { error } = await runSaga(localPlugin, [job(3)], p, c, async (refs) => {
      expect(refs.map((r) => r.node).sort()).toEqual(['burst-0', 'burst-1']);
      await localPlugin.join(refs, p, c);
      expect(await localPlugin.interruptions!(refs, p, c)).toEqual([]);
      const victim = refs.find((r) => r.node === 'burst-1')!;
      process.kill(Number(victim.id), 'SIGKILL');
      const lost = await waitFor('node-lost', async () => {
        const x = await localPlugin.interruptions!(refs, p, c);
        return x.length > 0 && x;
      });
      expect(lost).toEqual([{ node: 'burst-1', kind: 'node-lost', reason: expect.stringMatching(/Flux broker for burst-1 \(pid \d+\) is gone/) }]);
      await lead.run(['resource', 'drain', 'burst-1', 'node-lost (test)']);
    });
    expect(error).toBeUndefined();
    await waitFor('burst-1 offline', async () => !(await lead.onlineHosts()).includes('burst-1'));
    await expectClean(p);
  });
});

describe('join failures name the cause and leave no broker', () => {
  /** A copy of the lead's config with one thing changed, in its own dir. */
  function badConfig(name: string, over: { cert?: string; port?: number }): string {
    const dir = join(lead.dir, `bad-${name}`);
    mkdirSync(dir, { recursive: true });
    let cert = lead.certPath;
    if (over.cert) {
      cert = join(dir, 'other.cert');
      const r = spawnSync(lead.flux, ['keygen', cert], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    writeFileSync(
      join(dir, 'broker.toml'),
      renderLeadConfig({ curveCert: cert, leadHost: lead.leadHost, bind: `tcp://127.0.0.1:${over.port ?? lead.port}`, burstHosts: lead.hosts }),
    );
    return dir;
  }

  for (const [name, make, cause] of [
    ['wrong certificate', () => badConfig('cert', { cert: 'other' }), /wrong CURVE certificate: .*other\.cert is not the lead's/],
    ['unreachable lead', async () => badConfig('port', { port: await freePort() }), /unreachable lead: nothing answers at tcp:\/\/127\.0\.0\.1:\d+/],
  ] as const) {
    it(`${name}: join fails within the timeout, naming it; rolled back`, async () => {
      const config = await make();
      const p = params({ config }, { readyTimeoutSeconds: 4 });
      const t0 = Date.now();
      const { error, refs } = await runSaga(localPlugin, [job(3)], p, ctx(`burst-${name.replace(' ', '-')}`), async (refs) => {
        expect(brokers(p).length).toBeGreaterThanOrEqual(2);
        await localPlugin.join(refs, p, ctx('x'));
      });
      const took = Date.now() - t0;
      expect(refs).toHaveLength(2);
      expect((error as { code?: string }).code).toBe('FluxJoinFailed');
      expect((error as Error).message).toMatch(/did not join the lead within 4s/);
      expect((error as Error).message).toMatch(cause);
      expect((error as Error).message).toMatch(/silent hang/);
      if (process.env.SHOW_ERRORS) console.log((error as Error).message);
      expect(took).toBeLessThan(30_000);
      await expectClean(p);
    });
  }

  it("a broker that exits (hosts in another order than the lead's) fails join before the timeout, with its log; rolled back", async () => {
    const dir = join(lead.dir, 'bad-order');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'broker.toml'), renderLeadConfig({ curveCert: lead.certPath, leadHost: lead.leadHost, bind: lead.bind, burstHosts: [...lead.hosts].reverse() }));
    const p = params({ config: dir }, { readyTimeoutSeconds: 20 });
    const t0 = Date.now();
    const { error } = await runSaga(localPlugin, [job(1)], p, ctx('burst-order'), (refs) => localPlugin.join(refs, p, ctx('burst-order')));
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect((error as { code?: string }).code).toBe('FluxJoinFailed');
    expect((error as Error).message).toMatch(/exited before joining the lead: the lead refused it: its bootstrap\.hosts differ from the lead's/);
    await expectClean(p);
  });
});
