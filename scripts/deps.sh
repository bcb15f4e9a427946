#!/usr/bin/env bash
# Installs what auditship needs to build and test on Debian 12, skipping what is present.
# Runs as root, or through sudo otherwise.
set -euo pipefail
PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libssl-dev librdkafka-dev libsimdjson-dev libzstd-dev libyaml-cpp-dev
  libsqlite3-dev sqlite3 libpcre2-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang-14 libclang-rt-14-dev
  kcat
  dpkg-dev file systemd   # package test: cpack's dpkg-shlibdeps, `systemd-analyze verify`
)
if [ "$(uname -m)" = "x86_64" ]; then PACKAGES+=(libhyperscan-dev); else PACKAGES+=(libvectorscan-dev); fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
