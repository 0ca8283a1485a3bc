// Hot-swappable watch list shared by the worker lcores, with per-rule hit
// counters, without DPDK (so it is unit-tested without EAL).
//
// RuleSet (control thread) compiles a Database and publishes it as a new
// generation: one atomic pointer store. Each RuleWorker (one per worker
// lcore) picks the current generation up at its quiescent points, i.e.
// Quiesce() between bursts, and records the epoch it has seen. A replaced
// generation is freed by Reclaim() only once every online worker has
// reported an epoch at least as new as its retirement (quiescent-state-based
// reclamation, the scheme of DPDK's rte_rcu_qsbr), so a worker never touches
// a freed database, and a worker never waits for the control thread.
//
// Each generation carries, per worker slot, a Hyperscan scratch cloned by the
// control thread and a row of hit counters (one writer each); the worker
// keeps a direct-mapped verdict cache keyed by the name's hash and tagged with
// the generation number, so a swap invalidates it for free. Hit counts survive
// reloads: when a generation is freed its counts are added to totals kept by
// rule ID, so nothing is lost and nothing is counted twice.
//
//   rules::RuleSet set(/*max_workers=*/4);
//   if (absl::Status s = set.LoadFiles(paths); !s.ok()) return s;  // start-up
//   // worker lcore w:
//   std::unique_ptr<rules::RuleWorker> rw = *set.NewWorker(w);
//   while (running) {
//     rw->Quiesce();                         // once per burst, even empty ones
//     for (each query) {
//       const rules::Verdict& v = rw->Match(qname);
//       for (int i = 0; i < v.count; ++i) Emit(rw->rule(v.rule[i]));
//     }
//   }
//   rw.reset();                              // or rw->Offline() while idle
//   // control thread, on SIGHUP or /edgecap/rules/reload:
//   absl::Status s = set.LoadFiles(paths);   // error: old rules stay
//   set.Reclaim();                           // also call it once per tick
#ifndef EDGECAP_LIB_RULES_RULE_SET_H_
#define EDGECAP_LIB_RULES_RULE_SET_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lib/rules/database.h"
#include "lib/rules/verdict.h"

namespace edgecap::rules {

class RuleWorker;

class RuleSet {
 public:
  // Starts with an empty database (nothing matches).
  explicit RuleSet(int max_workers);
  // Every RuleWorker must have been destroyed.
  ~RuleSet();
  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  // Compiles the files and publishes them. On any error nothing changes and
  // the status says which file and line (see rule_file.h, database.h).
  absl::Status LoadFiles(std::span<const std::string> paths);
  absl::Status Publish(std::shared_ptr<const Database> db);

  // Frees the retired generations every online worker has moved past.
  // Returns how many are still waiting. Control thread only.
  size_t Reclaim();
  // Reclaims until nothing waits (true) or `timeout` passes (false).
  bool Synchronize(absl::Duration timeout);

  // A worker's handle for slot `index` (0 <= index < max_workers, one handle
  // per slot at a time). `cache_entries` is rounded up to a power of two;
  // 0 disables the verdict cache. Allocates: call it before the fast path.
  // The default, 2 MB of entries, holds the ~19k names of the bench mix
  // (edgecap-gen mix, 1M packets): one pass answers 87% of its queries from
  // the cache (4096 entries: 32%).
  absl::StatusOr<std::unique_ptr<RuleWorker>> NewWorker(
      int index, size_t cache_entries = 65536);

  int max_workers() const { return max_workers_; }
  uint32_t generation() const;
  std::shared_ptr<const Database> database() const;

  struct RuleHits {
    uint32_t id;
    uint64_t hits;
  };
  // For every rule of the current database, in its order: hits summed over
  // workers and over every generation that had a rule with that ID.
  std::vector<RuleHits> Hits() const;
  uint64_t HitsForId(uint32_t id) const;

 private:
  friend class RuleWorker;
  static constexpr uint64_t kOffline = UINT64_MAX;

