#include "apps/edgecap/dataplane.h"

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "apps/edgecap/config.h"
#include "apps/edgecap/eal_args.h"
#include "lib/pipeline/pipeline.h"
#include "lib/pipeline/port.h"

namespace edgecap::app {

Dataplane::~Dataplane() {
  for (uint16_t p : started_ports_) pipeline::StopPort(p);
  if (eal_started_) rte_eal_cleanup();
}

absl::Status Dataplane::StartEal(const Options& o, const Plan& plan,
                                 const Input& input) {
  const unsigned lcores = plan.lcores();
  profile_dir_ = ResolveProfileDir(o);

  // Pool: every ring full, every burst in flight, every lcore cache full, and
  // the profile's descriptors, so offline RX never runs out (net_pcap would
  // lose the record it had read).
  mbufs_ = plan.workers * (kRingSize + pipeline::kMaxBurst) +
           lcores * 256 * 3 / 2 + 4096;
  // --mbufs: the operator's number, even below that (memory, or a test of
  // exhaustion); what does not fit is lost at RX and counted as rx_nombuf.
  if (o.mbufs != 0) mbufs_ = o.mbufs;
  // --duration: net_pcap's infinite_rx keeps a copy of every record in the
  // pool.
  replay_ = o.duration_seconds > 0;
  if (replay_) mbufs_ += static_cast<uint32_t>(input.records[0]);
  // From a file, mbufs sized to its longest frame: a pool of small mbufs
  // keeps replay affordable, and offline every mbuf's page is faulted in at
  // pool creation (8.7k mbufs of 2 kB: 21 ms of a 0.6 s run on 1M records;
  // of 320 B: 5 ms). No frame is chained either way.
  mbuf_size_ = RTE_MBUF_DEFAULT_BUF_SIZE;
  if (!o.pcap_files.empty() &&
      input.max_frame + 64 < RTE_MBUF_DEFAULT_DATAROOM) {
    mbuf_size_ = static_cast<uint16_t>(
        RTE_PKTMBUF_HEADROOM +
        std::max<size_t>(64, (input.max_frame + 63) / 64 * 64));
  }

  std::vector<std::string> eal_args = o.eal_args;
  if (o.shortcut) {
    const uint32_t pool_mb = static_cast<uint32_t>(
        (uint64_t{mbufs_} * 2 + 16384) * (mbuf_size_ + 256u) >> 20);
    eal_args = ShortcutEalArgs(
        {.argv0 = o.eal_args[0],
         .lcores = lcores,
         .cpus = o.cpus.empty() ? AllowedCpus() : o.cpus,
         .memory_mb =
             o.memory_mb != 0 ? o.memory_mb : std::max(256u, pool_mb + 128),
         .pid = getpid(),
         .verbose = o.verbose});
    if (!o.file_prefix.empty()) {
      for (std::string& a : eal_args) {
        if (a.starts_with("--file-prefix=")) {
          a = absl::StrCat("--file-prefix=", o.file_prefix);
        }
      }
    }
  }
  if (!o.ports.empty()) {
    PortEalPlan port_plan;
    port_plan.argv0 = o.eal_args[0];
    port_plan.lcores = lcores;
    port_plan.cpus = o.cpus.empty() ? AllowedCpus() : o.cpus;
    port_plan.memory_mb = o.memory_mb;
    port_plan.verbose = o.verbose;
    if (!o.file_prefix.empty()) port_plan.file_prefix = o.file_prefix;
    for (const PortSpec& p : o.ports) port_plan.devices.push_back(p.device);
    eal_args = PortEalArgs(port_plan);
  }
  for (const std::string& a : o.extra_eal_args) eal_args.push_back(a);
  if (!o.telemetry) eal_args.push_back("--no-telemetry");
  std::vector<char*> eal_argv;
  for (std::string& a : eal_args) eal_argv.push_back(a.data());
  eal_argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(eal_argv.size() - 1), eal_argv.data()) <
      0) {
    return absl::InternalError(absl::StrCat("DPDK EAL initialisation failed: ",
                                            rte_strerror(rte_errno)));
  }
  eal_started_ = true;
  return absl::OkStatus();
}

