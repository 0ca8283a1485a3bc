// What telemetry handlers read: an immutable Snapshot the stats lcore builds
// a few times per second and publishes through a SnapshotStore. Handlers run
// on DPDK's telemetry thread; they only ever Load() the current snapshot and
// never touch worker or detector state, so a slow or hostile client cannot
// disturb packet processing and never sees a half-updated structure.
//
//   SnapshotStore& store = SnapshotStore::Global();
//   auto s = std::make_shared<Snapshot>();        // on the stats lcore
//   s->stats = ...;
//   store.Publish(std::move(s));
//   std::shared_ptr<const Snapshot> now = store.Load();   // in a handler
#ifndef EDGECAP_LIB_TELEMETRY_SNAPSHOT_H_
#define EDGECAP_LIB_TELEMETRY_SNAPSHOT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace edgecap::telemetry {

using Json = nlohmann::ordered_json;

// One incident, rendered once when it is emitted (not per snapshot).
struct IncidentEntry {
  // "edgecap-<n>" once written; "open-<hash>" while open (OpenIncidentId);
  // empty for written ones not yet numbered (offline, still running).
  std::string id;
  bool open = false;
  Json brief;   // the fields of one /edgecap/incidents row
  Json record;  // the whole incident record (DESIGN.md's schema)
};

struct Snapshot {
  uint64_t generation = 0;
  bool final = false;  // input drained (offline) or stopping
  Json stats = Json::object();
  Json workers = Json::object();  // {"workers": [...], "dispatcher": ...}
  Json config = Json::object();
  Json servers = Json::array();  // by queries, descending; at most kMaxServers
  uint64_t servers_tracked = 0;
  // Emission order live; (first_seen, kind, server) once numbered offline.
  std::vector<std::shared_ptr<const IncidentEntry>> incidents;
};

// At most this many server rows are kept in a snapshot (top by queries).
inline constexpr size_t kMaxServers = 256;

class SnapshotStore {
 public:
  // The process-wide store the registered commands read. Never destroyed:
  // DPDK's telemetry threads outlive main's objects and rte_eal_cleanup().
  static SnapshotStore& Global();

  void Publish(std::shared_ptr<const Snapshot> snapshot) {
    current_.store(std::move(snapshot), std::memory_order_release);
  }
  // Null until the first Publish().
  std::shared_ptr<const Snapshot> Load() const {
    return current_.load(std::memory_order_acquire);
  }

 private:
  std::atomic<std::shared_ptr<const Snapshot>> current_;
};

}  // namespace edgecap::telemetry

#endif  // EDGECAP_LIB_TELEMETRY_SNAPSHOT_H_
