// `fluxburst slurm conf` against a real slurmctld (Slurm 22.05): the printed lines, dropped into
// a slurm.conf, start the controller and show the cloud nodes powered down (`idle~`).
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startSlurm, stopMunge } from '../../testkit/slurm/local-cluster.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** The CLI in this process (main() as bin/fluxburst.js runs it), its output captured. */
async function fluxburst(args: string[]) {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  try {
    const code = await main(['node', 'fluxburst', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

async function conf(args: string[]): Promise<string[]> {
  const r = await fluxburst(['slurm', 'conf', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.trim().split('\n');
}

const value = (lines: string[], key: string) => lines.find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1);

afterAll(() => stopMunge());

describe('fluxburst slurm conf', () => {
  it('a CPU partition: slurmctld accepts it and lists the nodes as idle~', async () => {
    const lines = await conf(['--partition', 'burst', '--nodes', 'burst[1-3]', '--cpus', '2', '--memory-mib', '1000', '--suspend-exc-nodes', 'static1', '--resume-timeout', '300', '--suspend-time', '120']);
    expect(lines).toContain('NodeName=burst[1-3] CPUs=2 RealMemory=1000 State=CLOUD');
    expect(lines).toContain('PartitionName=burst Nodes=burst[1-3] MaxTime=INFINITE State=UP');
    for (const l of ['PrivateData=cloud', 'TreeWidth=65533', 'CommunicationParameters=NoAddrCache', 'ReturnToService=2', 'ResumeTimeout=300', 'SuspendTime=120', 'SuspendTimeout=120', 'ResumeRate=0', 'SuspendExcNodes=static1']) {
      expect(lines).toContain(l);
    }
    for (const key of ['ResumeProgram', 'SuspendProgram', 'ResumeFailProgram']) {
      const path = value(lines, key)!;
      expect(isAbsolute(path)).toBe(true);
      accessSync(path, constants.X_OK);
    }

    const s = await startSlurm({ cloudNodes: 0, cloudLines: lines });
    try {
      expect(s.sinfo(['-h', '-N', '-p', 'burst', '-o', '%N %t %c %m']).trim().split('\n')).toEqual(['burst1 idle~ 2 1000', 'burst2 idle~ 2 1000', 'burst3 idle~ 2 1000']);
      const config = s.scontrol(['show', 'config']);
      expect(config).toMatch(new RegExp(`ResumeProgram\\s+= ${value(lines, 'ResumeProgram')}`));
      expect(config).toMatch(/SuspendExcNodes\s+= static1/);
      expect(config).toMatch(/PrivateData\s+= cloud/);
    } finally {
      await s.stop();
    }
  });

  it('a GPU partition sized from the catalog (--type)', async () => {
    const lines = await conf(['--partition', 'gpu', '--nodes', 'gpu[01-02]', '--type', 'g4dn.xlarge']);
    // g4dn.xlarge: 4 vCPUs, 16384 MiB (95% as RealMemory), 1 GPU
    expect(lines).toContain('NodeName=gpu[01-02] CPUs=4 RealMemory=15564 Gres=gpu:1 State=CLOUD');
    expect(lines).toContain('GresTypes=gpu');
    const s = await startSlurm({ cloudNodes: 0, cloudLines: lines });
    try {
      expect(s.sinfo(['-h', '-N', '-p', 'gpu', '-o', '%N %t %G']).trim().split('\n')).toEqual(['gpu01 idle~ gpu:1', 'gpu02 idle~ gpu:1']);
    } finally {
      await s.stop();
    }
  });

  it('the wrapper scripts exec `node <abs>/bin/fluxburst.js slurm <hook>` with slurmctld\'s arguments', () => {
    for (const hook of ['resume', 'suspend', 'resume-fail']) {
      const r = spawnSync(join(ROOT, 'bin', `fluxburst-slurm-${hook}`), ['cloud[1-2]'], { encoding: 'utf8', env: { FLUXBURST_NODE: '/bin/echo' } });
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(`${join(ROOT, 'bin', 'fluxburst.js')} slurm ${hook} cloud[1-2]`);
    }
  });

  it.each([
    [['--nodes', 'n[3-1]', '--cpus', '1'], /--nodes: invalid range "3-1": 3 is above 1/],
    [['--nodes', 'n[1-2', '--cpus', '1'], /--nodes: unbalanced brackets/],
    [['--nodes', 'n_[1-2]', '--cpus', '1', '--suspend-exc-nodes', 'a[x]'], /--suspend-exc-nodes: invalid range/],
    [['--nodes', 'n[1-2]', '--cpus', '0'], /--cpus: must be at least 1/],
    [['--nodes', 'n[1-2]', '--cpus', '1.5'], /--cpus: must be a whole number/],
    [['--nodes', 'n[1-2]', '--cpus', '1', '--resume-timeout', 'soon'], /--resume-timeout: must be a whole number/],
    [['--nodes', 'n[1-2]', '--cpus', '1', '--tree-width', '70000'], /--tree-width: must be at most 65533/],
    [['--nodes', 'n[1-2]', '--cpus', '1', '--partition', 'a b'], /--partition: letters, digits/],
    [['--nodes', 'n[1-2]', '--type', 'no.such'], /--type: "no.such" is not in the instance catalog/],
    [['--nodes', 'n[1-2]'], /--cpus: give --cpus \(or --type/],
    [['--nodes', 'n[1-2]', '--cpus', '1', '--suspend-exc-nodes', 'n[1-2]'], /--suspend-exc-nodes: excludes every cloud node/],
    [['--cpus', '1'], /required option '--nodes/],
  ])('bad flags %j → exit 2 naming the flag', async (args, message) => {
    const r = await fluxburst(['slurm', 'conf', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });
});
