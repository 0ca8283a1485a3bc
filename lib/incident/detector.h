// The stats side: merges the buckets every flow worker publishes, once every
// worker's watermark has passed their second, and turns the per-server
// counts into incidents (per server, and NXDOMAIN storms per attacked
// domain) by the rules of docs/detection.md. Merging only sums and takes
// minima/maxima, and details are sorted before use, so the result does not
// depend on how packets were split across workers.
//
//   incident::Detector det(config, n_workers, [&](incident::Incident i) {
//     log.Add(std::move(i));
//   });
//   det.Offer(w, std::move(bucket));        // in each worker's order
//   det.SetWatermark(w, worker.watermark_second());
//   det.Poll();                             // handles complete seconds
//   ...
//   det.Finish(final_ns);                   // end of input: flush open ones
//   std::unique_ptr<flow::Bucket> spent;
//   while (det.PopSpent(w, &spent)) worker.Recycle(std::move(spent));
#ifndef EDGECAP_LIB_INCIDENT_DETECTOR_H_
#define EDGECAP_LIB_INCIDENT_DETECTOR_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "lib/flow/bucket.h"
#include "lib/flow/provisional.h"
#include "lib/incident/incident.h"
#include "lib/incident/storm.h"
#include "lib/incident/watchlist.h"

namespace edgecap::incident {

struct DetectorStats {
  uint64_t seconds_processed = 0;
  uint64_t buckets_merged = 0;
  uint64_t incidents_opened = 0;
  uint64_t incidents_closed = 0;
  uint64_t storms_opened = 0;
  uint64_t reclassified_applied = 0;
  uint64_t dropped_details = 0;  // records the workers could not keep
  uint64_t servers_tracked = 0;
  uint64_t domains_tracked = 0;
  uint64_t watchlist_opened = 0;
  uint64_t watchlist_dropped = 0;  // hits the workers could not keep
  // Hits that got no evidence frames: their (rule, server) was beyond the
  // 64 keys a worker keeps frames for per second (flow/bucket.h).
  uint64_t watchlist_evidence_dropped = 0;
  // Early opening (early.h): "opened" announcements (early opens, plus final
  // opens no early one announced, plus storms), early opens, those the final
  // buckets then opened too, and those they never did (not written).
  uint64_t opens_announced = 0;
  uint64_t early_opens = 0;
  uint64_t early_opens_confirmed = 0;
  uint64_t early_opens_unconfirmed = 0;
};

struct OpenIncident;

class Detector {
 public:
  using Sink = std::function<void(Incident)>;

  Detector(const DetectorConfig& config, int n_workers, Sink sink);
  ~Detector();

  // Buckets of one worker must arrive in increasing second order.
  void Offer(int worker, std::unique_ptr<flow::Bucket> bucket);
  // Every bucket of that worker with second < below_second has been offered.
  void SetWatermark(int worker, int64_t below_second);
  // Processes every second below every worker's watermark.
  void Poll();
  // End of input at `final_ns` (after every worker's Finish() and its
  // buckets were offered): processes the rest and emits the incidents still
  // open, with state open unless the final time closes them.
  void Finish(int64_t final_ns);

  // Processed buckets, to give back to their worker (Worker::Recycle).
  bool PopSpent(int worker, std::unique_ptr<flow::Bucket>* out);

  const DetectorStats& stats() const { return stats_; }
  // Seconds below this are processed.
  int64_t processed_below() const { return next_second_; }

  // Early opening (lib/incident/early.cpp, docs/detection.md): the latest
  // provisional summary of a worker's held buckets (flow::ProvisionalTracker).
  void OfferProvisional(const flow::ProvisionalSummary& summary);
  // Opens incidents early where final + provisional counts over the window
  // ending at the summaries' packet time meet the thresholds; settles early
  // opens the final buckets did not confirm. Call after Poll().
  void EvaluateEarly();
  // Counts early opens still unconfirmed as unconfirmed (after Finish()).
  void SettleEarly();
  // Incidents open right now (stats side): final ones and early ones.
  std::vector<OpenIncident> OpenIncidents() const;

 private:
  struct EarlyBook;
  // Final (processed) counts of a server over seconds (lo, processed).
  struct FinalWindow {
    bool open = false;
    int64_t lo = 0;  // exclusive lower second of the window
    uint64_t failed = 0, answered = 0;
    int64_t first_failed_ns = INT64_MAX;
  };
  FinalWindow FinalWindowOf(const flow::ServerKey& key, int64_t now_s) const;
  void AppendFinalOpen(std::vector<OpenIncident>* out) const;
  bool ConfirmEarly(const flow::ServerKey& key);
  struct ServerState;
  struct Accum;

  void ProcessUpTo(int64_t below, int64_t final_ns);
  void ProcessSecond(int64_t s, int64_t now_ns);
  void EvaluateServers(int64_t s, int64_t now_ns,
                       const std::vector<ServerState*>& touched);
  void EmitServer(ServerState& st, bool open);
  void FlushEmitted();

  DetectorConfig config_;
  Sink sink_;
  std::vector<std::deque<std::unique_ptr<flow::Bucket>>> pending_;
  std::vector<std::deque<std::unique_ptr<flow::Bucket>>> spent_;
  std::vector<int64_t> watermarks_;
  int64_t next_second_ = INT64_MIN;
  bool finished_ = false;

  absl::flat_hash_map<flow::ServerKey, std::unique_ptr<ServerState>> servers_;
  // Servers with something to evaluate each second.
  absl::flat_hash_set<flow::ServerKey> active_servers_;
  std::vector<Incident> emitted_;  // this second's, sorted before the sink
  std::unique_ptr<EarlyBook> early_;
  std::unique_ptr<StormTracker> storms_;
  std::unique_ptr<WatchlistTracker> watch_;
  int64_t last_gc_second_ = INT64_MIN;
  DetectorStats stats_;
};

}  // namespace edgecap::incident

#endif  // EDGECAP_LIB_INCIDENT_DETECTOR_H_
