#include "lib/flow/transaction_table.h"

#include <algorithm>
#include <random>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gtest/gtest.h"

namespace edgecap::flow {
namespace {

TxKey RandomKey(std::mt19937_64& rng) {
  TxKey k;
  const uint64_t a = rng(), b = rng();
  for (int i = 0; i < 4; ++i) k.client[i] = a >> (8 * i);
  for (int i = 0; i < 4; ++i) k.server[i] = b >> (8 * i);
  k.client_port = static_cast<uint16_t>(a >> 32);
  k.server_port = 53;
  k.txid = static_cast<uint16_t>(b >> 40);
  return k;
}

// The index bucket a hash starts in (the table's own mapping, recomputed
// from its public bucket count).
uint32_t HomeOf(const TransactionTable& t, uint64_t h) {
  return static_cast<uint32_t>(((h >> 32) * t.buckets()) >> 32);
}

// `n` distinct random keys whose probes all start in bucket `home`.
std::vector<TxKey> KeysHomedAt(const TransactionTable& t, uint32_t home,
                               size_t n, std::mt19937_64& rng) {
  std::vector<TxKey> keys;
  while (keys.size() < n) {
    TxKey k = RandomKey(rng);
    if (HomeOf(t, k.Hash()) == home) keys.push_back(k);
  }
  return keys;
}

TxEntry* Put(TransactionTable& t, const TxKey& k, int64_t ns,
             TxEntry* ev = nullptr, bool* evicted = nullptr) {
  TxEntry scratch;
  bool was;
  TxEntry* e =
      t.Insert(k, k.Hash(), ev ? ev : &scratch, evicted ? evicted : &was);
  e->first_ns = e->last_ns = ns;
  return e;
}

TEST(TransactionTable, EntryIsOneCacheLine) { EXPECT_EQ(sizeof(TxEntry), 64u); }

TEST(TransactionTable, RejectsBadSizes) {
  EXPECT_FALSE(TransactionTable::Create(0).ok());
  EXPECT_FALSE(TransactionTable::Create((1u << 30) + 1).ok());
  EXPECT_TRUE(TransactionTable::Create(1).ok());
}

// Issue 4: at most 64 bytes per pending transaction was the aim; entries
// are 64 bytes, so the index may add no more than 8 at 1M.
TEST(TransactionTable, MemoryPerEntryAtOneMillion) {
  for (uint32_t n : {1u << 20, (1u << 20) + 1024, 1000000u}) {
    auto t = TransactionTable::Create(n);
    ASSERT_TRUE(t.ok());
    EXPECT_LE(static_cast<double>((*t)->memory_bytes()) / n, 72.0) << n;
    EXPECT_GE((*t)->memory_bytes(), uint64_t{n} * 64) << n;
    EXPECT_EQ((*t)->slots(), n);  // one sweep step per entry
  }
}

// Random inserts and erases against a reference map: every present key is
// found, every erased one is not.
TEST(TransactionTable, MatchesAReferenceUnderChurn) {
  auto t = TransactionTable::Create(4096);
  ASSERT_TRUE(t.ok());
  std::mt19937_64 rng(7);
  absl::flat_hash_map<uint64_t, std::pair<TxKey, int64_t>> ref;
  std::vector<uint64_t> ids;
  for (int step = 0; step < 200000; ++step) {
    if (ref.size() < 4000 && (rng() % 3 != 0 || ref.empty())) {
      TxKey k = RandomKey(rng);
      const uint64_t h = k.Hash();
      if (ref.contains(h)) continue;
      TxEntry ev;
      bool evicted;
      TxEntry* e = (*t)->Insert(k, h, &ev, &evicted);
      ASSERT_FALSE(evicted);
      EXPECT_EQ(e->state, TxState::kPending);
      e->first_ns = step;
      ref[h] = {k, step};
      ids.push_back(h);
    } else {
      const size_t i = rng() % ids.size();
      const uint64_t h = ids[i];
      ids[i] = ids.back();
      ids.pop_back();
      TxEntry* e = (*t)->Find(ref[h].first, h);
      ASSERT_NE(e, nullptr);
      EXPECT_EQ(e->first_ns, ref[h].second);
      (*t)->Erase(e);
      EXPECT_EQ((*t)->Find(ref[h].first, h), nullptr);
      ref.erase(h);
    }
    if (step % 10007 == 0) {
      for (const auto& [h, kv] : ref) {
        TxEntry* e = (*t)->Find(kv.first, h);
        ASSERT_NE(e, nullptr);
        EXPECT_EQ(e->first_ns, kv.second);
      }
    }
  }
  EXPECT_EQ((*t)->size(), ref.size());
}

// Erasing through pointers kept from Insert (not right after a Find) takes
// the path that locates the entry from its key's hash; entries never move.
TEST(TransactionTable, EraseByKeptPointersInAnyOrder) {
  auto t = TransactionTable::Create(3000);
  ASSERT_TRUE(t.ok());
  std::mt19937_64 rng(11);
  std::vector<std::pair<TxKey, TxEntry*>> live;
  for (int i = 0; i < 3000; ++i) {
    TxKey k = RandomKey(rng);
    live.push_back({k, Put(**t, k, i)});
  }
  std::shuffle(live.begin(), live.end(), rng);
  while (live.size() > 1000) {
    (*t)->Erase(live.back().second);
    EXPECT_EQ((*t)->Find(live.back().first, live.back().first.Hash()), nullptr);
    live.pop_back();
  }
  for (const auto& [k, e] : live) EXPECT_EQ((*t)->Find(k, k.Hash()), e);
  EXPECT_EQ((*t)->size(), 1000u);
}

// Many keys homed in one bucket overflow into the following ones (and the
// last bucket's overflow wraps to bucket 0): all stay findable, erasing
// them in any order keeps the rest findable, and once they are gone every
// overflow count is back to 0 (a miss stops at its home bucket again).
TEST(TransactionTable, CollisionsOverflowAndWrapAround) {
  auto t = TransactionTable::Create(1000);
  ASSERT_TRUE(t.ok());
  const uint32_t last = (*t)->buckets() - 1;
  std::mt19937_64 rng(5);
  for (uint32_t home : {0u, 17u, last}) {
    // Four buckets' worth: the chain runs over three more buckets.
    std::vector<TxKey> keys = KeysHomedAt(**t, home, 4 * 15, rng);
    std::vector<TxEntry*> entries;
    for (size_t i = 0; i < keys.size(); ++i) {
      entries.push_back(Put(**t, keys[i], static_cast<int64_t>(i)));
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      ASSERT_EQ((*t)->Find(keys[i], keys[i].Hash()), entries[i]) << home;
    }
    // 15 stay home, 45 passed it, 30 passed the next, 15 the one after.
    for (uint32_t j = 0; j < 4; ++j) {
      EXPECT_EQ((*t)->overflow_count((home + j) % (*t)->buckets()),
                45u - 15u * j)
          << home << "+" << j;
    }
    std::vector<size_t> order(keys.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t n = 0; n < order.size(); ++n) {
      (*t)->Erase(entries[order[n]]);
      for (size_t m = n + 1; m < order.size(); ++m) {
        const TxKey& k = keys[order[m]];
        ASSERT_EQ((*t)->Find(k, k.Hash()), entries[order[m]]) << home;
      }
    }
    EXPECT_EQ((*t)->size(), 0u);
  }
  for (uint32_t b = 0; b < (*t)->buckets(); ++b) {
    EXPECT_EQ((*t)->overflow_count(b), 0u) << b;
  }
  std::vector<TxKey> again = KeysHomedAt(**t, last, 20, rng);
  for (size_t i = 0; i < again.size(); ++i) Put(**t, again[i], 0);
  for (const TxKey& k : again) EXPECT_NE((*t)->Find(k, k.Hash()), nullptr);
}

// A tag match alone is not a match: looking a key up under the hash of
// another, present, key reads that key's entry and rejects it.
TEST(TransactionTable, TagMatchWithAnotherKeyIsNoMatch) {
  auto t = TransactionTable::Create(100);
  ASSERT_TRUE(t.ok());
  std::mt19937_64 rng(9);
  const TxKey a = RandomKey(rng);
  TxKey b = a;
  b.txid ^= 1;
  Put(**t, a, 1);
  EXPECT_EQ((*t)->Find(b, a.Hash()), nullptr);
  b = a;
  b.flags = kTxTcp;
  EXPECT_EQ((*t)->Find(b, a.Hash()), nullptr);
  EXPECT_NE((*t)->Find(a, a.Hash()), nullptr);
  (*t)->PrefetchEntry(a.Hash());  // harmless, whatever the hash
  (*t)->PrefetchEntry(b.Hash());
  (*t)->Prefetch(~a.Hash());
}

// An insert right after an erase reuses the erased entry: its cache line
// is the one most likely still in cache.
TEST(TransactionTable, InsertAfterEraseReusesTheEntry) {
  auto t = TransactionTable::Create(1000);
  ASSERT_TRUE(t.ok());
  std::mt19937_64 rng(2);
  for (int i = 0; i < 500; ++i) Put(**t, RandomKey(rng), i);
  const TxKey k = RandomKey(rng);
  TxEntry* e = Put(**t, k, 7);
  (*t)->Erase(e);
  EXPECT_EQ(e->state, TxState::kEmpty);
  EXPECT_EQ(Put(**t, RandomKey(rng), 8), e);
}

// Inserts in time order into a full table evict strictly oldest first: the
// eviction hand walks the entries in the order they were written.
TEST(TransactionTable, FullTableEvictsOldestFirstInOrder) {
  constexpr uint32_t kMax = 1000;
  auto t = TransactionTable::Create(kMax);
  ASSERT_TRUE(t.ok());
  std::mt19937_64 rng(1);
  std::vector<TxKey> keys;
  for (int64_t i = 0; i < 5 * kMax; ++i) {  // five laps of the hand
    keys.push_back(RandomKey(rng));
    TxEntry ev;
    bool evicted;
    Put(**t, keys.back(), i, &ev, &evicted);
    ASSERT_EQ(evicted, i >= kMax) << i;
    if (evicted) {
      ASSERT_EQ(ev.first_ns, i - kMax);
      EXPECT_TRUE(ev.Matches(keys[i - kMax]));
      EXPECT_EQ((*t)->Find(keys[i - kMax], keys[i - kMax].Hash()), nullptr);
    }
    ASSERT_EQ((*t)->size(), std::min<int64_t>(i + 1, kMax));
  }
  for (size_t i = keys.size() - kMax; i < keys.size(); ++i) {
    EXPECT_NE((*t)->Find(keys[i], keys[i].Hash()), nullptr) << i;
  }
}

// With answers erasing entries in between and ages not in entry order, a
// full table still evicts old entries, never a young one.
TEST(TransactionTable, FullTableUnderChurnEvictsOldOnes) {
  constexpr uint32_t kMax = 1000;
  auto t = TransactionTable::Create(kMax);
  ASSERT_TRUE(t.ok());
  std::mt19937_64 rng(4);
  std::vector<std::pair<TxKey, TxEntry*>> live;
  uint64_t evictions = 0;
  int64_t min_evicted_age = INT64_MAX;
  for (int64_t i = 0; i < 100000; ++i) {
    if (!live.empty() && rng() % 4 == 0) {  // an answer for a random one
      const size_t j = rng() % live.size();
      ASSERT_EQ((*t)->Find(live[j].first, live[j].first.Hash()),
                live[j].second);
      (*t)->Erase(live[j].second);
      live[j] = live.back();
      live.pop_back();
    }
    const TxKey k = RandomKey(rng);
    TxEntry ev;
    bool evicted;
    TxEntry* e = Put(**t, k, i, &ev, &evicted);
    if (evicted) {
      ++evictions;
      min_evicted_age = std::min(min_evicted_age, i - ev.first_ns);
      auto it = std::find_if(live.begin(), live.end(), [&](const auto& p) {
        return ev.Matches(p.first);
      });
      ASSERT_NE(it, live.end());
      *it = live.back();
      live.pop_back();
    }
    live.push_back({k, e});
    ASSERT_LE((*t)->size(), kMax);
    ASSERT_EQ((*t)->size(), live.size());
  }
  EXPECT_GT(evictions, 50000u);
  // With 1000 entries turning over, a random choice would often take one
  // younger than 100 inserts.
  EXPECT_GT(min_evicted_age, 100);
  for (const auto& [k, e] : live) EXPECT_EQ((*t)->Find(k, k.Hash()), e);
}

TEST(TransactionTable, SweepErasesWhatTheCallbackRejects) {
  auto t = TransactionTable::Create(500);
  ASSERT_TRUE(t.ok());
  std::mt19937_64 rng(3);
  std::vector<std::pair<TxKey, int64_t>> keys;
  for (int64_t i = 0; i < 500; ++i) {
    TxKey k = RandomKey(rng);
    Put(**t, k, i);
    keys.push_back({k, i});
  }
  // Erase some before the sweep so it meets free entries too.
  for (int64_t i = 0; i < 500; i += 10) {
    (*t)->Erase((*t)->Find(keys[i].first, keys[i].first.Hash()));
  }
  int calls = 0;
  (*t)->Sweep((*t)->slots(), [&](TxEntry& e) {
    ++calls;
    return e.first_ns % 2 == 0;
  });
  EXPECT_EQ(calls, 450);
  EXPECT_EQ((*t)->size(), 200u);
  for (const auto& [k, i] : keys) {
    EXPECT_EQ((*t)->Find(k, k.Hash()) != nullptr, i % 2 == 0 && i % 10 != 0)
        << i;
  }
}

// Sweeping in small steps wraps around the entries: every live entry is
// visited exactly once per slots() steps, whatever the step size, including
// while the sweep erases and new entries reuse erased ones.
TEST(TransactionTable, SweepInStepsVisitsEachEntryOncePerRound) {
  constexpr uint32_t kMax = 777;
  auto t = TransactionTable::Create(kMax);
  ASSERT_TRUE(t.ok());
  std::mt19937_64 rng(8);
  for (int64_t i = 0; i < 700; ++i) Put(**t, RandomKey(rng), i);
  for (int round = 0; round < 3; ++round) {
    absl::flat_hash_map<int64_t, int> visits;
    const size_t before = (*t)->size();
    size_t rejected = 0;
    uint64_t done = 0;
    while (done < (*t)->slots()) {
      const uint64_t step =
          std::min<uint64_t>(1 + rng() % 13, (*t)->slots() - done);
      (*t)->Sweep(step, [&](TxEntry& e) {
        ++visits[e.first_ns];
        const bool keep = e.first_ns % 3 != round;  // erase a third
        rejected += !keep;
        return keep;
      });
      done += step;
    }
    EXPECT_EQ(visits.size(), before);
    for (const auto& [ns, n] : visits) EXPECT_EQ(n, 1) << ns;
    EXPECT_EQ((*t)->size(), before - rejected);
    EXPECT_GT(rejected, 0u);
    // Refill into the entries the sweep freed.
    const uint32_t free_now = kMax - (*t)->size();
    for (uint32_t i = 0; i < free_now / 2; ++i) {
      Put(**t, RandomKey(rng), 10000 * (round + 1) + i);
    }
  }
}

// A table that is not yet full: the sweep passes over entries never used
// without reading them, but its cursor moves as if it had, so entries
// written while the cursor is past them wait for the next lap, and those
// written ahead of it are visited in this one (the packet times at which
// an entry is swept do not depend on how full the table is).
TEST(TransactionTable, SweepOfAGrowingTableKeepsItsPositions) {
  constexpr uint32_t kMax = 1000;
  auto t = TransactionTable::Create(kMax);
  ASSERT_TRUE(t.ok());
  std::mt19937_64 rng(9);
  int64_t written = 0;
  auto write = [&](int n) {
    for (int i = 0; i < n; ++i, ++written) Put(**t, RandomKey(rng), written);
  };
  // Entries are written in order from the first, so entry i has first_ns i.
  auto sweep = [&](uint64_t steps) {
    std::vector<int64_t> seen;
    (*t)->Sweep(steps, [&](TxEntry& e) {
      seen.push_back(e.first_ns);
      return true;
    });
    return seen;
  };
  auto range = [](int64_t lo, int64_t hi) {
    std::vector<int64_t> v;
    for (int64_t i = lo; i < hi; ++i) v.push_back(i);
    return v;
  };
  write(100);
  EXPECT_EQ(sweep(500), range(0, 100));  // the cursor stops at 500
  write(600);                            // entries 100..699
  EXPECT_EQ(sweep(150), range(500, 650));
  std::vector<int64_t> want = range(650, 700);  // then 300 never used
  for (int64_t i = 0; i < 50; ++i) want.push_back(i);
  EXPECT_EQ(sweep(400), want);
  want = range(50, 700);  // a whole lap from 50 comes back to 50
  for (int64_t i = 0; i < 50; ++i) want.push_back(i);
  EXPECT_EQ(sweep(kMax), want);
}

}  // namespace
}  // namespace edgecap::flow
