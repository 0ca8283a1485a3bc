// /edgecap/rules and /edgecap/rules/reload over the appliance's watch lists
// (pipeline::Watchlists): the RulesControl the telemetry commands call. A
// reload, successful or not, is also said on stderr for the operator's log.
//
//   telemetry::SetRulesControl(
//       std::make_shared<telemetry::WatchlistsControl>(watchlists.get()));
//   ...
//   telemetry::SetRulesControl(nullptr);   // before watchlists go away
#ifndef EDGECAP_LIB_TELEMETRY_WATCHLISTS_CONTROL_H_
#define EDGECAP_LIB_TELEMETRY_WATCHLISTS_CONTROL_H_

#include <cstdio>
#include <string>

#include "lib/pipeline/watchlists.h"
#include "lib/telemetry/commands.h"

namespace edgecap::telemetry {

class WatchlistsControl : public RulesControl {
 public:
  explicit WatchlistsControl(pipeline::Watchlists* watchlists)
      : watchlists_(watchlists) {}
  Json Summary() override { return watchlists_->Summary(); }
  absl::StatusOr<Json> Reload() override {
    absl::StatusOr<Json> r = watchlists_->Reload();
    if (r.ok()) {
      std::fprintf(stderr,
                   "edgecap: rules reloaded (telemetry): generation %u\n",
                   watchlists_->generation());
    } else {
      std::fprintf(stderr,
                   "edgecap: rules reload (telemetry) refused, old rules "
                   "stay: %s\n",
                   std::string(r.status().message()).c_str());
    }
    std::fflush(stderr);
    return r;
  }

 private:
  pipeline::Watchlists* const watchlists_;
};

}  // namespace edgecap::telemetry

#endif  // EDGECAP_LIB_TELEMETRY_WATCHLISTS_CONTROL_H_
