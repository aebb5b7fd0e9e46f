// The test kit's Temporal cluster: src/temporal/cluster.ts (the code `fluxburst server --cluster`
// runs) in a private temp dir on free loopback ports, with a teardown that proves it left nothing
// (processes, the temp dir, ports). Used by the `cluster` vitest project (global-setup.ts), the
// cluster chaos run (bench/chaos-run.ts --cluster) and the scale benchmark (bench/scale.ts --cluster).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SERVICES, startCluster, type ClusterPorts, type ServiceName, type TemporalCluster } from '../../src/temporal/cluster.js';

export { SERVICES, type ServiceName, type TemporalCluster };

export interface TestCluster {
  cluster: TemporalCluster;
  address: string;
  namespace: string;
  stateDir: string;
  /** Every pid the cluster ran (services, postgres' postmaster) over its life. */
  pids(): number[];
  /** kill -9 one service, wait `downMs`, start it again on the same ports. */
  bounce(s: ServiceName, downMs?: number): Promise<void>;
  /** Stop everything and remove the dir (its logs copied to `keepLogsIn` first, if given); resolves to what was left (empty when clean). */
  stop(o?: { keepLogsIn?: string }): Promise<{ processes: number[]; dir: boolean; ports: number[] }>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => (s.destroy(), resolve(false)));
  });
}

export async function startTestCluster(o: { log?: (l: string) => void; ui?: boolean } = {}): Promise<TestCluster> {
  const stateDir = mkdtempSync(join(tmpdir(), 'fb-cluster-'));
  let cluster: TemporalCluster;
  try {
    cluster = await startCluster({ stateDir, log: o.log, ui: o.ui });
  } catch (e) {
    rmSync(stateDir, { recursive: true, force: true });
    throw e;
  }
  const seen = new Set<number>();
  const note = () => {
    for (const s of SERVICES) {
      const pid = cluster.child(s)?.pid;
      if (pid) seen.add(pid);
    }
    const pg = cluster.postgresPid();
    if (pg) seen.add(pg);
  };
  note();
  return {
    cluster,
    address: cluster.address,
    namespace: cluster.namespace,
    stateDir,
    pids: () => (note(), [...seen]),
    async bounce(s, downMs = 0) {
      await cluster.killService(s, 'SIGKILL');
      if (downMs) await sleep(downMs);
      await cluster.startService(s);
      note();
    },
    async stop(so = {}) {
      note();
      const ports = Object.values(cluster.ports as ClusterPorts).filter((p): p is number => typeof p === 'number');
      // A test cluster's state is thrown away: no graceful drain (SIGTERM takes seconds per service).
      await cluster.stop('SIGKILL');
      // postgres' backends leave right after the postmaster; give them a moment.
      for (let i = 0; i < 50 && [...seen].some(alive); i++) await sleep(100);
      if (so.keepLogsIn) {
        mkdirSync(so.keepLogsIn, { recursive: true });
        for (const f of readdirSync(stateDir).filter((n) => n.endsWith('.log'))) copyFileSync(join(stateDir, f), join(so.keepLogsIn, `cluster-${f}`));
        const pgLog = join(stateDir, 'pgsock', 'postgres.log');
        if (existsSync(pgLog)) copyFileSync(pgLog, join(so.keepLogsIn, 'cluster-postgres.log'));
      }
      rmSync(stateDir, { recursive: true, force: true });
      const open: number[] = [];
      for (const p of ports) if (await listening(p)) open.push(p);
      return { processes: [...seen].filter(alive), dir: existsSync(stateDir), ports: open };
    },
  };
}
