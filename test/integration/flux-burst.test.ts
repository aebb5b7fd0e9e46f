// Issue 12 end to end, on real parts only: a real flux-core lead (testkit/flux), the real
// Temporal dev server, `fluxburst watch` from the CLI. A job submitted to Flux as burstable and
// pending for want of nodes is burst: brokers claim the lead's burst slots and join, Flux runs
// the job on them, the burst follows it in Flux and reports Flux's result, the brokers stop, the
// ranks go offline, nothing is left drained or running.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { WorkflowFailedError } from '@temporalio/client';
import { renderLeadConfig } from '../../src/flux/config.js';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BurstResult } from '../../src/core/types.js';
import { FLUX_SLOT_ENV } from '../../src/plugins/local/flux-broker.js';
import { processesWithEnv } from '../../src/plugins/local/layout.js';
import { type FluxLead, startFluxLead } from '../../testkit/flux/lead.js';
import { address, cliAsync, client, spawnWorker, startWorker, uid, waitFor } from '../support/harness.js';
import { readLedger } from '../../src/plugins/local/layout.js';
import { burstWorkflow } from '../../workflows/burst.js';
import { statusQuery } from '../../workflows/messages.js';

let lead: FluxLead;
let c: Client;
let w: Awaited<ReturnType<typeof startWorker>>;
const tq = uid('tq-flux');
const savedUri = process.env.FLUX_URI;

beforeAll(async () => {
  lead = await startFluxLead({ slots: 3 });
  // The worker's Flux is the lead: its source reads it, its activities follow jobs there.
  process.env.FLUX_URI = lead.uri;
  c = await client();
  w = await startWorker(tq);
}, 120_000);
afterAll(async () => {
  await w?.stop();
  if (savedUri === undefined) delete process.env.FLUX_URI;
  else process.env.FLUX_URI = savedUri;
  const left = await lead?.stop();
  expect(left).toEqual({ processes: [], dir: false });
});

const jobInfo = async (id: string) => JSON.parse(await lead.run(['jobs', '--json', id])) as { state: string; result?: string; returncode?: number; nodelist?: string };

describe('a pending Flux job, burst by fluxburst watch', () => {
  it('runs on burst brokers that join the lead; the burst reports Flux\'s result; brokers stop; ranks go offline', async () => {
    const out = join(lead.dir, 'out.{{id}}');
    // Three nodes: the lead alone cannot run it, so it waits (SCHED) for the burst slots.
    const fluxId = (await lead.run(['submit', '-N3', '--setattr=system.burstable=1', `--output=${out}`, lead.flux, 'getattr', 'hostname'])).trim();
    expect((await jobInfo(fluxId)).state).toBe('SCHED');
    const workdir = join(lead.dir, 'nodes');
    const cfg = join(lead.dir, 'fluxburst.yaml');
    writeFileSync(
      cfg,
      [
        'name: fluxe2e',
        `flux: {command: ${lead.flux}}`,
        'targets:',
        '  - plugin: local',
        `    params: {workdir: ${workdir}, readyTimeoutSeconds: 30, flux: {config: ${lead.configDir}, lead: ${lead.uri}, stopGraceSeconds: 5}}`,
        '',
      ].join('\n'),
    );
    const r = await cliAsync(['watch', '--once', '--json', '--address', address(), '--task-queue', tq, '--config', cfg], { FLUX_URI: lead.uri });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const burstId = await waitFor(async () => {
      for await (const x of c.workflow.list({ query: `WorkflowType = 'burstWorkflow' AND WorkflowId STARTS_WITH 'fluxe2e-'` })) return x.workflowId;
      return undefined;
    }, 30_000, 'the watch started a burst');
    const res = (await c.workflow.getHandle(burstId).result()) as BurstResult;
    expect(res.outcome).toBe('completed');
    // Flux ran it; the burst followed it there and reports Flux's result.
    expect(res.status.counts).toMatchObject({ total: 1, completed: 1, failed: 0 });
    const decimal = (await lead.run(['job', 'id', '--to=dec', fluxId])).trim(); // fluxburst's job ids are Flux's, in decimal
    const js = res.status.jobs.find((j) => j.id === decimal)!;
    expect(js).toMatchObject({ state: 'completed', result: { exitCode: 0 } });
    const info = await jobInfo(fluxId);
    expect(info).toMatchObject({ state: 'INACTIVE', result: 'COMPLETED', returncode: 0 });
    // The job's own output proves where it ran: the lead and both burst ranks.
    expect(readFileSync(out.replace('{{id}}', fluxId), 'utf8').split('\n').filter(Boolean).sort()).toEqual(['burst-0', 'burst-1', 'lead']);
    // Brokers stopped, ranks offline at the lead, nothing drained, and the lead still takes work.
    expect(processesWithEnv(FLUX_SLOT_ENV, workdir, true)).toEqual([]);
    expect(await lead.onlineHosts()).toEqual(['lead']);
    expect((await lead.run(['resource', 'status', '--states=drained,draining', '-no', '{nodelist}'])).trim()).toBe('');
    const after = (await lead.run(['submit', '-N1', 'true'])).trim();
    await waitFor(async () => ((await jobInfo(after)).state === 'INACTIVE' ? true : undefined), 30_000, 'the lead runs a job after the burst');
    // The Flux job was followed in batches, not one workflow event per poll: a handful of calls.
    const h = await c.workflow.getHandle(burstId).fetchHistory();
    const follows = (h.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'followFluxJobs');
    expect(follows.length).toBeGreaterThanOrEqual(1);
    expect(follows.length).toBeLessThan(10);
  }, 240_000);
});

