// The chaos suite: bursts on the local plugin and on aws-ec2 (moto) while workers are SIGKILLed
// at random moments and the Temporal dev server is restarted once on the same SQLite file; then
// checks that every burst ended, no job was lost, nothing was left and nothing was made twice.
// Exits 1 when a check fails (unlike the other benches, a failure here is a bug, not a figure).
//
//   npm run build && npm run chaos
//   npm run chaos -- --cluster     on a real Temporal cluster (four temporal-server processes on
//                                  PostgreSQL, testkit/temporal-cluster): history, matching and
//                                  frontend kill -9'd and restarted in turn, PostgreSQL restarted once
//
// Env: CHAOS_BURSTS (50), CHAOS_EC2_BURSTS (10), CHAOS_WORKERS (2), CHAOS_SEED (random, printed),
// CHAOS_TIMEOUT_S (600), CHAOS_CONCURRENCY (10), CHAOS_SERVER_SIGNAL (SIGTERM|SIGKILL),
// CHAOS_KEEP=1 keeps the state dir and node workdir.
import { pathToFileURL } from 'node:url';
import { formatReport, runChaos } from './chaos-run.js';

function intEnv(name: string, def: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}=${raw}: expected an integer in [${min}, ${max}]`);
  return n;
}

async function main(): Promise<number> {
  const seed = intEnv('CHAOS_SEED', Math.floor(Math.random() * 2 ** 31), 0, 2 ** 31 - 1);
  const signal = process.env.CHAOS_SERVER_SIGNAL ?? 'SIGTERM';
  if (signal !== 'SIGTERM' && signal !== 'SIGKILL') throw new Error(`CHAOS_SERVER_SIGNAL=${signal}: SIGTERM or SIGKILL`);
  const report = await runChaos({
    bursts: intEnv('CHAOS_BURSTS', 50, 0, 1000),
    ec2Bursts: intEnv('CHAOS_EC2_BURSTS', 10, 0, 200),
    workers: intEnv('CHAOS_WORKERS', 2, 1, 16),
    seed,
    timeoutS: intEnv('CHAOS_TIMEOUT_S', 600, 10, 3600),
    concurrency: intEnv('CHAOS_CONCURRENCY', 10, 1, 200),
    serverSignal: signal,
    cluster: process.argv.includes('--cluster') || process.env.CHAOS_CLUSTER === '1',
    keep: process.env.CHAOS_KEEP === '1',
  });
  console.log(`\n${formatReport(report)}`);
  const { problems: _p, ...figures } = report;
  console.log(JSON.stringify({ bench: 'chaos', ...figures }));
  return report.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(2);
    },
  );
}
