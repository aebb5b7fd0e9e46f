#!/usr/bin/env bash
# `make demo`: install, start the embedded Temporal dev server and a worker (in the background,
# state in ./.fluxburst), burst the example jobs onto the local plugin, print the results and the
# Temporal UI address of the burst's history. `make stop` ends the server and worker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
fb() { node bin/fluxburst.js "$@"; }
fb server --detach
fb worker --detach --config examples/local.yaml
fb burst --config examples/local.yaml --wait
echo
echo "The Temporal UI (above) shows the burst's full history. Server and worker keep running; stop them with: make stop"
