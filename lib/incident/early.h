// Early opening of incidents. The detector decides on final buckets, which
// the workers publish only ~19 s after their second (a transaction can live
// 15 s); live, that is far too late to say that an outage began. Workers
// therefore also summarise the buckets they still hold (flow::
// ProvisionalTracker), and the detector opens an incident as soon as final +
// provisional counts over the trailing window meet the same thresholds
// (DetectorConfig). Failures are monotone, so the final buckets normally
// confirm the opening moments later; the written record still comes from the
// final buckets only. An early open the final buckets never confirm is
// counted (DetectorStats::early_opens_unconfirmed), not written.
//
//   det.OfferProvisional(summary);          // newest per worker
//   det.Poll();
//   det.EvaluateEarly();                    // may announce an opening
//   for (const OpenIncident& o : det.OpenIncidents()) ...   // telemetry
#ifndef EDGECAP_LIB_INCIDENT_EARLY_H_
#define EDGECAP_LIB_INCIDENT_EARLY_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/flow/bucket.h"
#include "lib/flow/provisional.h"
#include "lib/incident/detector.h"
#include "lib/incident/incident.h"

namespace edgecap::incident {

// An incident open right now, as far as the stats side knows.
struct OpenIncident {
  Incident incident;      // state open; counts so far (no evidence, no id)
  bool early = false;     // opened on provisional counts, not yet confirmed
  int64_t opened_ns = 0;  // packet time of the early opening
};

struct Detector::EarlyBook {
  struct Early {
    int64_t opened_ns = 0;
    int64_t first_seen_ns = INT64_MAX;
    int64_t last_seen_ns = INT64_MIN;
    int64_t last_failure_second = INT64_MIN;  // newest second with failures
    uint64_t queries = 0, answered = 0;
    std::array<uint64_t, flow::kFailCount> failures{};
  };
  std::vector<flow::ProvisionalSummary> latest;  // per worker
  bool fresh = false;
  absl::flat_hash_map<flow::ServerKey, Early> open;
};

}  // namespace edgecap::incident

#endif  // EDGECAP_LIB_INCIDENT_EARLY_H_
