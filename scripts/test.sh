#!/usr/bin/env bash
# Installs what is missing, then runs the whole test suite (real SQLite, Mosquitto, ffmpeg and
# face models; no camera needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
npm test
