// The local plugin's Flux mode (`params.flux`): each burst node is a real Flux broker that claims
// one of the lead's pre-declared burst host slots and joins the lead (../shared/reference/flux-real.md).
// Flux then runs the jobs on the new ranks; the plugin only adds and removes brokers.
//
// On disk, in a dir shared by every worker on this machine (default
// <workdir>/.flux-slots/<hash of the config path>):
//   <slot>.claim        made exclusively (link(2) of a complete temp file: O_EXCL semantics, never
//                       half-written) by the one step that owns the slot: {burstId, step, owner}.
//                       A retry of the same step (same burst, same step key) re-adopts it; no other
//                       step can take the slot until teardown removes the claim, last.
//   <slot>/broker.json  {pid} of the broker once started
//   <slot>/broker.log   its output
//   <slot>/run, state   its -Srundir (holds the local socket) and -Sstatedir
// The broker carries FLUXBURST_FLUX_SLOT=<slot dir> in its environment, so a retry after a worker
// kill -9 finds it even when broker.json was never written, and never starts a second one.
//
// provision: claim a free slot (skipping slots the lead already shows online without a claim),
//   start `flux broker --config-path=… -Shostname=<slot> …` detached (it outlives the worker).
// join: wait until the lead reports the slots online, within readyTimeoutSeconds; else fail naming
//   the likely cause (broker exited: its log says why; still hanging: wrong certificate or an
//   unreachable lead — both hang silently).
// teardown: drain the rank, wait until no job runs there, stop the broker (SIGTERM, then
//   SIGKILL), undrain, remove its dirs and its claim. Already gone is success.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { CapacityError, FluxburstError, TransientError } from '../../core/errors.js';
import type { Interruption, Job, ProvisionStep, ResourceRef } from '../../core/types.js';
import { FluxCommandError, resolveFlux, runFlux, withoutUri } from '../../flux/command.js';
import { type BrokerConfigFacts, expandHostlist, readBrokerConfig } from '../../flux/config.js';
import { cmdline, descendants, isAlive, liveProcesses, environ, terminateTree } from '../../flux/proc.js';
import type { OwnedResource, PluginContext } from '../contract.js';
import { appendLedger } from './layout.js';

export const FLUX_SLOT_ENV = 'FLUXBURST_FLUX_SLOT';

export const fluxModeParams = z
  .strictObject({
    config: z.string().min(1).describe("The lead's broker config (a dir of *.toml, or one .toml/.json file): every burst broker is started with --config-path=this. Its bootstrap.hosts declares the burst slots."),
    lead: z.string().min(1).optional().describe("The lead's URI for the checks (join, drain); default: FLUX_URI of the worker."),
    command: z.string().min(1).optional().describe('The flux executable; default FLUXBURST_FLUX, then .tools/flux/bin/flux, then flux on PATH.'),
    slots: z.array(z.string().min(1)).min(1).optional().describe("Which of the config's hosts a burst may claim; default every host after the first (the lead)."),
    slotsDir: z.string().min(1).optional().describe('Where slot claims and broker dirs live (shared by every worker on this machine); default <workdir>/.flux-slots/<hash of config>.'),
    stopGraceSeconds: z.number().positive().max(600).default(10).describe('SIGTERM → SIGKILL grace when a broker is stopped.'),
    drainTimeoutSeconds: z.number().positive().max(86_400).default(3600).describe('How long teardown waits for jobs still running on a drained rank before it gives up (and retries).'),
  })
  .describe('Burst nodes are real Flux brokers that join the lead (the local plugin does not run jobs itself then; Flux does).');
export type FluxModeParams = z.output<typeof fluxModeParams>;

/** What the Flux mode needs of the local plugin's params. */
export interface FluxModeHost {
  workdir: string;
  readyTimeoutSeconds: number;
  flux?: FluxModeParams | undefined;
}

interface Claim {
  burstId: string;
  step: string;
  owner: string;
  at: string;
}

const fluxOf = (p: FluxModeHost): FluxModeParams => {
  if (!p.flux) throw new FluxburstError('InvalidInput', 'local plugin: not in Flux mode (no params.flux)');
  return p.flux;
};
const exe = (f: FluxModeParams) => f.command ?? resolveFlux();
const leadUri = (f: FluxModeParams): string | undefined => f.lead ?? process.env.FLUX_URI;

