// `fluxburst flux conf` and `fluxburst flux check` (src/cli/commands/flux.ts, src/flux/check.ts)
// against a real flux-core lead: the printed config is the lead's config (certificate made once,
// kept after), and every kind of mismatch between a burst broker config and the running lead —
// hosts reordered, another length, another certificate, another lead address, no noverify — is
// named, while the lead's own config passes.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkBrokerConfig } from '../../src/cli/commands/flux.js';
import { main } from '../../src/cli/main.js';
import { renderLeadConfig } from '../../src/flux/config.js';
import { runFlux, withoutUri } from '../../src/flux/command.js';
import { processesMentioning, terminateTree } from '../../src/flux/proc.js';
import { freePort } from '../../src/temporal/ports.js';
import { type FluxLead, brokerArgs, startFluxLead } from '../../testkit/flux/lead.js';

let lead: FluxLead;
const work = mkdtempSync(join(tmpdir(), 'fbfluxconf-'));
beforeAll(async () => {
  lead = await startFluxLead({ slots: 3 });
});
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  expect(await lead?.stop()).toEqual({ processes: [], dir: false });
});

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  const saved = process.exitCode;
  try {
    const code = await main(['node', 'fluxburst', ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = saved;
  }
}

/** A copy of the lead's config with `edit` applied, in a dir of its own. */
function variant(name: string, edit: (toml: string) => string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'broker.toml'), edit(readFileSync(lead.configFile, 'utf8')));
  return dir;
}

describe('fluxburst flux conf', () => {
  it('prints the lead config with N slots and makes the certificate once (0600), then keeps it', async () => {
    const cert = join(work, 'certs', 'curve.cert');
    const r = await cli('flux', 'conf', '--slots', '3', '--bind', 'tcp://10.0.0.1:8050', '--cert', cert);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      renderLeadConfig({
        curveCert: cert,
        leadHost: 'lead',
        bind: 'tcp://10.0.0.1:8050',
        burstHosts: ['burst-0', 'burst-1', 'burst-2'],
        cores: '0-1',
      }),
    );
    expect(r.out).toContain('hosts = "lead,burst-[0-2]"');
    expect(r.err).toMatch(/^made /);
    expect(statSync(cert).mode & 0o777).toBe(0o600);
    const key = readFileSync(cert, 'utf8');
    const again = await cli(
      'flux',
      'conf',
      '--hosts',
      'gpu-[01-02]',
      '--lead-host',
      'head',
      '--bind',
      'tcp://10.0.0.1:8050',
      '--cert',
      cert,
    );
    expect(again.err).toMatch(/^kept /);
    expect(readFileSync(cert, 'utf8')).toBe(key);
    expect(again.out).toContain('{ host = "gpu-01" },\n  { host = "gpu-02" },');
  });

  it('the printed config starts a real lead, and a burst broker with the same file joins its slot', async () => {
    const d = join(work, 'real');
    const conf = join(d, 'conf');
    mkdirSync(conf, { recursive: true });
    const port = await freePort();
    const r = await cli('flux', 'conf', '--slots', '2', '--bind', `tcp://127.0.0.1:${port}`, '--cert', join(d, 'curve.cert'));
    expect(r.code).toBe(0);
    writeFileSync(join(conf, 'broker.toml'), r.out);
    const start = (host: string) => {
      mkdirSync(join(d, 'state', host), { recursive: true });
      const args = brokerArgs({ configPath: conf, host, rundir: join(d, 'run', host), statedir: join(d, 'state', host) });
      mkdirSync(join(d, 'run', host), { recursive: true });
      const c = spawn(lead.flux, args, { env: withoutUri(process.env), stdio: 'ignore', detached: true });
      c.on('error', () => undefined);
    };
    const env = { ...process.env, FLUX_URI: `local://${join(d, 'run', 'lead', 'local')}` };
    const online = async () =>
      (
        await runFlux(lead.flux, ['resource', 'status', '--states=online', '-no', '{nodelist}'], { env, timeoutMs: 10_000 }).catch(() => '')
      ).trim();
    const until = async (what: string, ok: (s: string) => boolean) => {
      let last = '';
      for (const end = Date.now() + 60_000; Date.now() < end; await sleep(200)) if (ok((last = await online()))) return;
      throw new Error(`${what}: online hosts "${last}"`);
    };
    try {
      start('lead');
      await until('the lead from the printed config', (s) => s === 'lead');
      // Its static resources declare every slot (down until claimed): lead and burst-[0-1].
      expect((await runFlux(lead.flux, ['resource', 'list', '-no', '{nodelist}'], { env, timeoutMs: 10_000 })).trim()).toBe(
        'lead,burst-[0-1]',
      );
      start('burst-1');
      await until('burst-1 joining with the same file', (s) => s.split(',').sort().join(',') === 'burst-1,lead');
    } finally {
      await terminateTree(processesMentioning(d), { graceMs: 5000 });
    }
    expect(processesMentioning(d)).toEqual([]);
  }, 120_000);

  it('refuses bad flags, naming the flag, exit 2', async () => {
    expect(await cli('flux', 'conf', '--slots', '2', '--bind', 'http://x', '--cert', join(work, 'c'))).toMatchObject({
      code: 2,
      err: expect.stringMatching(/--bind: a ZeroMQ TCP endpoint/),
    });
    expect(await cli('flux', 'conf', '--bind', 'tcp://h:1', '--cert', join(work, 'c'))).toMatchObject({
      code: 2,
      err: expect.stringMatching(/--slots/),
    });
    expect(await cli('flux', 'conf', '--hosts', 'lead,b1', '--bind', 'tcp://h:1', '--cert', join(work, 'c'))).toMatchObject({
      code: 2,
      err: expect.stringMatching(/"lead" appears twice/),
    });
  });
});

