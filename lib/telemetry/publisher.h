// Builds telemetry snapshots on the stats lcore and publishes them to the
// SnapshotStore: counters the workers publish (relaxed atomic loads, one
// writer each), port drop counters, the detector's statistics, per-server
// totals summed from the buckets, and the incidents emitted so far. Called a
// few times per second (the pipeline's progress tick), never per packet.
//
//   telemetry::Publisher tel({.pipeline = &pipe, .stats = &stats, ...},
//                            config_json);
//   stats.SetBucketObserver([&](int, const flow::Bucket& b) {
//     tel.OnBucket(b);
//   });
//   ... sink: tel.OnIncident(incident);
//   ... progress tick: tel.Publish(progress.packet_time_ns, false);
//   tel.SetIncidents(log.Finalize().incidents());  // offline, numbered
//   tel.Publish(pipe.last_packet_time(), true);
#ifndef EDGECAP_LIB_TELEMETRY_PUBLISHER_H_
#define EDGECAP_LIB_TELEMETRY_PUBLISHER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "lib/flow/bucket.h"
#include "lib/incident/incident.h"
#include "lib/pipeline/flow_engine.h"
#include "lib/pipeline/pipeline.h"
#include "lib/telemetry/server_board.h"
#include "lib/telemetry/snapshot.h"

namespace edgecap::telemetry {

struct Sources {
  const pipeline::Pipeline* pipeline = nullptr;
  const pipeline::FlowStatsEngine* stats = nullptr;
  std::vector<const pipeline::FlowWorkerEngine*> flow;  // one per worker
  std::vector<uint16_t> ports;
  bool offline = false;
};

class Publisher {
 public:
  Publisher(Sources sources, Json config,
            SnapshotStore* store = &SnapshotStore::Global());

  // Stats lcore: every bucket, before the detector takes it.
  void OnBucket(const flow::Bucket& bucket) { board_.Add(bucket); }
  // Stats lcore: an emitted incident (live: numbered already).
  void OnIncident(const incident::Incident& incident);
  // Replaces the list (offline: sorted and numbered at the end).
  void SetIncidents(const std::vector<incident::Incident>& incidents);

  void Publish(int64_t packet_time_ns, bool final);

  const ServerBoard& board() const { return board_; }

 private:
  Json Stats(int64_t packet_time_ns, bool final) const;
  Json Workers();
  Json Servers() const;

  Sources sources_;
  Json config_;
  SnapshotStore* store_;
  absl::Time start_;
  uint64_t generation_ = 0;
  ServerBoard board_;
  std::vector<std::shared_ptr<const IncidentEntry>> incidents_;
  // Previous polls per worker, for the recent idle share.
  std::vector<uint64_t> last_polls_, last_idle_;
};

// The id under which a still-open incident is listed and fetched while
// running, "open-<16 hex digits>": written incidents are numbered only when
// written (live: when they close), yet an operator must be able to fetch
// the open one whole. A hash of what makes it distinct (kind, server,
// domain, rule), so it stays the same from snapshot to snapshot.
std::string OpenIncidentId(const incident::Incident& i);

// Exposed for tests.
std::shared_ptr<const IncidentEntry> MakeEntry(const incident::Incident& i);
Json ServerJson(const ServerRow& row);

}  // namespace edgecap::telemetry

#endif  // EDGECAP_LIB_TELEMETRY_PUBLISHER_H_
