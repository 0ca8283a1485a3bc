#include "apps/edgecap/run.h"

#include <rte_lcore.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "apps/edgecap/dataplane.h"
#include "apps/edgecap/eal_args.h"
#include "apps/edgecap/replay_rate.h"
#include "apps/edgecap/rules_reload.h"
#include "apps/edgecap/signals.h"
#include "apps/edgecap/summary.h"
#include "apps/edgecap/telemetry_wiring.h"
#include "lib/incident/json_writer.h"
#include "lib/pipeline/flow_engine.h"
#include "lib/pipeline/packet_time.h"
#include "lib/pipeline/pipeline.h"
#include "lib/pipeline/port.h"

namespace edgecap::app {
namespace {

pipeline::PipelineConfig MakePipelineConfig(const Options& o, const Plan& plan,
                                            const Input& input,
                                            const Dataplane& dp) {
  pipeline::PipelineConfig config;
  config.ports = dp.ports();
  config.workers = plan.workers;
  config.hardware_dispatch = plan.hardware;
  config.link = input.link;
  config.offline = !o.pcap_files.empty() && !dp.replay();
  if (config.offline) config.expected_records = {input.records};
  config.ring_size = Dataplane::kRingSize;
  config.yield_when_idle = plan.lcores() > AllowedCpus().size();
  unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  for (uint16_t w = 0; w < plan.workers; ++w) {
    config.worker_lcores.push_back(lcore);
    lcore = rte_get_next_lcore(lcore, 1, 0);
  }
  if (!plan.hardware) config.dispatcher_lcore = lcore;
  return config;
}

absl::StatusOr<std::vector<std::unique_ptr<pipeline::FlowWorkerEngine>>>
MakeFlowEngines(const Options& o, const Plan& plan, const Input& input,
                bool offline, pipeline::Watchlists* watchlists) {
  flow::WorkerConfig flow_config;
  flow_config.link = input.link;
  flow_config.query_timeout_ns =
      static_cast<int64_t>(o.thresholds.query_timeout_seconds * 1e9);
  // Live: expired queries are swept twice a second and workers summarise
  // their held buckets ten times a second, so that an incident opens (early,
  // docs/detection.md) within a second or so of its first failure.
  if (!offline) flow_config.sweep_period_ns = flow::kNsPerSecond / 2;
  std::vector<std::unique_ptr<pipeline::FlowWorkerEngine>> engines;
  for (uint16_t w = 0; w < plan.workers; ++w) {
    absl::StatusOr<std::unique_ptr<pipeline::FlowWorkerEngine>> e =
        pipeline::FlowWorkerEngine::Create(flow_config, w);
    if (!e.ok()) return e.status();
    if (!offline) (*e)->EnableProvisional(flow::kNsPerSecond / 10);
    if (watchlists != nullptr) (*e)->SetWatcher(watchlists->watcher(w));
    engines.push_back(std::move(*e));
  }
  return engines;
}

incident::DetectorConfig MakeDetectorConfig(const Options& o,
                                            const Input& input) {
  incident::DetectorConfig c;
  c.link = input.link;
  c.window_ns = static_cast<int64_t>(o.thresholds.window_seconds * 1e9);
  c.min_failures = o.thresholds.min_failures;
  c.min_failure_ratio = o.thresholds.min_failure_ratio;
  c.recovery_ns = static_cast<int64_t>(o.thresholds.recovery_seconds * 1e9);
  c.quiet_ns = static_cast<int64_t>(o.thresholds.quiet_seconds * 1e9);
  return c;
}

// Live, an incident is written when it closes; this says when one opens.
void AnnounceOpened(uint64_t opened) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  gmtime_r(&now.tv_sec, &utc);
  char when[32];
  std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &utc);
  std::fprintf(stderr, "edgecap: incident opened at %s.%06ldZ (%llu so far)\n",
               when, now.tv_nsec / 1000,
               static_cast<unsigned long long>(opened));
  std::fflush(stderr);
}

