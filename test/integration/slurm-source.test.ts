// The Slurm queue as a job source on the real Slurm 22.05: `slurm:` in the config makes plan,
// burst and watch read `squeue --json` (SLURM_CONF from the config), select the burstable jobs
// (a "burstable" --comment, or a burstable partition) and size them from the request.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BurstResult } from '../../src/core/types.js';
import { address, cliAsync, client, leftovers, startWorker, uid, waitFor, workdir } from '../support/harness.js';
import { type Slurm, startSlurm, stopMunge } from '../../testkit/slurm/local-cluster.js';
import { type WatchStatus, stopWatchSignal, watchStatusQuery } from '../../workflows/messages.js';

const TQ = uid('tq-slurmsrc');
const dir = workdir('slurmsrc');
let slurm: Slurm;
let w: Awaited<ReturnType<typeof startWorker>>;
let config: string;
let burstable: string;
let wide: string;
let stays: string;
const nodes = workdir('slurmsrc');

beforeAll(async () => {
  // No slurmd runs for static1 and the jobs begin in an hour: they stay PENDING, as a busy queue's would.
  slurm = await startSlurm({ cloudNodes: 0 });
  const later = ['--begin=now+3600'];
  burstable = slurm.sbatch('#!/bin/sh\ntrue\n', 'static', [...later, '--comment=burstable', '-n', '2', '-c', '2']);
  wide = slurm.sbatch('#!/bin/sh\ntrue\n', 'static', [...later, '--comment=fluxburst please', '-N', '1', '--mem=50']);
  stays = slurm.sbatch('#!/bin/sh\ntrue\n', 'static', later);
  config = join(dir, 'fb.yaml');
  writeFileSync(config, `name: slurmsrc\nowner: slurmsrc\nslurm: { conf: ${slurm.conf} }\ntargets:\n  - plugin: local\n    params: { workdir: ${nodes} }\ntemporal: { taskQueue: ${TQ} }\n`);
  w = await startWorker(TQ);
}, 120_000);

// Registered first, so it runs last: this file's munged outlives every Slurm it served, then stops.
afterAll(() => stopMunge());
afterAll(async () => {
  await w?.stop();
  await slurm?.stop();
});

it('plan reads the Slurm queue: burstable jobs (by comment) are planned, the others stay home', async () => {
  const r = await cliAsync(['plan', '--json', '--config', config]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { bursts: Array<{ jobs: string[]; nodes: number }>; skipped?: unknown };
  const planned = out.bursts.flatMap((b) => b.jobs).sort();
  expect(planned).toEqual([burstable, wide].sort());
  expect(planned).not.toContain(stays);
});

it('watch mode scans the Slurm queue and starts one burst for what it selected', async () => {
  const c = await client();
  const r = await cliAsync(['watch', '--config', config, '--interval', '1', '--json', '--address', address()]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const { watcher: watchId } = JSON.parse(r.stdout) as { watcher: string };
  const h = c.workflow.getHandle(watchId);
  const st = await waitFor(async () => {
    const s = (await h.query(watchStatusQuery).catch(() => undefined)) as WatchStatus | undefined;
    return s && s.scans >= 2 && s.started.length > 0 ? s : undefined;
  }, 60_000, 'a scan that started a burst');
  expect(st.started).toHaveLength(1);
  expect(st.seen).toBe(2);
  await h.signal(stopWatchSignal);
  await h.result();
  // The burst it started ran the Slurm jobs' batch scripts on local nodes and took them away again.
  const burst = (await c.workflow.getHandle(st.started[0]!).result()) as BurstResult;
  expect(burst.status.jobs.map((j) => j.id).sort()).toEqual([burstable, wide].sort());
  expect(leftovers(nodes)).toEqual({ processes: [], dirs: [] });
}, 120_000);