function configKey(config: string): string {
  let real = resolve(config);
  try {
    real = realpathSync(real);
  } catch {
    /* not there (yet): the path as given */
  }
  return createHash('sha256').update(real).digest('hex').slice(0, 10);
}

export function slotsDir(p: FluxModeHost): string {
  const f = fluxOf(p);
  return f.slotsDir ? resolve(f.slotsDir) : join(resolve(p.workdir), '.flux-slots', configKey(f.config));
}

const claimPath = (dir: string, slot: string) => join(dir, `${slot}.claim`);
const slotDir = (dir: string, slot: string) => join(dir, slot);

/** The broker's run dir: in the slot dir, unless its socket path would be too long for AF_UNIX. */
export function runDirOf(sdir: string): string {
  const r = join(sdir, 'run');
  if (Buffer.byteLength(`${r}/local`) <= 100) return r;
  return join(tmpdir(), `fbx-${createHash('sha256').update(sdir).digest('hex').slice(0, 12)}`);
}

function readClaim(file: string): Claim | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Claim;
  } catch {
    return undefined;
  }
}

/** Every claim in the dir: slot → claim. */
function claims(dir: string): Map<string, Claim> {
  const out = new Map<string, Claim>();
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.claim')) continue;
    const c = readClaim(join(dir, f));
    if (c) out.set(f.slice(0, -'.claim'.length), c);
  }
  return out;
}

