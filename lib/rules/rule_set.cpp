#include "lib/rules/rule_set.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <thread>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"

namespace edgecap::rules {

// Single writer per counter: a plain load and store, no locked instruction.
static inline void Bump(std::atomic<uint64_t>* c) {
  c->store(c->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

uint64_t RuleSet::Generation::Sum(uint32_t index, int workers) const {
  uint64_t total = 0;
  for (int w = 0; w < workers; ++w) {
    total += row(w)[index].load(std::memory_order_relaxed);
  }
  return total;
}

RuleSet::RuleSet(int max_workers)
    : max_workers_(std::max(max_workers, 1)),
      slots_(new Slot[static_cast<size_t>(std::max(max_workers, 1))]) {
  absl::StatusOr<std::shared_ptr<const Database>> empty = Database::Compile({});
  absl::StatusOr<std::unique_ptr<Generation>> g =
      empty.ok() ? MakeGeneration(*std::move(empty))
                 : absl::StatusOr<std::unique_ptr<Generation>>(empty.status());
  if (!g.ok()) std::abort();  // an empty rule set needs no Hyperscan at all
  (*g)->number = ++last_number_;
  current_.store(g->release());
}

RuleSet::~RuleSet() {
  for (int w = 0; w < max_workers_; ++w) {
    if (slots_[w].taken.load()) std::abort();  // a RuleWorker outlives us
  }
  delete current_.load();
}

absl::StatusOr<std::unique_ptr<RuleSet::Generation>> RuleSet::MakeGeneration(
    std::shared_ptr<const Database> db) const {
  auto g = std::make_unique<Generation>();
  g->stride = (db->rules().size() + 7) & ~size_t{7};
  size_t n = g->stride * static_cast<size_t>(max_workers_);
  g->counters.reset(new std::atomic<uint64_t>[n]);
  for (size_t i = 0; i < n; ++i) {
    g->counters[i].store(0, std::memory_order_relaxed);
  }
  absl::StatusOr<ScratchPtr> proto = db->AllocScratch();
  if (!proto.ok()) return proto.status();
  g->scratch.resize(static_cast<size_t>(max_workers_));
  for (int w = 0; w < max_workers_; ++w) {
    absl::StatusOr<ScratchPtr> s = db->CloneScratch(proto->get());
    if (!s.ok()) return s.status();
    g->scratch[w] = *std::move(s);
  }
  g->db = std::move(db);
  return g;
}

absl::Status RuleSet::LoadFiles(std::span<const std::string> paths) {
  absl::StatusOr<std::shared_ptr<const Database>> db =
      Database::CompileFiles(paths);
  if (!db.ok()) return db.status();
  return Publish(*std::move(db));
}

absl::Status RuleSet::Publish(std::shared_ptr<const Database> db) {
  absl::StatusOr<std::unique_ptr<Generation>> g = MakeGeneration(std::move(db));
  if (!g.ok()) return g.status();
  {
    std::lock_guard<std::mutex> lock(mu_);
    (*g)->number = ++last_number_;
    // Order matters: a worker that reads the new epoch must then read the
    // new pointer (it loads the epoch first), so the pointer goes first.
    Generation* old = current_.exchange(g->release());
    uint64_t retire_epoch = epoch_.fetch_add(1) + 1;
    retired_.emplace_back(retire_epoch, std::unique_ptr<Generation>(old));
  }
  Reclaim();
  return absl::OkStatus();
}

void RuleSet::FoldLocked(const Generation& g) {
  const std::vector<Rule>& rules = g.db->rules();
  for (uint32_t i = 0; i < rules.size(); ++i) {
    uint64_t n = g.Sum(i, max_workers_);
    if (n != 0) folded_hits_[rules[i].id] += n;
  }
}

size_t RuleSet::Reclaim() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t oldest = kOffline;
  for (int w = 0; w < max_workers_; ++w) {
    oldest = std::min(oldest, slots_[w].seen.load());
  }
  auto keep = std::remove_if(retired_.begin(), retired_.end(), [&](auto& r) {
    if (r.first > oldest) return false;
    // Every worker has passed a quiescent state since this generation was
    // replaced: its counters are final and nobody can reach it any more.
    FoldLocked(*r.second);
    r.second.reset();
    return true;
  });
  retired_.erase(keep, retired_.end());
  return retired_.size();
}

bool RuleSet::Synchronize(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (Reclaim() != 0) {
    if (absl::Now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

absl::StatusOr<std::unique_ptr<RuleWorker>> RuleSet::NewWorker(
    int index, size_t cache_entries) {
  if (index < 0 || index >= max_workers_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "worker index ", index, " out of range [0, ", max_workers_, ")"));
  }
  if (slots_[index].taken.exchange(true)) {
    return absl::FailedPreconditionError(
        absl::StrCat("worker slot ", index, " already has a RuleWorker"));
  }
  std::unique_ptr<RuleWorker> w(new RuleWorker(this, index, cache_entries));
  w->Online();
  return w;
}

uint32_t RuleSet::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_.load()->number;
}

std::shared_ptr<const Database> RuleSet::database() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_.load()->db;
}

uint64_t RuleSet::HitsLocked(uint32_t id) const {
  uint64_t total = 0;
  if (auto it = folded_hits_.find(id); it != folded_hits_.end()) {
    total = it->second;
  }
  auto add = [&](const Generation& g) {
    int64_t i = g.db->IndexOf(id);
    if (i >= 0) total += g.Sum(static_cast<uint32_t>(i), max_workers_);
  };
  add(*current_.load());
  for (const auto& r : retired_) add(*r.second);
  return total;
}

std::vector<RuleSet::RuleHits> RuleSet::Hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RuleHits> out;
  for (const Rule& r : current_.load()->db->rules()) {
    out.push_back({r.id, HitsLocked(r.id)});
  }
  return out;
}

