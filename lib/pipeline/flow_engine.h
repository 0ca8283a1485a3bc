// Wires lib/flow and lib/incident into the pipeline: FlowWorkerEngine runs a
// flow::Worker on a worker lcore and ships its closed buckets to the stats
// lcore over an SPSC ring (and takes spent ones back over another, so the
// fast path does not allocate); FlowStatsEngine feeds them to the
// incident::Detector with each worker's watermark.
//
//   FlowStats stats(detector_config, workers, sink);
//   std::vector<std::unique_ptr<FlowWorkerEngine>> engines = ...;
//   stats.Attach(w, engines[w].get());
#ifndef EDGECAP_LIB_PIPELINE_FLOW_ENGINE_H_
#define EDGECAP_LIB_PIPELINE_FLOW_ENGINE_H_

#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/flow/provisional.h"
#include "lib/flow/worker.h"
#include "lib/incident/detector.h"
#include "lib/pipeline/engine.h"

namespace edgecap::pipeline {

// A flow worker's counters as the stats lcore may read them (relaxed loads):
// copied from flow::WorkerStats by the worker itself once per second of
// packet time and at the end, so reading never touches worker state.
struct alignas(64) FlowCounters {
  std::atomic<uint64_t> packets{0}, dns_queries{0}, dns_responses{0},
      dns_undecodable{0}, retries{0}, unmatched_responses{0}, late_responses{0},
      icmp_errors{0}, icmp_matched{0}, icmp_orphans{0}, tcp_syns{0},
      tcp_refused{0}, timeouts{0}, evictions{0}, table_entries{0},
      table_capacity{0}, failures_without_query_frame{0};
};

class FlowWorkerEngine : public WorkerEngine {
 public:
  static absl::StatusOr<std::unique_ptr<FlowWorkerEngine>> Create(
      const flow::WorkerConfig& config, int id);
  ~FlowWorkerEngine() override;

  void OnPacket(int64_t ts_ns, const parse::Packet& packet,
                parse::Bytes frame) override {
    worker_->Process(ts_ns, packet, frame);
    AfterTime(ts_ns);
  }
  void OnBurst(const int64_t* ts_ns, const parse::Packet* packets,
               const parse::Bytes* frames, uint16_t n) override {
    worker_->ProcessBurst(ts_ns, packets, frames, n);
    if (n > 0) {
      AfterTime(ts_ns[n - 1]);
    } else if (worker_->watermark_second() != published_ || pending_) {
      Publish();
    }
  }
  void AdvanceTime(int64_t ts_ns) override {
    worker_->Advance(ts_ns);
    AfterTime(ts_ns);
  }
  void Quiescent() override {
    if (watcher_ != nullptr) watcher_->Quiesce();
  }
  void Finish(int64_t last_ts_ns) override;

  // Optional watch lists (not owned; outlives the run): the flow worker asks
  // it about every new query; it gets this worker's quiescent points.
  void SetWatcher(flow::QueryWatcher* watcher) {
    watcher_ = watcher;
    worker_->SetWatcher(watcher);
  }

  const flow::Worker& worker() const { return *worker_; }
  const FlowCounters& counters() const { return counters_; }

  // Early opening (live): every `period_ns` of packet time the worker
  // summarises the buckets it still holds (flow::ProvisionalTracker) for the
  // stats lcore. Off unless enabled (offline output must not depend on it).
  void EnableProvisional(int64_t period_ns) {
    summary_period_ns_ = period_ns;
    next_summary_ns_ = std::numeric_limits<int64_t>::min();
  }

 private:
  friend class FlowStatsEngine;
  FlowWorkerEngine() = default;
  // Sends closed buckets; publishes the watermark once all below it are sent.
  // Returns false while a bucket waits for room in the ring.
  bool Publish();
  void MirrorCounters();
  void Summarize(int64_t ts_ns);
  // What follows packets or a clock tick at `ts_ns`: closed buckets out,
  // early-opening summaries, and the counters telemetry reads. Those follow
  // the traffic, not the bucket watermark, which first moves a hold time
  // (~18 s) after start-up.
  void AfterTime(int64_t ts_ns) {
    if (worker_->watermark_second() != published_ || pending_) Publish();
    if (ts_ns >= next_summary_ns_) Summarize(ts_ns);
    if (ts_ns >= next_mirror_ns_) {
      MirrorCounters();
      next_mirror_ns_ = ts_ns + kMirrorPeriodNs;
    }
  }

  std::unique_ptr<flow::Worker> worker_;
  flow::QueryWatcher* watcher_ = nullptr;
  rte_ring* to_stats_ = nullptr;
  rte_ring* spent_ = nullptr;
  std::unique_ptr<flow::Bucket> pending_;
  int64_t published_ = std::numeric_limits<int64_t>::min();
  alignas(64) std::atomic<int64_t> watermark_{
      std::numeric_limits<int64_t>::min()};
  FlowCounters counters_;
  // Telemetry snapshots are taken ~4 times a second.
  static constexpr int64_t kMirrorPeriodNs = 100'000'000;
  int64_t next_mirror_ns_ = std::numeric_limits<int64_t>::min();

  // Provisional summaries: built on the worker lcore, handed over in a slot
  // the worker only try_locks (it never waits for the stats lcore).
  int64_t summary_period_ns_ = 0;
  int64_t next_summary_ns_ = std::numeric_limits<int64_t>::max();
  flow::ProvisionalTracker tracker_;
  flow::ProvisionalSummary building_;
  std::mutex summary_mu_;
  flow::ProvisionalSummary shared_;  // guarded by summary_mu_
  bool shared_fresh_ = false;        // guarded by summary_mu_
};

class FlowStatsEngine : public StatsEngine {
 public:
  FlowStatsEngine(const incident::DetectorConfig& config,
                  std::vector<FlowWorkerEngine*> workers,
                  incident::Detector::Sink sink);

  void Poll() override;
  void Finish(int64_t last_ts_ns) override;

  // Called on the stats lcore after a Poll() that opened incidents (server
  // incidents and NXDOMAIN storms, counted since start): live, incidents are
  // only written when they close, so this is how an operator (and the live
  // test) sees the moment one opens.
  using OpenedCallback = std::function<void(uint64_t opened_so_far)>;
  void SetOpenedCallback(OpenedCallback f) { on_opened_ = std::move(f); }

  const incident::Detector& detector() const { return detector_; }

  // Sees every bucket, on the stats lcore, before the detector takes it
  // (lib/telemetry's per-server totals).
  using BucketObserver = std::function<void(int worker, const flow::Bucket&)>;
  void SetBucketObserver(BucketObserver f) { observer_ = std::move(f); }

 private:
  void Drain();
  bool TakeProvisional();

  BucketObserver observer_;
  std::vector<FlowWorkerEngine*> workers_;
  incident::Detector detector_;
  OpenedCallback on_opened_;
  uint64_t reported_opened_ = 0;
};

}  // namespace edgecap::pipeline

#endif  // EDGECAP_LIB_PIPELINE_FLOW_ENGINE_H_
