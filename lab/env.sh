# Shared settings of the lab scripts (sourced, not run). Versions follow package-lock.json.
HELK_CACHE_DIR="${HELK_CACHE_DIR:-$HOME/.cache/helk}"
LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$LAB_DIR/.." && pwd)"
lock_version() { # version of an npm package as package-lock.json pins it
  node -e 'const l=require(process.argv[1]); const p=l.packages["node_modules/"+process.argv[2]]; if(!p){console.error("package-lock.json has no "+process.argv[2]); process.exit(1)} console.log(p.version)' "$REPO_DIR/package-lock.json" "$1"
}
PULUMI_VERSION="$(lock_version @pulumi/pulumi)"
DOCKER_PROVIDER_VERSION="$(lock_version @pulumi/docker)"
RANDOM_PROVIDER_VERSION="$(lock_version @pulumi/random)"
# Everything built for Pulumi lives here; bin/ goes first on PATH.
PULUMI_HOME_DIR="$HELK_CACHE_DIR/pulumi/$PULUMI_VERSION"
LAB_LOG_DIR="$HELK_CACHE_DIR/lab-logs"
# Sources of the Pulumi plugins the Go module proxy does not serve, from the shared data every machine has.
PULUMI_SOURCES_DIR="${HELK_DATA_DIR:-$(cd "$REPO_DIR/.." && pwd)/shared}/vendor/pulumi-sources"
mkdir -p "$LAB_LOG_DIR"
log() { printf '%s [lab] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
