#!/usr/bin/env bash
# Makes the Pulumi CLI, the nodejs language host and the docker/random provider plugins available at the
# versions package-lock.json expects, without Pulumi's download sites: a Pulumi 3 CLI already on PATH is used as is
# (it downloads its plugins itself, as usual); otherwise everything is built with Go into
# $HELK_CACHE_DIR/pulumi/<version>/bin (reused between runs) and the provider plugins are installed into the Pulumi
# home beside it ($HELK_CACHE_DIR/pulumi/<version>/home, which the caller sets as PULUMI_HOME). Prints the
# directory to put first on PATH as its last line.
#
# The CLI comes from the Go module proxy (wrapper module lab/pulumi-build). The language host and the two
# providers are not served by the proxy, so they build from source trees under $HELK_CACHE_DIR/src, unpacked by
# lab/pulumi-build/prepare-sources.sh from the archives of the shared data (vendor/pulumi-sources/) whenever a
# tree is missing; their Go dependencies come from the proxy.
set -euo pipefail
source "$(dirname "$0")/env.sh"
BIN="$PULUMI_HOME_DIR/bin"
# Provider binaries stay off PATH (the engine would warn about every "ambient" plugin); they are installed into
# the Pulumi home with `pulumi plugin install --file`.
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
  log "building $name in $dir (log: $LAB_LOG_DIR/build-$name.log)"
  local start=$SECONDS
  (cd "$dir" && GOFLAGS=-mod=mod nice go build -trimpath -ldflags "-s -w $ldflags" -o "$out/$name.tmp" "$pkg") \
    >"$LAB_LOG_DIR/build-$name.log" 2>&1 || { tail -30 "$LAB_LOG_DIR/build-$name.log" >&2; die "building $name failed"; }
  mv "$out/$name.tmp" "$out/$name"
  log "built $name in $((SECONDS - start))s"
}

sdk_version_flag="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"

# A machine that has a Pulumi CLI: use it.
if existing="$(command -v pulumi 2>/dev/null)" && [ "$existing" != "$BIN/pulumi" ] &&
  "$existing" version 2>/dev/null | grep -q '^v\?3\.'; then
  have_version "$existing" "$PULUMI_VERSION" ||
    log "using $existing ($("$existing" version)); this project is tested with $PULUMI_VERSION"
  dirname "$existing"
  exit 0
fi
command -v go >/dev/null ||
  die "no Pulumi CLI on PATH and no Go to build one: install the Pulumi CLI 3.x (https://www.pulumi.com/docs/install/) or Go 1.26+"

missing_tree=false
for tree in pulumi-language-nodejs pulumi-docker/provider pulumi-random/provider; do
  [ -d "$SRC/$tree" ] || missing_tree=true
done
if $missing_tree && ! { [ -x "$BIN/pulumi-language-nodejs" ] && [ -x "$PLUGIN_BIN/pulumi-resource-docker" ] &&
  [ -x "$PLUGIN_BIN/pulumi-resource-random" ]; }; then
  log "unpacking the plugin sources from $PULUMI_SOURCES_DIR"
  bash "$LAB_DIR/pulumi-build/prepare-sources.sh" >&2
fi

have_version "$BIN/pulumi" "$PULUMI_VERSION" ||
  build "$BIN" pulumi "$LAB_DIR/pulumi-build" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$sdk_version_flag"
[ -x "$BIN/pulumi-language-nodejs" ] ||
  build "$BIN" pulumi-language-nodejs "$SRC/pulumi-language-nodejs" . "$sdk_version_flag"
[ -x "$PLUGIN_BIN/pulumi-resource-docker" ] ||
  build "$PLUGIN_BIN" pulumi-resource-docker "$SRC/pulumi-docker/provider" ./cmd/pulumi-resource-docker \
    "-X github.com/pulumi/pulumi-docker/provider/v5/pkg/version.Version=$DOCKER_PROVIDER_VERSION"
[ -x "$PLUGIN_BIN/pulumi-resource-random" ] ||
  build "$PLUGIN_BIN" pulumi-resource-random "$SRC/pulumi-random/provider" ./cmd/pulumi-resource-random \
    "-X github.com/pulumi/pulumi-random/provider/v4/pkg/version.Version=$RANDOM_PROVIDER_VERSION"
# The engine would otherwise try to download the plugins; install the built ones into our Pulumi home.
export PULUMI_HOME="$PULUMI_HOME_DIR/home"
for plugin in "docker $DOCKER_PROVIDER_VERSION" "random $RANDOM_PROVIDER_VERSION"; do
  set -- $plugin
  "$BIN/pulumi" plugin ls 2>/dev/null | grep -Eq "^$1 +resource +$2 " ||
    "$BIN/pulumi" plugin install resource "$1" "$2" --file "$PLUGIN_BIN/pulumi-resource-$1" --non-interactive >&2
done
echo "$BIN"
