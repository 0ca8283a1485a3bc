// edgecap: DNS/ICMP incident detection on DPDK ports. See options.h for the
// command line and lib/pipeline/pipeline.h for the lcore roles.
#include <dirent.h>
#include <net/if.h>
#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "apps/edgecap/config.h"
#include "apps/edgecap/eal_args.h"
#include "apps/edgecap/options.h"
#include "lib/capture/pcap_file.h"
#include "lib/incident/json_writer.h"
#include "lib/incident/report.h"
#include "lib/pipeline/flow_engine.h"
#include "lib/pipeline/packet_time.h"
#include "lib/pipeline/pipeline.h"
#include "lib/pipeline/port.h"
#include "lib/pipeline/profile.h"
#include "lib/pipeline/watchlists.h"
#ifdef EDGECAP_WITH_TELEMETRY
#include "lib/telemetry/watchlists_control.h"
#endif
#ifdef EDGECAP_WITH_TELEMETRY
#include <rte_eal.h>

#include "lib/telemetry/commands.h"
#include "lib/telemetry/publisher.h"
#endif

#ifndef EDGECAP_VERSION
#define EDGECAP_VERSION "unknown"
#endif

namespace edgecap::app {
namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true, std::memory_order_relaxed); }

// SIGHUP: reload the watch lists; the stats lcore does it at its next tick.
std::atomic<bool> g_reload{false};
void OnHangup(int) { g_reload.store(true, std::memory_order_relaxed); }

// Stats lcore, once per tick: a pending SIGHUP reload, then reclamation of
// the databases no worker can still be using.
void RulesTick(pipeline::Watchlists* wl) {
  if (g_reload.exchange(false, std::memory_order_relaxed)) {
    absl::StatusOr<pipeline::Watchlists::Json> r = wl->Reload();
    if (r.ok()) {
      std::fprintf(stderr, "edgecap: rules reloaded (SIGHUP): generation %u\n",
                   wl->generation());
    } else {
      std::fprintf(stderr,
                   "edgecap: rules reload (SIGHUP) refused, old rules stay: "
                   "%s\n",
                   std::string(r.status().message()).c_str());
    }
    std::fflush(stderr);
  }
  wl->Tick();
}

struct Input {
  parse::LinkType link = parse::LinkType::kEthernet;
  std::vector<uint64_t> records;  // per --pcap file (RX queue)
  size_t max_frame = 0;           // longest captured record
};

// Opens every capture before EAL starts: a missing, unreadable or non-pcap
// file, or an unsupported link type, fails here with one line naming it.
absl::StatusOr<Input> CheckCaptures(const std::vector<std::string>& files) {
  Input in;
  for (size_t i = 0; i < files.size(); ++i) {
    absl::StatusOr<capture::PcapFile> f = capture::PcapFile::Open(files[i]);
    if (!f.ok()) return f.status();
    if (i == 0) {
      in.link = f->link_type();
    } else if (f->link_type() != in.link) {
      return absl::InvalidArgumentError(absl::StrCat(
          files[i], ": link type ", static_cast<int>(f->link_type()),
          " differs from ", files[0], "'s ", static_cast<int>(in.link)));
    }
    // The record count tells the pipeline when a queue is drained (net_pcap
    // just returns nothing at end of file) and gives the progress its share.
    capture::Record r;
    uint64_t n = 0;
    while (f->Next(&r)) {
      ++n;
      in.max_frame = std::max(in.max_frame, r.bytes.size());
    }
    // A cut or corrupt record still lets us analyse the ones before it (what
    // an operator wants from a capture cut by a full disk): warn, go on.
    if (!f->status().ok()) {
      std::fprintf(stderr,
                   "edgecap: warning: %s; analysing the %llu records before "
                   "it\n",
                   std::string(f->status().message()).c_str(),
                   static_cast<unsigned long long>(n));
    }
    in.records.push_back(n);
  }
  return in;
}

