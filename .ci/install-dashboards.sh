#!/usr/bin/env bash
# Fonts for `helk dashboards render` (idempotent): resvg draws panel text with the system's fonts; without
# DejaVu the PNGs would have charts but no labels.
set -euo pipefail
if [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-dejavu-core
fi
