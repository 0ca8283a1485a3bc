#!/usr/bin/env bash
# Sets up a new machine, builds edgecap, and runs it on the bundled sample: the
# capture of the seed incident (clients' DNS queries to 203.0.113.2:53 answered
# by ICMP "udp port 53 unreachable"). Prints the incident report; the machine
# record and the report are also written under out/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
if [[ ! -f build/build.ninja ]]; then
  meson setup build >/dev/null
fi
ninja -C build >/dev/null

mkdir -p out
build/apps/edgecap/edgecap --pcap apps/edgecap-gen/samples/seed.pcap \
  --incidents out/incidents.jsonl --report out/report.md
echo
echo "machine record: out/incidents.jsonl   report: out/report.md"