std::string Count(uint64_t n) {
  const std::string digits = absl::StrCat(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

void PrintProgress(const pipeline::Progress& p) {
  const double rate =
      p.elapsed_seconds > 0 ? p.received / p.elapsed_seconds : 0;
  if (p.expected > 0) {
    std::fprintf(stderr, "\r%s / %s packets (%.0f%%), %.2f Mpps   ",
                 Count(p.received).c_str(), Count(p.expected).c_str(),
                 100.0 * static_cast<double>(p.received) /
                     static_cast<double>(p.expected),
                 rate / 1e6);
  } else {
    std::fprintf(stderr, "\r%s packets, %.2f Mpps   ",
                 Count(p.received).c_str(), rate / 1e6);
  }
  std::fflush(stderr);
}

struct Plan {
  uint16_t workers = 1;
  bool hardware = true;
  uint16_t queues = 1;  // RX queues per port
};

absl::StatusOr<Plan> PlanDispatch(const Options& o, size_t pcap_files) {
  Plan p;
  if (pcap_files > 1) {
    // One file per RX queue: a NIC's RSS already split the traffic.
    if (o.dispatch == Dispatch::kSoftware) {
      return absl::InvalidArgumentError(
          "several --pcap files are RX queues for --dispatch hw; give one "
          "file for --dispatch sw");
    }
    if (o.workers != 0 && o.workers != pcap_files) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--workers ", o.workers, " with ", pcap_files,
          " --pcap files: hardware dispatch needs one file per worker"));
    }
    p.workers = static_cast<uint16_t>(pcap_files);
    p.hardware = true;
    p.queues = p.workers;
    return p;
  }
  p.workers = o.workers == 0 ? 1 : o.workers;
  if (!o.shortcut || o.dispatch == Dispatch::kHardware) {
    p.hardware = o.dispatch != Dispatch::kSoftware;
  } else {
    // Single-queue vdevs: software dispatch unless one worker polls alone.
    p.hardware = p.workers == 1 && o.dispatch != Dispatch::kSoftware;
  }
  if (o.shortcut && !o.pcap_files.empty() && p.hardware && p.workers > 1) {
    return absl::InvalidArgumentError(
        "--dispatch hw with one --pcap file needs one file per worker: split "
        "it with 'edgecap-gen split FILE --queues N -o PREFIX'");
  }
  p.queues = p.hardware ? p.workers : 1;
  return p;
}

