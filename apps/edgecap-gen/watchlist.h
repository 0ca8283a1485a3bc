// The watch-list scenarios: lookups of names on a watch list planted among
// healthy background traffic, the rule files that list them (written beside
// the capture as FILE.rules and FILE.domains), and the ground truth of the
// `watchlist` incidents by docs/detection.md ("Watch lists"). The truth
// matches names with std::regex and plain suffix comparison, not Hyperscan,
// so it checks edgecap's matching independently.
//
//   gen::Scene scene(seed, true);
//   gen::Watchlist(&scene, options, /*load=*/false);
//   nlohmann::ordered_json inc =
//       gen::WatchlistIncidents(scene.log(), scene.last_time(), 300 * kSec);
#ifndef EDGECAP_APPS_EDGECAP_GEN_WATCHLIST_H_
#define EDGECAP_APPS_EDGECAP_GEN_WATCHLIST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "apps/edgecap-gen/scenarios.h"
#include "apps/edgecap-gen/scene.h"
#include "nlohmann/json.hpp"

namespace edgecap::gen {

// `load`: background traffic sized to options.packets (for runs long enough
// to reload rules during them); otherwise about 30k packets.
void Watchlist(Scene* scene, const ScenarioOptions& options, bool load);

// Rule files of the scenario: Hyperscan expression file, domain list.
std::string WatchlistRulesFile();
std::string WatchlistDomainsFile();

// `watchlist` incidents of `log` (DESIGN.md's shape without id, evidence and
// summary), in output order.
nlohmann::ordered_json WatchlistIncidents(const std::vector<TxnRecord>& log,
                                          int64_t end_ns, int64_t quiet_ns);
// Matching queries per rule ID over the whole log (the per-rule counters).
std::vector<std::pair<uint32_t, uint64_t>> WatchlistHits(
    const std::vector<TxnRecord>& log);

}  // namespace edgecap::gen

#endif  // EDGECAP_APPS_EDGECAP_GEN_WATCHLIST_H_
