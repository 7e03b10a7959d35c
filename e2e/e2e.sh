#!/usr/bin/env bash
# npm run e2e: the README's lab command on the e2e stack (images built locally, nothing pulled), checked, then
# destroyed (e2e/run.ts). The lab command prepares what it needs itself (Pulumi CLI, Docker engine, images), each
# step reusing its cache; Pulumi state and the passphrase go where the lab command puts them for any user.
set -euo pipefail
cd "$(dirname "$0")/.."
E2E_STARTED_AT="$(date +%s)"
export E2E_STARTED_AT
exec node --import tsx e2e/run.ts
