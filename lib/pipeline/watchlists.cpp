#include "lib/pipeline/watchlists.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace edgecap::pipeline {

int RuleWatcher::Match(parse::DnsMessage* query, flow::WatchHit* hits) {
  const rules::Verdict* v = worker_->MatchCached(query->name_hash);
  if (v == nullptr) {
    parse::MaterializeQname(query);
    v = &worker_->Match(query->qname(), query->name_hash);
  }
  int n = 0;
  for (; n < v->count && n < flow::kMaxWatchHits; ++n) {
    const rules::Rule& r = worker_->rule(v->rule[n]);
    hits[n] = {r.id, r.label, rules::SeverityName(r.severity)};
  }
  return n;
}

Watchlists::Watchlists(std::vector<std::string> files, int workers)
    : files_(std::move(files)), set_(workers) {}

Watchlists::~Watchlists() {
  // Every RuleWorker goes before the RuleSet.
  watchers_.clear();
}

absl::StatusOr<std::unique_ptr<Watchlists>> Watchlists::Load(
    std::vector<std::string> files, int workers) {
  std::unique_ptr<Watchlists> w(new Watchlists(std::move(files), workers));
  if (absl::Status s = w->set_.LoadFiles(w->files_); !s.ok()) return s;
  for (int i = 0; i < workers; ++i) {
    absl::StatusOr<std::unique_ptr<rules::RuleWorker>> rw =
        w->set_.NewWorker(i);
    if (!rw.ok()) return rw.status();
    w->watchers_.push_back(std::make_unique<RuleWatcher>(std::move(*rw)));
  }
  return w;
}

absl::StatusOr<Watchlists::Json> Watchlists::Reload() {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = set_.LoadFiles(files_); !s.ok()) {
    ++reload_failures_;
    last_error_ = std::string(s.message());
    return s;
  }
  ++reloads_;
  set_.Reclaim();
  return SummaryLocked();
}

void Watchlists::Tick() {
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (lock.owns_lock()) set_.Reclaim();
}

Watchlists::Json Watchlists::Summary() {
  std::lock_guard<std::mutex> lock(mu_);
  return SummaryLocked();
}

Watchlists::Json Watchlists::SummaryLocked() {
  const std::shared_ptr<const rules::Database> db = set_.database();
  std::vector<rules::RuleSet::RuleHits> hits = set_.Hits();
  uint64_t total = 0, with_hits = 0;
  for (const auto& h : hits) {
    total += h.hits;
    with_hits += h.hits > 0;
  }
  std::stable_sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) {
    return a.hits != b.hits ? a.hits > b.hits : a.id < b.id;
  });
  Json listed = Json::object();
  for (const auto& h : hits) {
    if (h.hits == 0 || listed.size() == kMaxListedRules) break;
    listed[absl::StrCat(h.id)] = h.hits;
  }
  size_t lists = 0;
  for (const rules::Rule& r : db->rules()) {
    lists += r.kind == rules::RuleKind::kDomainList;
  }
  Json j;
  j["files"] = files_;
  j["generation"] = set_.generation();
  j["rules"] = db->rules().size();
  j["regex_rules"] = db->regex_count();
  j["domain_lists"] = lists;
  j["domains"] = db->domain_count();
  j["database_bytes"] = db->hyperscan_bytes() + db->domain_set_bytes();
  j["compile_ms"] = absl::ToDoubleMilliseconds(db->compile_time());
  j["reloads"] = reloads_;
  j["reload_failures"] = reload_failures_;
  j["last_reload_error"] = last_error_;
  // Queries matched, and how many of them the workers' verdict caches
  // answered (the rest ran through the database).
  uint64_t matches = 0, cache_hits = 0;
  for (const auto& w : watchers_) {
    const rules::RuleWorker::Stats s = w->rule_worker().stats();
    matches += s.matches;
    cache_hits += s.cache_hits;
  }
  j["matches"] = matches;
  j["cache_hits"] = cache_hits;
  j["hits"] = total;
  j["rules_with_hits"] = with_hits;
  // The busiest rules first, by rule ID; at most kMaxListedRules.
  j["hits_by_rule"] = listed;
  return j;
}

}  // namespace edgecap::pipeline
