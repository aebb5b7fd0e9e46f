// The broker documents fluxburst generates for remote bursts, read by real flux-core brokers on
// loopback: the broker.toml the kubernetes plugin puts in a MiniCluster (spec.flux.brokerConfig)
// and in the pods mode's ConfigMap, with the pods' own broker command line. Each is fed to brokers
// that claim the burst's host names and must join a real lead (testkit/flux/lead.ts) whose config
// declares those hosts — same order, same length, same certificate. A generator bug (hosts out of
// order, a wrong lead entry, an option flux refuses) fails here.
//
// Rewrites, only where loopback makes them necessary (each named below): the certificate path (a
// Secret mounted at /etc/curve in a pod), the config path (a ConfigMap at /etc/flux/config), and
// `[resource] noverify` appended (every broker here runs on one machine whose hostname is not the
// pod's). The lead's address is given as 127.0.0.1 — what the generators take as input.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandHostlist } from '../../src/flux/config.js';
import { burstNodes, miniClusterManifest, type LeadBroker } from '../../src/plugins/kubernetes/minicluster.js';
import { brokerConfigMap, rankPod } from '../../src/plugins/kubernetes/podgroup.js';
import { type FluxLead, startFluxLead } from '../../testkit/flux/lead.js';
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fluxJoinScript } from '../../src/flux/join-script.js';
import { launchTemplateData } from '../../src/plugins/aws-ec2/launch-template.js';
import { awsEc2Params } from '../../src/plugins/aws-ec2/params.js';

let lead: FluxLead;
const cluster = { name: 'burst-0', size: 2 };

beforeAll(async () => {
  // The lead declares the burst cluster's ranks as the kubernetes plugin names them.
  lead = await startFluxLead({ slots: 2, prefix: 'burst-0-' });
  expect(lead.hosts).toEqual(burstNodes(cluster));
});
afterAll(async () => {
  expect(await lead?.stop()).toEqual({ processes: [], dir: false });
});

const leadBroker = (): LeadBroker => ({ address: '127.0.0.1', port: lead.port, name: 'lead', size: 1 });

/** The loopback rewrites (see the header), nothing else. */
function onLoopback(toml: string): string {
  return `${toml.replaceAll('/etc/curve/curve.cert', lead.certPath)}\n[resource]\nnoverify = true\n`;
}

function writeConf(name: string, toml: string): string {
  const dir = join(lead.dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'broker.toml'), toml);
  return dir;
}

async function joinsThenLeaves(configDir: string, extraArgs: (host: string) => string[] = () => []) {
  const brokers = [];
  for (const host of burstNodes(cluster)) brokers.push(await lead.startBroker(host, { configPath: configDir, extraArgs: extraArgs(host) }));
  try {
    await lead.waitOnline(burstNodes(cluster), 30_000);
  } catch (e) {
    const logs = brokers.map((b) => `${b.host}: ${readFileSync(b.log, 'utf8').slice(-1500)}`).join('\n');
    throw new Error(`${(e as Error).message}\nbroker logs:\n${logs}\nlead log:\n${lead.log().slice(-2000)}`);
  }
  // A job on the lead and both burst ranks runs: the ranks are usable, not just connected.
  const id = (await lead.run(['submit', '-N3', 'hostname'])).trim();
  await lead.run(['job', 'attach', id], 30_000);
  const done = JSON.parse(await lead.run(['jobs', '--json', id])) as { result: string; nodelist: string };
  expect(done.result).toBe('COMPLETED');
  expect(expandHostlist(done.nodelist)).toEqual(['lead', ...burstNodes(cluster)]);
  for (const b of brokers) await b.stop();
  for (let i = 0; i < 100 && (await lead.onlineHosts()).length > 1; i++) await new Promise((r) => setTimeout(r, 100));
  expect(await lead.onlineHosts()).toEqual(['lead']);
}

