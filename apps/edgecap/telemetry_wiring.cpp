#include "apps/edgecap/telemetry_wiring.h"

#include <rte_eal.h>

#include <cstdio>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "apps/edgecap/config.h"
#include "apps/edgecap/version.h"
#include "lib/telemetry/commands.h"
#include "lib/telemetry/watchlists_control.h"

namespace edgecap::app {

absl::StatusOr<std::string> ServeTelemetry(const Options& o) {
  const std::string socket =
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
    std::fprintf(stderr, "edgecap: telemetry socket %s\n", socket.c_str());
  }
  return socket;
}

std::unique_ptr<telemetry::Publisher> MakePublisher(
    telemetry::Sources sources, const Options& o, const Plan& plan,
    const std::string& profile_dir, const std::string& socket) {
  const telemetry::Json thresholds = {
      {"query_timeout_seconds", o.thresholds.query_timeout_seconds},
      {"window_seconds", o.thresholds.window_seconds},
      {"min_failures", o.thresholds.min_failures},
      {"min_failure_ratio", o.thresholds.min_failure_ratio},
      {"recovery_seconds", o.thresholds.recovery_seconds},
      {"quiet_seconds", o.thresholds.quiet_seconds}};
  telemetry::Json effective = {{"version", kEdgecapVersion},
                               {"input", sources.offline ? "pcap" : "live"},
                               {"pcap", o.pcap_files},
                               {"iface", o.iface},
                               {"workers", plan.workers},
                               {"dispatch", plan.hardware ? "hw" : "sw"},
                               {"queues_per_port", plan.queues},
                               {"incidents", o.incidents_path},
                               {"report", o.report_path},
                               {"rules", o.rules_path},
                               {"config_file", o.config_path},
                               {"profiles", profile_dir},
                               {"linger", o.linger ? 1 : 0},
                               {"telemetry_socket", socket},
                               {"thresholds", thresholds}};
  auto tel = std::make_unique<telemetry::Publisher>(std::move(sources),
                                                    std::move(effective));
  tel->Publish(std::numeric_limits<int64_t>::min(), false);
  return tel;
}

RulesTelemetry::RulesTelemetry(pipeline::Watchlists* watchlists) {
  if (watchlists != nullptr) {
    telemetry::SetRulesControl(
        std::make_shared<telemetry::WatchlistsControl>(watchlists));
  }
}

RulesTelemetry::~RulesTelemetry() { telemetry::SetRulesControl(nullptr); }

}  // namespace edgecap::app
