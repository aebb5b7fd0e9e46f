#!/usr/bin/env bash
# The Flux demo (`make demo` runs it when a flux-core >= 0.88 is available): a real Flux lead on
# loopback with two burst slots declared (down), a job that needs three nodes submitted to it as
# burstable — it waits — then `fluxburst watch --once` bursts it: two brokers join the lead's
# slots, Flux runs the job there, the burst follows it and tears the brokers down. The job's own
# output names the hosts it ran on. State in .fluxburst/flux-demo; the lead is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
FLUX=$1
STATE=$PWD/.fluxburst/flux-demo
fb() { node bin/fluxburst.js "$@"; }
rm -rf "$STATE" && mkdir -p "$STATE/conf" "$STATE/run/lead" "$STATE/state"
"$FLUX" keygen "$STATE/curve.cert" >/dev/null
chmod 600 "$STATE/curve.cert"
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat > "$STATE/conf/broker.toml" <<TOML
[bootstrap]
curve_cert = "$STATE/curve.cert"
hosts = [
  { host = "lead", bind = "tcp://127.0.0.1:$PORT", connect = "tcp://127.0.0.1:$PORT" },
  { host = "burst-0" },
  { host = "burst-1" },
]
[resource]
noverify = true
[[resource.config]]
hosts = "lead,burst-[0-1]"
cores = "0-1"
TOML
"$FLUX" broker --config-path="$STATE/conf" -Shostname=lead -Srundir="$STATE/run/lead" \
  -Slocal-uri="local://$STATE/run/lead/local" -Sstatedir="$STATE/state" \
  -Sbroker.rc2_none=1 -Sbroker.quorum=1 -Sbroker.quorum-warn=none > "$STATE/lead.log" 2>&1 &
LEAD=$!
trap 'kill $LEAD 2>/dev/null || true; wait $LEAD 2>/dev/null || true' EXIT
export FLUX_URI=local://$STATE/run/lead/local
# The lead takes jobs once its modules are loaded (job-ingest answers), a moment after it answers at all.
JOB=""
for _ in $(seq 150); do
  JOB=$("$FLUX" submit -N3 --setattr=system.burstable=1 --output="$STATE/job.out" "$FLUX" getattr hostname 2>/dev/null) && break
  sleep 0.2
done
[[ -n $JOB ]] || { echo "the Flux lead did not come up; its log: $STATE/lead.log" >&2; exit 1; }
echo "Flux lead up (1 node, 2 burst slots down); job $JOB needs 3 nodes: $("$FLUX" jobs -no '{state}' "$JOB")"
cat > "$STATE/fluxburst.yaml" <<YAML
name: fluxdemo
flux: {command: $FLUX}
targets:
  - plugin: local
    params: {workdir: $STATE/nodes, flux: {config: $STATE/conf, lead: $FLUX_URI}}
YAML
fb server --detach
fb worker --detach --config "$STATE/fluxburst.yaml"
fb watch --once --config "$STATE/fluxburst.yaml"
"$FLUX" job wait-event -t 300 "$JOB" clean >/dev/null
echo "Flux says job $JOB: $("$FLUX" jobs -no '{result} on {nodelist}' "$JOB")"
echo "its output (one line per node it ran on):"; sed 's/^/  /' "$STATE/job.out"
for _ in $(seq 150); do [[ $("$FLUX" resource list -s up -no '{nnodes}') == 1 ]] && break; sleep 0.2; done
echo "after the burst, online at the lead: $("$FLUX" resource list -s up -no '{nodelist}')"
fb list --config "$STATE/fluxburst.yaml" || true
echo
echo "The Temporal UI shows the burst's history. Server and worker keep running; stop them with: make stop"
