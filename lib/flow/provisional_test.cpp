#include "lib/flow/provisional.h"

#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/flow/datagram.h"
#include "lib/flow/test_frames.h"
#include "lib/flow/worker.h"

namespace edgecap::flow {
namespace {

using testing::DnsQuery;
using testing::DnsResponse;
using testing::IcmpUnreachable;
using testing::V4;
using testing::V6;

constexpr int64_t kS = kNsPerSecond;
constexpr int64_t kMs = kS / 1000;
constexpr int64_t kT0 = 1710422672LL * kS;

const parse::IpAddress kClient = V4(192, 51, 100, 15);
const parse::IpAddress kServer = V4(203, 0, 113, 2);
const parse::IpAddress kOther = V4(203, 0, 113, 9);

void Set16(testing::Frame* f, size_t at, uint16_t v) {
  (*f)[at] = static_cast<uint8_t>(v >> 8);
  (*f)[at + 1] = static_cast<uint8_t>(v & 0xff);
}

parse::Packet Decode(const testing::Frame& f) {
  parse::Packet p;
  parse::DecodeFrame(parse::LinkType::kEthernet, f, &p);
  return p;
}

// The malformed kinds of apps/edgecap-gen/malformed.cpp that still decode as
// a DNS query, and the legitimate look-alikes that must stay transactions.
TEST(UdpLengthsAgreeTest, MalformedLengthsAreRefusedSnaplenCutsAreNot) {
  const testing::Frame good =
      DnsQuery(kClient, kServer, 40000, 53, 7, "www.example.net");
  EXPECT_TRUE(UdpLengthsAgree(Decode(good), good.size()));

  testing::Frame ip_long = good;  // ipv4_total_length_long
  Set16(&ip_long, 14 + 2, 1400);
  EXPECT_FALSE(UdpLengthsAgree(Decode(ip_long), ip_long.size()));

  testing::Frame udp_long = good;  // udp_length_bogus
  Set16(&udp_long, 14 + 20 + 4, 300);
  EXPECT_FALSE(UdpLengthsAgree(Decode(udp_long), udp_long.size()));

  testing::Frame v6 =
      DnsQuery(V6(0xbad), V6(0x99), 40000, 53, 7, "www.example.net");
  testing::Frame v6_long = v6;  // ipv6_payload_length_long
  Set16(&v6_long, 14 + 4, 1000);
  EXPECT_TRUE(UdpLengthsAgree(Decode(v6), v6.size()));
  EXPECT_FALSE(UdpLengthsAgree(Decode(v6_long), v6_long.size()));

  // Cut by the snap length: IP and UDP both describe the whole datagram.
  ASSERT_GT(good.size(), 60u);
  const testing::Frame cut(good.begin(), good.end() - 5);
  EXPECT_TRUE(UdpLengthsAgree(Decode(cut), cut.size()));
  // Ethernet padding after the datagram.
  testing::Frame padded = good;
  padded.resize(padded.size() + 12, 0);
  EXPECT_TRUE(UdpLengthsAgree(Decode(padded), padded.size()));
}

class ProvisionalTest : public ::testing::Test {
 protected:
  void Make(int64_t sweep_period_ns = 2 * kS) {
    WorkerConfig c;
    c.max_transactions = 1024;
    c.frame_ring_slots = 64;
    c.max_servers_per_bucket = 64;
    c.query_timeout_ns = 2 * kS;
    c.sweep_period_ns = sweep_period_ns;
    auto w = Worker::Create(c, 3);
    ASSERT_TRUE(w.ok()) << w.status();
    worker_ = std::move(*w);
  }
  void Feed(int64_t ts, const testing::Frame& f) {
    parse::Packet p;
    parse::DecodeFrame(parse::LinkType::kEthernet, f, &p);
    worker_->Process(ts, p, f);
  }
  // Sum over the summary's entries for one server.
  ProvisionalEntry Sum(const ProvisionalSummary& s, const ServerKey& k) {
    ProvisionalEntry t;
    for (const ProvisionalEntry& e : s.entries) {
      if (!(e.server == k)) continue;
      t.queries += e.queries;
      t.answered += e.answered;
      t.failed += e.failed;
      for (int i = 0; i < kFailCount; ++i) t.failures[i] += e.failures[i];
      t.first_failed_query_ns =
          std::min(t.first_failed_query_ns, e.first_failed_query_ns);
      t.last_evidence_ns = std::max(t.last_evidence_ns, e.last_evidence_ns);
    }
    return t;
  }
  std::unique_ptr<Worker> worker_;
  ProvisionalTracker tracker_;
  ProvisionalSummary summary_;
};

TEST_F(ProvisionalTest, MalformedQueriesAreCountedAndSkipped) {
  Make();
  testing::Frame bad = DnsQuery(kClient, kServer, 40000, 53, 7, "a.example");
  Set16(&bad, 14 + 2, 1400);
  Feed(kT0, bad);
  Feed(kT0 + kMs, DnsQuery(kClient, kServer, 40001, 53, 8, "b.example"));
  worker_->Finish(kT0 + 30 * kS);
  EXPECT_EQ(worker_->stats().dns_malformed_lengths, 1u);
  EXPECT_EQ(worker_->stats().dns_queries, 1u);
  uint64_t queries = 0, timeouts = 0;
  std::unique_ptr<Bucket> b;
  while (worker_->PopClosed(&b)) {
    for (const auto& c : b->servers) {
      queries += c.queries;
      timeouts += c.failures[static_cast<int>(Fail::kTimeout)];
    }
  }
  EXPECT_EQ(queries, 1u);
  EXPECT_EQ(timeouts, 1u);
}

TEST_F(ProvisionalTest, HeldFailuresAreVisibleBeforePublication) {
  Make();
  const ServerKey k{kServer, 53, parse::Transport::kUdp};
  // A healthy server is not listed.
  Feed(kT0, DnsQuery(kClient, kOther, 40000, 53, 1, "ok.example"));
  Feed(kT0 + kMs, DnsResponse(kClient, kOther, 40000, 53, 1, "ok.example", 0));
  // Two answers, then three queries refused by ICMP port unreachable.
  for (uint16_t i = 0; i < 2; ++i) {
    Feed(kT0 + 10 * kMs,
         DnsQuery(kClient, kServer, 41000 + i, 53, 10 + i, "a.example"));
    Feed(kT0 + 11 * kMs,
         DnsResponse(kClient, kServer, 41000 + i, 53, 10 + i, "a.example", 0));
  }
  for (uint16_t i = 0; i < 3; ++i) {
    const int64_t t = kT0 + 1200 * kMs + i * kMs;
    const testing::Frame q =
        DnsQuery(kClient, kServer, 42000 + i, 53, 20 + i, "b.example");
    Feed(t, q);
    Feed(t + 100, IcmpUnreachable(kServer, q, 3));
  }
  tracker_.Summarize(*worker_, kT0 + 1300 * kMs, &summary_);
  EXPECT_EQ(summary_.worker, 3);
  EXPECT_EQ(summary_.below_second, kT0 / kS);
  for (const auto& e : summary_.entries) EXPECT_TRUE(e.server == k);
  ProvisionalEntry s = Sum(summary_, k);
  EXPECT_EQ(s.queries, 5u);
  EXPECT_EQ(s.answered, 2u);
  EXPECT_EQ(s.failed, 3u);
  EXPECT_EQ(s.failures[static_cast<int>(Fail::kIcmpPort)], 3u);
  EXPECT_EQ(s.first_failed_query_ns, kT0 + 1200 * kMs);
  EXPECT_EQ(s.last_evidence_ns, kT0 + 1202 * kMs + 100);

  // Incremental: one more failure later is added, nothing counted twice.
  const testing::Frame q =
      DnsQuery(kClient, kServer, 43000, 53, 30, "c.example");
  Feed(kT0 + 1500 * kMs, q);
  Feed(kT0 + 1501 * kMs, IcmpUnreachable(kServer, q, 3));
  tracker_.Summarize(*worker_, kT0 + 1600 * kMs, &summary_);
  s = Sum(summary_, k);
  EXPECT_EQ(s.failed, 4u);
  EXPECT_EQ(s.first_failed_query_ns, kT0 + 1200 * kMs);

  // Once published, the summary lists nothing and the final buckets hold
  // exactly what it said.
  worker_->Advance(kT0 + 40 * kS);
  tracker_.Summarize(*worker_, kT0 + 40 * kS, &summary_);
  EXPECT_TRUE(summary_.entries.empty());
  uint32_t failed = 0, answered = 0;
  std::unique_ptr<Bucket> b;
  while (worker_->PopClosed(&b)) {
    if (const ServerCounters* c = FindCounters(*b, k)) {
      failed += c->failed;
      answered += c->answered;
    }
  }
  EXPECT_EQ(failed, 4u);
  EXPECT_EQ(answered, 2u);
}

// Live runs sweep every 0.5 s: a dropped query's timeout shows up in the
// provisional summary within half a second of its expiry.
TEST_F(ProvisionalTest, ShortSweepPeriodSeesTimeoutsSoon) {
  for (int64_t period : {2 * kS, kS / 2}) {
    Make(period);
    const ServerKey k{kServer, 53, parse::Transport::kUdp};
    for (uint16_t i = 0; i < 50; ++i) {
      Feed(kT0 + 300 * kMs + i * kMs,
           DnsQuery(kClient, kServer, 44000 + i, 53, i, "d.example"));
    }
    // Expired from 2.349 s on; poll every 50 ms of packet time.
    int64_t seen_at = 0;
    for (int64_t t = kT0 + 2300 * kMs; t < kT0 + 6 * kS; t += 50 * kMs) {
      worker_->Advance(t);
      tracker_.Summarize(*worker_, t, &summary_);
      if (Sum(summary_, k).failures[static_cast<int>(Fail::kTimeout)] == 50) {
        seen_at = t;
        break;
      }
    }
    ASSERT_NE(seen_at, 0) << period;
    if (period == kS / 2) {
      EXPECT_LE(seen_at - (kT0 + 2349 * kMs), 550 * kMs) << period;
    }
  }
}

// The summary as the first (non-incremental) tracker computed it: every
// held bucket against every server failing in any of them.
void ReferenceSummary(const Worker& w, std::vector<ProvisionalEntry>* out) {
  out->clear();
  struct Span {
    int64_t first = INT64_MAX, last = INT64_MIN;
  };
  std::vector<std::pair<const Bucket*, std::map<ServerKey, Span>>> held;
  std::set<ServerKey> failing;
  for (const auto& b : w.held()) {
    if (!b) continue;
    auto& [bucket, spans] =
        held.emplace_back(b.get(), std::map<ServerKey, Span>{});
    for (const FailureRecord& r : b->failures) {
      Span& s = spans[r.server];
      s.first = std::min(s.first, r.query_ns);
      s.last = std::max(s.last, r.evidence_ns);
      failing.insert(r.server);
    }
  }
  for (const auto& [b, spans] : held) {
    for (const ServerKey& server : failing) {
      const ServerCounters* c = FindCounters(*b, server);
      auto f = spans.find(server);
      if (c == nullptr && f == spans.end()) continue;
      ProvisionalEntry e;
      e.server = server;
      e.second = b->second;
      if (c != nullptr) {
        e.queries = c->queries;
        e.answered = c->answered;
        e.failed = c->failed;
        e.failures = c->failures;
      }
      if (f != spans.end()) {
        e.first_failed_query_ns = f->second.first;
        e.last_evidence_ns = f->second.last;
      }
      if (e.queries == 0 && e.answered == 0 && e.failed == 0) continue;
      out->push_back(e);
    }
  }
}

bool Same(const ProvisionalEntry& a, const ProvisionalEntry& b) {
  return a.server == b.server && a.second == b.second &&
         a.queries == b.queries && a.answered == b.answered &&
         a.failed == b.failed && a.failures == b.failures &&
         a.first_failed_query_ns == b.first_failed_query_ns &&
         a.last_evidence_ns == b.last_evidence_ns;
}

// Random traffic over many servers (more than a bucket holds), failing and
// recovering in spells: the incremental summary equals the full one at
// every call.
TEST_F(ProvisionalTest, IncrementalSummaryEqualsFullRecomputation) {
  Make(kS / 2);
  std::mt19937 rng(8);
  constexpr int kServers = 150;  // buckets hold 64: some are dropped
  std::vector<bool> broken(kServers, false);
  std::vector<ProvisionalEntry> want;
  int64_t t = kT0;
  int64_t next_summary = t;
  uint16_t id = 0;
  size_t calls = 0, nonempty = 0, entries = 0;
  for (int i = 0; i < 60000; ++i) {
    t += 1 + static_cast<int64_t>(rng() % (2 * kMs));
    if (rng() % 4000 == 0) {
      const size_t flip = rng() % kServers;
      broken[flip] = !broken[flip];
    }
    const int s = static_cast<int>(rng() % kServers);
    const parse::IpAddress server =
        V4(203, 0, static_cast<uint8_t>(113 + s / 200),
           static_cast<uint8_t>(s % 200));
    const parse::IpAddress client =
        V4(192, 51, 100, static_cast<uint8_t>(rng() % 50));
    const uint16_t port = static_cast<uint16_t>(40000 + rng() % 2000);
    ++id;
    // snprintf: GCC 12 warns (-Wrestrict, falsely) on "n" + std::string.
    char name[32];
    std::snprintf(name, sizeof(name), "n%u.example",
                  static_cast<unsigned>(rng() % 30));
    const testing::Frame q = DnsQuery(client, server, port, 53, id, name);
    Feed(t, q);
    const unsigned r = rng() % 10;
    if (broken[s] && r < 6) {
      Feed(t + 200, IcmpUnreachable(server, q, 3));
    } else if (r == 0) {
      // no answer: a timeout later
    } else {
      Feed(t + 300, DnsResponse(client, server, port, 53, id, name,
                                r == 1 ? parse::kRcodeServFail : 0));
    }
    if (t >= next_summary) {
      next_summary = t + 100 * kMs;
      tracker_.Summarize(*worker_, t, &summary_);
      ReferenceSummary(*worker_, &want);
      ++calls;
      nonempty += !want.empty();
      entries += want.size();
      ASSERT_EQ(summary_.entries.size(), want.size()) << "call " << calls;
      for (size_t k = 0; k < want.size(); ++k) {
        ASSERT_TRUE(Same(summary_.entries[k], want[k]))
            << "call " << calls << " entry " << k;
      }
      std::unique_ptr<Bucket> b;
      while (worker_->PopClosed(&b)) worker_->Recycle(std::move(b));
    }
  }
  EXPECT_GT(calls, 500u);
  EXPECT_GT(nonempty, calls / 2);
  EXPECT_GT(entries, 10 * calls);
}

}  // namespace
}  // namespace edgecap::flow
