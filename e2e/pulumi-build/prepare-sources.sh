#!/usr/bin/env bash
# Lays out the source trees e2e/toolchain.sh builds when the Go module proxy does not serve a module: the nodejs
# language host (its own module, not published) and the docker and random provider plugins. Arguments are git
# repositories (clones or bare mirrors) of pulumi/pulumi, pulumi/pulumi-docker, kreuzwerker/terraform-provider-docker
# and pulumi/pulumi-random; REV_* pick the commits (default HEAD; the docker upstream defaults to the commit
# pulumi-docker pins as its submodule). Only Go dependencies are fetched later, from the proxy.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
[ $# -eq 4 ] || die "usage: $0 PULUMI_REPO PULUMI_DOCKER_REPO TERRAFORM_PROVIDER_DOCKER_REPO PULUMI_RANDOM_REPO"
pulumi_repo="$1" docker_repo="$2" upstream_repo="$3" random_repo="$4"
SRC="$HELK_CACHE_DIR/src"
mkdir -p "$SRC"
export_tree() { git -C "$1" archive "$2" "${@:3}"; }
schema_with_version() { # schema.json -> schema-embed.json with the plugin version, as the providers' generate.go does
  node -e 'const fs=require("fs");const s=JSON.parse(fs.readFileSync(process.argv[1]+"/schema.json","utf8"));s.version=process.argv[2];fs.writeFileSync(process.argv[1]+"/schema-embed.json",JSON.stringify(s))' "$1" "$2"
}

# Language host: its main package, compiled against pkg/sdk at the lockfile's version (wrapper go.mod).
lh="$SRC/pulumi-language-nodejs"
rm -rf "$lh" && mkdir -p "$lh"
export_tree "$pulumi_repo" "${REV_PULUMI:-HEAD}" sdk/nodejs/cmd/pulumi-language-nodejs | tar -x -C "$lh" --strip-components=4 \
  --wildcards '*.go' --exclude '*_test.go' --exclude '*/testdata/*'
sed "s#^module .*#module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3#" "$E2E_DIR/pulumi-build/go.mod" >"$lh/go.mod"
cp "$E2E_DIR/pulumi-build/go.sum" "$lh/go.sum"
cp "$E2E_DIR"/pulumi-build/language-nodejs/*.go "$lh/"

# Docker provider: pulumi-docker's provider module plus its upstream submodule with pulumi's patches applied.
dp="$SRC/pulumi-docker"
rm -rf "$dp" && mkdir -p "$dp/upstream"
export_tree "$docker_repo" "${REV_PULUMI_DOCKER:-HEAD}" provider patches | tar -x -C "$dp"
upstream_rev="${REV_UPSTREAM_DOCKER:-$(git -C "$docker_repo" ls-tree "${REV_PULUMI_DOCKER:-HEAD}" upstream | awk '{print $3}')}"
export_tree "$upstream_repo" "$upstream_rev" | tar -x -C "$dp/upstream"
for patch in "$dp"/patches/*.patch; do (cd "$dp/upstream" && git apply "$patch"); done
schema_with_version "$dp/provider/cmd/pulumi-resource-docker" "$DOCKER_PROVIDER_VERSION"

# Random provider: self-contained (its shim is a local replace).
rp="$SRC/pulumi-random"
rm -rf "$rp" && mkdir -p "$rp"
export_tree "$random_repo" "${REV_PULUMI_RANDOM:-HEAD}" provider | tar -x -C "$rp"
schema_with_version "$rp/provider/cmd/pulumi-resource-random" "$RANDOM_PROVIDER_VERSION"
log "source trees ready under $SRC"
