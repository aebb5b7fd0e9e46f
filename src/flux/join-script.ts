// A boot-time join script for a cloud instance that becomes a burst broker of the lead: the
// aws-ec2 plugin's `userData` template (cloud-init runs it as root; `{{burstId}}`, `{{owner}}`,
// `{{region}}` are filled per burst by the plugin). It writes the lead's config — the same hosts
// in the same order, static resources, noverify — with the certificate path of the instance,
// fetches the certificate from a reference (a file baked into the image or on a shared
// filesystem, or an SSM SecureString read with the instance role: never the value itself, which
// would be readable through IMDS and DescribeLaunchTemplateVersions), and starts
// `flux broker -Shostname=<node>` detached.
//
// The instance's node name (= its burst slot host in the lead's config) comes from
// FLUXBURST_NODE when set, else its `fluxburst:node` tag (EC2 DescribeTags with the instance
// role; instance tags in IMDS are off). Dirs are overridable (FLUX_CONF_DIR, FLUX_RUN_DIR,
// FLUX_STATE_DIR), which the loopback test uses to run several on one machine.
import { renderLeadConfig } from './config.js';

export interface JoinScriptInput {
  /** The lead's host name (rank 0) and where followers connect: `tcp://ADDR:PORT`. */
  leadHost: string;
  leadConnect: string;
  /** Every burst slot host, in the lead's rank order. */
  burstHosts: string[];
  cores?: string;
  /** Where the CURVE certificate comes from (a reference, not the value). */
  cert: { file: string } | { ssmParameter: string };
  /** The flux executable on the image; default `flux`. */
  flux?: string;
}

const sh = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export function fluxJoinScript(i: JoinScriptInput): string {
  // The config text is the lead's, with this instance's cert path: renderLeadConfig is the one
  // generator of both, so they cannot drift apart.
  const toml = renderLeadConfig({ curveCert: '@CERT@', leadHost: i.leadHost, bind: i.leadConnect, burstHosts: i.burstHosts, ...(i.cores ? { cores: i.cores } : {}) });
  const fetchCert =
    'file' in i.cert
      ? `install -m 0600 ${sh(i.cert.file)} "$CONF/curve.cert"`
      : `aws ssm get-parameter --region "{{region}}" --name ${sh(i.cert.ssmParameter)} --with-decryption --query Parameter.Value --output text > "$CONF/curve.cert"\nchmod 0600 "$CONF/curve.cert"`;
  return `#!/bin/bash
# fluxburst: join this instance to the Flux lead as a burst broker (burst {{burstId}}, owner {{owner}}).
set -euo pipefail
FLUX=${sh(i.flux ?? 'flux')}
NODE="\${FLUXBURST_NODE:-}"
if [ -z "$NODE" ]; then
  TOKEN=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' http://169.254.169.254/latest/api/token)
  IID=$(curl -sf -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id)
  # The plugin tags an instance with its node name just after the fleet launches it: wait for it.
  for _ in $(seq 1 60); do
    NODE=$(aws ec2 describe-tags --region "{{region}}" --filters "Name=resource-id,Values=$IID" "Name=key,Values=fluxburst:node" --query 'Tags[0].Value' --output text || true)
    if [ -n "$NODE" ] && [ "$NODE" != "None" ]; then break; fi
    NODE=""; sleep 5
  done
fi
case " ${i.burstHosts.join(' ')} " in
  *" $NODE "*) ;;
  *) echo "fluxburst: node '$NODE' is not a burst slot of the lead (${i.burstHosts.join(',')})" >&2; exit 1 ;;
esac
CONF="\${FLUX_CONF_DIR:-/etc/flux/fluxburst}"
RUN="\${FLUX_RUN_DIR:-/run/flux}"
STATE="\${FLUX_STATE_DIR:-/var/lib/flux}"
mkdir -p "$CONF" "$RUN" "$(dirname "$STATE")"
${fetchCert}
cat > "$CONF/broker.toml" <<'FLUXBURST_EOF'
${toml}FLUXBURST_EOF
sed -i "s|@CERT@|$CONF/curve.cert|" "$CONF/broker.toml"
setsid nohup "$FLUX" broker --config-path="$CONF" -Shostname="$NODE" -Srundir="$RUN" -Slocal-uri="local://$RUN/local" -Sstatedir="$STATE" -Sbroker.rc2_none=1 -Sbroker.quorum=1 -Sbroker.quorum-warn=none -Stbon.connect_timeout=5s >>"$RUN.log" 2>&1 < /dev/null &
echo $! > "$RUN.pid"
echo "fluxburst: broker $NODE started (pid $!)"
`;
}
