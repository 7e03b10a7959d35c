#!/usr/bin/env bash
# Node.js 20.19+ and npm are required; the machine image provides them.
set -euo pipefail
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("Node.js >= 20.19 required, found "+process.versions.node); process.exit(1) }'
