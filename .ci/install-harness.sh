#!/usr/bin/env bash
# Prerequisites of the service harness (harness/): a JDK 17 (java + javac), Maven, Python venv support, pgrep.
# Idempotent and quiet: installs only what is missing. Then resolves the servers' artifacts into the cache
# when node_modules is already there (otherwise the first integration run resolves them, under a lock).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v javac >/dev/null 2>&1 && javac -version 2>&1 | grep -q ' 17\.' || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v pgrep >/dev/null 2>&1 || missing+=(procps)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
/usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)

if [ ${#missing[@]} -gt 0 ]; then
  echo "harness: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
java -version 2>&1 | grep -q '"17\.' || echo "harness: warning: java on PATH is not 17 ($(java -version 2>&1 | head -1)); OpenSearch 2.19 wants 17"

if [ -x node_modules/.bin/tsx ]; then
  node_modules/.bin/tsx harness/main.ts fetch
else
  echo "harness: node_modules not installed yet; the first integration run resolves the artifacts"
fi
