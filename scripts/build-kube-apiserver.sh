#!/usr/bin/env bash
# Builds kube-apiserver from the Go module proxy into .tools/bin/kube-apiserver, for the
# kubernetes tests that run a real API server (testkit/kube/real-apiserver.ts, with Debian's etcd).
# Everything (GOPATH, GOCACHE, the source copy) stays under .tools/go. Measured on 2 cores:
# ~212 s for the build after the module download. Skipped when the binary is already there with
# this version (recorded in <out>.version, since a module build has no git version stamp).
#
#   scripts/build-kube-apiserver.sh [output path]     (default .tools/bin/kube-apiserver)
#
# k8s.io/kubernetes is not meant to be built as a module: its go.mod replaces k8s.io/api,
# k8s.io/apimachinery, ... with ./staging/... directories that the module zip does not hold.
# So: download the module, copy it somewhere writable, drop go.work, and turn every
# `k8s.io/X => ./staging/...` replace into a require of the published k8s.io/X@v0.<minor>.<patch>.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VERSION=${KUBE_APISERVER_VERSION:-v1.31.4}
STAGING_VERSION=v0.${VERSION#v1.}
OUT=${1:-$ROOT/.tools/bin/kube-apiserver}
case $OUT in /*) ;; *) OUT=$ROOT/$OUT ;; esac

log() { printf '\033[1m[kube-apiserver]\033[0m %s\n' "$*" >&2; }

if [[ -x $OUT && -f $OUT.version && $(cat "$OUT.version") == "$VERSION" ]]; then
  log "$OUT is $VERSION already"
  exit 0
fi
command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { log "go not found (looked on PATH and in /usr/local/go/bin)"; exit 1; }

export GOPATH=$ROOT/.tools/go/path GOCACHE=$ROOT/.tools/go/cache GOWORK=off GOFLAGS=-mod=mod GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
SRC=$ROOT/.tools/go/src/kubernetes-$VERSION
start=$(date +%s)
log "go mod download k8s.io/kubernetes@$VERSION"
dir=$(go mod download -json "k8s.io/kubernetes@$VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
[[ -n $dir && -d $dir ]] || { log "module download failed"; exit 1; }
rm -rf "$SRC" && mkdir -p "$(dirname "$SRC")" && cp -r "$dir" "$SRC" && chmod -R u+w "$SRC"
cd "$SRC"
rm -f go.work go.work.sum
for m in $(grep -oE '^\s*k8s.io/[a-z0-9-]+ => ./staging' go.mod | awk '{print $1}'); do
  go mod edit -dropreplace="$m" -require="$m@$STAGING_VERSION"
done
log "go build ./cmd/kube-apiserver (several minutes on 2 cores)"
mkdir -p "$(dirname "$OUT")"
nice -n 10 go build -ldflags "-X k8s.io/component-base/version.gitVersion=$VERSION" -o "$OUT.tmp" ./cmd/kube-apiserver
mv "$OUT.tmp" "$OUT"
echo "$VERSION" > "$OUT.version"
log "built $OUT in $(( $(date +%s) - start )) s"
