#!/usr/bin/env bash
# Installs every Debian package edgecap needs to build, test and demo.
# Idempotent: packages already present are left alone, so a second run is quick.
set -euo pipefail

packages=(
  # build
  build-essential meson ninja-build pkg-config clang lld
  libdpdk-dev dpdk libhyperscan-dev libabsl-dev libpcap-dev libpsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libtomlplusplus-dev nlohmann-json3-dev
  debhelper fakeroot dpkg-dev
  clang-format libclang-rt-14-dev python3
  # the real tools the tests drive (dpdk-dev: dpdk-telemetry.py, dpdk-testpmd)
  dpdk-dev tcpdump tshark dnsutils knot-dnsutils dnsperf unbound iptables iproute2
  procps psmisc systemd time
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
