// `watchlist` incidents: the stats side of lib/rules' watch lists. Flow
// workers put a WatchRecord in the bucket of each new query whose name fired
// a rule (flow/watch.h); the Detector hands every processed second's records
// here. One incident per (rule ID, server): it opens at the first matching
// query and closes once quiet_seconds pass without another one
// (docs/detection.md, "Watch lists"). Only query times are used, so the
// result does not depend on how queries were split across workers.
//
//   WatchlistTracker t(config);
//   t.AddSecond(buckets_of_second_s, &out);   // in second order
//   t.CloseQuiet((s + 1) * kNsPerSecond, &out);
//   t.Finish(final_ns, &out);                 // end of input
#ifndef EDGECAP_LIB_INCIDENT_WATCHLIST_H_
#define EDGECAP_LIB_INCIDENT_WATCHLIST_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "lib/flow/bucket.h"
#include "lib/incident/incident.h"

namespace edgecap::incident {

class WatchlistTracker {
 public:
  explicit WatchlistTracker(const DetectorConfig& config);
  ~WatchlistTracker();

  // Every bucket of one second (any worker order). Incidents that a record
  // shows closed (it came quiet_seconds or more after their last match) go
  // to `out`.
  void AddSecond(std::span<const flow::Bucket* const> buckets,
                 std::vector<Incident>* out);
  // Every record before `now_ns` has been added: closes the incidents whose
  // last match is quiet_seconds or more before it.
  void CloseQuiet(int64_t now_ns, std::vector<Incident>* out);
  // End of input: closes what `final_ns` closes, the rest is emitted open.
  void Finish(int64_t final_ns, std::vector<Incident>* out);

  bool has_open() const { return !open_.empty(); }
  uint64_t opened() const { return opened_; }
  uint64_t dropped() const { return dropped_; }
  // Hits whose (rule, server) found no evidence slot in their bucket.
  uint64_t dropped_evidence() const { return dropped_evidence_; }

 private:
  struct Key {
    uint32_t rule_id;
    flow::ServerKey server;
    friend bool operator==(const Key&, const Key&) = default;
    friend auto operator<=>(const Key& a, const Key& b) {
      if (a.rule_id != b.rule_id) return a.rule_id <=> b.rule_id;
      return a.server <=> b.server;
    }
  };
  struct Open;

  void Emit(const Key& key, Open& o, bool open, std::vector<Incident>* out);

  DetectorConfig config_;
  absl::btree_map<Key, std::unique_ptr<Open>> open_;
  uint64_t opened_ = 0;
  uint64_t dropped_ = 0;
  uint64_t dropped_evidence_ = 0;
};

}  // namespace edgecap::incident

#endif  // EDGECAP_LIB_INCIDENT_WATCHLIST_H_
