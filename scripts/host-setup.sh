#!/usr/bin/env bash
# Prepares a dedicated box for edgecap: hugepages (through the stock
# dpdk-hugepages.py), capture NICs on vfio-pci (dpdk-devbind.py), and checks
# of what needs a reboot to change: CPU isolation (isolcpus/nohz_full) of the
# worker lcores and the NUMA placement of each NIC against them.
#
#   scripts/host-setup.sh --dry-run                  # print the plan only
#   sudo scripts/host-setup.sh                       # apply it
#   scripts/host-setup.sh --config /etc/edgecap/edgecap.toml --dry-run
#   scripts/host-setup.sh --nic 0000:3b:00.0 --lcores 2-6 --hugepages 4G
#
# The ports ([[port]] device), lcores (cpu.lcores) and memory (eal.memory)
# come from the edgecap config (default /etc/edgecap/edgecap.toml when it
# exists); --nic/--lcores/--hugepages override them. --dry-run changes
# nothing. Exit status: 0 when the plan holds (applied, or applicable),
# 1 when something is in the way (listed as "PROBLEM:"), 2 for usage errors.
# The installed copy is /usr/sbin/edgecap-host-setup.
set -uo pipefail

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

config=""
dry_run=0
nics=()
lcores=""
huge_total=""
page_size=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run | -n) dry_run=1 ;;
    --config) config="${2:?--config needs a file}"; shift ;;
    --nic) nics+=("${2:?--nic needs a PCI address}"); shift ;;
    --lcores) lcores="${2:?--lcores needs a CPU list}"; shift ;;
    --hugepages) huge_total="${2:?--hugepages needs a size such as 2G}"; shift ;;
    --pagesize) page_size="${2:?--pagesize needs 2M or 1G}"; shift ;;
    -h | --help) usage 0 ;;
    *) echo "host-setup: unknown argument '$1'" >&2; usage 2 ;;
  esac
  shift
done

SYS="${EDGECAP_SYSFS:-/sys}"  # tests point this at a fake tree
problems=0
plan=()     # commands to run, in order
notes=()

say() { printf '%s\n' "$*"; }
problem() { say "PROBLEM: $*"; problems=$((problems + 1)); }
warn() { say "warning: $*"; }

# ---- the config ------------------------------------------------------------
if [[ -z $config && -f /etc/edgecap/edgecap.toml ]]; then
  config=/etc/edgecap/edgecap.toml
fi
cfg_ports=()
cfg_lcores=""
cfg_memory=""
if [[ -n $config ]]; then
  if [[ ! -r $config ]]; then
    say "host-setup: cannot read config $config" >&2
    exit 2
  fi
  # tomllib is Python 3.11's; edgecap --check-config validates the rest.
  if ! parsed=$(python3 - "$config" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    c = tomllib.load(f)
for p in c.get("port", []):
    print("port", p.get("device", ""))
print("lcores", c.get("cpu", {}).get("lcores", ""))
print("memory", c.get("eal", {}).get("memory", ""))
PY
  ); then
    say "host-setup: $config is not valid TOML (edgecap --check-config $config says where)" >&2
    exit 2
  fi
  while read -r key value; do
    case "$key" in
      port) cfg_ports+=("$value") ;;
      lcores) cfg_lcores="$value" ;;
      memory) cfg_memory="$value" ;;
    esac
  done <<<"$parsed"
  say "config: $config"
