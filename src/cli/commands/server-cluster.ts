// `fluxburst server --cluster`: the step between start-dev and a real deployment. A Temporal
// cluster (temporal-server's four services as separate processes) on a private PostgreSQL under
// <state dir>/cluster, with the Temporal UI, configured by deploy/temporal/config/cluster.yaml —
// the file docker-compose.yml mounts and the test suite's cluster boots (src/temporal/cluster.ts).
// Its data survives restarts; `fluxburst stop` ends a detached one.
import { join } from 'node:path';
import { FluxburstError, InputError } from '../../core/errors.js';
import { readServerInfo } from '../../temporal/dev-server.js';
import { readClusterInfo, stopCluster, TemporalCluster, type ClusterInfo, type ClusterPorts } from '../../temporal/cluster.js';
import { stateDir } from '../../temporal/paths.js';
import { printJson } from '../common.js';

export const clusterStateDir = (dir = stateDir()) => join(dir, 'cluster');

/**
 * The ports for a cluster whose frontend is `port`: with 7233 they are Temporal's usual ones
 * (history 7234, matching 7235, worker 7239, membership 6933–6939) and PostgreSQL on 7432.
 */
export function clusterPortsFor(port: number, uiPort?: number): ClusterPorts {
  if (port < 400 || port > 32_000) throw new InputError('flags', [{ path: '--port', message: `${port}: with --cluster it must be in 400..32000 (membership ports sit 300 below it and must stay under 32768)` }]);
  return {
    frontend: port,
    frontendHttp: port + 10,
    history: port + 1,
    matching: port + 2,
    worker: port + 6,
    frontendMembership: port - 300,
    historyMembership: port - 299,
    matchingMembership: port - 298,
    workerMembership: port - 294,
    postgres: port + 199,
    ...(uiPort ? { ui: uiPort } : {}),
  };
}

function describe(info: ClusterInfo): string {
  const p = info.ports;
  return [
    `Temporal cluster ready (temporal-server: history, matching, frontend, worker; PostgreSQL on 127.0.0.1:${p.postgres}; state ${info.stateDir})`,
    `  gRPC: ${info.address}   namespace: ${info.namespace}`,
    `  UI:   ${info.uiUrl ?? '(headless)'}`,
    '',
  ].join('\n');
}

export async function runClusterServer(o: { port: number; uiPort?: number; ip: string; headless?: boolean; detach?: boolean; json?: boolean; codecEndpoint?: string }): Promise<void> {
  if (o.ip !== '127.0.0.1') throw new InputError('flags', [{ path: '--ip', message: `${o.ip}: the --cluster server listens on loopback only (for other hosts, deploy docker-compose.yml)` }]);
  const dir = clusterStateDir();
  const running = readClusterInfo(dir);
  if (running) {
    if (o.json) printJson(running);
    else process.stdout.write(`already running:\n${describe(running)}`);
    return;
  }
  const dev = readServerInfo(stateDir());
  if (dev) throw new FluxburstError('ServerRunning', `the dev server is running from this state dir (pid ${dev.pid}, ${dev.address}); \`fluxburst stop\` it first`);
  const cluster = new TemporalCluster({
    stateDir: dir,
    ports: clusterPortsFor(o.port, o.headless ? undefined : (o.uiPort ?? o.port + 1000)),
    detach: o.detach,
    ui: !o.headless,
    codecEndpoint: o.codecEndpoint,
    log: o.json ? undefined : (l) => process.stderr.write(`[cluster] ${l}\n`),
  });
  let info: ClusterInfo;
  try {
    info = await cluster.start();
  } catch (e) {
    await cluster.stop().catch(() => undefined);
    throw e;
  }
  if (o.json) printJson(info);
  else process.stdout.write(describe(info));
  if (o.detach) return;
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await cluster.stop();
}

/** `fluxburst stop`: the detached cluster of this state dir, if one runs. */
export function stopClusterServer(): Promise<boolean> {
  return stopCluster(clusterStateDir());
}
