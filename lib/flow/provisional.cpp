#include "lib/flow/provisional.h"

#include <algorithm>

#include "lib/flow/worker.h"

namespace edgecap::flow {

const ServerCounters* FindCounters(const Bucket& b, const ServerKey& server) {
  if (b.index.empty()) {
    for (const ServerCounters& c : b.servers) {
      if (c.server == server) return &c;
    }
    return nullptr;
  }
  const size_t mask = b.index.size() - 1;
  for (size_t i = server.Hash() & mask;; i = (i + 1) & mask) {
    const int32_t v = b.index[i];
    if (v < 0) return nullptr;
    if (b.servers[v].server == server) return &b.servers[v];
  }
}

void ProvisionalTracker::Summarize(const Worker& worker, int64_t now_ns,
                                   ProvisionalSummary* out) {
  out->worker = worker.id();
  out->now_ns = now_ns;
  out->below_second = worker.watermark_second();
  out->entries.clear();

  // Forget what was published (or recycled into another second) since.
  const auto& held = worker.held();
  auto recycle = [&](Held& h) {
    h.failing.clear();
    spare_.push_back(std::move(h));
  };
  std::deque<Held> kept;
  size_t k = 0;
  for (const auto& b : held) {
    if (!b) continue;
    while (k < held_.size() && held_[k].second < b->second) recycle(held_[k++]);
    if (k < held_.size() && held_[k].second == b->second &&
        held_[k].bucket == b.get() && held_[k].scanned <= b->failures.size()) {
      kept.push_back(std::move(held_[k++]));
    } else {
      if (k < held_.size() && held_[k].second == b->second) recycle(held_[k++]);
      Held h;
      if (!spare_.empty()) {
        h = std::move(spare_.back());
        spare_.pop_back();
      }
      h.second = b->second;
      h.bucket = b.get();
      h.scanned = 0;
      kept.push_back(std::move(h));
    }
  }
  while (k < held_.size()) recycle(held_[k++]);
  held_.swap(kept);

  // New failure records: which servers fail, and their time span.
  failing_.clear();
  for (Held& h : held_) {
    const Bucket& b = *h.bucket;
    for (size_t i = h.scanned; i < b.failures.size(); ++i) {
      const FailureRecord& r = b.failures[i];
      Held::Span& s = h.failing[r.server];
      s.first_query_ns = std::min(s.first_query_ns, r.query_ns);
      s.last_evidence_ns = std::max(s.last_evidence_ns, r.evidence_ns);
    }
    h.scanned = b.failures.size();
    for (const auto& [server, span] : h.failing) failing_.insert(server);
  }
  if (failing_.empty()) return;
  order_.assign(failing_.begin(), failing_.end());
  std::sort(order_.begin(), order_.end());

  for (const Held& h : held_) {
    for (const ServerKey& server : order_) {
      const ServerCounters* c = FindCounters(*h.bucket, server);
      auto f = h.failing.find(server);
      if (c == nullptr && f == h.failing.end()) continue;
      ProvisionalEntry e;
      e.server = server;
      e.second = h.second;
      if (c != nullptr) {
        e.queries = c->queries;
        e.answered = c->answered;
        e.failed = c->failed;
        e.failures = c->failures;
      }
      if (f != h.failing.end()) {
        e.first_failed_query_ns = f->second.first_query_ns;
        e.last_evidence_ns = f->second.last_evidence_ns;
      }
      if (e.queries == 0 && e.answered == 0 && e.failed == 0) continue;
      out->entries.push_back(e);
    }
  }
}

}  // namespace edgecap::flow
