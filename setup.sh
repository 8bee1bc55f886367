#!/usr/bin/env bash
# Installs the Debian packages Pic2Vec builds against (run once on a fresh Debian 12 machine with Swift 6).
set -euo pipefail
packages=(pkg-config libopenblas-dev libfaiss-dev libcairo2-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev libssl-dev fonts-dejavu-core nodejs)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
