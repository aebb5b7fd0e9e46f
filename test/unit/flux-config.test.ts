// The lead config generator and the broker-vs-lead comparison (src/flux/config.ts, src/flux/check.ts)
// without a running Flux: every mismatch that kills or hangs a joining broker
// (../shared/reference/flux-real.md, "What fails") is named on its own, by field.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type LeadSide, compareWithLead, leadSideFromJson } from '../../src/flux/check.js';
import { expandHostlist, hostlist, parseBrokerToml, renderLeadConfig } from '../../src/flux/config.js';

const dir = mkdtempSync(join(tmpdir(), 'fbfluxcfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cert = (name: string, key: string) => {
  const p = join(dir, name);
  writeFileSync(p, `[metadata]\n    name = "x"\n[curve]\n    public-key = "${key}"\n    secret-key = "s"\n`);
  return p;
};
const leadCert = cert('lead.cert', 'PUBLIC-A');
const input = { curveCert: leadCert, leadHost: 'lead', bind: 'tcp://10.0.0.1:8050', burstHosts: ['burst-0', 'burst-1', 'burst-2'] };
const leadToml = renderLeadConfig(input);
const lead: LeadSide = { hosts: ['lead', 'burst-0', 'burst-1', 'burst-2'], curveCert: leadCert, connect: 'tcp://10.0.0.1:8050' };
const broker = (toml: string) => parseBrokerToml(toml);

describe('renderLeadConfig', () => {
  it('declares the lead (binding) and every slot in rank order, one cert, static resources, noverify', () => {
    expect(leadToml).toBe(
      [
        '# fluxburst: a burstable Flux instance. Every broker (lead and burst) must read this same file.',
        '[bootstrap]',
        `curve_cert = "${leadCert}"`,
        'hosts = [',
        '  { host = "lead", bind = "tcp://10.0.0.1:8050", connect = "tcp://10.0.0.1:8050" },',
        '  { host = "burst-0" },',
        '  { host = "burst-1" },',
        '  { host = "burst-2" },',
        ']',
        '',
        '[resource]',
        "# brokers claim host names that are not the machine's: without this each drains itself",
        'noverify = true',
        '',
        '[[resource.config]]',
        'hosts = "lead,burst-[0-2]"',
        'cores = "0-1"',
        '',
      ].join('\n'),
    );
    expect(renderLeadConfig({ ...input, connect: 'tcp://lead.example:9000', cores: '0-7' })).toMatch(
      /bind = "tcp:\/\/10\.0\.0\.1:8050", connect = "tcp:\/\/lead\.example:9000"[\s\S]*cores = "0-7"/,
    );
  });

  it('hostlists compress and expand back (zero padding, gaps, plain names)', () => {
    for (const hosts of [
      ['lead', 'burst-0', 'burst-1', 'burst-2'],
      ['head', 'gpu-01', 'gpu-02', 'gpu-04'],
      ['a', 'b'],
      ['n1', 'n2', 'n3', 'n10'],
    ]) {
      expect(expandHostlist(hostlist(hosts))).toEqual(hosts);
    }
    expect(hostlist(['lead', 'gpu-01', 'gpu-02', 'gpu-04'])).toBe('lead,gpu-[01-02,04]');
  });
});

describe('compareWithLead: each mismatch named', () => {
  it("the lead's own config read back matches", () => {
    expect(broker(leadToml)).toEqual({ hosts: lead.hosts, curveCert: leadCert, leadConnect: 'tcp://10.0.0.1:8050', noverify: true });
    expect(compareWithLead(broker(leadToml), lead)).toEqual([]);
  });

  it('hosts in another order → the lead refuses ("mismatched config?")', () => {
    const t = leadToml.replace('{ host = "burst-0" },\n  { host = "burst-1" },', '{ host = "burst-1" },\n  { host = "burst-0" },');
    expect(compareWithLead(broker(t), lead)).toEqual([
      expect.stringMatching(/^bootstrap\.hosts\[1\]: "burst-1", the lead has "burst-0" at rank 1 .*mismatched config/),
    ]);
  });

  it('hosts of another length → accepted, then dies ("error reranking R"); none → no slot', () => {
    expect(compareWithLead(broker(leadToml.replace('  { host = "burst-2" },\n', '')), lead)).toEqual([
      expect.stringMatching(/^bootstrap\.hosts: 3 hosts, the lead has 4 .*reranking/),
    ]);
    expect(
      compareWithLead(broker(leadToml.replace('{ host = "burst-2" },', '{ host = "burst-2" },\n  { host = "burst-3" },')), lead),
    ).toEqual([expect.stringMatching(/^bootstrap\.hosts: 5 hosts, the lead has 4/)]);
    expect(compareWithLead({ hosts: [], curveCert: leadCert, leadConnect: lead.connect, noverify: true }, lead)).toEqual([
      expect.stringMatching(/^bootstrap\.hosts: the broker config declares no hosts/),
    ]);
  });

  it('rank 0 may be named otherwise (a remote burst names the lead by address), the others may not', () => {
    expect(compareWithLead(broker(leadToml.replace('{ host = "lead",', '{ host = "10.0.0.1",')), lead)).toEqual([]);
  });

  it('another certificate → silent hang; the same key at another path is the same certificate; none, unreadable', () => {
    const other = cert('other.cert', 'PUBLIC-B');
    expect(compareWithLead(broker(leadToml.replace(leadCert, other)), lead)).toEqual([
      expect.stringMatching(/^bootstrap\.curve_cert: .*other\.cert is not the lead's certificate .*hangs in join forever/),
    ]);
    expect(compareWithLead(broker(leadToml.replace(leadCert, cert('copy.cert', 'PUBLIC-A'))), lead)).toEqual([]);
    expect(compareWithLead(broker(leadToml.replace(/curve_cert = .*\n/, '')), lead)).toEqual([
      expect.stringMatching(/^bootstrap\.curve_cert: not set/),
    ]);
    expect(compareWithLead(broker(leadToml.replace(leadCert, join(dir, 'missing.cert'))), lead)).toEqual([
      expect.stringMatching(/^bootstrap\.curve_cert: .*missing\.cert cannot be read/),
    ]);
  });

  it('a wrong lead address or port → silent hang; no address → nowhere to connect', () => {
    expect(compareWithLead(broker(leadToml.replaceAll('10.0.0.1:8050', '10.0.0.1:8051')), lead)).toEqual([
      expect.stringMatching(
        /^bootstrap\.hosts\[0\]\.connect: tcp:\/\/10\.0\.0\.1:8051, the lead listens at tcp:\/\/10\.0\.0\.1:8050 .*silently/,
      ),
    ]);
    expect(compareWithLead(broker(leadToml.replace(', bind = "tcp://10.0.0.1:8050", connect = "tcp://10.0.0.1:8050"', '')), lead)).toEqual([
      expect.stringMatching(/^bootstrap\.hosts\[0\]: no connect\/bind address/),
    ]);
  });

  it('no [resource] noverify → the broker drains itself after joining', () => {
    expect(compareWithLead(broker(leadToml.replace('noverify = true', 'noverify = false')), lead)).toEqual([
      expect.stringMatching(/^resource\.noverify: not true .*drains itself/),
    ]);
  });

  it('several at once: each named once, in field order', () => {
    const t = leadToml
      .replace(leadCert, cert('third.cert', 'PUBLIC-C'))
      .replace('noverify = true', '')
      .replace('  { host = "burst-2" },\n', '')
      .replaceAll(':8050', ':9');
    expect(compareWithLead(broker(t), lead).map((p) => p.split(':')[0])).toEqual([
      'bootstrap.hosts',
      'bootstrap.curve_cert',
      'bootstrap.hosts[0].connect',
      'resource.noverify',
    ]);
  });

  it("the lead side from `flux config get` JSON (hostlists expanded, rank 0's connect, else bind)", () => {
    const json = JSON.stringify({
      bootstrap: { curve_cert: leadCert, hosts: [{ host: 'lead', bind: 'tcp://10.0.0.1:8050' }, { host: 'burst-[0-2]' }] },
    });
    expect(leadSideFromJson(json)).toEqual(lead);
  });
});