describe('kubernetes plugin documents, read by real brokers', () => {
  it("the MiniCluster's spec.flux.brokerConfig: its brokers join the lead and run a job", async () => {
    const mc = miniClusterManifest({ name: cluster.name, namespace: 'fluxburst-b1', size: cluster.size, tasks: 2, image: 'x', lead: leadBroker(), labels: {}, secrets: true }) as {
      spec: { flux: { brokerConfig: string; bursting: { leadBroker: { address: string; port: number } } } };
    };
    expect(mc.spec.flux.bursting.leadBroker).toMatchObject({ address: '127.0.0.1', port: lead.port });
    const conf = writeConf('mc', onLoopback(mc.spec.flux.brokerConfig));
    await joinsThenLeaves(conf);
  });

  it("pods mode: the ConfigMap's broker.toml with the rank pods' own broker command line", async () => {
    const cm = brokerConfigMap({ namespace: 'fluxburst-b2', labels: {}, cluster, lead: leadBroker(), port: lead.port });
    const conf = writeConf('pods', onLoopback(cm.data['broker.toml']));
    const pod = rankPod({ cluster, rank: 0, namespace: 'fluxburst-b2', labels: {}, group: 'g', image: 'x', schedulerName: 's', secrets: true } as Parameters<typeof rankPod>[0]);
    const cmd = pod.spec.containers[0]!.command;
    expect(cmd.slice(0, 3)).toEqual(['flux', 'broker', '--config-path=/etc/flux/config']);
    // The pod's own options (everything after the config path), as the pod passes them.
    await joinsThenLeaves(conf, () => cmd.slice(3));
  });
});

describe('aws-ec2 user data, run by a real instance stand-in', () => {
  it('the Flux join script, rendered into the launch template for a burst, joins one broker per instance', async () => {
    const userData = fluxJoinScript({ leadHost: 'lead', leadConnect: lead.bind, burstHosts: lead.hosts, cert: { file: lead.certPath } });
    const p = awsEc2Params.parse({ region: 'us-east-1', imageId: 'ami-0123abcd', subnetIds: ['subnet-0123abcd'], userData });
    const data = launchTemplateData(p, { burstId: 'b-ec2', owner: 'alice', efa: false });
    const script = Buffer.from(data.UserData!, 'base64').toString('utf8');
    expect(script).toContain('(burst b-ec2, owner alice)');
    const file = join(lead.dir, 'user-data.sh');
    writeFileSync(file, script);
    // Each instance: its node name (on EC2 from its fluxburst:node tag) and, since all run on one
    // machine here, dirs of its own; flux is on PATH as on the image.
    for (const node of lead.hosts) {
      const base = join(lead.dir, 'ec2', node);
      const r = spawnSync('bash', [file], {
        encoding: 'utf8',
        env: { ...process.env, FLUX_URI: '', PATH: `${dirname(lead.flux)}:${process.env.PATH}`, FLUXBURST_NODE: node, FLUX_CONF_DIR: `${base}/conf`, FLUX_RUN_DIR: `${base}/run`, FLUX_STATE_DIR: `${base}/state` },
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`broker ${node} started`));
    }
    try {
      await lead.waitOnline(lead.hosts, 30_000);
    } catch (e) {
      const logs = lead.hosts.map((h) => `${h}: ${readFileSync(join(lead.dir, 'ec2', h, 'run.log'), 'utf8').slice(-1500)}`).join('\n');
      throw new Error(`${(e as Error).message}\n${logs}`);
    }
    const id = (await lead.run(['submit', '-N3', 'hostname'])).trim();
    await lead.run(['job', 'attach', id], 30_000);
    const done = JSON.parse(await lead.run(['jobs', '--json', id])) as { result: string; nodelist: string };
    expect(done.result).toBe('COMPLETED');
    expect(expandHostlist(done.nodelist)).toEqual(['lead', ...lead.hosts]);
    // A node name that is not a slot of the lead is refused before anything starts.
    const bad = spawnSync('bash', [file], { encoding: 'utf8', env: { ...process.env, FLUXBURST_NODE: 'burst-9', FLUX_CONF_DIR: `${lead.dir}/ec2/x/conf`, FLUX_RUN_DIR: `${lead.dir}/ec2/x/run`, FLUX_STATE_DIR: `${lead.dir}/ec2/x/state` } });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/node 'burst-9' is not a burst slot of the lead/);
  });
});
