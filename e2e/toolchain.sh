#!/usr/bin/env bash
# Makes the Pulumi CLI, the nodejs language host and the docker/random provider plugins available at the
# versions package-lock.json expects, without Pulumi's download sites: a pulumi of the right version already on
# PATH is used as is; otherwise everything is built with Go into $HELK_CACHE_DIR/pulumi/<version>/bin (reused
# between runs). Prints the directory to put first on PATH.
#
# The CLI comes from the Go module proxy (wrapper module e2e/pulumi-build). The language host and the two
# providers are not served by the proxy, so they build from source trees under $HELK_CACHE_DIR/src, unpacked by
# e2e/pulumi-build/prepare-sources.sh from the archives of the shared data (vendor/pulumi-sources/) whenever a
# tree is missing; their Go dependencies come from the proxy.
set -euo pipefail
source "$(dirname "$0")/env.sh"
BIN="$PULUMI_HOME_DIR/bin"
# Provider binaries stay off PATH (the engine would warn about every "ambient" plugin); e2e/e2e.sh installs them
# into the Pulumi home with `pulumi plugin install --file`.
PLUGIN_BIN="$PULUMI_HOME_DIR/plugin-bin"
SRC="$HELK_CACHE_DIR/src"
mkdir -p "$BIN" "$PLUGIN_BIN"

have_version() { # binary expected-version: true when the binary runs and reports that version
  [ -x "$1" ] && "$1" version 2>/dev/null | grep -qx "v\?$2"
}

build() { # out-dir name dir package ldflags: go build, logged to the cache, one at a time (CPU heavy)
  local out="$1"; shift
  local name="$1" dir="$2" pkg="$3" ldflags="$4"
  [ -d "$dir" ] || die "no source tree for $name at $dir after unpacking the shared archives"
  log "building $name in $dir (log: $E2E_LOG_DIR/build-$name.log)"
  local start=$SECONDS
  (cd "$dir" && GOFLAGS=-mod=mod nice go build -trimpath -ldflags "-s -w $ldflags" -o "$out/$name.tmp" "$pkg") \
    >"$E2E_LOG_DIR/build-$name.log" 2>&1 || { tail -30 "$E2E_LOG_DIR/build-$name.log" >&2; die "building $name failed"; }
  mv "$out/$name.tmp" "$out/$name"
  log "built $name in $((SECONDS - start))s"
}

sdk_version_flag="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"

# A machine that already has the right CLI and plugins: use them.
if existing="$(command -v pulumi 2>/dev/null)" && [ "$existing" != "$BIN/pulumi" ] && have_version "$existing" "$PULUMI_VERSION" \
  && pulumi plugin ls 2>/dev/null | grep -Eq "^docker +resource +$DOCKER_PROVIDER_VERSION" \
  && pulumi plugin ls 2>/dev/null | grep -Eq "^random +resource +$RANDOM_PROVIDER_VERSION"; then
  log "using installed $existing ($PULUMI_VERSION) and its plugins"
  dirname "$existing"
  exit 0
fi

missing_tree=false
for tree in pulumi-language-nodejs pulumi-docker/provider pulumi-random/provider; do
  [ -d "$SRC/$tree" ] || missing_tree=true
done
if $missing_tree && ! { [ -x "$BIN/pulumi-language-nodejs" ] && [ -x "$PLUGIN_BIN/pulumi-resource-docker" ] &&
  [ -x "$PLUGIN_BIN/pulumi-resource-random" ]; }; then
  log "unpacking the plugin sources from $PULUMI_SOURCES_DIR"
  bash "$E2E_DIR/pulumi-build/prepare-sources.sh" >&2
fi

have_version "$BIN/pulumi" "$PULUMI_VERSION" ||
  build "$BIN" pulumi "$E2E_DIR/pulumi-build" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$sdk_version_flag"
[ -x "$BIN/pulumi-language-nodejs" ] ||
  build "$BIN" pulumi-language-nodejs "$SRC/pulumi-language-nodejs" . "$sdk_version_flag"
[ -x "$PLUGIN_BIN/pulumi-resource-docker" ] ||
  build "$PLUGIN_BIN" pulumi-resource-docker "$SRC/pulumi-docker/provider" ./cmd/pulumi-resource-docker \
    "-X github.com/pulumi/pulumi-docker/provider/v5/pkg/version.Version=$DOCKER_PROVIDER_VERSION"
[ -x "$PLUGIN_BIN/pulumi-resource-random" ] ||
  build "$PLUGIN_BIN" pulumi-resource-random "$SRC/pulumi-random/provider" ./cmd/pulumi-resource-random \
    "-X github.com/pulumi/pulumi-random/provider/v4/pkg/version.Version=$RANDOM_PROVIDER_VERSION"
echo "$BIN"
