#include "lib/pipeline/flow_engine.h"

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_pause.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace edgecap::pipeline {
namespace {

// Buckets are per second of packet time; 1024 in flight is many minutes of
// backlog on the stats lcore before a worker has to wait.
constexpr unsigned kBucketRing = 1024;

}  // namespace

absl::StatusOr<std::unique_ptr<FlowWorkerEngine>> FlowWorkerEngine::Create(
    const flow::WorkerConfig& config, int id) {
  absl::StatusOr<std::unique_ptr<flow::Worker>> worker =
      flow::Worker::Create(config, id);
  if (!worker.ok()) return worker.status();
  std::unique_ptr<FlowWorkerEngine> e(new FlowWorkerEngine());
  e->worker_ = std::move(*worker);
  const std::string base = absl::StrCat("ecb", getpid() % 100000, "_", id);
  e->to_stats_ =
      rte_ring_create((base + "o").c_str(), kBucketRing, rte_socket_id(),
                      RING_F_SP_ENQ | RING_F_SC_DEQ);
  e->spent_ = rte_ring_create((base + "s").c_str(), kBucketRing,
                              rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (e->to_stats_ == nullptr || e->spent_ == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot create the bucket rings of worker ", id, ": ",
                     rte_strerror(rte_errno)));
  }
  return e;
}

FlowWorkerEngine::~FlowWorkerEngine() {
  for (rte_ring* r : {to_stats_, spent_}) {
    if (r == nullptr) continue;
    void* obj;
    while (rte_ring_dequeue(r, &obj) == 0)
      delete static_cast<flow::Bucket*>(obj);
    rte_ring_free(r);
  }
}

void FlowWorkerEngine::MirrorCounters() {
  const flow::WorkerStats& st = worker_->stats();
  auto set = [](std::atomic<uint64_t>& a, uint64_t v) {
    a.store(v, std::memory_order_relaxed);
  };
  set(counters_.packets, st.packets);
  set(counters_.dns_queries, st.dns_queries);
  set(counters_.dns_responses, st.dns_responses);
  set(counters_.dns_undecodable, st.dns_undecodable);
  set(counters_.retries, st.retries);
  set(counters_.unmatched_responses, st.unmatched_responses);
  set(counters_.late_responses, st.late_responses);
  set(counters_.icmp_errors, st.icmp_errors);
  set(counters_.icmp_matched, st.icmp_matched);
  set(counters_.icmp_orphans, st.icmp_orphans);
  set(counters_.tcp_syns, st.tcp_syns);
  set(counters_.tcp_refused, st.tcp_refused);
  set(counters_.timeouts, st.timeouts);
  set(counters_.evictions, st.evictions);
  set(counters_.failures_without_query_frame, st.failures_without_query_frame);
  set(counters_.table_entries, worker_->table().size());
  set(counters_.table_capacity, worker_->config().max_transactions);
}

bool FlowWorkerEngine::Publish() {
  MirrorCounters();
  void* obj;
  while (rte_ring_sc_dequeue(spent_, &obj) == 0) {
    worker_->Recycle(
        std::unique_ptr<flow::Bucket>(static_cast<flow::Bucket*>(obj)));
  }
  if (pending_) {
    if (rte_ring_sp_enqueue(to_stats_, pending_.get()) != 0) return false;
    pending_.release();
  }
  std::unique_ptr<flow::Bucket> b;
  while (worker_->PopClosed(&b)) {
    if (rte_ring_sp_enqueue(to_stats_, b.get()) != 0) {
      pending_ = std::move(b);
      return false;
    }
    b.release();
  }
  published_ = worker_->watermark_second();
  watermark_.store(published_, std::memory_order_release);
  return true;
}

void FlowWorkerEngine::Summarize(int64_t ts_ns) {
  next_summary_ns_ = ts_ns + summary_period_ns_;
  tracker_.Summarize(*worker_, ts_ns, &building_);
  std::unique_lock<std::mutex> lock(summary_mu_, std::try_to_lock);
  if (!lock.owns_lock()) {
    next_summary_ns_ = ts_ns;  // try again at the next packet or tick
    return;
  }
  std::swap(shared_, building_);
  shared_fresh_ = true;
}

void FlowWorkerEngine::Finish(int64_t last_ts_ns) {
  worker_->Finish(last_ts_ns);
  // No more matching: stop holding back the reclamation of old watch lists.
  if (watcher_ != nullptr) watcher_->Offline();
  // The stats lcore keeps draining while workers finish.
  while (!Publish()) rte_pause();
}

FlowStatsEngine::FlowStatsEngine(const incident::DetectorConfig& config,
                                 std::vector<FlowWorkerEngine*> workers,
                                 incident::Detector::Sink sink)
    : workers_(std::move(workers)),
      detector_(config, static_cast<int>(workers_.size()), std::move(sink)) {}

void FlowStatsEngine::Drain() {
  for (size_t w = 0; w < workers_.size(); ++w) {
    FlowWorkerEngine& e = *workers_[w];
    // Watermark first: every bucket below it is in the ring by then.
    const int64_t watermark = e.watermark_.load(std::memory_order_acquire);
    void* obj;
    while (rte_ring_sc_dequeue(e.to_stats_, &obj) == 0) {
      if (observer_) {
        observer_(static_cast<int>(w), *static_cast<flow::Bucket*>(obj));
      }
      detector_.Offer(
          static_cast<int>(w),
          std::unique_ptr<flow::Bucket>(static_cast<flow::Bucket*>(obj)));
    }
    if (watermark != std::numeric_limits<int64_t>::min()) {
      detector_.SetWatermark(static_cast<int>(w), watermark);
    }
  }
}

bool FlowStatsEngine::TakeProvisional() {
  bool any = false;
  for (FlowWorkerEngine* e : workers_) {
    std::lock_guard<std::mutex> lock(e->summary_mu_);
    if (!e->shared_fresh_) continue;
    e->shared_fresh_ = false;
    detector_.OfferProvisional(e->shared_);
    any = true;
  }
  return any;
}

void FlowStatsEngine::Poll() {
  // Summaries first: the buckets they do not cover are in the rings by the
  // time Drain() reads the watermarks.
  const bool provisional = TakeProvisional();
  Drain();
  detector_.Poll();
  if (provisional) detector_.EvaluateEarly();
  // Early opens and final opens no early one announced (and storms).
  const uint64_t opened = detector_.stats().opens_announced;
  if (opened > reported_opened_) {
    reported_opened_ = opened;
    if (on_opened_) on_opened_(opened);
  }
  for (size_t w = 0; w < workers_.size(); ++w) {
    std::unique_ptr<flow::Bucket> spent;
    while (detector_.PopSpent(static_cast<int>(w), &spent)) {
      if (rte_ring_sp_enqueue(workers_[w]->spent_, spent.get()) == 0) {
        spent.release();
      }  // else: the worker has plenty; let this one go
    }
  }
}

void FlowStatsEngine::Finish(int64_t last_ts_ns) {
  Drain();
  detector_.Finish(last_ts_ns);
  detector_.SettleEarly();
}

}  // namespace edgecap::pipeline
