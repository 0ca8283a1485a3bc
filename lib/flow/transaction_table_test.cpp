#include "lib/flow/transaction_table.h"

#include <random>

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

struct KeyEq {
  static uint64_t Id(const TxKey& k) { return k.Hash(); }
};

TEST(TransactionTable, EntryIsOneCacheLine) { EXPECT_EQ(sizeof(TxEntry), 64u); }

TEST(TransactionTable, RejectsBadSizes) {
  EXPECT_FALSE(TransactionTable::Create(0).ok());
  EXPECT_TRUE(TransactionTable::Create(1).ok());
}

// Random inserts and erases against a reference map: every present key is
// found, every erased one is not, whatever backward shifts happened.
TEST(TransactionTable, MatchesAReferenceUnderChurn) {
  auto t = TransactionTable::Create(4096);
  ASSERT_TRUE(t.ok());
  std::mt19937_64 rng(7);
  absl::flat_hash_map<uint64_t, std::pair<TxKey, int64_t>> ref;
  std::vector<uint64_t> ids;
  for (int step = 0; step < 200000; ++step) {
    if (ref.size() < 3000 && (rng() % 3 != 0 || ref.empty())) {
      TxKey k = RandomKey(rng);
      const uint64_t h = k.Hash();
      if (ref.contains(h)) continue;
      TxEntry ev;
      bool evicted;
      TxEntry* e = (*t)->Insert(k, h, &ev, &evicted);
      ASSERT_FALSE(evicted);
      e->first_ns = step;
      e->state = TxState::kPending;
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

TEST(TransactionTable, FullTableEvictsTheOldestOfTheWindow) {
  auto t = TransactionTable::Create(1000);
  ASSERT_TRUE(t.ok());
  std::mt19937_64 rng(1);
  uint64_t evictions = 0;
  int64_t max_evicted_age = 0;
  for (int64_t i = 0; i < 100000; ++i) {
    TxKey k = RandomKey(rng);
    TxEntry ev;
    bool evicted;
    TxEntry* e = (*t)->Insert(k, k.Hash(), &ev, &evicted);
    e->first_ns = i;
    e->state = TxState::kPending;
    if (evicted) {
      ++evictions;
      max_evicted_age = std::max(max_evicted_age, i - ev.first_ns);
    }
    ASSERT_LE((*t)->size(), 1000u);
  }
  EXPECT_EQ(evictions, 100000u - 1000u);
  // Evicted entries are old ones: far older than the table's turnover would
  // make a random choice.
  EXPECT_GT(max_evicted_age, 1000);
  EXPECT_EQ((*t)->memory_bytes(), (*t)->slots() * 66);
}

TEST(TransactionTable, SweepErasesWhatTheCallbackRejects) {
  auto t = TransactionTable::Create(500);
  ASSERT_TRUE(t.ok());
  std::mt19937_64 rng(3);
  std::vector<std::pair<TxKey, int64_t>> keys;
  for (int64_t i = 0; i < 500; ++i) {
    TxKey k = RandomKey(rng);
    TxEntry ev;
    bool evicted;
    TxEntry* e = (*t)->Insert(k, k.Hash(), &ev, &evicted);
    e->first_ns = i;
    keys.push_back({k, i});
  }
  (*t)->Sweep((*t)->slots(), [](TxEntry& e) { return e.first_ns % 2 == 0; });
  EXPECT_EQ((*t)->size(), 250u);
  for (const auto& [k, i] : keys) {
    EXPECT_EQ((*t)->Find(k, k.Hash()) != nullptr, i % 2 == 0) << i;
  }
}

}  // namespace
}  // namespace edgecap::flow
