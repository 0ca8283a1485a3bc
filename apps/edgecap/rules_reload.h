// The watch lists (--rules) over a run: compiled before EAL starts so a bad
// file stops edgecap with one line, reloaded on SIGHUP by the stats lcore.
//
//   absl::StatusOr<std::unique_ptr<pipeline::Watchlists>> wl =
//       LoadWatchlists(options, workers);   // nullptr without --rules
//   ReloadAndReclaimRules(wl->get());       // stats lcore, each tick
#ifndef EDGECAP_APPS_EDGECAP_RULES_RELOAD_H_
#define EDGECAP_APPS_EDGECAP_RULES_RELOAD_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "apps/edgecap/options.h"
#include "lib/pipeline/watchlists.h"

namespace edgecap::app {

absl::StatusOr<std::unique_ptr<pipeline::Watchlists>> LoadWatchlists(
    const Options& o, uint16_t workers);

// A pending SIGHUP reload (said on stderr, refused reloads keep the old
// rules), then reclamation of the databases no worker can still be using.
void ReloadAndReclaimRules(pipeline::Watchlists* wl);

}  // namespace edgecap::app

#endif  // EDGECAP_APPS_EDGECAP_RULES_RELOAD_H_
