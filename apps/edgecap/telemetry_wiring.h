// The run's side of lib/telemetry: the /edgecap/ commands on EAL's socket
// (with the operator group's access), the publisher of the snapshots they
// read, and the watch lists behind /edgecap/rules.
//
//   RulesTelemetry rules_telemetry(watchlists.get());   // may be nullptr
//   absl::StatusOr<std::string> socket = ServeTelemetry(o);   // after EAL
//   std::unique_ptr<telemetry::Publisher> tel =
//       MakePublisher(sources, o, plan, profile_dir, *socket);
#ifndef EDGECAP_APPS_EDGECAP_TELEMETRY_WIRING_H_
#define EDGECAP_APPS_EDGECAP_TELEMETRY_WIRING_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "apps/edgecap/options.h"
#include "apps/edgecap/preflight.h"
#include "lib/pipeline/watchlists.h"
#include "lib/telemetry/publisher.h"

namespace edgecap::app {

// Registers the commands unless --no-telemetry; returns the socket's path,
// which tests and operators look for (the shortcut's file prefix is per
// process). A failure to register only warns; one to grant the telemetry
// group access fails the run.
absl::StatusOr<std::string> ServeTelemetry(const Options& o);

// The first snapshot is published at once, with the effective settings.
std::unique_ptr<telemetry::Publisher> MakePublisher(
    telemetry::Sources sources, const Options& o, const Plan& plan,
    const std::string& profile_dir, const std::string& socket);

// /edgecap/rules answers from these watch lists while this lives; they must
// outlive it.
class RulesTelemetry {
 public:
  explicit RulesTelemetry(pipeline::Watchlists* watchlists);
  RulesTelemetry(const RulesTelemetry&) = delete;
  RulesTelemetry& operator=(const RulesTelemetry&) = delete;
  ~RulesTelemetry();
};

}  // namespace edgecap::app

#endif  // EDGECAP_APPS_EDGECAP_TELEMETRY_WIRING_H_
