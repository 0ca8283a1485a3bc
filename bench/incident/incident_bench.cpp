// Stats side: merge the buckets of 4 workers and run detection, for 100k
// servers per second of traffic (each server's counts split over two
// workers; 1% of servers with a failure each second, so the window logic
// runs too). One iteration = one second of traffic.
//
//   build/bench/incident/incident_bench --benchmark_repetitions=5
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "lib/incident/detector.h"

namespace edgecap::incident {
namespace {

constexpr int kWorkers = 4;

flow::ServerKey ServerN(uint32_t n) {
  flow::ServerKey k;
  k.ip.version = 4;
  k.ip.bytes[0] = 10;
  k.ip.bytes[1] = static_cast<uint8_t>(n >> 16);
  k.ip.bytes[2] = static_cast<uint8_t>(n >> 8);
  k.ip.bytes[3] = static_cast<uint8_t>(n);
  k.port = 53;
  return k;
}

void BM_MergeAndDetect(benchmark::State& state) {
  const uint32_t servers = static_cast<uint32_t>(state.range(0));
  const int64_t t0 = 1710421200;
  uint64_t incidents = 0;
  Detector det(DetectorConfig{}, kWorkers, [&](Incident) { ++incidents; });
  std::vector<std::unique_ptr<flow::Bucket>> buckets(kWorkers);
  for (int w = 0; w < kWorkers; ++w) {
    buckets[w] = std::make_unique<flow::Bucket>();
    buckets[w]->worker = w;
  }
  for (uint32_t n = 0; n < servers; ++n) {
    for (int half = 0; half < 2; ++half) {
      flow::Bucket& b = *buckets[(n + half) % kWorkers];
      flow::ServerCounters c;
      c.server = ServerN(n);
      c.queries = 10;
      c.answered = 10;
      c.rcodes[0] = 10;
      c.max_answered_ns = t0 * flow::kNsPerSecond;
      if (half == 0 && n % 100 == 0) {
        ++c.queries;
        ++c.failed;
        ++c.failures[static_cast<int>(flow::Fail::kTimeout)];
        flow::FailureRecord r;
        r.server = c.server;
        r.client = ServerN(n + 7).ip;
        r.kind = flow::Fail::kTimeout;
        r.has_qname = true;
        r.qtype = 1;
        r.qname_offset = static_cast<uint32_t>(b.names.size());
        r.qname_length = 11;
        b.names += "a.example.c";
        b.failures.push_back(r);
      }
      b.servers.push_back(c);
    }
  }
  int64_t s = t0;
  for (auto _ : state) {
    for (int w = 0; w < kWorkers; ++w) {
      buckets[w]->second = s;
      for (auto& r : buckets[w]->failures) {
        r.query_ns = r.evidence_ns = s * flow::kNsPerSecond + 1000;
      }
      det.Offer(w, std::move(buckets[w]));
      det.SetWatermark(w, s + 1);
    }
    det.Poll();
    for (int w = 0; w < kWorkers; ++w) det.PopSpent(w, &buckets[w]);
    ++s;
  }
  state.counters["servers"] = servers;
  state.counters["tracked"] = det.stats().servers_tracked;
  state.counters["incidents"] = incidents;
  state.SetItemsProcessed(state.iterations() * servers);
}
BENCHMARK(BM_MergeAndDetect)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace edgecap::incident

BENCHMARK_MAIN();
