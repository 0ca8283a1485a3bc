// Transaction table and flow worker at 1M live transactions (issue 4 goal:
// insert + match per transaction at most 40 ns).
//
//   build/bench/flow/flow_bench --benchmark_repetitions=5
#include <cstring>
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "lib/flow/test_frames.h"
#include "lib/flow/transaction_table.h"
#include "lib/flow/worker.h"

namespace edgecap::flow {
namespace {

constexpr uint32_t kLive = 1 << 20;

TxKey KeyOf(uint64_t i) {
  TxKey k;
  // Distinct clients and ports, as a resolver population would give.
  const uint64_t x = i * 0x9e3779b97f4a7c15ull;
  std::memcpy(k.client.data(), &x, 4);
  k.server = {192, 0, 2, static_cast<uint8_t>(i & 63)};
  k.client_port = static_cast<uint16_t>(x >> 32);
  k.server_port = 53;
  k.txid = static_cast<uint16_t>(x >> 48);
  return k;
}

// One iteration: a new query inserted and the query inserted 1M earlier
// found and erased, with 1M live entries throughout.
void BM_TableInsertMatch(benchmark::State& state) {
  const uint32_t kLive = static_cast<uint32_t>(state.range(0));
  auto t = TransactionTable::Create(kLive + 1024);
  std::vector<TxKey> keys(kLive);
  uint64_t next = 0;
  for (; next < kLive; ++next) {
    keys[next % kLive] = KeyOf(next);
    TxEntry ev;
    bool evicted;
    TxEntry* e = (*t)->Insert(keys[next % kLive], keys[next % kLive].Hash(),
                              &ev, &evicted);
    e->first_ns = e->last_ns = static_cast<int64_t>(next);
    e->state = TxState::kPending;
  }
  for (auto _ : state) {
    TxKey& old = keys[next % kLive];
    TxEntry* e = (*t)->Find(old, old.Hash());
    benchmark::DoNotOptimize(e);
    (*t)->Erase(e);
    old = KeyOf(next);
    TxEntry ev;
    bool evicted;
    e = (*t)->Insert(old, old.Hash(), &ev, &evicted);
    e->first_ns = e->last_ns = static_cast<int64_t>(next);
    e->state = TxState::kPending;
    ++next;
  }
  state.counters["live"] = (*t)->size();
  state.counters["table_MB"] = (*t)->memory_bytes() / 1e6;
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TableInsertMatch)->Arg(1 << 16)->Arg(1 << 20);

// The same with prefetching as a DPDK worker does within a burst: the slots
// of the transaction 8 ahead are prefetched, so memory latencies overlap.
void BM_TableInsertMatchBurst(benchmark::State& state) {
  constexpr int kBurst = 32;
  const uint32_t kLive = static_cast<uint32_t>(state.range(0));
  auto t = TransactionTable::Create(kLive + 1024);
  std::vector<TxKey> keys(kLive);
  uint64_t next = 0;
  for (; next < kLive; ++next) {
    keys[next % kLive] = KeyOf(next);
    TxEntry ev;
    bool evicted;
    TxEntry* e = (*t)->Insert(keys[next % kLive], keys[next % kLive].Hash(),
                              &ev, &evicted);
    e->first_ns = e->last_ns = static_cast<int64_t>(next);
    e->state = TxState::kPending;
  }
  // Rolling prefetch: while doing transaction k, the slots of k + kAhead
  // are being loaded.
  constexpr uint64_t kAhead = 8;
  auto hashes = [&](uint64_t n, uint64_t* oh, uint64_t* nh, TxKey* fk) {
    *oh = keys[n % kLive].Hash();
    *fk = KeyOf(n);
    *nh = fk->Hash();
  };
  uint64_t old_h[kAhead], new_h[kAhead];
  TxKey fresh[kAhead];
  for (uint64_t k = 0; k < kAhead; ++k) {
    hashes(next + k, &old_h[k], &new_h[k], &fresh[k]);
    (*t)->Prefetch(old_h[k]);
    (*t)->Prefetch(new_h[k]);
  }
  while (state.KeepRunningBatch(kBurst)) {
    for (int k = 0; k < kBurst; ++k, ++next) {
      const uint64_t r = next % kAhead;
      TxKey& old = keys[next % kLive];
      TxEntry* e = (*t)->Find(old, old_h[r]);
      benchmark::DoNotOptimize(e);
      (*t)->Erase(e);
      old = fresh[r];
      TxEntry ev;
      bool evicted;
      e = (*t)->Insert(old, new_h[r], &ev, &evicted);
      e->first_ns = e->last_ns = static_cast<int64_t>(next);
      e->state = TxState::kPending;
      // Slot r now serves transaction next + kAhead.
      hashes(next + kAhead, &old_h[r], &new_h[r], &fresh[r]);
      (*t)->Prefetch(old_h[r]);
      (*t)->Prefetch(new_h[r]);
    }
  }
  state.counters["live"] = (*t)->size();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TableInsertMatchBurst)->Arg(1 << 16)->Arg(1 << 20);

// The worker's whole path for one transaction, frames already decoded:
// query (table insert, frame kept for evidence, per-server counters) and the
// response to the query sent 1M transactions earlier (match, question check,
// latency, counters), at 1M pending; the clock advances 1 s per 100k.
void BM_WorkerQueryAndResponse(benchmark::State& state) {
  const bool prefetch = state.range(0) != 0;
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
    state.ResumeTiming();
    for (int k = 0; k < kRing; ++k) {
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
BENCHMARK(BM_WorkerQueryAndResponse)->Arg(0)->Arg(1);  // 1: with Prefetch()

}  // namespace
}  // namespace edgecap::flow

BENCHMARK_MAIN();