/** Make the claim file exclusively, complete from its first byte (link fails if it exists). */
function tryClaim(dir: string, slot: string, c: Claim): boolean {
  const tmp = join(dir, `.${slot}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  writeFileSync(tmp, JSON.stringify(c));
  try {
    linkSync(tmp, claimPath(dir, slot));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The live broker of a slot dir (started by us: it carries the marker), if any. */
export function brokerOf(sdir: string): number | undefined {
  const procs = liveProcesses();
  const marked = procs.filter((p) => environ(p.pid).includes(`${FLUX_SLOT_ENV}=${sdir}`));
  const set = new Set(marked.map((p) => p.pid));
  // The broker is the marked process whose parent is not marked (its rc scripts inherit the mark).
  const roots = marked.filter((p) => !set.has(p.ppid) && cmdline(p.pid).includes('broker'));
  if (roots.length) return roots[0]!.pid;
  try {
    const info = JSON.parse(readFileSync(join(sdir, 'broker.json'), 'utf8')) as { pid: number };
    if (isAlive(info.pid) && environ(info.pid).includes(`${FLUX_SLOT_ENV}=${sdir}`)) return info.pid;
  } catch {
    /* none recorded */
  }
  return undefined;
}

function tail(file: string, n = 2500): string {
  try {
    const s = readFileSync(file, 'utf8').trim();
    return s.length > n ? `…${s.slice(-n)}` : s;
  } catch {
    return '(no log)';
  }
}

async function flux(f: FluxModeParams, args: string[], timeoutMs = 15_000): Promise<string> {
  const uri = leadUri(f);
  if (!uri) throw new FluxburstError('InvalidInput', "local plugin flux mode: no lead URI (set params.flux.lead, or FLUX_URI in the worker's environment): the lead cannot be asked whether brokers joined");
  return runFlux(exe(f), args, { env: { ...process.env, FLUX_URI: uri }, timeoutMs });
}

/** Hosts the lead reports in these resource states (`flux resource status -s …`). */
async function hostsIn(f: FluxModeParams, states: string): Promise<Set<string>> {
  const out = await flux(f, ['resource', 'status', `--states=${states}`, '-no', '{nodelist}']);
  return new Set(out.split('\n').flatMap((l) => expandHostlist(l.trim())));
}

async function configOf(f: FluxModeParams): Promise<BrokerConfigFacts> {
  try {
    return await readBrokerConfig(f.config);
  } catch (e) {
    throw new FluxburstError('InvalidInput', `local plugin flux mode: cannot read the broker config ${f.config}: ${(e as Error).message}`);
  }
}

/** The slots a burst may claim: params.flux.slots, else every configured host but the first. */
export async function slotsOf(f: FluxModeParams): Promise<string[]> {
  const c = await configOf(f);
  if (c.hosts.length < 2 && !f.slots) throw new FluxburstError('InvalidInput', `broker config ${f.config} declares no burst hosts (bootstrap.hosts has ${c.hosts.length} host(s); the lead is the first, every other is a slot)`);
  if (f.slots) {
    const unknown = f.slots.filter((s) => !c.hosts.includes(s));
    if (unknown.length) throw new FluxburstError('InvalidInput', `params.flux.slots ${unknown.join(', ')} not in bootstrap.hosts of ${f.config} (${c.hosts.join(', ')}): such a broker exits with "not found in hosts"`);
    return f.slots;
  }
  return c.hosts.slice(1);
}

// ---------------------------------------------------------------------------------------------
// Planning: how many brokers

/** Nodes a burst adds: enough for the largest job beside the lead's own hosts, at most the slots. */
export async function fluxPlanNodes(jobs: Job[], p: FluxModeHost, nodes: number | undefined): Promise<number> {
  const f = fluxOf(p);
  const c = await configOf(f);
  const slots = await slotsOf(f);
  const base = c.hosts.length - slots.length;
  const biggest = Math.max(1, ...jobs.map((j) => j.nodes));
  if (biggest > c.hosts.length) throw new CapacityError(`a job needs ${biggest} nodes but the Flux instance has ${c.hosts.length} (${f.config}); Flux rejects it as unsatisfiable`, 'Unfit');
  const want = nodes ?? Math.max(1, biggest - base);
  if (want > slots.length) throw new CapacityError(`burst needs ${want} brokers but the lead declares ${slots.length} burst slot(s)`, 'Unfit');
  return want;
}

// ---------------------------------------------------------------------------------------------
// provision

export async function provisionBroker(step: ProvisionStep, p: FluxModeHost, ctx: PluginContext): Promise<ResourceRef> {
  const f = fluxOf(p);
  const dir = slotsDir(p);
  mkdirSync(dir, { recursive: true });
  const slots = await slotsOf(f);

  // A retry of this same step re-adopts its own claim.
  let slot = [...claims(dir)].find(([, c]) => c.burstId === ctx.burstId && c.step === step.key)?.[0];
  if (!slot) {
    const taken = claims(dir);
    const free = slots.filter((s) => !taken.has(s));
    let online = new Set<string>();
    try {
      online = free.length ? await hostsIn(f, 'online') : online;
    } catch (e) {
      if (!leadUri(f)) throw e;
      ctx.log.warn('could not ask the lead which slots are online; claiming anyway', { error: (e as Error).message });
    }
    const busy: string[] = [];
    for (const s of free) {
      if (online.has(s) || brokerOf(slotDir(dir, s)) !== undefined) {
        busy.push(s); // a broker fluxburst did not claim holds it: never a second one
        continue;
      }
      if (tryClaim(dir, s, { burstId: ctx.burstId, step: step.key, owner: ctx.owner, at: new Date().toISOString() })) {
        slot = s;
        break;
      }
    }
    if (!slot) {
      const now = claims(dir);
      const held = slots.filter((s) => now.has(s)).map((s) => `${s} (burst ${now.get(s)!.burstId})`);
      throw new CapacityError(
        `no free Flux burst slot: all ${slots.length} are taken${held.length ? `; claimed: ${held.join(', ')}` : ''}${busy.length ? `; online at the lead without a claim: ${busy.join(', ')}` : ''}`,
        'InsufficientCapacity',
      );
    }
  }

  const sdir = slotDir(dir, slot);
  let pid = brokerOf(sdir);
  if (pid === undefined) {
    rmSync(sdir, { recursive: true, force: true }); // whatever a dead broker left
    const rundir = runDirOf(sdir);
    if (rundir !== join(sdir, 'run')) rmSync(rundir, { recursive: true, force: true });
    const statedir = join(sdir, 'state');
    mkdirSync(rundir, { recursive: true });
    mkdirSync(statedir, { recursive: true });
    const log = join(sdir, 'broker.log');
    const fd = openSync(log, 'a');
    const env = { ...withoutUri(process.env), [FLUX_SLOT_ENV]: sdir, FLUXBURST_BURST_ID: ctx.burstId };
    const child = spawn(
      exe(f),
      [
        'broker',
        `--config-path=${resolve(f.config)}`,
        `-Shostname=${slot}`,
        `-Srundir=${rundir}`,
        `-Slocal-uri=local://${rundir}/local`,
        `-Sstatedir=${statedir}`,
        '-Sbroker.rc2_none=1',
        '-Sbroker.quorum=1',
        '-Sbroker.quorum-warn=none',
      ],
      { detached: true, stdio: ['ignore', fd, fd], env },
    );
    closeSync(fd);
    const spawned = await new Promise<number>((res, rej) => {
      child.once('spawn', () => res(child.pid!));
      child.once('error', (e) => rej(new FluxburstError('FluxNotFound', `cannot start \`${exe(f)} broker\`: ${e.message}`)));
    });
    child.unref();
    pid = spawned;
    writeFileSync(join(sdir, 'broker.json'), JSON.stringify({ pid, slot, burstId: ctx.burstId, step: step.key, at: new Date().toISOString() }));
    appendLedger(p.workdir, { event: 'create', burstId: ctx.burstId, node: slot, pid });
    ctx.heartbeat({ broker: slot, pid });
  }
  return { key: step.key, kind: 'node', id: String(pid), node: slot, data: { fluxSlot: slot, slotDir: sdir, uri: `local://${runDirOf(sdir)}/local` } };
}