describe('fluxburst flux check (a burst broker config against the running lead)', () => {
  const check = (dir: string) => checkBrokerConfig(dir, { uri: lead.uri, flux: lead.flux });

  it("the lead's own config matches", async () => {
    expect(await check(lead.configDir)).toEqual([]);
  });

  it('names each mismatch: order, length, certificate, lead address, noverify', async () => {
    const reordered = variant('order', (t) =>
      t.replace('{ host = "burst-0" },\n  { host = "burst-1" },', '{ host = "burst-1" },\n  { host = "burst-0" },'),
    );
    expect(await check(reordered)).toEqual([
      expect.stringMatching(/^bootstrap\.hosts\[1\]: "burst-1", the lead has "burst-0" at rank 1 \(the lead refuses/),
    ]);

    const longer = variant('length', (t) => t.replace('{ host = "burst-2" },', '{ host = "burst-2" },\n  { host = "burst-3" },'));
    expect(await check(longer)).toEqual([expect.stringMatching(/^bootstrap\.hosts: 5 hosts, the lead has 4 .*reranking/)]);

    const otherCert = join(work, 'other.cert');
    expect(spawnSync(lead.flux, ['keygen', otherCert]).status).toBe(0);
    const cert = variant('cert', (t) => t.replace(lead.certPath, otherCert));
    expect(await check(cert)).toEqual([
      expect.stringMatching(/^bootstrap\.curve_cert: .*other\.cert is not the lead's certificate .*hangs in join forever/),
    ]);
    // The same certificate at another path is the same certificate.
    const copy = join(work, 'copy.cert');
    copyFileSync(lead.certPath, copy);
    expect(await check(variant('copy', (t) => t.replace(lead.certPath, copy)))).toEqual([]);

    const port = variant('port', (t) => t.replaceAll(`:${lead.port}"`, `:${lead.port + 1}"`));
    expect(await check(port)).toEqual([
      expect.stringMatching(
        /^bootstrap\.hosts\[0\]\.connect: tcp:\/\/127\.0\.0\.1:\d+, the lead listens at tcp:\/\/127\.0\.0\.1:\d+ .*silently/,
      ),
    ]);

    const verify = variant('verify', (t) => t.replace('noverify = true', 'noverify = false'));
    expect(await check(verify)).toEqual([expect.stringMatching(/^resource\.noverify: not true .*drains itself/)]);

    // All at once: each named.
    const all = variant('all', (t) =>
      t.replace(lead.certPath, otherCert).replace('noverify = true', '').replace('{ host = "burst-2" },', ''),
    );
    expect((await check(all)).map((p) => p.split(':')[0])).toEqual(['bootstrap.hosts', 'bootstrap.curve_cert', 'resource.noverify']);
  });

  it('through the CLI: exit 2 naming the field', async () => {
    const saved = process.env.FLUX_URI;
    process.env.FLUX_URI = lead.uri;
    try {
      const verify = variant('verify2', (t) => t.replace('noverify = true', ''));
      const r = await cli('flux', 'check', '--config', verify);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/resource\.noverify/);
      expect(await cli('flux', 'check', '--config', lead.configDir)).toMatchObject({
        code: 0,
        out: expect.stringMatching(/matches the lead/),
      });
    } finally {
      if (saved === undefined) delete process.env.FLUX_URI;
      else process.env.FLUX_URI = saved;
    }
  });

  it('fluxburst validate checks each Flux broker target against its lead, naming the target field', async () => {
    const conf = (dir: string) => {
      const f = join(work, `cfg-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(f, `targets:\n  - plugin: local\n    params:\n      flux:\n        config: ${dir}\n        lead: ${lead.uri}\n`);
      return f;
    };
    const good = await cli('validate', '-c', conf(lead.configDir));
    expect(good).toMatchObject({ code: 0, out: expect.stringMatching(/^ok:/) });
    const bad = await cli('validate', '-c', conf(variant('verify3', (t) => t.replace('noverify = true', ''))));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/targets\[0\]\.params\.flux\.config: resource\.noverify: not true/);
  });

  it("fluxburst validate checks a kubernetes target's lead params against the lead (FLUX_URI): the MiniCluster's hosts, certificate, address", async () => {
    const otherCert = join(work, 'k8s-other.cert');
    expect(spawnSync(lead.flux, ['keygen', otherCert]).status).toBe(0);
    const conf = (o: { clusterName?: string; size?: number; port?: number; cert?: string }) => {
      const f = join(work, `k8s-${Math.random().toString(36).slice(2)}.yaml`);
      const lp = `{address: 127.0.0.1, port: ${o.port ?? lead.port}, name: lead, size: ${o.size ?? 1}}`;
      writeFileSync(
        f,
        `targets:\n  - plugin: kubernetes\n    params: {cluster: {server: "http://127.0.0.1:1"}, clusterName: ${o.clusterName ?? 'burst'}, lead: ${lp}, curveCert: {file: ${o.cert ?? lead.certPath}}, mungeKey: {file: ${lead.certPath}}}\n`,
      );
      return f;
    };
    const saved = process.env.FLUX_URI;
    process.env.FLUX_URI = lead.uri;
    try {
      // The lead declares lead,burst-[0-2]: a MiniCluster named "burst" of 3 pods after the lead's 1 rank.
      expect(await cli('validate', '-c', conf({}))).toMatchObject({ code: 0, out: expect.stringMatching(/^ok:/) });
      const name = await cli('validate', '-c', conf({ clusterName: 'other' }));
      expect(name.code).toBe(2);
      expect(name.err).toMatch(/targets\[0\]\.params\.lead: bootstrap\.hosts\[1\]: "other-0", the lead has "burst-0"/);
      expect((await cli('validate', '-c', conf({ size: 2 }))).err).toMatch(
        /targets\[0\]\.params\.lead: bootstrap\.hosts\[1\]: "lead-1", the lead has "burst-0"/,
      );
      expect((await cli('validate', '-c', conf({ size: 4 }))).err).toMatch(
        /targets\[0\]\.params\.lead\.size: 4, but the lead declares 4 hosts/,
      );
      expect((await cli('validate', '-c', conf({ port: lead.port + 1 }))).err).toMatch(
        /targets\[0\]\.params\.lead: bootstrap\.hosts\[0\]\.connect: .* the lead listens at tcp:\/\/127\.0\.0\.1:\d+/,
      );
      expect((await cli('validate', '-c', conf({ cert: otherCert }))).err).toMatch(
        /targets\[0\]\.params\.curveCert: bootstrap\.curve_cert: .*k8s-other\.cert is not the lead's certificate/,
      );
    } finally {
      if (saved === undefined) delete process.env.FLUX_URI;
      else process.env.FLUX_URI = saved;
    }
  });
});