uint64_t RuleSet::HitsForId(uint32_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return HitsLocked(id);
}

RuleWorker::RuleWorker(RuleSet* set, int index, size_t cache_entries)
    : set_(set), index_(index) {
  if (cache_entries > 0) {
    cache_.resize(std::bit_ceil(cache_entries));
    cache_mask_ = cache_.size() - 1;
  }
}

RuleWorker::~RuleWorker() {
  Offline();
  set_->slots_[index_].taken.store(false);
}

void RuleWorker::Adopt(RuleSet::Generation* g) {
  gen_ = g;
  scratch_ = g->scratch[index_].get();
  counters_ = g->row(index_);
}

void RuleWorker::Quiesce() {
  uint64_t e = set_->epoch_.load();
  RuleSet::Generation* g = set_->current_.load();
  if (g != gen_) Adopt(g);
  set_->slots_[index_].seen.store(e, std::memory_order_release);
}

void RuleWorker::Offline() {
  if (!online_) return;
  online_ = false;
  set_->slots_[index_].seen.store(RuleSet::kOffline, std::memory_order_release);
}

void RuleWorker::Online() {
  if (online_) return;
  online_ = true;
  // Announce an epoch before reading the pointer (both sequentially
  // consistent): either Reclaim() sees us online and spares what we may
  // read, or we read the pointer it has already replaced it with.
  set_->slots_[index_].seen.store(set_->epoch_.load());
  std::atomic_thread_fence(std::memory_order_seq_cst);
  Quiesce();
}

void RuleWorker::Count() {
  for (int i = 0; i < verdict_.count; ++i) Bump(&counters_[verdict_.rule[i]]);
}

const Verdict& RuleWorker::Match(std::string_view qname) {
  // Without a cache the hash would be wasted work.
  return Match(qname, cache_.empty() ? 0 : absl::HashOf(qname));
}

const Verdict* RuleWorker::MatchCached(uint64_t name_hash) {
  if (cache_.empty()) return nullptr;
  const CacheEntry& e = cache_[name_hash & cache_mask_];
  if (e.hash != name_hash || e.generation != gen_->number) return nullptr;
  Bump(&matches_);
  Bump(&cache_hits_);
  verdict_.count = e.count;
  verdict_.truncated = false;
  for (int i = 0; i < e.count; ++i) verdict_.rule[i] = e.rule[i];
  Count();
  return &verdict_;
}

const Verdict& RuleWorker::Match(std::string_view qname, uint64_t name_hash) {
  if (const Verdict* v = MatchCached(name_hash)) return *v;
  Bump(&matches_);
  if (!cache_.empty()) {
    CacheEntry& e = cache_[name_hash & cache_mask_];
    gen_->db->Match(qname, scratch_, &verdict_);
    if (!verdict_.truncated) {
      e.hash = name_hash;
      e.generation = gen_->number;
      e.count = verdict_.count;
      for (int i = 0; i < verdict_.count; ++i) e.rule[i] = verdict_.rule[i];
    }
  } else {
    gen_->db->Match(qname, scratch_, &verdict_);
  }
  Count();
  return verdict_;
}

}  // namespace edgecap::rules