// ---------------------------------------------------------------------------------------------
// join

/** Why a broker that exited did not join, from its log (the failures flux-real.md lists). */
export function exitCause(log: string, slot: string): string {
  if (/not found in hosts/.test(log)) return `its host name ${slot} is not in the config's bootstrap.hosts`;
  if (/mismatched config|rejecting connection|sent disconnect control message/i.test(log)) return "the lead refused it: its bootstrap.hosts differ from the lead's (another order? the lead logs `rejecting connection … mismatched config?`)";
  if (/error reranking R/.test(log)) return "its bootstrap.hosts list has another length than the lead's";
  if (/version mismatch/i.test(log)) return "its flux-core version differs from the lead's (major.minor must match)";
  if (/curve|cert/i.test(log) && /error|fail/i.test(log)) return 'it could not use its CURVE certificate';
  return 'see its log';
}

function publicKey(certFile: string | undefined): string | undefined {
  if (!certFile) return undefined;
  try {
    return /public-key\s*=\s*"([^"]+)"/.exec(readFileSync(certFile, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

function canConnect(uri: string, ms = 2000): Promise<boolean | undefined> {
  const m = /^tcp:\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(uri);
  if (!m || m[1] === '*') return Promise.resolve(undefined);
  return new Promise((res) => {
    const s = connect({ host: m[1]!, port: Number(m[2]) });
    const done = (v: boolean) => (s.destroy(), res(v));
    s.setTimeout(ms, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** A broker alive but not online after the timeout: both likely causes hang silently. */
async function hangCause(f: FluxModeParams): Promise<string> {
  const ours = await configOf(f).catch(() => undefined);
  const notes: string[] = [];
  let lead: { bootstrap?: { curve_cert?: string; hosts?: Array<{ host?: string }> } } | undefined;
  try {
    lead = JSON.parse(await flux(f, ['config', 'get'], 10_000)) as typeof lead;
  } catch {
    /* an old flux, or no access: fall back to the generic cause */
  }
  const leadKey = publicKey(lead?.bootstrap?.curve_cert);
  const ourKey = publicKey(ours?.curveCert);
  if (leadKey && ourKey && leadKey !== ourKey) notes.push(`wrong CURVE certificate: ${ours?.curveCert} is not the lead's (${lead?.bootstrap?.curve_cert})`);
  const leadHosts = lead?.bootstrap?.hosts?.flatMap((h) => (h.host ? expandHostlist(h.host) : []));
  if (leadHosts && ours && leadHosts.join(',') !== ours.hosts.join(',')) notes.push(`bootstrap.hosts differ from the lead's (${ours.hosts.join(',')} vs ${leadHosts.join(',')})`);
  if (ours?.leadConnect) {
    const ok = await canConnect(ours.leadConnect);
    if (ok === false) notes.push(`unreachable lead: nothing answers at ${ours.leadConnect} (bootstrap.hosts[0].connect)`);
  }
  const generic = 'a wrong CURVE certificate and an unreachable lead address/port both show as a silent hang: the broker retries its join forever and the lead logs nothing (-Stbon.zmqdebug=1 on the broker shows the handshake)';
  return notes.length ? `${notes.join('; ')}. (${generic})` : `most likely a wrong CURVE certificate or an unreachable lead: ${generic}`;
}

export async function joinBrokers(resources: ResourceRef[], p: FluxModeHost, ctx: PluginContext): Promise<void> {
  const f = fluxOf(p);
  const refs = resources.filter((r) => r.kind === 'node' && r.data?.fluxSlot);
  if (!refs.length) return;
  const deadline = Date.now() + p.readyTimeoutSeconds * 1000;
  let waiting = refs.map((r) => String(r.data!.fluxSlot));
  let lastErr = '';
  for (;;) {
    let online: Set<string> | undefined;
    try {
      online = await hostsIn(f, 'online');
    } catch (e) {
      if (e instanceof FluxburstError && e.code === 'InvalidInput') throw e;
      lastErr = (e as Error).message;
    }
    if (online) waiting = waiting.filter((s) => !online.has(s));
    if (!waiting.length) return;
    // A broker that exited will never join: say why now.
    for (const r of refs) {
      const slot = String(r.data!.fluxSlot);
      if (!waiting.includes(slot)) continue;
      const sdir = String(r.data!.slotDir);
      if (brokerOf(sdir) === undefined) {
        const log = tail(join(sdir, 'broker.log'));
        throw new FluxburstError('FluxJoinFailed', `Flux broker for slot ${slot} exited before joining the lead: ${exitCause(log, slot)}. Its log (${join(sdir, 'broker.log')}):\n${log}`);
      }
    }
    if (Date.now() > deadline) {
      if (!online) throw new TransientError(`cannot ask the lead whether ${waiting.join(', ')} joined: ${lastErr}`);
      const logs = refs
        .filter((r) => waiting.includes(String(r.data!.fluxSlot)))
        .map((r) => `${r.data!.fluxSlot}: ${tail(join(String(r.data!.slotDir), 'broker.log'), 800) || '(empty log)'}`)
        .join('\n');
      throw new FluxburstError('FluxJoinFailed', `Flux broker(s) ${waiting.join(', ')} did not join the lead within ${p.readyTimeoutSeconds}s: ${await hangCause(f)}. Logs:\n${logs}`);
    }
    ctx.heartbeat({ waitingFor: waiting });
    await sleep(200, undefined, { signal: ctx.signal });
  }
}

// ---------------------------------------------------------------------------------------------
// teardown

/** The slot a step holds (its claim), or the ref's, if the claim is this burst's. */
function slotOfStep(dir: string, step: ProvisionStep, ref: ResourceRef | undefined, burstId: string): string | undefined {
  const all = claims(dir);
  const byStep = [...all].find(([, c]) => c.burstId === burstId && c.step === step.key)?.[0];
  if (byStep) return byStep;
  const s = ref?.data?.fluxSlot ? String(ref.data.fluxSlot) : undefined;
  if (s && all.get(s)?.burstId === burstId) return s;
  return undefined;
}

/** Drain, wait idle, stop, undrain, remove: one slot. `claimOf` guards what is removed. */
async function releaseSlot(p: FluxModeHost, slot: string, ctx: PluginContext, burstId: string): Promise<void> {
  const f = fluxOf(p);
  const dir = slotsDir(p);
  const sdir = slotDir(dir, slot);
  let pid = brokerOf(sdir);
  let leadOk = true;
  if (pid !== undefined) {
    // Drain (no new job lands there), then wait until none runs there.
    try {
      const online = await hostsIn(f, 'online');
      if (online.has(slot)) {
        await flux(f, ['resource', 'drain', '-u', slot, `fluxburst: scale-down of burst ${burstId}`]);
        const end = Date.now() + fluxOf(p).drainTimeoutSeconds * 1000;
        for (;;) {
          const busy = await hostsIn(f, 'draining');
          if (!busy.has(slot) || brokerOf(sdir) === undefined) break;
          if (Date.now() > end) throw new TransientError(`slot ${slot}: a job still runs on it after ${f.drainTimeoutSeconds}s drained; not stopping its broker under a running job`);
          ctx.heartbeat({ draining: slot });
          await sleep(250, undefined, { signal: ctx.signal });
        }
      }
    } catch (e) {
      if (e instanceof TransientError || (e instanceof FluxburstError && e.code === 'InvalidInput')) throw e;
      if (!(e instanceof FluxCommandError)) throw e;
      leadOk = false;
      // The lead does not answer: retry a few times, then stop the broker anyway (an unreachable
      // lead places nothing on it, and teardown must not hang on a lead that is gone for good).
      if (ctx.attempt < 3) throw new TransientError(`slot ${slot}: cannot drain at the lead before stopping its broker: ${e.message}`, e);
      ctx.log.warn('lead unreachable: stopping the broker without a drain', { slot, error: e.message });
    }
    pid = brokerOf(sdir);
    if (pid !== undefined) {
      const family = [pid, ...descendants([pid])];
      await terminateTree([pid], { graceMs: f.stopGraceSeconds * 1000 });
      await terminateTree(family.filter(isAlive), { graceMs: 1000 });
      appendLedger(p.workdir, { event: 'destroy', burstId, node: slot, pid });
    }
  }
  // Nothing stays drained (ours or an interruption's drain). After a SIGKILL/exit the lead may take
  // a moment to see the rank go; offline ranks can be undrained.
  if (leadOk) {
    try {
      const drained = await hostsIn(f, 'drained,draining');
      if (drained.has(slot)) await flux(f, ['resource', 'undrain', '-u', slot]);
      // Wait (briefly) until the lead no longer shows the rank online.
      const end = Date.now() + 10_000;
      while (Date.now() < end && (await hostsIn(f, 'online')).has(slot)) await sleep(100);
    } catch (e) {
      if (!(e instanceof FluxCommandError) || ctx.attempt < 3) throw e instanceof FluxCommandError ? new TransientError(`slot ${slot}: undrain at the lead failed: ${e.message}`, e) : e;
      ctx.log.warn('lead unreachable: slot not undrained', { slot, error: e.message });
    }
  }
  const rundir = runDirOf(sdir);
  if (rundir !== join(sdir, 'run')) rmSync(rundir, { recursive: true, force: true });
  rmSync(sdir, { recursive: true, force: true });
  const c = readClaim(claimPath(dir, slot));
  if (!c || c.burstId === burstId) {
    try {
      unlinkSync(claimPath(dir, slot));
    } catch {
      /* gone */
    }
  }
}

export async function teardownBroker(step: ProvisionStep, ref: ResourceRef | undefined, p: FluxModeHost, ctx: PluginContext): Promise<void> {
  const dir = slotsDir(p);
  const slot = slotOfStep(dir, step, ref, ctx.burstId);
  if (!slot) return; // never claimed, or already released
  await releaseSlot(p, slot, ctx, ctx.burstId);
}

// ---------------------------------------------------------------------------------------------
// interruptions, sweep

export async function brokerInterruptions(resources: ResourceRef[], p: FluxModeHost): Promise<Interruption[]> {
  const out: Interruption[] = [];
  for (const r of resources) {
    if (r.kind !== 'node' || !r.data?.fluxSlot) continue;
    const sdir = String(r.data.slotDir ?? slotDir(slotsDir(p), String(r.data.fluxSlot)));
    if (brokerOf(sdir) === undefined) {
      const last = tail(join(sdir, 'broker.log'), 300).split('\n').at(-1) ?? '';
      out.push({ node: r.node ?? String(r.data.fluxSlot), kind: 'node-lost', reason: `Flux broker for ${r.data.fluxSlot} (pid ${r.id}) is gone${last ? `: ${last}` : ''}` });
    }
  }
  return out;
}

export async function ownedSlots(p: FluxModeHost): Promise<OwnedResource[]> {
  const dir = slotsDir(p);
  return [...claims(dir)].map(([slot, c]) => ({ burstId: c.burstId, owner: c.owner, kind: 'flux-slot', id: slot }));
}

export async function destroySlot(r: OwnedResource, p: FluxModeHost, ctx: PluginContext): Promise<void> {
  if (r.kind !== 'flux-slot' || !/^[A-Za-z0-9._-]+$/.test(r.id)) throw new FluxburstError('Unsupported', `local (flux mode) cannot delete ${r.kind} ${r.id}`);
  const c = readClaim(claimPath(slotsDir(p), r.id));
  if (!c) return;
  await releaseSlot(p, r.id, ctx, c.burstId);
}