describe('a burst broker lost under a running Flux job', () => {
  it('drains the rank, reports the node failure, joins a replacement, and with flux.resubmit the job completes there', async () => {
    const out = join(lead.dir, 'lost.{{id}}');
    const first = (await lead.run(['submit', '-N3', '--setattr=system.burstable=1', `--output=${out}`, 'sh', '-c', `sleep 6; ${lead.flux} getattr hostname`])).trim();
    const workdir = join(lead.dir, 'nodes-lost');
    const h = await c.workflow.start(burstWorkflow, {
      workflowId: uid('fluxlost'),
      taskQueue: tq,
      args: [
        {
          owner: 'tester',
          source: { kind: 'flux', flux: lead.flux, resubmit: 1 },
          selector: { kind: 'burstable' },
          targets: [{ name: 'local', plugin: 'local', params: { workdir, readyTimeoutSeconds: 30, flux: { config: lead.configDir, lead: lead.uri, stopGraceSeconds: 5 } } }],
          maxNodes: 8,
          timeouts: { stepSeconds: 120, heartbeatSeconds: 5, jobSeconds: 600, interruptionPollSeconds: 1 },
        },
      ],
    });
    await waitFor(async () => ((await jobInfo(first)).state === 'RUN' ? true : undefined), 60_000, 'the job running on the burst');
    const st = await h.query(statusQuery);
    const victim = st.resources.find((r) => r.node === 'burst-1')!;
    expect(victim, JSON.stringify(st.resources)).toBeDefined();
    process.kill(Number(victim.id), 'SIGKILL');
    const res = (await h.result()) as BurstResult;
    expect(res.outcome).toBe('completed');
    expect(res.status.counts).toMatchObject({ total: 1, completed: 1, failed: 0, requeued: 1 });
    expect(res.status.interruptions.map((n) => [n.node, n.kind])).toEqual([['burst-1', 'node-lost']]);
    // Flux failed the first job for its node; the burst said so and resubmitted it.
    const firstInfo = await jobInfo(first);
    expect(firstInfo).toMatchObject({ state: 'INACTIVE' });
    expect(firstInfo.result).not.toBe('COMPLETED');
    const firstDec = (await lead.run(['job', 'id', '--to=dec', first])).trim();
    const js = res.status.jobs[0]!;
    expect(js.state).toBe('completed');
    expect(js.resubmitted?.from).toEqual([firstDec]);
    expect(js.resubmitted?.reason).toMatch(new RegExp(`^${firstDec}: \\w+ \\(node failure: exec: node failure on burst-1 \\(rank \\d\\)\\); resubmitted as ${js.id}$`));
    const again = js.id;
    expect(await jobInfo(again)).toMatchObject({ state: 'INACTIVE', result: 'COMPLETED' });
    // It ran on the lead, the surviving broker and the replacement broker (which claimed a free
    // slot: the lost broker's, once released, or the third).
    const f58 = (await lead.run(['job', 'id', '--to=f58', again])).trim();
    const hosts = readFileSync(out.replace('{{id}}', f58), 'utf8').split('\n').filter(Boolean).sort();
    expect(hosts).toHaveLength(3);
    expect(hosts.slice(0, 1).concat(hosts.slice(2))).toEqual(['burst-0', 'lead']);
    const events = (await h.fetchHistory()).events ?? [];
    const provisioned = events.flatMap((e) => {
      const a = e.activityTaskScheduledEventAttributes;
      return a?.activityType?.name === 'provisionStep' ? [a] : [];
    });
    expect(provisioned).toHaveLength(3); // two brokers, then the replacement
    expect(processesWithEnv(FLUX_SLOT_ENV, workdir, true)).toEqual([]);
    expect(await lead.onlineHosts()).toEqual(['lead']);
    expect((await lead.run(['resource', 'status', '--states=drained,draining', '-no', '{nodelist}'])).trim()).toBe('');
  }, 300_000);
});

