#include "lib/incident/early.h"

#include <algorithm>
#include <utility>

#include "lib/incident/classify.h"
#include "lib/incident/detector.h"

namespace edgecap::incident {
namespace {

using flow::kFailCount;
using flow::SecondOf;

// One server's provisional (or not yet processed) counts in one second.
struct Part {
  int64_t second;
  uint64_t queries, answered, failed;
  std::array<uint64_t, kFailCount> failures;
  int64_t first_failed_ns, last_evidence_ns;
};

}  // namespace

void Detector::OfferProvisional(const flow::ProvisionalSummary& summary) {
  if (!early_) early_ = std::make_unique<EarlyBook>();
  if (summary.worker < 0 ||
      static_cast<size_t>(summary.worker) >= watermarks_.size()) {
    return;
  }
  if (early_->latest.size() != watermarks_.size()) {
    early_->latest.resize(watermarks_.size());
  }
  early_->latest[summary.worker] = summary;
  early_->fresh = true;
}

bool Detector::ConfirmEarly(const flow::ServerKey& key) {
  return early_ && early_->open.erase(key) > 0;
}

void Detector::EvaluateEarly() {
  if (!early_ || !early_->fresh) return;
  early_->fresh = false;
  int64_t now_ns = INT64_MIN;
  for (const auto& s : early_->latest) now_ns = std::max(now_ns, s.now_ns);
  if (now_ns == INT64_MIN) return;
  const int64_t now_s = SecondOf(now_ns);

  // Everything not final yet: the workers' held buckets (seconds at or past
  // both the summary's and the merge's watermark, so nothing counts twice)
  // and buckets offered but not processed.
  absl::flat_hash_map<flow::ServerKey, std::vector<Part>> parts;
  for (size_t w = 0; w < early_->latest.size(); ++w) {
    const flow::ProvisionalSummary& s = early_->latest[w];
    const int64_t from = std::max(s.below_second, watermarks_[w]);
    for (const flow::ProvisionalEntry& e : s.entries) {
      if (e.second < from) continue;
      Part p{e.second,          e.queries, e.answered,
             e.failed,          {},        e.first_failed_query_ns,
             e.last_evidence_ns};
      for (int k = 0; k < kFailCount; ++k) p.failures[k] = e.failures[k];
      parts[e.server].push_back(p);
    }
  }
  for (const auto& q : pending_) {
    for (const auto& b : q) {
      if (next_second_ != INT64_MIN && b->second < next_second_) continue;
      absl::flat_hash_map<flow::ServerKey, std::pair<int64_t, int64_t>> span;
      for (const flow::FailureRecord& r : b->failures) {
        auto [it, fresh] =
            span.try_emplace(r.server, r.query_ns, r.evidence_ns);
        if (!fresh) {
          it->second.first = std::min(it->second.first, r.query_ns);
          it->second.second = std::max(it->second.second, r.evidence_ns);
        }
      }
      for (const flow::ServerCounters& c : b->servers) {
        if (c.failed == 0 && !parts.contains(c.server)) continue;
        Part p{b->second, c.queries, c.answered, c.failed,
               {},        INT64_MAX, INT64_MIN};
        for (int k = 0; k < kFailCount; ++k) p.failures[k] = c.failures[k];
        if (auto it = span.find(c.server); it != span.end()) {
          p.first_failed_ns = it->second.first;
          p.last_evidence_ns = it->second.second;
        }
        parts[c.server].push_back(p);
      }
    }
  }

  std::vector<flow::ServerKey> keys;
  keys.reserve(parts.size());
  for (const auto& [k, v] : parts) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  for (const flow::ServerKey& key : keys) {
    const std::vector<Part>& ps = parts[key];
    const FinalWindow f = FinalWindowOf(key, now_s);
    if (f.open) continue;  // the final buckets opened it already
    EarlyBook::Early sum;
    sum.first_seen_ns = f.first_failed_ns;
    uint64_t failed = f.failed, provisional_failed = 0;
    uint64_t answered = f.answered;
    for (const Part& p : ps) {
      if (p.second <= f.lo) continue;
      failed += p.failed;
      provisional_failed += p.failed;
      answered += p.answered;
      sum.queries += p.queries;
      sum.answered += p.answered;
      for (int k = 0; k < kFailCount; ++k) sum.failures[k] += p.failures[k];
      if (p.failed > 0) {
        sum.last_failure_second = std::max(sum.last_failure_second, p.second);
        sum.first_seen_ns = std::min(sum.first_seen_ns, p.first_failed_ns);
        sum.last_seen_ns = std::max(sum.last_seen_ns, p.last_evidence_ns);
      }
    }
    auto it = early_->open.find(key);
    if (it != early_->open.end()) {
      // Still open early: keep what the record will hold, roughly.
      EarlyBook::Early& e = it->second;
      e.last_failure_second =
          std::max(e.last_failure_second, sum.last_failure_second);
      e.last_seen_ns = std::max(e.last_seen_ns, sum.last_seen_ns);
      for (int k = 0; k < kFailCount; ++k) {
        e.failures[k] = std::max(e.failures[k], sum.failures[k]);
      }
      e.queries = std::max(e.queries, sum.queries);
      e.answered = std::max(e.answered, sum.answered);
      continue;
    }
    if (provisional_failed == 0 ||
        !MeetsOpenThresholds(config_, failed, answered)) {
      continue;
    }
    sum.opened_ns = now_ns;
    early_->open.emplace(key, sum);
    ++stats_.early_opens;
    ++stats_.opens_announced;
  }

  // An early open the final buckets have not confirmed by the time they are
  // processed past its last failing second never will be.
  if (next_second_ != INT64_MIN) {
    for (auto it = early_->open.begin(); it != early_->open.end();) {
      if (it->second.last_failure_second < next_second_) {
        ++stats_.early_opens_unconfirmed;
        early_->open.erase(it++);
      } else {
        ++it;
      }
    }
  }
}

void Detector::SettleEarly() {
  if (!early_) return;
  stats_.early_opens_unconfirmed += early_->open.size();
  early_->open.clear();
}

std::vector<OpenIncident> Detector::OpenIncidents() const {
  std::vector<OpenIncident> out;
  AppendFinalOpen(&out);
  if (early_) {
    for (const auto& [key, e] : early_->open) {
      OpenIncident o;
      o.early = true;
      o.opened_ns = e.opened_ns;
      Incident& i = o.incident;
      i.open = true;
      i.kind = KindOfFailures(e.failures);
      i.server = key;
      i.first_seen_ns = e.first_seen_ns;
      i.last_seen_ns = e.last_seen_ns;
      i.queries = e.queries;
      i.answered = e.answered;
      i.failures = e.failures;
      i.severity = FailureSeverity(i.failed(), e.answered);
      out.push_back(std::move(o));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const OpenIncident& a, const OpenIncident& b) {
              return IncidentLess(a.incident, b.incident);
            });
  return out;
}

}  // namespace edgecap::incident
