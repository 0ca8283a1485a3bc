// Table exhaustion (issue 4): 10M never-answered queries with random txids
// from random clients, fed in-process through decode -> 2 simulated workers
// -> detector, with a small transaction table. Memory stays bounded, the
// evictions are counted, and an outage on another server is still detected
// exactly.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "lib/flow/test_frames.h"
#include "lib/incident/simulate.h"

namespace edgecap::incident {
namespace {

using flow::kNsPerSecond;
using flow::testing::DnsQuery;
using flow::testing::IcmpUnreachable;
using flow::testing::V4;

uint64_t PeakRssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

TEST(FlowExhaustion, TenMillionUnansweredQueries) {
  SimulationConfig cfg;
  cfg.workers = 2;
  cfg.worker.max_transactions = 1 << 16;
  cfg.worker.frame_ring_slots = 1 << 12;
  cfg.worker.max_servers_per_bucket = 1 << 10;
  auto sim = Simulator::Create(cfg, parse::LinkType::kEthernet);
  ASSERT_TRUE(sim.ok()) << sim.status();

  const auto flooded = V4(198, 51, 100, 99);
  const auto broken = V4(203, 0, 113, 2);
  const auto victim_client = V4(192, 51, 100, 15);
  flow::testing::Frame tmpl =
      DnsQuery(V4(100, 64, 0, 1), flooded, 1024, 53, 0, "random.example");

  constexpr int64_t kT0 = 1710421200LL * kNsPerSecond;
  constexpr uint64_t kQueries = 10'000'000;
  constexpr int64_t kSpan = 100 * kNsPerSecond;  // 100k queries per second
  uint64_t x = 0x2545f4914f6cdd1dull;
  int next_outage_query = 0;
  uint64_t rss_at_half = 0;
  for (uint64_t i = 0; i < kQueries; ++i) {
    const int64_t ts = kT0 + static_cast<int64_t>(i) * (kSpan / kQueries);
    // Every 10 s from 30 s to 90 s: a query to the broken server and its
    // ICMP port unreachable 1 ms later.
    while (next_outage_query < 7 &&
           ts >= kT0 + (30 + 10 * next_outage_query) * kNsPerSecond) {
      const int64_t q = kT0 + (30 + 10 * next_outage_query) * kNsPerSecond;
      const auto query =
          DnsQuery(victim_client, broken, 52444, 53, 35084 + next_outage_query,
                   "yummyrecipesforme.com");
      (*sim)->Feed(q, query);
      (*sim)->Feed(q + 1'000'000, IcmpUnreachable(broken, query, 3));
      ++next_outage_query;
    }
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::memcpy(&tmpl[14 + 12], &x, 4);        // client address
    tmpl[34] = static_cast<uint8_t>(x >> 32);  // client port
    tmpl[35] = static_cast<uint8_t>(x >> 40);
    tmpl[42] = static_cast<uint8_t>(x >> 48);  // txid
    tmpl[43] = static_cast<uint8_t>(x >> 56);
    (*sim)->Feed(ts, tmpl);
    if (i == kQueries / 2) rss_at_half = PeakRssKb();
  }
  const SimulationResult r = (*sim)->Finish();
  const uint64_t rss_end = PeakRssKb();

  uint64_t evictions = 0, queries = 0;
  for (const auto& s : r.worker_stats) {
    evictions += s.evictions;
    queries += s.dns_queries;
  }
  EXPECT_EQ(queries, kQueries + 7);
  // Each worker holds at most 2^16; nearly everything else was evicted.
  EXPECT_GE(evictions, kQueries - 2 * (1u << 16));
  EXPECT_LE(evictions, kQueries);
  for (int w = 0; w < 2; ++w) {
    EXPECT_LE((*sim)->worker(w).table().size(), 1u << 16);
  }
  // Memory: the second half of the flood did not grow the process.
  EXPECT_LT(rss_end, rss_at_half + 64 * 1024)
      << rss_at_half << " -> " << rss_end;

  // The broken server's outage is found, exactly.
  ASSERT_EQ(r.incidents.size(), 1u) << r.jsonl;
  const Incident& inc = r.incidents[0];
  EXPECT_EQ(inc.kind, Kind::kPortUnreachable);
  EXPECT_EQ(flow::IpToString(inc.server.ip), "203.0.113.2");
  EXPECT_EQ(inc.first_seen_ns, kT0 + 30 * kNsPerSecond);
  EXPECT_EQ(inc.last_seen_ns, kT0 + 90 * kNsPerSecond + 1'000'000);
  EXPECT_EQ(inc.queries, 7u);
  EXPECT_EQ(inc.failures[static_cast<int>(flow::Fail::kIcmpPort)], 7u);
  EXPECT_EQ(inc.client_count, 1u);
  std::printf("evictions %llu, peak RSS %llu kB (half-way %llu kB)\n",
              static_cast<unsigned long long>(evictions),
              static_cast<unsigned long long>(rss_end),
              static_cast<unsigned long long>(rss_at_half));
}

}  // namespace
}  // namespace edgecap::incident
