#!/usr/bin/env bash
# Lays out the source trees lab/toolchain.sh builds when the Go module proxy does not serve a module: the nodejs
# language host (its own module, not published) and the docker and random provider plugins. They come from the
# archives every machine has in the shared data (`vendor/pulumi-sources/` of $HELK_DATA_DIR, else ../shared; its
# README names each repository, commit and licence). Only Go dependencies are fetched later, from the proxy.
# Usage: prepare-sources.sh [ARCHIVE_DIR]   (toolchain.sh runs it by itself when a tree is missing)
set -euo pipefail
source "$(dirname "$0")/../env.sh"
archives="${1:-$PULUMI_SOURCES_DIR}"
for name in pulumi-language-nodejs pulumi-docker terraform-provider-docker pulumi-random; do
  [ -s "$archives/$name.tar.gz" ] ||
    die "no $name.tar.gz in $archives: the Pulumi plugin sources come from the shared data (set HELK_DATA_DIR to the folder holding vendor/pulumi-sources/, see README 'Test data')"
done
SRC="$HELK_CACHE_DIR/src"
mkdir -p "$SRC"
unpack() { # archive dest strip-components [members...]: extract into a fresh folder
  local archive="$1" dest="$2" strip="$3"; shift 3
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  tar -xzf "$archives/$archive.tar.gz" -C "$dest.tmp" --strip-components="$strip" "$@" ||
    die "unpacking $archives/$archive.tar.gz failed"
}
schema_with_version() { # schema.json -> schema-embed.json with the plugin version, as the providers' generate.go does
  node -e 'const fs=require("fs");const s=JSON.parse(fs.readFileSync(process.argv[1]+"/schema.json","utf8"));s.version=process.argv[2];fs.writeFileSync(process.argv[1]+"/schema-embed.json",JSON.stringify(s))' "$1" "$2"
}

# Language host: its main package, compiled against pkg/sdk at the lockfile's version (wrapper go.mod).
lh="$SRC/pulumi-language-nodejs"
unpack pulumi-language-nodejs "$lh" 5 --wildcards 'pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/*.go' \
  --exclude '*_test.go' --exclude '*/testdata/*'
sed "s#^module .*#module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3#" "$LAB_DIR/pulumi-build/go.mod" >"$lh.tmp/go.mod"
cp "$LAB_DIR/pulumi-build/go.sum" "$lh.tmp/go.sum"
cp "$LAB_DIR"/pulumi-build/language-nodejs/*.go "$lh.tmp/"
rm -rf "$lh" && mv "$lh.tmp" "$lh"

# Docker provider: pulumi-docker's provider module plus its upstream Terraform provider with pulumi's patches applied.
dp="$SRC/pulumi-docker"
unpack pulumi-docker "$dp" 1 pulumi-docker/provider pulumi-docker/patches
mkdir -p "$dp.tmp/upstream"
tar -xzf "$archives/terraform-provider-docker.tar.gz" -C "$dp.tmp/upstream" --strip-components=1 ||
  die "unpacking $archives/terraform-provider-docker.tar.gz failed"
for patch in "$dp.tmp"/patches/*.patch; do
  (cd "$dp.tmp/upstream" && git apply "$patch") || die "patch $(basename "$patch") does not apply to terraform-provider-docker"
done
schema_with_version "$dp.tmp/provider/cmd/pulumi-resource-docker" "$DOCKER_PROVIDER_VERSION"
rm -rf "$dp" && mv "$dp.tmp" "$dp"

# Random provider: self-contained (its shim is a local replace).
rp="$SRC/pulumi-random"
unpack pulumi-random "$rp" 1 pulumi-random/provider
schema_with_version "$rp.tmp/provider/cmd/pulumi-resource-random" "$RANDOM_PROVIDER_VERSION"
rm -rf "$rp" && mv "$rp.tmp" "$rp"
log "source trees ready under $SRC (from $archives)"
