#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and etcd with Go from the module proxy
# (wrapper module harness/kubernetes/go) into $HELK_CACHE_DIR/kubernetes/<version>/bin, once: a build is
# reused while the recipe's fingerprint (go.mod, go.sum, sources, flags) is unchanged. Concurrent callers wait
# on a lock. Prints the bin directory as its last line. The first build takes long (see README); it logs to
# build.log beside bin/.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
MODULE="$HERE/go"
VERSION="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2 }' "$MODULE/go.mod")"
[ -n "$VERSION" ] || { echo "kubernetes build: no k8s.io/kubernetes requirement in $MODULE/go.mod" >&2; exit 1; }
OUT="${HELK_CACHE_DIR:-$HOME/.cache/helk}/kubernetes/$VERSION"
BIN="$OUT/bin"
MINOR="$(echo "$VERSION" | cut -d. -f2)"

# Version stamps kubectl and the servers report (what `make` in the Kubernetes repo sets).
LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDFLAGS="$LDFLAGS -X $pkg.gitVersion=$VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$MINOR -X $pkg.gitTreeState=clean"
done
PACKAGES=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl ./etcd)
FINGERPRINT="$({ cat "$MODULE/go.mod" "$MODULE/go.sum" "$MODULE/tools.go" "$MODULE/etcd/main.go"; echo "$LDFLAGS ${PACKAGES[*]}"; go version; } | sha256sum | cut -d' ' -f1)"

mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock 9
if [ "$(cat "$OUT/.complete" 2>/dev/null)" != "$FINGERPRINT" ]; then
  command -v go >/dev/null || { echo "kubernetes build: Go 1.26+ is needed to build the control plane (https://go.dev/dl/)" >&2; exit 1; }
  echo "kubernetes build: building $VERSION into $BIN (first time only; log: $OUT/build.log)" >&2
  start=$SECONDS
  rm -rf "$BIN.tmp"
  (cd "$MODULE" && GOFLAGS=-mod=mod nice go build -trimpath -ldflags "$LDFLAGS" -o "$BIN.tmp/" "${PACKAGES[@]}") >"$OUT/build.log" 2>&1 ||
    { tail -30 "$OUT/build.log" >&2; echo "kubernetes build: go build failed (log: $OUT/build.log)" >&2; exit 1; }
  rm -rf "$BIN" && mv "$BIN.tmp" "$BIN"
  echo "$FINGERPRINT" >"$OUT/.complete"
  echo "kubernetes build: built in $((SECONDS - start)) s" | tee -a "$OUT/build.log" >&2
fi
echo "$BIN"
