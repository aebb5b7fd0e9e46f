#!/usr/bin/env bash
# `make demo`: install, start the embedded Temporal dev server and a worker (in the background,
# state in ./.fluxburst), burst the example jobs onto the local plugin, print the results and the
# Temporal UI address of the burst's history. `make stop` ends the server and worker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
fb() { node bin/fluxburst.js "$@"; }
# A real Flux when one can be had (FLUXBURST_FLUX, the one `scripts/setup.sh --test` builds, or on
# PATH): the demo bursts a pending Flux job onto joining brokers. Otherwise the local demo.
flux_bin=""
for f in "${FLUXBURST_FLUX:-}" .tools/flux/bin/flux "$(command -v flux || true)"; do
  if [[ -n $f && -x $f ]] && "$f" version 2>/dev/null | grep -qE '^commands:[[:space:]]*0\.(8[89]|9[0-9])'; then flux_bin=$(realpath "$f"); break; fi
done
if [[ -n $flux_bin ]]; then
  echo "Flux found ($flux_bin): bursting a pending Flux job onto brokers that join the lead"
  exec bash scripts/demo-flux.sh "$flux_bin"
fi
echo "No flux-core >= 0.88 found (set FLUXBURST_FLUX, put flux on PATH, or run scripts/setup.sh --test to build one): the local demo"
fb server --detach
fb worker --detach --config examples/local.yaml
fb burst --config examples/local.yaml --wait
echo
echo "The Temporal UI (above) shows the burst's full history. Server and worker keep running; stop them with: make stop"
