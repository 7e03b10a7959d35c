#!/usr/bin/env bash
# Prerequisites of `npm run e2e` (idempotent): Debian's Docker engine and debootstrap, then the Pulumi CLI,
# nodejs language host and provider plugins at the lockfile's versions (built once into the cache, see lab/).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
bash lab/toolchain.sh >/dev/null