pipeline::PortDrops SumDrops(const std::vector<uint16_t>& ports) {
  pipeline::PortDrops drops;
  for (uint16_t p : ports) {
    const pipeline::PortDrops d = pipeline::ReadPortDrops(p);
    drops.ipackets += d.ipackets;
    drops.imissed += d.imissed;
    drops.ierrors += d.ierrors;
    drops.rx_nombuf += d.rx_nombuf;
  }
  return drops;
}

}  // namespace

absl::Status RunAppliance(const Options& o, const Plan& plan,
                          const Input& input,
                          pipeline::Watchlists* watchlists) {
  // Declared first so that it goes last: ports and EAL outlive everything
  // below that uses them.
  Dataplane dp;
  if (absl::Status s = dp.StartEal(o, plan, input); !s.ok()) return s;
  absl::StatusOr<std::string> telemetry_socket = ServeTelemetry(o);
  if (!telemetry_socket.ok()) return telemetry_socket.status();
  if (absl::Status s = dp.StartPorts(o, plan); !s.ok()) return s;

  const pipeline::TimeSource time_source =
      dp.replay()            ? pipeline::TimeSource::kTsc
      : o.pcap_files.empty() ? dp.profiles()[0].packet_time
                             : pipeline::TimeSource::kDynfieldMicros;
  absl::StatusOr<pipeline::PacketClock> clock =
      pipeline::PacketClock::Create(time_source);
  if (!clock.ok()) return clock.status();

  const pipeline::PipelineConfig config =
      MakePipelineConfig(o, plan, input, dp);
  const bool offline = config.offline;
  absl::StatusOr<std::vector<std::unique_ptr<pipeline::FlowWorkerEngine>>>
      flow_engines = MakeFlowEngines(o, plan, input, offline, watchlists);
  if (!flow_engines.ok()) return flow_engines.status();
  std::vector<pipeline::FlowWorkerEngine*> flow_ptrs;
  std::vector<pipeline::WorkerEngine*> engine_ptrs;
  for (const auto& e : *flow_engines) {
    flow_ptrs.push_back(e.get());
    engine_ptrs.push_back(e.get());
  }

  // Offline: sorted and numbered at the end. Live: written as they close, so
  // an operator tailing the file sees them at once.
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
  std::unique_ptr<telemetry::Publisher> tel;
  auto stats_owner = std::make_unique<pipeline::FlowStatsEngine>(
      MakeDetectorConfig(o, input), flow_ptrs, [&](incident::Incident i) {
        if (live_writer != nullptr) {
          live_writer->Write(i);
          live_out.flush();
          if (tel) tel->OnIncident(i);
          live_incidents.push_back(std::move(i));
        } else {
          log.Add(std::move(i));
        }
      });
  pipeline::FlowStatsEngine& stats = *stats_owner;
  if (!offline) stats.SetOpenedCallback(AnnounceOpened);

  CatchStopSignals();
  pipeline::Pipeline pipe(config, dp.pool(), *clock, engine_ptrs, &stats,
                          &StopRequest());
  if (absl::Status s = pipe.Init(); !s.ok()) return s;
  const bool progress =
      o.progress == 1 ||
      (o.progress == -1 && isatty(STDERR_FILENO) && offline && !o.quiet);
  tel = MakePublisher({.pipeline = &pipe,
                       .stats = &stats,
                       .flow = {flow_ptrs.begin(), flow_ptrs.end()},
                       .ports = dp.ports(),
                       .offline = offline},
                      o, plan, dp.profile_dir(), *telemetry_socket);
  stats.SetBucketObserver(
      [&tel](int, const flow::Bucket& b) { tel->OnBucket(b); });

  ReplayMeter meter(o.duration_seconds);
  auto processed = [&pipe, &plan]() {
    uint64_t n = 0;
    for (uint16_t w = 0; w < plan.workers; ++w)
      n += pipe.worker(w).packets.load(std::memory_order_relaxed);
    return n;
  };
  absl::Status run = pipe.Run([&](const pipeline::Progress& p) {
    if (progress) PrintProgress(p);
    if (watchlists != nullptr) ReloadAndReclaimRules(watchlists);
    if (dp.replay()) meter.Tick(p.elapsed_seconds, processed);
    tel->Publish(p.packet_time_ns, false);
  });
  if (progress) std::fputs("\n", stderr);
  if (!run.ok()) return run;
  if (watchlists != nullptr) {
    std::fprintf(stderr, "edgecap: rules: %s\n",
                 watchlists->Summary().dump().c_str());
  }
  if (dp.replay()) meter.Report();

  RunFacts facts;
  // What the pipeline handed to the engines: with the port's counters and
  // ring-full it accounts for every packet received.
  facts.packets = processed();
  for (const auto& e : *flow_engines) {
    facts.dns_transactions += e->worker().stats().dns_queries;
    facts.evictions += e->worker().stats().evictions;
    facts.failures_without_query_frame +=
        e->worker().stats().failures_without_query_frame;
    facts.query_frames_per_worker = e->worker().config().frame_ring_slots;
    const flow::WorkerConfig& c = e->worker().config();
    facts.timeout_recorded_within_seconds =
        static_cast<double>(c.query_timeout_ns + c.sweep_period_ns) /
        static_cast<double>(flow::kNsPerSecond);
  }
  const incident::DetectorStats& detected = stats.detector().stats();
  facts.servers = detected.servers_tracked;
  facts.watchlist_dropped = detected.watchlist_dropped;
  facts.watchlist_evidence_dropped = detected.watchlist_evidence_dropped;
  facts.workers = plan.workers;
  facts.hardware_dispatch = plan.hardware;
  // Drops are never silent.
  facts.drops = SumDrops(dp.ports());
  facts.ring_full = pipe.dispatcher().ring_full.load();
  for (uint16_t w = 0; w < plan.workers; ++w)
    facts.ring_full += pipe.worker(w).ring_full.load();
  facts.short_reads = pipe.short_reads();
  facts.source =
      offline ? o.pcap_files[0] : (o.iface.empty() ? "DPDK ports" : o.iface);

  std::vector<incident::Incident> incidents;
  if (offline) {
    incidents = log.Finalize().incidents();
    if (!o.incidents_path.empty()) {
      if (absl::Status s = WriteIncidentLog(o.incidents_path, log); !s.ok()) {
        return s;
      }
    }
  } else {
    incidents = std::move(live_incidents);
  }
  // Offline incidents are numbered only now; the last snapshot is final.
  if (offline) tel->SetIncidents(incidents);
  tel->Publish(pipe.last_packet_time(), true);
  if (absl::Status s = ReportRun(o, facts, incidents); !s.ok()) return s;

  if (o.linger && !StopRequest().load()) {
    std::fflush(stdout);
    std::fprintf(stderr,
                 "edgecap: input drained; serving telemetry on %s until "
                 "SIGINT/SIGTERM\n",
                 telemetry_socket->c_str());
    while (!StopRequest().load(std::memory_order_relaxed)) {
      if (watchlists != nullptr) ReloadAndReclaimRules(watchlists);
      usleep(100 * 1000);
    }
  }
  // After a long capture the detector holds many small allocations (storm
  // trackers' names, per-server state): freeing them one by one took 30 ms
  // of a 0.55 s run on 1M records, for memory the exit returns at once. Kept
  // reachable, so leak checkers see no leak; nothing uses it any more.
  static auto* const kept =
      new std::vector<std::unique_ptr<pipeline::FlowStatsEngine>>;
  kept->push_back(std::move(stats_owner));
  return absl::OkStatus();
}

}  // namespace edgecap::app
