#include "apps/edgecap/rules_reload.h"

#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_split.h"
#include "apps/edgecap/signals.h"

namespace edgecap::app {

absl::StatusOr<std::unique_ptr<pipeline::Watchlists>> LoadWatchlists(
    const Options& o, uint16_t workers) {
  if (o.rules_path.empty()) return nullptr;
  return pipeline::Watchlists::Load(
      absl::StrSplit(o.rules_path, ',', absl::SkipEmpty()), workers);
}

void ReloadAndReclaimRules(pipeline::Watchlists* wl) {
  if (TakeReloadRequest()) {
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

}  // namespace edgecap::app