absl::Status Dataplane::StartPorts(const Options& o, const Plan& plan) {
  if (rte_lcore_count() < plan.lcores()) {
    return absl::InvalidArgumentError(
        absl::StrCat("need ", plan.lcores(), " lcores (stats, ", plan.workers,
                     " worker(s)", plan.hardware ? "" : ", dispatcher",
                     "), EAL gave ", rte_lcore_count()));
  }

  if (o.shortcut) {
    std::string devargs;
    if (!o.pcap_files.empty()) {
      devargs = "net_pcap0";
      for (const std::string& f : o.pcap_files)
        absl::StrAppend(&devargs, ",rx_pcap=", f);
      if (replay_) absl::StrAppend(&devargs, ",infinite_rx=1");
    } else {
      // The PMD's default TPACKET ring (512 frames) overflows within a
      // second of a stalled worker, and DPDK 22.11's af_packet counts no
      // kernel drops: 16,384 frames (32 MB) ride out stalls of seconds.
      devargs = absl::StrCat("net_af_packet0,iface=", o.iface,
                             ",qpairs=", plan.queues,
                             ",blocksz=4096,framesz=2048,framecnt=16384");
    }
    const int rc = rte_dev_probe(devargs.c_str());
    if (rc != 0) {
      return absl::InternalError(absl::StrCat(
          "cannot create DPDK port '", devargs, "': ", rte_strerror(-rc)));
    }
    const std::string name = devargs.substr(0, devargs.find(','));
    uint16_t port;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0) {
      return absl::InternalError(
          absl::StrCat("port ", name, " not found after probe"));
    }
    ports_.push_back(port);
  } else {
    // EAL skips a virtual device that fails to probe and carries on, so name
    // it here rather than let the run start without it.
    for (const rte_devargs* da = rte_devargs_next("vdev", nullptr);
         da != nullptr; da = rte_devargs_next("vdev", da)) {
      uint16_t unused;
      if (rte_eth_dev_get_port_by_name(da->name, &unused) != 0) {
        return absl::FailedPreconditionError(
            absl::StrCat("--vdev ", da->name,
                         ": the device failed to start (EAL says why above)"));
      }
    }
    uint16_t port;
    RTE_ETH_FOREACH_DEV(port) { ports_.push_back(port); }
    if (ports_.empty()) {
      return absl::NotFoundError(
          "no DPDK ports: bind a NIC to vfio-pci, or give --vdev, --pcap or "
          "--iface");
    }
  }
  for (uint16_t port : ports_) {
    absl::StatusOr<std::string> driver = pipeline::DriverName(port);
    if (!driver.ok()) return driver.status();
    // --port DEV@PROFILE names the profile; otherwise the driver picks it.
    char port_name[RTE_ETH_NAME_MAX_LEN] = {};
    rte_eth_dev_get_name_by_port(port, port_name);
    const std::string chosen = ProfileFor(o, port_name);
    absl::StatusOr<pipeline::PortProfile> profile =
        chosen.empty() ? pipeline::FindProfile(profile_dir_, *driver)
                       : pipeline::LoadProfile(
                             absl::StrCat(profile_dir_, "/", chosen, ".toml"));
    if (!profile.ok()) return profile.status();
    profiles_.push_back(*profile);
    if (o.mbufs != 0) continue;
    mbufs_ +=
        profile->mempool_mbufs > mbufs_ ? profile->mempool_mbufs - mbufs_ : 0;
    mbufs_ += profile->rx_descriptors * plan.queues;
  }
  // One pool serves every port: the largest cache a profile asks for. Each
  // lcore's cache may hold 1.5 times its size (the sizing above assumed
  // 256); in a small --mbufs pool the caches would keep most mbufs from RX,
  // so they get an eighth of it.
  uint32_t cache = 0;
  for (const pipeline::PortProfile& p : profiles_) {
    cache = std::max(cache, p.mempool_cache);
  }
  if (o.mbufs == 0) {
    if (cache > 256) mbufs_ += plan.lcores() * (cache - 256) * 3 / 2;
  } else {
    cache = std::min<uint32_t>(cache, mbufs_ / (8 * plan.lcores()));
  }
  pool_ = rte_pktmbuf_pool_create("edgecap_rx", mbufs_, cache, 0, mbuf_size_,
                                  static_cast<int>(rte_socket_id()));
  if (pool_ == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot create a pool of ", mbufs_, " mbufs: ", rte_strerror(rte_errno),
        o.shortcut ? " (raise --memory)" : ""));
  }
  for (size_t i = 0; i < ports_.size(); ++i) {
    absl::Status s =
        pipeline::StartPort(ports_[i], plan.queues, profiles_[i], pool_);
    if (!s.ok()) return s;
    started_ports_.push_back(ports_[i]);
  }
  // Taps for dpdk-dumpcap; a failure only loses that convenience.
  if (rte_pdump_init() != 0) {
    std::fprintf(stderr,
                 "edgecap: warning: dpdk-dumpcap taps unavailable: %s\n",
                 rte_strerror(rte_errno));
  }
  return absl::OkStatus();
}

}  // namespace edgecap::app