// Outputs are written at the end of an offline run: refuse at start-up what
// could not be written then, without creating or truncating anything.
absl::Status CheckWritable(const char* option, const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  struct stat st {};
  std::string target = path;
  if (stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat(option, " ", path, ": is a directory"));
    }
  } else {
    const size_t slash = path.find_last_of('/');
    target = slash == std::string::npos ? "."
             : slash == 0               ? "/"
                                        : path.substr(0, slash);
  }
  if (access(target.c_str(), W_OK) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        option, " ", path, ": cannot write: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status Run(int argc, char** argv, int* exit_code) {
  absl::StatusOr<Options> parsed = ParseCommandLine(argc, argv);
  if (!parsed.ok()) {
    *exit_code = 2;
    return parsed.status();
  }
  Options& o = *parsed;
  if (o.help) {
    std::fputs(Usage().c_str(), stdout);
    return absl::OkStatus();
  }
  if (o.version) {
    std::printf("edgecap %s\n", EDGECAP_VERSION);
    return absl::OkStatus();
  }
  if (o.check_config) {
    absl::StatusOr<std::string> summary = CheckConfig(o);
    if (!summary.ok()) {
      *exit_code = 2;
      return summary.status();
    }
    std::printf("%s: OK\n%s", o.config_path.c_str(), summary->c_str());
    return absl::OkStatus();
  }
  for (auto [option, path] : {std::pair{"--incidents", &o.incidents_path},
                              std::pair{"--report", &o.report_path}}) {
    if (absl::Status s = CheckWritable(option, *path); !s.ok()) return s;
  }
  Input input;
  if (!o.pcap_files.empty()) {
    absl::StatusOr<Input> in = CheckCaptures(o.pcap_files);
    if (!in.ok()) return in.status();
    input = *in;
  }
  if (!o.iface.empty() && if_nametoindex(o.iface.c_str()) == 0) {
    return absl::NotFoundError(
        absl::StrCat("--iface ", o.iface, ": no such network interface"));
  }
  absl::StatusOr<Plan> plan = PlanDispatch(o, o.pcap_files.size());
  if (!plan.ok()) {
    *exit_code = 2;
    return plan.status();
  }
  // Watch lists compile before EAL starts: a bad file stops here, one line.
  std::unique_ptr<pipeline::Watchlists> watchlists;
  if (!o.rules_path.empty()) {
    absl::StatusOr<std::unique_ptr<pipeline::Watchlists>> wl =
        pipeline::Watchlists::Load(
            absl::StrSplit(o.rules_path, ',', absl::SkipEmpty()),
            plan->workers);
    if (!wl.ok()) return wl.status();
    watchlists = std::move(*wl);
  }
#ifdef EDGECAP_WITH_TELEMETRY
  struct RulesControlReset {
    ~RulesControlReset() { telemetry::SetRulesControl(nullptr); }
  } rules_control_reset;
  if (watchlists) {
    telemetry::SetRulesControl(
        std::make_shared<telemetry::WatchlistsControl>(watchlists.get()));
  }
#endif
  // From here a SIGHUP only asks for a reload (never the default: exit).
  std::signal(SIGHUP, OnHangup);
  const unsigned lcores = 1 + plan->workers + (plan->hardware ? 0 : 1);
  const std::string profiles = ResolveProfileDir(o);

  // Pool: every ring full, every burst in flight, every lcore cache full, and
  // the profile's descriptors, so offline RX never runs out (net_pcap would
  // lose the record it had read).
  const uint32_t ring_size = 1024;
  uint32_t mbufs = plan->workers * (ring_size + pipeline::kMaxBurst) +
                   lcores * 256 * 3 / 2 + 4096;
  // --duration: net_pcap's infinite_rx keeps a copy of every record in the
  // pool, so mbufs sized to the file's longest frame keep that affordable.
  const bool replay = o.duration_seconds > 0;
  uint16_t mbuf_size = RTE_MBUF_DEFAULT_BUF_SIZE;
  if (replay) {
    mbufs += static_cast<uint32_t>(input.records[0]);
    if (input.max_frame + 64 < RTE_MBUF_DEFAULT_DATAROOM) {
      mbuf_size = static_cast<uint16_t>(RTE_PKTMBUF_HEADROOM +
                                        (input.max_frame + 63) / 64 * 64);
    }
  }

  std::vector<std::string> eal_args = o.eal_args;
  if (o.shortcut) {
    const uint32_t pool_mb = static_cast<uint32_t>(
        (uint64_t{mbufs} * 2 + 16384) * (mbuf_size + 256u) >> 20);
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
  // From here on, EAL must be cleaned up whatever happens.
  struct EalCleanup {
    ~EalCleanup() { rte_eal_cleanup(); }
  } eal_cleanup;
#ifdef EDGECAP_WITH_TELEMETRY
  // Tests and operators find the socket here (the shortcut's file prefix is
  // per process).
  const std::string telemetry_socket =
      absl::StrCat(rte_eal_get_runtime_dir(), "/dpdk_telemetry.v2");
  if (!o.telemetry) {
    // --no-telemetry: EAL runs no socket; nothing to register.
  } else if (absl::Status s = telemetry::RegisterCommands(); !s.ok()) {
    std::fprintf(stderr, "edgecap: warning: %s\n",
                 std::string(s.message()).c_str());
  } else if (absl::Status a = ApplyTelemetryAccess(rte_eal_get_runtime_dir(),
                                                   o.telemetry_group);
             !a.ok()) {
    return a;
  } else if (o.linger || o.verbose) {
    std::fprintf(stderr, "edgecap: telemetry socket %s\n",
                 telemetry_socket.c_str());
  }
#endif

  if (rte_lcore_count() < lcores) {
    return absl::InvalidArgumentError(
        absl::StrCat("need ", lcores, " lcores (stats, ", plan->workers,
                     " worker(s)", plan->hardware ? "" : ", dispatcher",
                     "), EAL gave ", rte_lcore_count()));
  }

  std::vector<uint16_t> ports;
  if (o.shortcut) {
    std::string devargs;
    if (!o.pcap_files.empty()) {
      devargs = "net_pcap0";
      for (const std::string& f : o.pcap_files)
        absl::StrAppend(&devargs, ",rx_pcap=", f);
      if (replay) absl::StrAppend(&devargs, ",infinite_rx=1");
    } else {
      devargs = absl::StrCat("net_af_packet0,iface=", o.iface,
                             ",qpairs=", plan->queues);
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
    ports.push_back(port);
  } else {
    uint16_t port;
    RTE_ETH_FOREACH_DEV(port) { ports.push_back(port); }
    if (ports.empty()) {
      return absl::NotFoundError(
          "no DPDK ports: bind a NIC to vfio-pci, or give --vdev, --pcap or "
          "--iface");
    }
  }
  std::vector<pipeline::PortProfile> port_profiles;
  for (uint16_t port : ports) {
    absl::StatusOr<std::string> driver = pipeline::DriverName(port);
    if (!driver.ok()) return driver.status();
    // --port DEV@PROFILE names the profile; otherwise the driver picks it.
    char port_name[RTE_ETH_NAME_MAX_LEN] = {};
    rte_eth_dev_get_name_by_port(port, port_name);
    const std::string chosen = ProfileFor(o, port_name);
    absl::StatusOr<pipeline::PortProfile> profile =
        chosen.empty() ? pipeline::FindProfile(profiles, *driver)
                       : pipeline::LoadProfile(
                             absl::StrCat(profiles, "/", chosen, ".toml"));
    if (!profile.ok()) return profile.status();
    port_profiles.push_back(*profile);
    mbufs +=
        profile->mempool_mbufs > mbufs ? profile->mempool_mbufs - mbufs : 0;
    mbufs += profile->rx_descriptors * plan->queues;
  }
  rte_mempool* pool =
      rte_pktmbuf_pool_create("edgecap_rx", mbufs, 256, 0, mbuf_size,
                              static_cast<int>(rte_socket_id()));
  if (pool == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot create a pool of ", mbufs, " mbufs: ", rte_strerror(rte_errno),
        o.shortcut ? " (raise --memory)" : ""));
  }
  struct PortCleanup {
    std::vector<uint16_t> started;
    ~PortCleanup() {
      for (uint16_t p : started) pipeline::StopPort(p);
    }
  } port_cleanup;
  for (size_t i = 0; i < ports.size(); ++i) {
    absl::Status s =
        pipeline::StartPort(ports[i], plan->queues, port_profiles[i], pool);
    if (!s.ok()) return s;
    port_cleanup.started.push_back(ports[i]);
  }
  // Taps for dpdk-dumpcap; a failure only loses that convenience.
  if (rte_pdump_init() != 0) {
    std::fprintf(stderr,
                 "edgecap: warning: dpdk-dumpcap taps unavailable: %s\n",
                 rte_strerror(rte_errno));
  }

  const pipeline::TimeSource time_source =
      replay                 ? pipeline::TimeSource::kTsc
      : o.pcap_files.empty() ? port_profiles[0].packet_time
                             : pipeline::TimeSource::kDynfieldMicros;
  absl::StatusOr<pipeline::PacketClock> clock =
      pipeline::PacketClock::Create(time_source);
  if (!clock.ok()) return clock.status();

  pipeline::PipelineConfig config;
  config.ports = ports;
  config.workers = plan->workers;
  config.hardware_dispatch = plan->hardware;
  config.link = input.link;
  config.offline = !o.pcap_files.empty() && !replay;
  if (config.offline) config.expected_records = {input.records};
  config.ring_size = ring_size;
  config.yield_when_idle = lcores > AllowedCpus().size();
  unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  for (uint16_t w = 0; w < plan->workers; ++w) {
    config.worker_lcores.push_back(lcore);
    lcore = rte_get_next_lcore(lcore, 1, 0);
  }
  if (!plan->hardware) config.dispatcher_lcore = lcore;

  flow::WorkerConfig flow_config;
  flow_config.link = input.link;
  flow_config.query_timeout_ns =
      static_cast<int64_t>(o.thresholds.query_timeout_seconds * 1e9);
  // Live: expired queries are swept twice a second and workers summarise
  // their held buckets ten times a second, so that an incident opens (early,
  // docs/detection.md) within a second or so of its first failure.
  if (!config.offline) flow_config.sweep_period_ns = flow::kNsPerSecond / 2;
  std::vector<std::unique_ptr<pipeline::FlowWorkerEngine>> flow_engines;
  std::vector<pipeline::FlowWorkerEngine*> flow_ptrs;
  std::vector<pipeline::WorkerEngine*> engine_ptrs;
  for (uint16_t w = 0; w < plan->workers; ++w) {
    absl::StatusOr<std::unique_ptr<pipeline::FlowWorkerEngine>> e =
        pipeline::FlowWorkerEngine::Create(flow_config, w);
    if (!e.ok()) return e.status();
    if (!config.offline) (*e)->EnableProvisional(flow::kNsPerSecond / 10);
    flow_ptrs.push_back(e->get());
    engine_ptrs.push_back(e->get());
    flow_engines.push_back(std::move(*e));
  }
  if (watchlists) {
    for (uint16_t w = 0; w < plan->workers; ++w) {
      flow_engines[w]->SetWatcher(watchlists->watcher(w));
    }
  }
  incident::DetectorConfig det_config;
  det_config.link = input.link;
  det_config.window_ns =
      static_cast<int64_t>(o.thresholds.window_seconds * 1e9);
  det_config.min_failures = o.thresholds.min_failures;
  det_config.min_failure_ratio = o.thresholds.min_failure_ratio;
  det_config.recovery_ns =
      static_cast<int64_t>(o.thresholds.recovery_seconds * 1e9);
  det_config.quiet_ns = static_cast<int64_t>(o.thresholds.quiet_seconds * 1e9);
  // Offline: sorted and numbered at the end. Live: written as they close, so
  // an operator tailing the file sees them at once.
  const bool offline = config.offline;
  incident::IncidentLog log;
  std::ofstream live_out;
  std::unique_ptr<incident::JsonLinesWriter> live_writer;
  if (!offline && !o.incidents_path.empty()) {
    live_out.open(o.incidents_path, std::ios::out | std::ios::trunc);
    if (!live_out) {
      return absl::PermissionDeniedError(
          absl::StrCat("--incidents ", o.incidents_path, ": cannot write"));
    }
    live_writer = std::make_unique<incident::JsonLinesWriter>(&live_out);
  }
  std::vector<incident::Incident> live_incidents;
#ifdef EDGECAP_WITH_TELEMETRY
  std::unique_ptr<telemetry::Publisher> tel;
#endif
  pipeline::FlowStatsEngine stats(det_config, flow_ptrs,
                                  [&](incident::Incident i) {
                                    if (live_writer != nullptr) {
                                      live_writer->Write(i);
                                      live_out.flush();
#ifdef EDGECAP_WITH_TELEMETRY
                                      if (tel) tel->OnIncident(i);
#endif
                                      live_incidents.push_back(std::move(i));
                                    } else {
                                      log.Add(std::move(i));
                                    }
                                  });
  if (!offline) {
    // Live, an incident is written when it closes; say when one opens.
    stats.SetOpenedCallback([](uint64_t opened) {
      timespec now{};
      clock_gettime(CLOCK_REALTIME, &now);
      tm utc{};
      gmtime_r(&now.tv_sec, &utc);
      char when[32];
      std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &utc);
      std::fprintf(
          stderr, "edgecap: incident opened at %s.%06ldZ (%llu so far)\n", when,
          now.tv_nsec / 1000, static_cast<unsigned long long>(opened));
      std::fflush(stderr);
    });
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  pipeline::Pipeline pipe(config, pool, *clock, engine_ptrs, &stats, &g_stop);
  if (absl::Status s = pipe.Init(); !s.ok()) return s;
  const bool progress =
      o.progress == 1 ||
      (o.progress == -1 && isatty(STDERR_FILENO) && config.offline && !o.quiet);
#ifdef EDGECAP_WITH_TELEMETRY
  {
    telemetry::Sources sources{.pipeline = &pipe,
                               .stats = &stats,
                               .flow = {},
                               .ports = ports,
                               .offline = config.offline};
    for (const auto& e : flow_engines) sources.flow.push_back(e.get());
    const telemetry::Json thresholds = {
        {"query_timeout_seconds", o.thresholds.query_timeout_seconds},
        {"window_seconds", o.thresholds.window_seconds},
        {"min_failures", o.thresholds.min_failures},
        {"min_failure_ratio", o.thresholds.min_failure_ratio},
        {"recovery_seconds", o.thresholds.recovery_seconds},
        {"quiet_seconds", o.thresholds.quiet_seconds}};
    telemetry::Json effective = {{"version", EDGECAP_VERSION},
                                 {"input", offline ? "pcap" : "live"},
                                 {"pcap", o.pcap_files},
                                 {"iface", o.iface},
                                 {"workers", plan->workers},
                                 {"dispatch", plan->hardware ? "hw" : "sw"},
                                 {"queues_per_port", plan->queues},
                                 {"incidents", o.incidents_path},
                                 {"report", o.report_path},
                                 {"rules", o.rules_path},
                                 {"config_file", o.config_path},
                                 {"profiles", profiles},
                                 {"linger", o.linger ? 1 : 0},
                                 {"telemetry_socket", telemetry_socket},
                                 {"thresholds", thresholds}};
    tel = std::make_unique<telemetry::Publisher>(std::move(sources),
                                                 std::move(effective));
    stats.SetBucketObserver(
        [&tel](int, const flow::Bucket& b) { tel->OnBucket(b); });
    tel->Publish(std::numeric_limits<int64_t>::min(), false);
  }
#endif
  // --duration: the run stops itself; the rate is taken from the workers'
  // packet counters between the end of the first second (tables warm) and
  // the stop.
  // CPU seconds of the whole process: on a shared machine the lcores get
  // only part of a CPU, so packets per CPU-second is the comparable rate.
  auto cpu_seconds = []() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  // The worker lcores' own CPU time (EAL names their threads rte-worker-N):
  // the stats lcore's share is not the worker's.
  auto worker_cpu_seconds = []() {
    double total = 0;
    if (DIR* d = opendir("/proc/self/task")) {
      while (dirent* t = readdir(d)) {
        if (t->d_name[0] == '.') continue;
        const std::string base = absl::StrCat("/proc/self/task/", t->d_name);
        char comm[32] = {};
        if (FILE* f = std::fopen((base + "/comm").c_str(), "r")) {
          if (std::fgets(comm, sizeof(comm), f) == nullptr) comm[0] = 0;
          std::fclose(f);
        }
        if (std::strncmp(comm, "rte-worker-", 11) != 0) continue;
        if (FILE* f = std::fopen((base + "/stat").c_str(), "r")) {
          char buf[1024] = {};
          const size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
          std::fclose(f);
          buf[n] = 0;
          // Fields 14 and 15 (utime, stime) follow the ')' closing comm.
          const char* p = std::strrchr(buf, ')');
          unsigned long long ut = 0, st = 0;
          if (p != nullptr &&
              std::sscanf(p + 2,
                          "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                          "%llu %llu",
                          &ut, &st) == 2) {
            total += static_cast<double>(ut + st) /
                     static_cast<double>(sysconf(_SC_CLK_TCK));
          }
        }
      }
      closedir(d);
    }
    return total;
  };
  struct Mark {
    double seconds = -1;
    uint64_t packets = 0;
    double cpu = 0;
    double worker_cpu = 0;
  } warm, stopped;
  auto processed = [&pipe, &plan]() {
    uint64_t n = 0;
    for (uint16_t w = 0; w < plan->workers; ++w)
      n += pipe.worker(w).packets.load(std::memory_order_relaxed);
    return n;
  };
  absl::Status run = pipe.Run([&](const pipeline::Progress& p) {
    if (progress) PrintProgress(p);
    if (watchlists) RulesTick(watchlists.get());
    if (replay && !g_stop.load(std::memory_order_relaxed)) {
      if (warm.seconds < 0 && p.elapsed_seconds >= 1.0) {
        warm = {p.elapsed_seconds, processed(), cpu_seconds(),
                worker_cpu_seconds()};
      }
      if (p.elapsed_seconds >= o.duration_seconds) {
        stopped = {p.elapsed_seconds, processed(), cpu_seconds(),
                   worker_cpu_seconds()};
        g_stop.store(true, std::memory_order_relaxed);
      }
    }
#ifdef EDGECAP_WITH_TELEMETRY
    tel->Publish(p.packet_time_ns, false);
#endif
  });
  if (progress) std::fputs("\n", stderr);
  if (!run.ok()) return run;
  if (watchlists) {
    std::fprintf(stderr, "edgecap: rules: %s\n",
                 watchlists->Summary().dump().c_str());
  }
  if (replay && stopped.seconds > 0) {
    if (warm.seconds < 0 || stopped.seconds - warm.seconds < 0.5) warm = {};
    const double n = static_cast<double>(stopped.packets - warm.packets);
    std::fprintf(
        stderr,
        "edgecap: replay: %llu packets processed in %.3f s; "
        "%.0f packets/s from %.3f s to %.3f s; %.0f packets per "
        "process CPU-second (%.3f CPU s); %.0f packets per worker "
        "CPU-second (%.2f s)\n",
        static_cast<unsigned long long>(stopped.packets), stopped.seconds,
        n / (stopped.seconds - std::max(warm.seconds, 0.0)),
        std::max(warm.seconds, 0.0), stopped.seconds,
        n / std::max(stopped.cpu - warm.cpu, 1e-9), stopped.cpu - warm.cpu,
        n / std::max(stopped.worker_cpu - warm.worker_cpu, 1e-9),
        stopped.worker_cpu - warm.worker_cpu);
  }

  // Drops are never silent.
  pipeline::PortDrops drops;
  for (uint16_t p : ports) {
    const pipeline::PortDrops d = pipeline::ReadPortDrops(p);
    drops.ipackets += d.ipackets;
    drops.imissed += d.imissed;
    drops.ierrors += d.ierrors;
    drops.rx_nombuf += d.rx_nombuf;
  }
  uint64_t ring_full = pipe.dispatcher().ring_full.load();
  for (uint16_t w = 0; w < plan->workers; ++w)
    ring_full += pipe.worker(w).ring_full.load();
  uint64_t packets = 0, queries = 0, evictions = 0;
  for (const auto& e : flow_engines) {
    packets += e->worker().stats().packets;
    queries += e->worker().stats().dns_queries;
    evictions += e->worker().stats().evictions;
  }
  std::vector<incident::Incident> incidents;
  if (offline) {
    incidents = log.Finalize().incidents();
    if (!o.incidents_path.empty()) {
      std::ofstream out(o.incidents_path, std::ios::out | std::ios::trunc);
      out << log.JsonLines();
      if (!out) {
        return absl::PermissionDeniedError(
            absl::StrCat("--incidents ", o.incidents_path, ": cannot write"));
      }
    }
  } else {
    incidents = std::move(live_incidents);
  }
#ifdef EDGECAP_WITH_TELEMETRY
  // Offline incidents are numbered only now; the last snapshot is final.
  if (offline) tel->SetIncidents(incidents);
  tel->Publish(pipe.last_packet_time(), true);
#endif
  const std::string source =
      offline ? o.pcap_files[0] : (o.iface.empty() ? "DPDK ports" : o.iface);
  const std::string report =
      incident::RenderReport(incidents, {.source = source});
  if (!o.report_path.empty()) {
    std::ofstream out(o.report_path, std::ios::out | std::ios::trunc);
    out << report;
    if (!out) {
      return absl::PermissionDeniedError(
          absl::StrCat("--report ", o.report_path, ": cannot write"));
    }
  }
  if (!o.quiet) {
    uint64_t open = 0;
    for (const auto& i : incidents) open += i.open ? 1 : 0;
    std::printf(
        "edgecap: %s packets, %s DNS transactions, %s servers, %s incidents "
        "(%s still open)\n",
        Count(packets).c_str(), Count(queries).c_str(),
        Count(stats.detector().stats().servers_tracked).c_str(),
        Count(incidents.size()).c_str(), Count(open).c_str());
    std::printf(
        "workers: %u (%s dispatch); drops: imissed %s, rx_nombuf %s, ierrors "
        "%s, ring-full %s, table evictions %s\n\n",
        plan->workers, plan->hardware ? "hw" : "sw",
        Count(drops.imissed).c_str(), Count(drops.rx_nombuf).c_str(),
        Count(drops.ierrors).c_str(), Count(ring_full).c_str(),
        Count(evictions).c_str());
    std::fputs(report.c_str(), stdout);
  }
  if (evictions > 0) {
    std::fprintf(stderr,
                 "edgecap: warning: %s transactions evicted from full tables\n",
                 Count(evictions).c_str());
  }
  for (const pipeline::ShortRead& r : pipe.short_reads()) {
    std::fprintf(stderr,
                 "edgecap: warning: port %u queue %u stopped after %s of %s "
                 "records\n",
                 r.port, r.queue, Count(r.received).c_str(),
                 Count(r.expected).c_str());
  }
  if (drops.imissed + drops.rx_nombuf + ring_full > 0) {
    std::fprintf(stderr,
                 "edgecap: warning: packets lost: imissed %s, rx_nombuf %s, "
                 "ring-full %s\n",
                 Count(drops.imissed).c_str(), Count(drops.rx_nombuf).c_str(),
                 Count(ring_full).c_str());
  }
#ifdef EDGECAP_WITH_TELEMETRY
  if (o.linger && !g_stop.load()) {
    std::fflush(stdout);
    std::fprintf(stderr,
                 "edgecap: input drained; serving telemetry on %s until "
                 "SIGINT/SIGTERM\n",
                 telemetry_socket.c_str());
    while (!g_stop.load(std::memory_order_relaxed)) {
      if (watchlists) RulesTick(watchlists.get());
      usleep(100 * 1000);
    }
  }
#endif
  return absl::OkStatus();
}

}  // namespace
}  // namespace edgecap::app

int main(int argc, char** argv) {
  int exit_code = 1;
  const absl::Status s = edgecap::app::Run(argc, argv, &exit_code);
  if (s.ok()) return 0;
  std::fprintf(stderr, "edgecap: %s\n", std::string(s.message()).c_str());
  return exit_code;
}
