// `fluxburst flux …`: the Flux side of bursting.
//   conf         the lead's [bootstrap]/[resource] TOML with N burst host slots (down until a
//                broker claims them), and the CURVE certificate (`flux keygen`, made once).
//   check        does a broker config match the running lead (hosts, order, length, cert, address)?
//   join-script  the aws-ec2 `userData` that makes an instance a burst broker of this lead.
// Like `fluxburst slurm conf`, nothing is started; the lead is restarted by its admin with the file.
import { existsSync, mkdirSync, chmodSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { InputError } from '../../core/errors.js';
import { resolveFlux, withoutUri } from '../../flux/command.js';
import { compareWithLead, readLeadSide } from '../../flux/check.js';
import { expandHostlist, parseBrokerToml, readBrokerConfig, renderLeadConfig } from '../../flux/config.js';
import { fluxJoinScript } from '../../flux/join-script.js';
import { brokerToml } from '../../plugins/kubernetes/minicluster.js';
import { printJson, zArg } from '../common.js';

const hostName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const tcpUri = z.string().regex(/^tcp:\/\/[^\s:/]+:\d{1,5}$/, 'a ZeroMQ TCP endpoint like tcp://10.0.0.1:8050');
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

function hostsArg(flag: string) {
  return (value: string): string[] => {
    const names = expandHostlist(value);
    const bad = names.find((n) => !hostName.test(n));
    if (bad !== undefined || !names.length)
      throw new InvalidArgumentError(`${flag}: "${bad ?? value}" is not a valid host name (letters, digits, . _ -)`);
    return names;
  };
}

export interface FluxConfFlags {
  slots?: number;
  hosts?: string[];
  prefix: string;
  leadHost: string;
  bind: string;
  connect?: string;
  cores: string;
  cert: string;
}

/** Flags → the lead config input; InputError names the flag. */
export function fluxConfInput(f: FluxConfFlags) {
  const burstHosts = f.hosts ?? (f.slots ? Array.from({ length: f.slots }, (_, i) => `${f.prefix}${i}`) : undefined);
  if (!burstHosts)
    throw new InputError('flags', [{ path: '--slots', message: 'give --slots N (or --hosts HOSTLIST) for the burst host slots' }]);
  const all = [f.leadHost, ...burstHosts];
  const dup = all.find((h, i) => all.indexOf(h) !== i);
  if (dup) throw new InputError('flags', [{ path: '--hosts', message: `"${dup}" appears twice (every broker needs a host of its own)` }]);
  if (!hostName.test(f.leadHost))
    throw new InputError('flags', [{ path: '--lead-host', message: `"${f.leadHost}" is not a valid host name` }]);
  return {
    curveCert: resolve(f.cert),
    leadHost: f.leadHost,
    bind: f.bind,
    ...(f.connect ? { connect: f.connect } : {}),
    burstHosts,
    cores: f.cores,
  };
}

/** `flux keygen PATH` unless PATH exists (never overwrite: every broker must keep the same one). */
export function ensureCert(path: string, flux = resolveFlux()): 'made' | 'kept' {
  if (existsSync(path)) return 'kept';
  mkdirSync(dirname(path), { recursive: true });
  const r = spawnSync(flux, ['keygen', path], { encoding: 'utf8', env: withoutUri(process.env) });
  if (r.status !== 0)
    throw new InputError('flags', [
      { path: '--cert', message: `\`${flux} keygen ${path}\` failed: ${(r.stderr || r.error?.message || '').trim()}` },
    ]);
  chmodSync(path, 0o600);
  return 'made';
}

export function registerFlux(program: Command): void {
  const flux = program
    .command('flux')
    .description('Flux integration: the lead config with burst host slots, and checks that burst brokers match it.');
  flux
    .command('conf')
    .description(
      "Print the lead's [bootstrap]/[resource] config with N burst host slots (down until a burst broker claims one), and make the CURVE certificate if it is missing.",
    )
    .option('--slots <n>', 'number of burst host slots', zArg(int(1, 10_000), '--slots'))
    .option('--hosts <hostlist>', 'the burst slots by name instead (e.g. burst-[0-15]), in rank order', hostsArg('--hosts'))
    .addOption(new Option('--prefix <text>', 'slot name prefix with --slots').default('burst-'))
    .addOption(new Option('--lead-host <name>', "the lead's host name (rank 0)").default('lead'))
    .requiredOption('--bind <uri>', 'where the lead listens, e.g. tcp://10.0.0.1:8050', zArg(tcpUri, '--bind'))
    .option('--connect <uri>', 'where burst brokers reach the lead (default: --bind)', zArg(tcpUri, '--connect'))
    .addOption(
      new Option('--cores <idset>', 'cores per host (static resources)')
        .default('0-1')
        .argParser(zArg(z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'an idset like 0-7'), '--cores')),
    )
    .requiredOption('--cert <path>', 'the CURVE certificate every broker reads (made with flux keygen when missing)')
    .action((f: FluxConfFlags) => {
      const input = fluxConfInput(f);
      const made = ensureCert(input.curveCert);
      process.stderr.write(
        `${made === 'made' ? 'made' : 'kept'} ${input.curveCert}; every broker (lead and burst) must read this config and this certificate\n`,
      );
      process.stdout.write(renderLeadConfig(input));
    });

  flux
    .command('check')
    .description(
      "Compare a burst broker config with the running lead's (FLUX_URI): hosts, their order and number, certificate, lead address. Exit 2 names each mismatch.",
    )
    .requiredOption('--config <path>', 'the broker config (a dir of *.toml or one file) burst brokers are started with')
    .option('--json', 'machine-readable output')
    .action(async (o: { config: string; json?: boolean }) => {
      const problems = await checkBrokerConfig(o.config);
      if (o.json) printJson({ ok: problems.length === 0, problems });
      if (problems.length)
        throw new InputError(
          `broker config ${o.config}`,
          problems.map((p) => ({ path: p.split(':')[0]!, message: p.slice(p.indexOf(':') + 1).trim() })),
        );
      if (!o.json) process.stdout.write(`ok: ${o.config} matches the lead\n`);
    });

  flux
    .command('join-script')
    .description(
      "Print an aws-ec2 `userData` that makes each instance a burst broker of this lead (the lead's config from --config; the certificate by reference).",
    )
    .requiredOption('--config <path>', "the lead's config (dir or file)")
    .option('--cert-file <path>', 'the certificate as a file on the image or a shared filesystem')
    .option('--cert-ssm <name>', 'the certificate as an SSM SecureString parameter (read with the instance role)')
    .action(async (o: { config: string; certFile?: string; certSsm?: string }) => {
      if (!!o.certFile === !!o.certSsm)
        throw new InputError('flags', [{ path: '--cert-file', message: 'give exactly one of --cert-file and --cert-ssm' }]);
      const c = await readBrokerConfig(o.config);
      if (c.hosts.length < 2 || !c.leadConnect)
        throw new InputError(`config ${o.config}`, [
          { path: 'bootstrap.hosts', message: 'needs the lead (with bind/connect) and at least one burst host' },
        ]);
      process.stdout.write(
        fluxJoinScript({
          leadHost: c.hosts[0]!,
          leadConnect: c.leadConnect,
          burstHosts: c.hosts.slice(1),
          cert: o.certFile ? { file: o.certFile } : { ssmParameter: o.certSsm! },
        }),
      );
    });
}

