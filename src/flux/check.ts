// Does a burst target's broker config match the lead it is meant to join? Each mismatch either
// kills the joining broker or hangs it forever without a word (../shared/reference/flux-real.md,
// "What fails, and how it looks"), so `fluxburst validate` and `fluxburst flux check` name every
// one before a burst is started.
//
// The lead's side is read from the running lead itself (`flux config get`: its bootstrap and
// resource tables as JSON), not from a file that may have changed since it started.
import { readFileSync } from 'node:fs';
import { runFlux } from '../jobs/flux-source.js';
import { expandHostlist } from './config.js';

/** What a broker will be started with (see readBrokerConfig in ./config.ts). */
export interface BrokerSide {
  hosts: string[];
  curveCert?: string | undefined;
  leadConnect?: string | undefined;
  noverify: boolean;
}

export interface LeadSide {
  hosts: string[];
  curveCert?: string | undefined;
  /** Where followers connect to the lead (rank 0's connect, else its bind). */
  connect?: string | undefined;
}

type LeadConfigJson = { bootstrap?: { curve_cert?: string; hosts?: Array<{ host?: string; bind?: string; connect?: string }> } };

/** The lead's bootstrap facts from `flux config get` (as JSON text). */
export function leadSideFromJson(text: string): LeadSide {
  const c = JSON.parse(text) as LeadConfigJson;
  const hosts = (c.bootstrap?.hosts ?? []).flatMap((h) => (h.host ? expandHostlist(h.host) : []));
  const first = c.bootstrap?.hosts?.[0];
  return { hosts, curveCert: c.bootstrap?.curve_cert, connect: first?.connect ?? first?.bind };
}

/** Ask the running lead (FLUX_URI in env) for its config. */
export async function readLeadSide(flux: string, env: NodeJS.ProcessEnv): Promise<LeadSide> {
  return leadSideFromJson(await runFlux(flux, ['config', 'get'], { env, timeoutMs: 15_000 }));
}

/** The certificate's public key (the `public-key = "…"` line of a `flux keygen` file). */
function publicKey(path: string): string | undefined {
  try {
    return /public-key\s*=\s*"([^"]+)"/.exec(readFileSync(path, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Every mismatch, as "field: what is wrong (what it does to the broker)". Empty when they match. */
export function compareWithLead(b: BrokerSide, lead: LeadSide): string[] {
  const out: string[] = [];
  if (!b.hosts.length) out.push('bootstrap.hosts: the broker config declares no hosts (the broker cannot claim a burst slot)');
  else if (b.hosts.length !== lead.hosts.length) {
    out.push(`bootstrap.hosts: ${b.hosts.length} hosts, the lead has ${lead.hosts.length} (the lead accepts the broker, then it dies: "error reranking R")`);
  }
  // Rank 0's name may differ (a remote burst names the lead by its address); every other rank must not.
  for (let i = 1; i < Math.min(b.hosts.length, lead.hosts.length); i++) {
    if (b.hosts[i] !== lead.hosts[i]) {
      out.push(`bootstrap.hosts[${i}]: "${b.hosts[i]}", the lead has "${lead.hosts[i]}" at rank ${i} (the lead refuses the broker: "mismatched config?")`);
      break;
    }
  }
  if (!b.curveCert) out.push('bootstrap.curve_cert: not set (the lead requires its CURVE certificate)');
  else if (lead.curveCert && b.curveCert !== lead.curveCert) {
    const mine = publicKey(b.curveCert);
    const theirs = publicKey(lead.curveCert);
    if (!mine) out.push(`bootstrap.curve_cert: ${b.curveCert} cannot be read as a flux keygen certificate`);
    else if (theirs && mine !== theirs) out.push(`bootstrap.curve_cert: ${b.curveCert} is not the lead's certificate (${lead.curveCert}) (the broker hangs in join forever, silently)`);
  }
  if (!b.leadConnect) out.push('bootstrap.hosts[0]: no connect/bind address for the lead (the broker has nowhere to connect)');
  else if (lead.connect && b.leadConnect !== lead.connect) {
    out.push(`bootstrap.hosts[0].connect: ${b.leadConnect}, the lead listens at ${lead.connect} (the broker hangs in join forever, silently)`);
  }
  if (!b.noverify) out.push("resource.noverify: not true (a broker claiming a host name that is not its machine's drains itself after joining)");
  return out;
}
