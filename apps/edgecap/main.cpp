// edgecap: DNS/ICMP incident detection on DPDK ports. See options.h for the
// command line, run.h for a run and lib/pipeline/pipeline.h for the lcore
// roles.
#include <net/if.h>

#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "apps/edgecap/config.h"
#include "apps/edgecap/options.h"
#include "apps/edgecap/preflight.h"
#include "apps/edgecap/rules_reload.h"
#include "apps/edgecap/run.h"
#include "apps/edgecap/signals.h"
#include "apps/edgecap/telemetry_wiring.h"
#include "apps/edgecap/version.h"

namespace edgecap::app {
namespace {

// Usage errors exit 2, anything else that stops a run 1.
constexpr int kUsageError = 2;

absl::Status Main(int argc, char** argv, int* exit_code) {
  absl::StatusOr<Options> parsed = ParseCommandLine(argc, argv);
  if (!parsed.ok()) {
    *exit_code = kUsageError;
    return parsed.status();
  }
  const Options& o = *parsed;
  if (o.help) {
    std::fputs(Usage().c_str(), stdout);
    return absl::OkStatus();
  }
  if (o.version) {
    std::printf("edgecap %s\n", kEdgecapVersion);
    return absl::OkStatus();
  }
  if (o.check_config) {
    absl::StatusOr<std::string> summary = CheckConfig(o);
    if (!summary.ok()) {
      *exit_code = kUsageError;
      return summary.status();
    }
    std::printf("%s: OK\n%s", o.config_path.c_str(), summary->c_str());
    return absl::OkStatus();
  }

  // Everything that can be refused without DPDK is, before EAL starts.
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
    *exit_code = kUsageError;
    return plan.status();
  }
  absl::StatusOr<std::unique_ptr<pipeline::Watchlists>> watchlists =
      LoadWatchlists(o, plan->workers);
  if (!watchlists.ok()) return watchlists.status();
  RulesTelemetry rules_telemetry(watchlists->get());
  // From here a SIGHUP only asks for a reload (never the default: exit).
  CatchReloadSignal();

  return RunAppliance(o, *plan, input, watchlists->get());
}

}  // namespace
}  // namespace edgecap::app

int main(int argc, char** argv) {
  int exit_code = 1;
  const absl::Status s = edgecap::app::Main(argc, argv, &exit_code);
  if (s.ok()) return 0;
  std::fprintf(stderr, "edgecap: %s\n", std::string(s.message()).c_str());
  return exit_code;
}
