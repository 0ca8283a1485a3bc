// Transaction table and flow worker at 1M live transactions (issue 4 goal:
// insert + match per transaction at most 40 ns).
//
//   build/bench/flow/flow_bench --benchmark_repetitions=5
#include <cstring>
#include <memory>
#include <vector>

#include "bench/flow/baseline_table.h"
#include "benchmark/benchmark.h"
#include "lib/flow/test_frames.h"
#include "lib/flow/transaction_table.h"
#include "lib/flow/worker.h"

namespace edgecap::flow {
namespace {

constexpr uint32_t kLive = 1 << 20;

void KeyOf(uint64_t i, TxKey* out) {
  TxKey& k = *out;
  // Distinct clients and ports, as a resolver population would give.
  // Addresses are written as the 8-byte words Hash() reads: a key built
  // from narrower stores and hashed at once stalls store forwarding, which
  // cost more than the table itself (a worker's keys come from packets
  // written long before). Written in place: a returned copy goes through
  // the stack with the same stall.
  const uint64_t x = i * 0x9e3779b97f4a7c15ull;
  const uint64_t c0 = x & 0xffffffffu, s0 = 0x0200c0u | (i & 63) << 24, z = 0;
  std::memcpy(k.client.data(), &c0, 8);
  std::memcpy(k.client.data() + 8, &z, 8);
  std::memcpy(k.server.data(), &s0, 8);
  std::memcpy(k.server.data() + 8, &z, 8);
  k.client_port = static_cast<uint16_t>(x >> 32);
  k.server_port = 53;
  k.txid = static_cast<uint16_t>(x >> 48);
  k.flags = 0;
}

// `live` is a power of two: key slots are picked with a mask, not a division
// (which would cost more than the table operations themselves).
template <typename Table>
std::unique_ptr<Table> Filled(uint32_t live, std::vector<TxKey>* keys,
                              uint64_t* next) {
  auto t = Table::Create(live + 1024);
  keys->resize(live);
  for (*next = 0; *next < live; ++*next) {
    TxKey& k = (*keys)[*next];
    KeyOf(*next, &k);
    TxEntry ev;
    bool evicted;
    TxEntry* e = (*t)->Insert(k, k.Hash(), &ev, &evicted);
    e->first_ns = e->last_ns = static_cast<int64_t>(*next);
    e->state = TxState::kPending;
  }
  return std::move(*t);
}

// One iteration: a new query inserted and the query inserted `live` earlier
// found and erased, with `live` entries throughout.
template <typename Table>
void BM_InsertMatch(benchmark::State& state) {
  const uint32_t live = static_cast<uint32_t>(state.range(0));
  std::vector<TxKey> keys;
  uint64_t next;
  auto t = Filled<Table>(live, &keys, &next);
  for (auto _ : state) {
    TxKey& old = keys[next & (live - 1)];
    TxEntry* e = t->Find(old, old.Hash());
    benchmark::DoNotOptimize(e);
    t->Erase(e);
    KeyOf(next, &old);
    TxEntry ev;
    bool evicted;
    e = t->Insert(old, old.Hash(), &ev, &evicted);
    e->first_ns = e->last_ns = static_cast<int64_t>(next);
    e->state = TxState::kPending;
    ++next;
  }
  state.counters["live"] = t->size();
  state.counters["B_per_entry"] =
      static_cast<double>(t->memory_bytes()) / t->max_entries();
  state.SetItemsProcessed(state.iterations());
}

// The second prefetch stage where the table has one (PrefetchEntry); the
// baseline's single Prefetch already covers the slot its entry sits in.
template <typename Table>
void PrefetchEntryOf(const Table& t, uint64_t h) {
  if constexpr (requires { t.PrefetchEntry(h); }) t.PrefetchEntry(h);
}

// The same with prefetching as a DPDK worker does within a burst, rolling
// across bursts: while transaction k is done, the index lines of transaction
// k + 2d and (stage 2, two_stage only) the entry of k + d are being loaded.
template <typename Table, bool two_stage, uint64_t d = 8>
void BM_InsertMatchBurst(benchmark::State& state) {
  constexpr int kBurst = 32;
  const uint32_t live = static_cast<uint32_t>(state.range(0));
  std::vector<TxKey> keys;
  uint64_t next;
  auto t = Filled<Table>(live, &keys, &next);
  // Ring of 2d transactions ahead: hashes of the key to match and of the
  // fresh key to insert.
  const uint64_t ring = 2 * d;
  std::vector<uint64_t> old_h(ring), new_h(ring);
  std::vector<TxKey> fresh(ring);
  auto stage1 = [&](uint64_t n) {
    const uint64_t r = n % ring;
    old_h[r] = keys[n & (live - 1)].Hash();
    KeyOf(n, &fresh[r]);
    new_h[r] = fresh[r].Hash();
    t->Prefetch(old_h[r]);
    t->Prefetch(new_h[r]);
  };
  for (uint64_t k = 0; k < ring; ++k) stage1(next + k);
  if (two_stage) {
    for (uint64_t k = 0; k < d; ++k)
      PrefetchEntryOf(*t, old_h[(next + k) % ring]);
  }
  while (state.KeepRunningBatch(kBurst)) {
    for (int k = 0; k < kBurst; ++k, ++next) {
      const uint64_t r = next % ring;
      TxKey& old = keys[next & (live - 1)];
      TxEntry* e = t->Find(old, old_h[r]);
      benchmark::DoNotOptimize(e);
      t->Erase(e);
      old = fresh[r];
      TxEntry ev;
      bool evicted;
      e = t->Insert(old, new_h[r], &ev, &evicted);
      e->first_ns = e->last_ns = static_cast<int64_t>(next);
      e->state = TxState::kPending;
      if (two_stage) PrefetchEntryOf(*t, old_h[(next + d) % ring]);
      stage1(next + ring);  // into slot r, just freed
    }
  }
  state.counters["live"] = t->size();
  state.SetItemsProcessed(state.iterations());
}

void BM_TableInsertMatch(benchmark::State& state) {
  BM_InsertMatch<TransactionTable>(state);
}
void BM_TableInsertMatchBurst(benchmark::State& state) {
  BM_InsertMatchBurst<TransactionTable, true>(state);
}
// Stage 1 only: what a worker gets if it calls Prefetch() alone.
void BM_TableInsertMatchBurst1Stage(benchmark::State& state) {
  BM_InsertMatchBurst<TransactionTable, false>(state);
}
// The table before the dense-array rewrite, for side-by-side figures.
void BM_BaselineTableInsertMatch(benchmark::State& state) {
  BM_InsertMatch<baseline::BaselineTable>(state);
}
// d = 4: its single prefetch runs 2d = 8 ahead, as it always did.
void BM_BaselineTableInsertMatchBurst(benchmark::State& state) {
  BM_InsertMatchBurst<baseline::BaselineTable, false, 4>(state);
}
BENCHMARK(BM_TableInsertMatch)->Arg(1 << 16)->Arg(1 << 20);
BENCHMARK(BM_BaselineTableInsertMatch)->Arg(1 << 16)->Arg(1 << 20);
BENCHMARK(BM_TableInsertMatchBurst)->Arg(1 << 16)->Arg(1 << 20);
BENCHMARK(BM_TableInsertMatchBurst1Stage)->Arg(1 << 20);
BENCHMARK(BM_BaselineTableInsertMatchBurst)->Arg(1 << 16)->Arg(1 << 20);
// Prefetch distance d = 4 and 16 (the rest use 8), to show 8 is not a fluke.
void BM_TableInsertMatchBurstD4(benchmark::State& state) {
  BM_InsertMatchBurst<TransactionTable, true, 4>(state);
}
void BM_TableInsertMatchBurstD16(benchmark::State& state) {
  BM_InsertMatchBurst<TransactionTable, true, 16>(state);
}
BENCHMARK(BM_TableInsertMatchBurstD4)->Arg(1 << 20);
BENCHMARK(BM_TableInsertMatchBurstD16)->Arg(1 << 20);

// The worker's whole path for one transaction, frames already decoded:
// query (table insert, frame kept for evidence, per-server counters) and the
// response to the query sent 1M transactions earlier (match, question check,
// latency, counters), at 1M pending; the clock advances 1 s per 100k.
void BM_WorkerQueryAndResponse(benchmark::State& state) {
  const bool prefetch = state.range(0) != 0;
  const bool burst = state.range(0) == 2;
  WorkerConfig c;
  c.max_transactions = kLive + 1024;
  c.query_timeout_ns = 1'000'000 * kNsPerSecond;  // nothing expires
  c.max_transaction_ns = c.query_timeout_ns;
  auto w = Worker::Create(c, 0);
  const auto server = testing::V4(192, 0, 2, 53);
  auto query_of = [&](uint64_t i, parse::Packet* p, testing::Frame* f) {
    const uint64_t x = i * 0x9e3779b97f4a7c15ull;
    *f = testing::DnsQuery(testing::V4(10, x >> 8, x >> 16, x >> 24), server,
                           static_cast<uint16_t>(x >> 32), 53,
                           static_cast<uint16_t>(x >> 48), "www.example.com");
    parse::DecodeFrame(parse::LinkType::kEthernet, *f, p);
  };
  auto response_of = [&](uint64_t i, parse::Packet* p, testing::Frame* f) {
    const uint64_t x = i * 0x9e3779b97f4a7c15ull;
    *f = testing::DnsResponse(testing::V4(10, x >> 8, x >> 16, x >> 24), server,
                              static_cast<uint16_t>(x >> 32), 53,
                              static_cast<uint16_t>(x >> 48), "www.example.com",
                              0);
    parse::DecodeFrame(parse::LinkType::kEthernet, *f, p);
  };
  // Packets are decoded ahead in a ring so only the worker is timed.
  constexpr int kRing = 4096;
  struct Pre {
    parse::Packet p;
    testing::Frame f;
  };
  std::vector<Pre> queries(kRing), responses(kRing);
  std::vector<parse::Packet> packets(burst ? 2 * kRing : 0);
  std::vector<parse::Bytes> frames(packets.size());
  std::vector<int64_t> times(packets.size());
  uint64_t next = 0;
  int64_t now = 1710421200LL * kNsPerSecond;
  for (; next < kLive; ++next) {
    Pre q;
    query_of(next, &q.p, &q.f);
    (*w)->Process(now, q.p, q.f);
    now += 10'000;
  }
  uint64_t done = 0;
  while (state.KeepRunningBatch(kRing)) {
    state.PauseTiming();
    for (int k = 0; k < kRing; ++k) {
      query_of(next + k, &queries[k].p, &queries[k].f);
      response_of(next + k - kLive, &responses[k].p, &responses[k].f);
    }
    if (burst) {
      for (int k = 0; k < kRing; ++k) {
        packets[2 * k] = queries[k].p;
        packets[2 * k + 1] = responses[k].p;
        frames[2 * k] = parse::Bytes(queries[k].f.data(), queries[k].f.size());
        frames[2 * k + 1] =
            parse::Bytes(responses[k].f.data(), responses[k].f.size());
        times[2 * k] = times[2 * k + 1] = now + 10'000 * k;
      }
    }
    state.ResumeTiming();
    if (burst) {
      // As the pipeline hands packets over: DPDK bursts of 32.
      for (size_t k = 0; k < packets.size(); k += 32) {
        (*w)->ProcessBurst(&times[k], &packets[k], &frames[k], 32);
      }
      now += 10'000 * kRing;
    }
    for (int k = 0; k < kRing && !burst; ++k) {
      if (prefetch && k + 4 < kRing) {
        (*w)->Prefetch(queries[k + 4].p);
        (*w)->Prefetch(responses[k + 4].p);
      }
      (*w)->Process(now, queries[k].p, queries[k].f);
      (*w)->Process(now, responses[k].p, responses[k].f);
      now += 10'000;
    }
    next += kRing;
    done += kRing;
    std::unique_ptr<Bucket> b;
    while ((*w)->PopClosed(&b)) (*w)->Recycle(std::move(b));
  }
  state.counters["pending"] = (*w)->table().size();
  state.counters["unmatched"] = (*w)->stats().unmatched_responses;
  state.SetItemsProcessed(done);
}
// 1: with Prefetch() 4 packets ahead; 2: through ProcessBurst (bursts of
// 32, the worker's own prefetching).
BENCHMARK(BM_WorkerQueryAndResponse)->Arg(0)->Arg(1)->Arg(2);

}  // namespace
}  // namespace edgecap::flow

BENCHMARK_MAIN();
