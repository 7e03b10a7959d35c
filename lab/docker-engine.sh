#!/usr/bin/env bash
# Makes sure a Docker engine answers: uses a running one, else starts Debian's dockerd in the background with its
# log in the cache dir (this machine has no init system to start it).
set -euo pipefail
source "$(dirname "$0")/env.sh"
if docker info >/dev/null 2>&1; then
  log "docker engine running: $(docker version -f '{{.Server.Version}}')"
  exit 0
fi
command -v dockerd >/dev/null || die "no Docker engine answers and dockerd is not installed (run .ci/install-e2e.sh)"
log "starting dockerd (log: $LAB_LOG_DIR/dockerd.log)"
nohup dockerd >>"$LAB_LOG_DIR/dockerd.log" 2>&1 &
echo $! >"$HELK_CACHE_DIR/dockerd.pid"
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && { log "docker engine started: $(docker version -f '{{.Server.Version}}')"; exit 0; }
  sleep 1
done
tail -20 "$LAB_LOG_DIR/dockerd.log" >&2
die "dockerd did not answer within 60s"
