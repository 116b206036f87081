#!/usr/bin/env bash
# The built-in default: installs what is missing, then recognises the bundled people in the
# bundled clip and shows the attendance events as a central subscriber receives them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh >&2
exec node dist/src/cli.js demo "$@"
