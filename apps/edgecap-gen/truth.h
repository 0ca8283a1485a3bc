// Ground truth of a scenario: the incidents a correct edgecap reports for the
// scene's transaction log, computed by the rules of docs/detection.md with the
// default thresholds, and the counts of what the generator wrote. Scenarios
// are designed so that these rules give one unambiguous answer (clear onsets,
// quiet gaps around closes); see scenarios.cpp.
//
//   nlohmann::ordered_json truth = gen::TruthJson(scene, "outage", seed,
//                                                 /*with_incidents=*/true);
#ifndef EDGECAP_APPS_EDGECAP_GEN_TRUTH_H_
#define EDGECAP_APPS_EDGECAP_GEN_TRUTH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "apps/edgecap-gen/scene.h"
#include "nlohmann/json.hpp"

namespace edgecap::gen {

struct Thresholds {
  int64_t window = 300 * kSec;
  uint64_t min_failures = 3;
  double min_failure_ratio = 0.5;
  int64_t recovery = 10 * kSec;
  int64_t quiet = 300 * kSec;
  int64_t query_timeout = kQueryTimeout;
  int64_t storm_window = 60 * kSec;
  uint64_t storm_answers = 200;
  uint64_t storm_names = 100;
};

// "2024-03-14T13:24:32.192571Z" (sub-microsecond digits dropped).
std::string Rfc3339(int64_t ns);

// Incident records (DESIGN.md's shape without id, evidence and summary), in
// output order: (first_seen, kind, server).
nlohmann::ordered_json ComputeIncidents(const std::vector<TxnRecord>& log,
                                        int64_t end_ns, const Thresholds& th);

nlohmann::ordered_json CountsJson(const Counts& counts,
                                  const std::vector<TxnRecord>& log);

}  // namespace edgecap::gen

#endif  // EDGECAP_APPS_EDGECAP_GEN_TRUTH_H_
