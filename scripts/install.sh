#!/usr/bin/env bash
# Installs what a fresh Debian or Raspberry Pi OS machine lacks to run presente and its tests:
# ffmpeg (camera and video sources), mosquitto (the tests' broker), fswebcam (webcam source),
# systemd-analyze (unit checks), then the npm packages and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v mosquitto >/dev/null 2>&1 || missing+=(mosquitto)
command -v fswebcam >/dev/null 2>&1 || missing+=(fswebcam)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "install: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    echo "install: sudo apt-get install ${missing[*]}"
    sudo apt-get update -qq
    sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "install: please install these Debian packages first: ${missing[*]}" >&2
    exit 1
  fi
fi

if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  echo "install: presente needs Node.js 20 or newer (found $(node --version))" >&2
  exit 1
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install: npm ci"
  npm ci --no-audit --no-fund
fi

echo "install: build"
npm run -s build
