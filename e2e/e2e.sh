#!/usr/bin/env bash
# npm run e2e: a real `pulumi up` of the lab (stack e2e) on a local Docker engine, checked, then destroyed.
# Prepares what it needs first (each step reuses its cache): Pulumi CLI and plugins, the Docker engine, the images.
# Pulumi state lives in a local file backend under the cache (no account); secrets use a passphrase.
set -euo pipefail
source "$(dirname "$0")/env.sh"
start=$SECONDS
export E2E_STARTED_AT="$(date +%s)"
log "== toolchain (Pulumi $PULUMI_VERSION, docker provider $DOCKER_PROVIDER_VERSION, random provider $RANDOM_PROVIDER_VERSION)"
pulumi_bin="$(bash "$E2E_DIR/toolchain.sh")"
export PATH="$pulumi_bin:$PATH"
log "pulumi: $(command -v pulumi) $(pulumi version)"
log "== docker engine"
bash "$E2E_DIR/docker-engine.sh"
log "== images"
bash "$E2E_DIR/images.sh"
log "preparation took $((SECONDS - start))s"

mkdir -p "$HELK_CACHE_DIR/pulumi-state"
export PULUMI_BACKEND_URL="file://$HELK_CACHE_DIR/pulumi-state"
if [ "$pulumi_bin" = "$PULUMI_HOME_DIR/bin" ]; then
  # Our own build: a Pulumi home of its own in the cache, with the built plugins installed into it (the engine
  # would otherwise try to download them).
  export PULUMI_HOME="$PULUMI_HOME_DIR/home"
  for plugin in "docker $DOCKER_PROVIDER_VERSION" "random $RANDOM_PROVIDER_VERSION"; do
    set -- $plugin
    pulumi plugin ls 2>/dev/null | grep -Eq "^$1 +resource +$2 " ||
      pulumi plugin install resource "$1" "$2" --file "$PULUMI_HOME_DIR/plugin-bin/pulumi-resource-$1" --non-interactive
  done
fi
# The e2e stack's only secrets are generated test credentials; its salt is committed in stacks/Pulumi.e2e.yaml.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-helk-e2e}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
cd "$REPO_DIR"
exec node --import tsx e2e/run.ts