describe('the worker SIGKILLed mid-join and mid-run', () => {
  it('the burst completes; each slot had one broker, ever', async () => {
    const ktq = uid('tq-fluxkill');
    const workers: ReturnType<typeof spawnWorker>[] = [];
    const newWorker = async () => {
      const w = spawnWorker(['--address', address(), '--task-queue', ktq], { FLUX_URI: lead.uri });
      workers.push(w);
      await w.ready;
      return w;
    };
    const kill = async (w: ReturnType<typeof spawnWorker>) => {
      w.kill('SIGKILL');
      await new Promise((r) => w.once('exit', r));
    };
    try {
      const id = (await lead.run(['submit', '-N3', '--setattr=system.burstable=1', 'sh', '-c', 'sleep 4'])).trim();
      const workdir = join(lead.dir, 'nodes-kill');
      let w = await newWorker();
      const h = await c.workflow.start(burstWorkflow, {
        workflowId: uid('fluxkill'),
        taskQueue: ktq,
        args: [
          {
            owner: 'tester',
            source: { kind: 'flux', flux: lead.flux },
            selector: { kind: 'burstable' },
            targets: [{ name: 'local', plugin: 'local', params: { workdir, readyTimeoutSeconds: 60, flux: { config: lead.configDir, lead: lead.uri, stopGraceSeconds: 5 } } }],
            maxNodes: 8,
            timeouts: { stepSeconds: 120, heartbeatSeconds: 3, jobSeconds: 600, interruptionPollSeconds: 2 },
          },
        ],
      });
      await waitFor(async () => ((await h.query(statusQuery).catch(() => undefined))?.phase === 'join' ? true : undefined), 60_000, 'the burst joining');
      await kill(w);
      w = await newWorker();
      await waitFor(async () => ((await jobInfo(id)).state === 'RUN' ? true : undefined), 60_000, 'the job running');
      await kill(w);
      await newWorker();
      const res = (await h.result()) as BurstResult;
      expect(res.outcome).toBe('completed');
      expect(res.status.counts).toMatchObject({ total: 1, completed: 1 });
      expect(await jobInfo(id)).toMatchObject({ state: 'INACTIVE', result: 'COMPLETED' });
      const created = readLedger(workdir).filter((e) => e.event === 'create');
      expect(created.map((e) => e.node).sort()).toEqual(['burst-0', 'burst-1']); // one broker per slot, ever
      expect(processesWithEnv(FLUX_SLOT_ENV, workdir, true)).toEqual([]);
      expect(await lead.onlineHosts()).toEqual(['lead']);
    } finally {
      for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    }
  }, 300_000);
});

describe('a burst whose brokers cannot join', () => {
  it('wrong certificate: the burst fails at join within the timeout, naming the cause; no broker left', async () => {
    const dir = join(lead.dir, 'bad-cert');
    mkdirSync(dir, { recursive: true });
    const cert = join(dir, 'other.cert');
    expect(spawnSync(lead.flux, ['keygen', cert]).status).toBe(0);
    writeFileSync(join(dir, 'broker.toml'), renderLeadConfig({ curveCert: cert, leadHost: lead.leadHost, bind: lead.bind, burstHosts: lead.hosts }));
    const id = (await lead.run(['submit', '-N2', '--setattr=system.burstable=1', 'true'])).trim();
    const workdir = join(lead.dir, 'nodes-badcert');
    const t0 = Date.now();
    const h = await c.workflow.start(burstWorkflow, {
      workflowId: uid('fluxbadcert'),
      taskQueue: tq,
      args: [
        {
          owner: 'tester',
          source: { kind: 'flux', flux: lead.flux },
          selector: { kind: 'burstable' },
          targets: [{ name: 'local', plugin: 'local', params: { workdir, readyTimeoutSeconds: 5, flux: { config: dir, lead: lead.uri, stopGraceSeconds: 3 } } }],
          maxNodes: 8,
          timeouts: { stepSeconds: 60, heartbeatSeconds: 5, jobSeconds: 600 },
        },
      ],
    });
    const err = await h.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toMatch(/failed at join: .*wrong CURVE certificate/);
    expect(Date.now() - t0).toBeLessThan(90_000);
    expect(processesWithEnv(FLUX_SLOT_ENV, workdir, true)).toEqual([]);
    expect(await lead.onlineHosts()).toEqual(['lead']);
    await lead.run(['cancel', id]);
  }, 180_000);
});