  struct Generation {
    std::shared_ptr<const Database> db;
    uint32_t number = 0;
    size_t stride = 0;  // counters per worker row, a multiple of 8 (64 B)
    std::unique_ptr<std::atomic<uint64_t>[]> counters;
    std::vector<ScratchPtr> scratch;  // one per worker slot
    std::atomic<uint64_t>* row(int worker) const {
      return counters.get() + static_cast<size_t>(worker) * stride;
    }
    uint64_t Sum(uint32_t index, int workers) const;
  };
  struct alignas(64) Slot {
    std::atomic<uint64_t> seen{kOffline};
    std::atomic<bool> taken{false};
  };

  absl::StatusOr<std::unique_ptr<Generation>> MakeGeneration(
      std::shared_ptr<const Database> db) const;
  void FoldLocked(const Generation& g);
  uint64_t HitsLocked(uint32_t id) const;

  const int max_workers_;
  std::unique_ptr<Slot[]> slots_;
  std::atomic<Generation*> current_{nullptr};
  std::atomic<uint64_t> epoch_{1};

  mutable std::mutex mu_;  // control side only; workers never take it
  uint32_t last_number_ = 0;
  std::vector<std::pair<uint64_t, std::unique_ptr<Generation>>> retired_;
  absl::flat_hash_map<uint32_t, uint64_t> folded_hits_;  // by rule ID
};

class RuleWorker {
 public:
  ~RuleWorker();  // goes offline and frees the slot
  RuleWorker(const RuleWorker&) = delete;
  RuleWorker& operator=(const RuleWorker&) = delete;

  // A quiescent point: the worker holds no Verdict, Rule or Database
  // reference from before this call. Picks up a newly published database.
  void Quiesce();
  // While offline (e.g. sleeping on an idle queue) the worker does not hold
  // back reclamation; it must not call Match() until Online().
  void Offline();
  void Online();

  // The rules `qname` fires; counts one hit for each. The reference is valid
  // until the next Match() or Quiesce(). `name_hash` keys the verdict cache;
  // pass the hash the caller already has, or use the overload that computes
  // one (a per-process seeded hash, so nobody can aim collisions at it).
  const Verdict& Match(std::string_view qname, uint64_t name_hash);
  const Verdict& Match(std::string_view qname);
  // The verdict cache alone: the verdict of the name `name_hash` stands for
  // (as Match() keys it), counted like Match(), or null when the cache does
  // not have it for the current rules; then call Match(qname, name_hash).
  // A caller whose text is not written yet writes it only on a miss.
  const Verdict* MatchCached(uint64_t name_hash);
  // Starts loading the cache line MatchCached(name_hash) will read.
  void Prefetch(uint64_t name_hash) const {
    if (!cache_.empty()) __builtin_prefetch(&cache_[name_hash & cache_mask_]);
  }

  // Valid until the next Quiesce().
  const Rule& rule(uint32_t index) const { return gen_->db->rule(index); }
  const Database& database() const { return *gen_->db; }
  uint32_t generation() const { return gen_->number; }
  int index() const { return index_; }

  struct Stats {
    uint64_t matches = 0;     // Match() calls
    uint64_t cache_hits = 0;  // answered from the verdict cache
  };
  Stats stats() const {
    return {matches_.load(std::memory_order_relaxed),
            cache_hits_.load(std::memory_order_relaxed)};
  }

 private:
  friend class RuleSet;
  RuleWorker(RuleSet* set, int index, size_t cache_entries);
  void Adopt(RuleSet::Generation* g);
  void Count();

  // 32 bytes, aligned so that an entry never straddles two cache lines
  // (Prefetch() loads one).
  struct alignas(32) CacheEntry {
    uint64_t hash = 0;
    uint32_t generation = 0;  // 0: empty (generations start at 1)
    uint8_t count = 0;
    uint32_t rule[kMaxHits] = {};
  };

  RuleSet* const set_;
  const int index_;
  RuleSet::Generation* gen_ = nullptr;
  hs_scratch_t* scratch_ = nullptr;
  std::atomic<uint64_t>* counters_ = nullptr;
  std::vector<CacheEntry> cache_;
  size_t cache_mask_ = 0;
  Verdict verdict_;
  bool online_ = false;
  std::atomic<uint64_t> matches_{0};
  std::atomic<uint64_t> cache_hits_{0};
};

}  // namespace edgecap::rules

#endif  // EDGECAP_LIB_RULES_RULE_SET_H_
