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

void ProvisionalTracker::Recycle(Held& h) {
  for (const auto& [server, span] : h.failing) {
    auto it = state_of_.find(server);
    if (it == state_of_.end()) continue;  // cannot happen: counted on insert
    ServerState& st = states_[it->second];
    if (--st.failing == 0) {
      free_states_.push_back(it->second);
      state_of_.erase(it);
    }
  }
  h.failing.clear();
  h.members.clear();
  h.fresh.clear();
  spare_.push_back(std::move(h));
}

void ProvisionalTracker::StartFailing(const ServerKey& server) {
  auto [it, inserted] = state_of_.try_emplace(server, 0);
  if (!inserted) {
    ++states_[it->second].failing;
    return;
  }
  if (free_states_.empty()) {
    it->second = static_cast<uint32_t>(states_.size());
    states_.emplace_back();
  } else {
    it->second = free_states_.back();
    free_states_.pop_back();
  }
  ServerState& st = states_[it->second];
  st.failing = 1;
  st.epoch = ++epoch_;
  // Once per spell of failure: its counters in every held second are listed
  // from now on (later seconds through the scan of new servers).
  for (Held& h : held_) {
    if (const ServerCounters* c = FindCounters(*h.bucket, server)) {
      h.fresh.push_back({static_cast<uint32_t>(c - h.bucket->servers.data()),
                         it->second, st.epoch});
    }
  }
}

void ProvisionalTracker::Emit(Held& h, ProvisionalSummary* out) {
  const Bucket& b = *h.bucket;
  auto before = [&b](const Member& x, const Member& y) {
    return b.servers[x.counters].server < b.servers[y.counters].server;
  };
  if (!h.fresh.empty()) {
    std::sort(h.fresh.begin(), h.fresh.end(), before);
    merged_.clear();
    auto live = [this](const Member& m) { return Live(m); };
    auto a = h.members.begin(), f = h.fresh.begin();
    while (a != h.members.end() || f != h.fresh.end()) {
      const bool take_fresh =
          a == h.members.end() || (f != h.fresh.end() && before(*f, *a));
      const Member& m = take_fresh ? *f++ : *a++;
      if (live(m)) merged_.push_back(m);
    }
    h.members.swap(merged_);
    h.fresh.clear();
  }
  size_t kept = 0;
  for (const Member& m : h.members) {
    if (!Live(m)) continue;  // stopped failing: dropped for good
    h.members[kept++] = m;
    const ServerCounters& c = b.servers[m.counters];
    if (c.queries == 0 && c.answered == 0 && c.failed == 0) continue;
    ProvisionalEntry& e = out->entries.emplace_back();
    e.server = c.server;
    e.second = h.second;
    e.queries = c.queries;
    e.answered = c.answered;
    e.failed = c.failed;
    e.failures = c.failures;
    if (c.failed > 0) {
      // A failure record of this server in this bucket implies failed > 0
      // (RecordFailureIn counts it in the same bucket's counters).
      if (auto f = h.failing.find(c.server); f != h.failing.end()) {
        e.first_failed_query_ns = f->second.first_query_ns;
        e.last_evidence_ns = f->second.last_evidence_ns;
      }
    }
  }
  h.members.resize(kept);
}

void ProvisionalTracker::Summarize(const Worker& worker, int64_t now_ns,
                                   ProvisionalSummary* out) {
  out->worker = worker.id();
  out->now_ns = now_ns;
  out->below_second = worker.watermark_second();
  out->entries.clear();

  // Forget what was published (or recycled into another second) since.
  const auto& held = worker.held();
  kept_.clear();
  size_t k = 0;
  for (const auto& b : held) {
    if (!b) continue;
    while (k < held_.size() && held_[k].second < b->second) Recycle(held_[k++]);
    if (k < held_.size() && held_[k].second == b->second &&
        held_[k].bucket == b.get() && held_[k].scanned <= b->failures.size() &&
        held_[k].scanned_servers <= b->servers.size()) {
      kept_.push_back(std::move(held_[k++]));
    } else {
      if (k < held_.size() && held_[k].second == b->second) {
        Recycle(held_[k++]);
      }
      Held h;
      if (!spare_.empty()) {
        h = std::move(spare_.back());
        spare_.pop_back();
      }
      h.second = b->second;
      h.bucket = b.get();
      h.scanned = 0;
      h.scanned_servers = 0;
      kept_.push_back(std::move(h));
    }
  }
  while (k < held_.size()) Recycle(held_[k++]);
  held_.swap(kept_);

  // Servers new in a held second that already fail somewhere.
  for (Held& h : held_) {
    const std::vector<ServerCounters>& servers = h.bucket->servers;
    if (!state_of_.empty()) {
      for (size_t i = h.scanned_servers; i < servers.size(); ++i) {
        auto it = state_of_.find(servers[i].server);
        if (it == state_of_.end()) continue;
        h.fresh.push_back(
            {static_cast<uint32_t>(i), it->second, states_[it->second].epoch});
      }
    }
    h.scanned_servers = servers.size();
  }
  // New failure records: which servers fail, and their time span.
  for (Held& h : held_) {
    const Bucket& b = *h.bucket;
    for (size_t i = h.scanned; i < b.failures.size(); ++i) {
      const FailureRecord& r = b.failures[i];
      auto [it, inserted] = h.failing.try_emplace(r.server);
      Held::Span& s = it->second;
      s.first_query_ns = std::min(s.first_query_ns, r.query_ns);
      s.last_evidence_ns = std::max(s.last_evidence_ns, r.evidence_ns);
      if (inserted) StartFailing(r.server);
    }
    h.scanned = b.failures.size();
  }
  if (state_of_.empty()) {
    for (Held& h : held_) {
      h.members.clear();
      h.fresh.clear();
    }
    return;
  }
  for (Held& h : held_) Emit(h, out);
}

}  // namespace edgecap::flow