/** Each mismatch between a broker config and the running lead (FLUX_URI, or `uri`). */
export async function checkBrokerConfig(config: string, o: { uri?: string; flux?: string } = {}): Promise<string[]> {
  let broker;
  try {
    broker = await readBrokerConfig(config);
  } catch (e) {
    return [`config: cannot read ${config}: ${(e as Error).message}`];
  }
  const env = { ...process.env, ...(o.uri ? { FLUX_URI: o.uri } : {}) };
  const lead = await readLeadSide(o.flux ?? resolveFlux(env), env);
  return compareWithLead(broker, lead);
}

/**
 * For `fluxburst validate`: every target whose nodes join a Flux lead as brokers must match the
 * running lead. The local plugin's `flux` params: its broker config against the lead (its `lead`
 * URI, else FLUX_URI). The kubernetes plugin's `lead` params (when FLUX_URI names the lead): the
 * broker.toml the plugin puts in its MiniCluster, sized to the slots the lead declares after its
 * own `lead.size` ranks, and the certificate when it is a file. Issues name the target's field.
 */
export async function fluxTargetIssues(
  targets: Array<{ name?: string; plugin: string; params?: Record<string, unknown> }>,
): Promise<Array<{ path: string; message: string }>> {
  const out: Array<{ path: string; message: string }> = [];
  for (const [i, t] of targets.entries()) {
    if (t.plugin === 'kubernetes') {
      for (const issue of await kubernetesLeadIssues(t.params ?? {}))
        out.push({ path: `targets[${i}].params.${issue.path}`, message: issue.message });
      continue;
    }
    const f = t.params?.flux as { config?: string; lead?: string; command?: string } | undefined;
    if (t.plugin !== 'local' || !f?.config) continue;
    const where = `targets[${i}].params.flux.config`;
    try {
      for (const p of await checkBrokerConfig(f.config, { ...(f.lead ? { uri: f.lead } : {}), ...(f.command ? { flux: f.command } : {}) }))
        out.push({ path: where, message: p });
    } catch (e) {
      out.push({
        path: where,
        message: `cannot compare with the lead (${f.lead ?? process.env.FLUX_URI ?? 'FLUX_URI unset'}): ${(e as Error).message.split('\n')[0]}`,
      });
    }
  }
  return out;
}

type KubeLead = { address: string; port?: number; name: string; size: number };

/** A kubernetes target's `lead` against the running lead (FLUX_URI); nothing to check without either. */
export async function kubernetesLeadIssues(
  p: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Array<{ path: string; message: string }>> {
  const k = p.lead as KubeLead | undefined;
  if (!k || !env.FLUX_URI) return [];
  let lead;
  try {
    lead = await readLeadSide(resolveFlux(env), env);
  } catch (e) {
    return [{ path: 'lead', message: `cannot compare with the lead (${env.FLUX_URI}): ${(e as Error).message.split('\n')[0]}` }];
  }
  const clusterName = typeof p.clusterName === 'string' ? p.clusterName : 'burst-0';
  const slots = lead.hosts.length - k.size;
  if (slots < 1)
    return [
      {
        path: 'lead.size',
        message: `${k.size}, but the lead declares ${lead.hosts.length} hosts: no slot is left for ${clusterName}'s pods`,
      },
    ];
  const toml = brokerToml({
    namespace: 'validate',
    cluster: { name: clusterName, size: slots },
    lead: { address: k.address, port: k.port ?? 8050, name: k.name, size: k.size },
  });
  const b = parseBrokerToml(toml);
  const certFile = (p.curveCert as { file?: string } | undefined)?.file;
  // noverify: pods carry their own host names. A certificate held elsewhere (a Secret, a credential) is not read here.
  return compareWithLead({ ...b, curveCert: certFile ?? lead.curveCert ?? 'unchecked', noverify: true }, lead).map((m) => ({
    path: m.startsWith('bootstrap.curve_cert') ? 'curveCert' : 'lead',
    message: m,
  }));
}
