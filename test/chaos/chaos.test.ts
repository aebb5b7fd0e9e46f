// A short run of the chaos suite (bench/chaos.ts runs the full one): its own dev server, restarted
// once mid-run on the same SQLite file, its own moto, two workers of which two SIGKILLs hit one.
import { expect, it } from 'vitest';
import { formatReport, runChaos } from '../../bench/chaos-run.js';
import { requireMoto } from '../../testkit/moto/index.js';

it('bursts under worker SIGKILLs and a server restart: all end, no job lost, nothing left, nothing made twice', async () => {
  const seed = Number(process.env.CHAOS_SEED ?? 20240611);
  // Its EC2 bursts run on moto: without moto the test fails (it used to drop them silently).
  requireMoto();
  const ec2Bursts = 3;
  const lines: string[] = [];
  const r = await runChaos({
    bursts: 8,
    ec2Bursts,
    workers: 2,
    seed,
    timeoutS: 100,
    maxKills: 2,
    // Often enough that kills land while bursts are open however fast this machine runs them.
    killEveryS: [1, 2.5],
    serverRestarts: 1,
    serverRestartAt: 0.25,
    concurrency: 6,
    log: (l) => lines.push(l),
  });
  const text = `${formatReport(r)}\n--- log ---\n${lines.join('\n')}`;
  expect(r.problems, text).toEqual([]);
  expect(r.chaos.serverRestarts, text).toBe(1);
  // At least one worker died mid-run (the run can end before the second is due).
  expect(r.chaos.kills, text).toBeGreaterThanOrEqual(1);
  expect(r.bursts, text).toMatchObject({ total: 8 + ec2Bursts, running: 0, other: 0, failed: 1, cancelled: 1, completed: 6 + ec2Bursts });
  expect(r.jobs.completed, text).toBe(r.jobs.expected);
  expect(r.local.nodesCreated, text).toBeGreaterThan(0);
  expect(r.ec2.planned, text).toBeGreaterThan(0);
  expect(r.ec2.launched, text).toBe(r.ec2.planned);
}, 150_000);
