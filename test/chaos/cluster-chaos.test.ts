// A short chaos run on a real Temporal cluster (bench/chaos-run.ts with cluster: true; the full
// one is `npm run chaos -- --cluster`): its own four temporal-server processes on PostgreSQL, its
// own moto, two workers. While bursts run: kill -9 + restart of history, matching and frontend in
// turn, a fast PostgreSQL restart, and worker SIGKILLs.
import { expect, it } from 'vitest';
import { formatReport, runChaos } from '../../bench/chaos-run.js';
import { requireMoto } from '../../testkit/moto/index.js';

it('bursts on a cluster whose services and database are killed and restarted: all end, no job lost, nothing left, nothing made twice', async () => {
  const seed = Number(process.env.CHAOS_SEED ?? 20261205);
  // Its EC2 bursts run on moto: without moto the test fails (it used to drop them silently).
  requireMoto();
  const ec2Bursts = 3;
  const lines: string[] = [];
  const r = await runChaos({
    bursts: 8,
    ec2Bursts,
    workers: 2,
    seed,
    timeoutS: 150,
    maxKills: 2,
    killEveryS: [1, 2.5],
    concurrency: 6,
    cluster: true,
    log: (l) => lines.push(l),
  });
  const text = `${formatReport(r)}\n--- log ---\n${lines.join('\n')}`;
  console.log(formatReport(r));
  expect(r.problems, text).toEqual([]);
  expect(r.chaos.cluster, text).toMatchObject({ history: 1, matching: 1, frontend: 1, postgres: 1 });
  expect(r.chaos.kills, text).toBeGreaterThanOrEqual(1);
  expect(r.leftovers.cluster, text).toEqual({ processes: [], dir: false, ports: [] });
  expect(r.bursts, text).toMatchObject({ total: 8 + ec2Bursts, running: 0, other: 0, failed: 1, cancelled: 1, completed: 6 + ec2Bursts });
  expect(r.jobs.completed, text).toBe(r.jobs.expected);
  expect(r.ec2.planned, text).toBeGreaterThan(0);
  expect(r.ec2.launched, text).toBe(r.ec2.planned);
}, 240_000);