fi
[[ ${#nics[@]} -eq 0 ]] && nics=("${cfg_ports[@]}")
[[ -z $lcores ]] && lcores="$cfg_lcores"

# "2-4,7" -> "2 3 4 7"
expand_cpus() {
  local out=() part a b
  IFS=',' read -ra parts <<<"$1"
  for part in "${parts[@]}"; do
    if [[ $part =~ ^([0-9]+)-([0-9]+)$ ]]; then
      a=${BASH_REMATCH[1]} b=${BASH_REMATCH[2]}
      for ((c = a; c <= b; c++)); do out+=("$c"); done
    elif [[ $part =~ ^[0-9]+$ ]]; then
      out+=("$part")
    fi
  done
  echo "${out[@]}"
}

cpu_node() {  # cpu -> NUMA node, or -1
  local d
  for d in "$SYS/devices/system/cpu/cpu$1"/node*; do
    [[ -e $d ]] && { echo "${d##*node}"; return; }
  done
  echo -1
}

# Kernel interfaces of a PCI device (virtio puts them one level down).
pci_ifaces() {
  local dev i real
  dev=$(readlink -f "$1")
  for i in "$SYS"/class/net/*; do
    real=$(readlink -f "$i/device" 2>/dev/null) || continue
    [[ $real == "$dev" || $real == "$dev"/* ]] && printf '%s ' "${i##*/}"
  done
}

# ---- NICs --------------------------------------------------------------------
say ""
say "== capture NICs"
is_pci() { [[ $1 =~ ^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]]; }
nic_nodes=()
bind_list=()
if [[ ${#nics[@]} -eq 0 ]]; then
  # Nothing named: show what the host has, and never offer an interface the
  # kernel is using (the management port).
  candidates=0
  for dev in "$SYS"/bus/pci/devices/*; do
    [[ -e $dev/class ]] || continue
    [[ $(cat "$dev/class") == 0x02* ]] || continue  # network controller
    addr=${dev##*/}
    drv=$(basename "$(readlink "$dev/driver" 2>/dev/null)" 2>/dev/null)
    ifs=$(pci_ifaces "$dev")
    active=0
    for i in $ifs; do
      [[ $(cat "$SYS/class/net/$i/operstate" 2>/dev/null) == up ]] && active=1
    done
    if [[ $active -eq 1 ]]; then
      say "$addr (${ifs% }, driver ${drv:-none}): in use by the kernel (link up) - not a capture NIC"
    else
      say "$addr (${ifs:-no interface}, driver ${drv:-none}): candidate; name it in [[port]] or --nic"
      candidates=$((candidates + 1))
    fi
  done
  if [[ $candidates -eq 0 ]]; then
    say "no capture NIC on this host: no PCI network device that the kernel is not using."
    say "Nothing to bind. edgecap can still analyse captures (--pcap) or capture"
    say "live from a kernel interface through af_packet (--iface)."
  else
    say "no NIC named in the config or with --nic: nothing to bind."
  fi
else
  for nic in "${nics[@]}"; do
    if ! is_pci "$nic"; then
      say "$nic: a vdev, not a PCI device: nothing to bind"
      continue
    fi
    [[ $nic =~ ^[0-9a-fA-F]{4}: ]] || nic="0000:$nic"
    dev="$SYS/bus/pci/devices/$nic"
    if [[ ! -e $dev ]]; then
      problem "$nic: no such PCI device on this host (no NIC there: check the address with 'dpdk-devbind.py --status-dev net')"
      continue
    fi
    drv=$(basename "$(readlink "$dev/driver" 2>/dev/null)" 2>/dev/null)
    node=$(cat "$dev/numa_node" 2>/dev/null || echo -1)
    nic_nodes+=("$nic:$node")
    case "$drv" in
      vfio-pci)
        say "$nic: already on vfio-pci (NUMA node $node)" ;;
      mlx5_core)
        say "$nic: mlx5 is bifurcated: stays on mlx5_core, DPDK drives it through rdma-core (NUMA node $node)" ;;
      *)
        for i in $(pci_ifaces "$dev"); do
          if [[ $(cat "$SYS/class/net/$i/operstate" 2>/dev/null) == up ]]; then
            problem "$nic: interface $i is up: is it the management port? take it down first (ip link set $i down)"
          fi
        done
        say "$nic: ${drv:-no driver} -> vfio-pci (NUMA node $node)"
        bind_list+=("$nic") ;;
    esac
  done
  if [[ ${#bind_list[@]} -gt 0 ]]; then
    if [[ -z $(ls "$SYS/kernel/iommu_groups" 2>/dev/null) ]]; then
      problem "no IOMMU groups: vfio-pci needs the IOMMU (kernel command line: intel_iommu=on iommu=pt, or amd_iommu=on)"
    fi
    plan+=("modprobe vfio-pci")
    plan+=("dpdk-devbind.py --bind=vfio-pci ${bind_list[*]}")
  fi
fi

# ---- CPUs --------------------------------------------------------------------
say ""
say "== CPUs"
cmdline=$(cat "${EDGECAP_CMDLINE:-/proc/cmdline}" 2>/dev/null)
isolated=$(cat "$SYS/devices/system/cpu/isolated" 2>/dev/null)
nohz=$(cat "$SYS/devices/system/cpu/nohz_full" 2>/dev/null)
[[ -z $isolated && $cmdline =~ isolcpus=([^ ]*) ]] && isolated=${BASH_REMATCH[1]##*,[a-z_]*}
say "isolated CPUs: ${isolated:-none}; nohz_full: ${nohz:-none}"
if [[ -z $lcores ]]; then
  say "no cpu.lcores in the config or --lcores: edgecap runs on any CPU (fine for --pcap; for NICs give isolated CPUs)"
else
  read -ra cpus <<<"$(expand_cpus "$lcores")"
  iso=" $(expand_cpus "$isolated") "
  nz=" $(expand_cpus "$nohz") "
  online=" $(expand_cpus "$(cat "$SYS/devices/system/cpu/online" 2>/dev/null)") "
  say "lcores $lcores: stats on CPU ${cpus[0]}, workers (and dispatcher) on ${cpus[*]:1}"
  missing=() not_iso=() not_nohz=()
  for c in "${cpus[@]:1}"; do
    [[ $online == *" $c "* ]] || missing+=("$c")
    [[ $iso == *" $c "* ]] || not_iso+=("$c")
    [[ $nz == *" $c "* ]] || not_nohz+=("$c")
  done
  [[ $online == *" ${cpus[0]} "* ]] || missing=("${cpus[0]}" "${missing[@]}")
  [[ ${#missing[@]} -gt 0 ]] && problem "CPU(s) ${missing[*]} of cpu.lcores do not exist on this host (online: $(cat "$SYS/devices/system/cpu/online" 2>/dev/null))"
  if [[ ${#not_iso[@]} -gt 0 || ${#not_nohz[@]} -gt 0 ]]; then
    workers_list=$(echo "${cpus[@]:1}" | tr ' ' ',')
    warn "worker CPU(s) not isolated: ${not_iso[*]:-}${not_iso[*]:+ (isolcpus)} ${not_nohz[*]:-}${not_nohz[*]:+ (nohz_full)}"
    notes+=("for steady latency, add to GRUB_CMDLINE_LINUX in /etc/default/grub: isolcpus=$workers_list nohz_full=$workers_list rcu_nocbs=$workers_list; then update-grub and reboot (not done by this script)")
  fi
  # NUMA: a worker on another node than its NIC pays a remote memory access
  # per packet.
  for entry in "${nic_nodes[@]}"; do
    nic=${entry%:*} node=${entry##*:}
    if [[ $node -lt 0 ]]; then
      say "$nic: the platform reports no NUMA node (single-node host): placement is fine"
      continue
    fi
    far=()
    for c in "${cpus[@]}"; do
      n=$(cpu_node "$c")
      [[ $n -ge 0 && $n -ne $node ]] && far+=("$c(node $n)")
    done
    if [[ ${#far[@]} -gt 0 ]]; then
      problem "$nic is on NUMA node $node but lcores ${far[*]} are not: use CPUs of node $node ($(cat "$SYS/devices/system/node/node$node/cpulist" 2>/dev/null))"
    else
      say "$nic: NUMA node $node, every lcore on the same node"
    fi
  done
fi

# ---- hugepages -----------------------------------------------------------------
say ""
say "== hugepages"
if [[ -z $huge_total ]]; then
  if [[ -n $cfg_memory ]]; then
    # eal.memory in MB, plus room for EAL's own allocations.
    huge_total="$(((cfg_memory + 512 + 1023) / 1024))G"
  else
    huge_total=2G
  fi
fi
if [[ -z $page_size ]]; then
  page_size=2M
  if grep -qw pdpe1gb /proc/cpuinfo 2>/dev/null && [[ $huge_total =~ ^[0-9]+G$ ]] &&
    [[ -d $SYS/kernel/mm/hugepages/hugepages-1048576kB ]]; then
    page_size=1G
  fi
fi
node_arg=""
if [[ ${#nic_nodes[@]} -gt 0 ]]; then
  n=${nic_nodes[0]##*:}
  [[ $n -ge 0 ]] && node_arg=" --node $n"
fi
pages_dir="$SYS/kernel/mm/hugepages/hugepages-$([[ $page_size == 1G ]] && echo 1048576kB || echo 2048kB)"
have=$(cat "$pages_dir/nr_hugepages" 2>/dev/null || echo 0)
say "now: $have pages of $page_size reserved"
say "want: $huge_total in $page_size pages${node_arg:+ on NUMA node ${node_arg# --node }}, mounted for DPDK"
plan=("dpdk-hugepages.py --pagesize $page_size --setup $huge_total$node_arg" "${plan[@]}")
notes+=("to keep hugepages across reboots, add to the kernel command line: default_hugepagesz=$page_size hugepagesz=$page_size hugepages=<count> (or run this script from a boot-time unit)")

# ---- the plan ------------------------------------------------------------------
say ""
say "== plan"
for cmd in "${plan[@]}"; do say "  $cmd"; done
for n in "${notes[@]}"; do say "note: $n"; done
if [[ $problems -gt 0 ]]; then
  say ""
  say "$problems problem(s) in the way (see PROBLEM: above)."
fi
if [[ $dry_run -eq 1 ]]; then
  say ""
  say "dry run: nothing was changed."
  [[ $problems -gt 0 ]] && exit 1
  exit 0
fi
if [[ $problems -gt 0 ]]; then
  say "not applying the plan." >&2
  exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  say "host-setup: applying needs root (or use --dry-run)" >&2
  exit 1
fi
for cmd in "${plan[@]}"; do
  say "+ $cmd"
  if ! $cmd; then
    say "host-setup: failed: $cmd" >&2
    exit 1
  fi
done
dpdk-hugepages.py --show
say "done."
