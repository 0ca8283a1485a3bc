#include "lib/flow/worker.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "gtest/gtest.h"
#include "lib/flow/test_frames.h"

namespace edgecap::flow {
namespace {

using testing::DnsQuery;
using testing::DnsResponse;
using testing::IcmpUnreachable;
using testing::Tcp;
using testing::V4;
using testing::V6;

constexpr int64_t kS = kNsPerSecond;
constexpr int64_t kT0 = 1710422672LL * kS;  // 2024-03-14T13:24:32Z

const parse::IpAddress kClient = V4(192, 51, 100, 15);
const parse::IpAddress kServer = V4(203, 0, 113, 2);

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WorkerConfig c;
    c.max_transactions = 1024;
    c.frame_ring_slots = 64;
    c.max_servers_per_bucket = 64;
    auto w = Worker::Create(c, 0);
    ASSERT_TRUE(w.ok()) << w.status();
    worker_ = std::move(*w);
  }

  void Feed(int64_t ts, const testing::Frame& f) {
    parse::Packet p;
    ASSERT_EQ(parse::DecodeFrame(parse::LinkType::kEthernet, f, &p),
              parse::Anomaly::kNone);
    worker_->Process(ts, p, f);
  }

  // Finishes at `end` and gathers every bucket.
  void Finish(int64_t end) {
    worker_->Finish(end);
    std::unique_ptr<Bucket> b;
    while (worker_->PopClosed(&b)) buckets_.push_back(std::move(b));
  }

  // Sum of a server's counters over all buckets.
  ServerCounters Total(const ServerKey& k) const {
    ServerCounters t;
    for (const auto& b : buckets_) {
      for (const auto& c : b->servers) {
        if (!(c.server == k)) continue;
        t.queries += c.queries;
        t.answered += c.answered;
        t.failed += c.failed;
        t.unresolved += c.unresolved;
        t.evicted += c.evicted;
        t.retries += c.retries;
        t.nxdomain += c.nxdomain;
        t.mismatched_responses += c.mismatched_responses;
        for (int i = 0; i < kFailCount; ++i) t.failures[i] += c.failures[i];
        for (int i = 0; i < 16; ++i) t.rcodes[i] += c.rcodes[i];
        for (int i = 0; i < kLatencyBins; ++i)
          t.latency_log2_us[i] += c.latency_log2_us[i];
      }
    }
    return t;
  }
  std::vector<FailureRecord> Failures() const {
    std::vector<FailureRecord> out;
    for (const auto& b : buckets_)
      out.insert(out.end(), b->failures.begin(), b->failures.end());
    return out;
  }
  std::vector<std::pair<FailureRecord, std::string>> Reclassified() const {
    std::vector<std::pair<FailureRecord, std::string>> out;
    for (const auto& b : buckets_) {
      for (const auto& r : b->reclassified) {
        out.emplace_back(r,
                         std::string(b->Name(r.qname_offset, r.qname_length)));
      }
    }
    return out;
  }
  std::string QnameOf(const FailureRecord& r) const {
    for (const auto& b : buckets_) {
      for (const auto& x : b->failures) {
        if (&x == &r)
          return std::string(b->Name(r.qname_offset, r.qname_length));
      }
    }
    return {};
  }

  ServerKey Udp53() const {
    return ServerKey{kServer, 53, parse::Transport::kUdp};
  }

  std::unique_ptr<Worker> worker_;
  std::vector<std::unique_ptr<Bucket>> buckets_;
};

TEST_F(WorkerTest, AnsweredQueryCountsOnceWithLatency) {
  Feed(kT0, DnsQuery(kClient, kServer, 52444, 53, 35084, "example.com"));
  Feed(kT0 + 3'000'000,
       DnsResponse(kClient, kServer, 52444, 53, 35084, "example.com", 0));
  Finish(kT0 + 60 * kS);
  const ServerCounters t = Total(Udp53());
  EXPECT_EQ(t.queries, 1u);
  EXPECT_EQ(t.answered, 1u);
  EXPECT_EQ(t.failed, 0u);
  EXPECT_EQ(t.rcodes[0], 1u);
  // 3000 us: bit_width(3000) = 12.
  EXPECT_EQ(t.latency_log2_us[12], 1u);
  EXPECT_EQ(worker_->table().size(), 0u);
}

TEST_F(WorkerTest, NxdomainIsAnsweredAndRecorded) {
  Feed(kT0, DnsQuery(kClient, kServer, 1000, 53, 1, "x1.victim.example"));
  Feed(kT0 + 1000,
       DnsResponse(kClient, kServer, 1000, 53, 1, "x1.victim.example", 3));
  Finish(kT0 + 60 * kS);
  EXPECT_EQ(Total(Udp53()).answered, 1u);
  EXPECT_EQ(Total(Udp53()).nxdomain, 1u);
  ASSERT_EQ(buckets_.size(), 1u);
  ASSERT_EQ(buckets_[0]->nxdomains.size(), 1u);
  const NxRecord& r = buckets_[0]->nxdomains[0];
  EXPECT_EQ(buckets_[0]->Name(r.qname_offset, r.qname_length),
            "x1.victim.example");
  EXPECT_EQ(r.answer_ns, kT0 + 1000);
}

TEST_F(WorkerTest, MismatchedQuestionDoesNotComplete) {
  Feed(kT0, DnsQuery(kClient, kServer, 1000, 53, 9, "a.example"));
  Feed(kT0 + 1000, DnsResponse(kClient, kServer, 1000, 53, 9, "b.example", 0));
  Finish(kT0 + 60 * kS);
  const ServerCounters t = Total(Udp53());
  EXPECT_EQ(t.mismatched_responses, 1u);
  EXPECT_EQ(t.answered, 0u);
  EXPECT_EQ(t.failures[static_cast<int>(Fail::kTimeout)], 1u);
}

TEST_F(WorkerTest, RetransmissionIsOneTransactionTimedOutFromLastSend) {
  Feed(kT0, DnsQuery(kClient, kServer, 1000, 53, 9, "a.example"));
  Feed(kT0 + 2 * kS, DnsQuery(kClient, kServer, 1000, 53, 9, "a.example"));
  Finish(kT0 + 60 * kS);
  const ServerCounters t = Total(Udp53());
  EXPECT_EQ(t.queries, 1u);
  EXPECT_EQ(t.retries, 1u);
  EXPECT_EQ(t.failures[static_cast<int>(Fail::kTimeout)], 1u);
  auto f = Failures();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].query_ns, kT0);
  EXPECT_EQ(f[0].evidence_ns, kT0 + 2 * kS);  // the last transmission
  EXPECT_TRUE(f[0].has_qname);                // from the kept query frame
}

TEST_F(WorkerTest, ResponseAtExactlyTheTimeoutIsInTime) {
  Feed(kT0, DnsQuery(kClient, kServer, 1000, 53, 9, "a.example"));
  Feed(kT0 + 5 * kS,
       DnsResponse(kClient, kServer, 1000, 53, 9, "a.example", 0));
  Feed(kT0 + 10 * kS, DnsQuery(kClient, kServer, 1001, 53, 10, "a.example"));
  Feed(kT0 + 15 * kS + 1,
       DnsResponse(kClient, kServer, 1001, 53, 10, "a.example", 0));
  Finish(kT0 + 60 * kS);
  const ServerCounters t = Total(Udp53());
  EXPECT_EQ(t.answered, 1u);
  EXPECT_EQ(t.failures[static_cast<int>(Fail::kTimeout)], 1u);
  EXPECT_EQ(worker_->stats().late_responses, 1u);
}

TEST_F(WorkerTest, IcmpPortUnreachableFailsThePendingQuery) {
  const auto q =
      DnsQuery(kClient, kServer, 52444, 53, 35084, "yummyrecipesforme.com");
  Feed(kT0 + 192571000, q);
  Feed(kT0 + 4 * kS, IcmpUnreachable(kServer, q, 3));
  Finish(kT0 + 60 * kS);
  const ServerCounters t = Total(Udp53());
  EXPECT_EQ(t.queries, 1u);
  EXPECT_EQ(t.failed, 1u);
  EXPECT_EQ(t.failures[static_cast<int>(Fail::kIcmpPort)], 1u);
  auto f = Failures();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].reporter, kServer);
  EXPECT_EQ(f[0].client, kClient);
  EXPECT_EQ(f[0].txid, 35084);
  EXPECT_EQ(f[0].query_ns, kT0 + 192571000);
  EXPECT_EQ(f[0].evidence_ns, kT0 + 4 * kS);
  EXPECT_EQ(worker_->stats().icmp_matched, 1u);
  // Evidence kept: the query and the ICMP error.
  ASSERT_EQ(buckets_.size(), 1u);
  ASSERT_EQ(buckets_[0]->evidence.size(), 1u);
  EXPECT_EQ(buckets_[0]->evidence[0].first.query.ts_ns, kT0 + 192571000);
  EXPECT_EQ(buckets_[0]->evidence[0].first.error.ts_ns, kT0 + 4 * kS);
}

TEST_F(WorkerTest, ShortQuoteFromRouterFailsThePendingQueryOnce) {
  const auto q = DnsQuery(kClient, kServer, 1000, 53, 77, "a.example");
  const auto router = V4(198, 51, 100, 254);
  Feed(kT0, q);
  // IP header + 8 bytes: no DNS id; matched by the quoted 4-tuple.
  Feed(kT0 + kS, IcmpUnreachable(router, q, 13, 28));
  Finish(kT0 + 60 * kS);
  const ServerCounters t = Total(Udp53());
  EXPECT_EQ(t.queries, 1u);
  EXPECT_EQ(t.failed, 1u);
  EXPECT_EQ(t.failures[static_cast<int>(Fail::kIcmpAdmin)], 1u);
  auto f = Failures();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].reporter, router);
  EXPECT_EQ(f[0].query_ns, kT0);
  EXPECT_EQ(f[0].evidence_ns, kT0 + kS);
  EXPECT_TRUE(f[0].has_qname);  // from the kept query frame
  EXPECT_EQ(worker_->stats().icmp_stashed, 1u);
  EXPECT_EQ(worker_->stats().icmp_matched, 1u);
}

TEST_F(WorkerTest, ShortQuoteWithoutQueryIsAFailureOfItsOwn) {
  const auto q = DnsQuery(kClient, kServer, 1000, 53, 77, "a.example");
  Feed(kT0, IcmpUnreachable(kServer, q, 3, 28));
  Feed(kT0 + 40 * kS,
       DnsQuery(kClient, V4(10, 0, 0, 53), 1, 53, 1, "b.example"));
  Finish(kT0 + 60 * kS);
  const ServerCounters t = Total(Udp53());
  EXPECT_EQ(t.queries, 1u);
  EXPECT_EQ(t.failures[static_cast<int>(Fail::kIcmpPort)], 1u);
  EXPECT_EQ(worker_->stats().icmp_orphans, 1u);
}

TEST_F(WorkerTest, IcmpQuotingAResponseIsNotAFailure) {
  const auto resp = DnsResponse(kClient, kServer, 1000, 53, 5, "a.example", 0);
  Feed(kT0, IcmpUnreachable(kClient, resp, 3));
  Finish(kT0 + 60 * kS);
  EXPECT_EQ(worker_->stats().icmp_quoting_responses, 1u);
  EXPECT_TRUE(Failures().empty());
}

TEST_F(WorkerTest, IgnoredIcmpCodesAreCountedNotFailures) {
  const auto q = DnsQuery(kClient, kServer, 1000, 53, 5, "a.example");
  Feed(kT0, q);
  Feed(kT0 + 1000, IcmpUnreachable(kServer, q, 4));  // fragmentation needed
  Feed(kT0 + 2000, DnsResponse(kClient, kServer, 1000, 53, 5, "a.example", 0));
  Finish(kT0 + 60 * kS);
  EXPECT_EQ(worker_->stats().icmp_ignored_codes, 1u);
  EXPECT_EQ(Total(Udp53()).answered, 1u);
}

TEST_F(WorkerTest, LateIcmpReclassifiesATimeout) {
  const auto q =
      DnsQuery(kClient, kServer, 52444, 53, 35084, "yummyrecipesforme.com");
  Feed(kT0, q);
  Feed(kT0 + 43 * kS, IcmpUnreachable(kServer, q, 3));
  Finish(kT0 + 120 * kS);
  const ServerCounters t = Total(Udp53());
  EXPECT_EQ(t.failures[static_cast<int>(Fail::kTimeout)], 1u);  // in its second
  auto r = Reclassified();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].first.kind, Fail::kIcmpPort);
  EXPECT_EQ(r[0].first.query_ns, kT0);
  EXPECT_EQ(r[0].first.evidence_ns, kT0 + 43 * kS);
  EXPECT_EQ(r[0].second, "yummyrecipesforme.com");
  EXPECT_EQ(worker_->stats().icmp_reclassified, 1u);
}

TEST_F(WorkerTest, OrphanIcmpIsAFailureAtItsOwnTime) {
  const auto q = DnsQuery(kClient, kServer, 1000, 53, 5, "never.seen");
  Feed(kT0 + 7 * kS, IcmpUnreachable(kServer, q, 3));
  Finish(kT0 + 60 * kS);
  auto f = Failures();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].query_ns, kT0 + 7 * kS);
  EXPECT_EQ(Total(Udp53()).queries, 1u);
  EXPECT_EQ(worker_->stats().icmp_orphans, 1u);
}

TEST_F(WorkerTest, ServfailAndRefusedAreFailures) {
  Feed(kT0, DnsQuery(kClient, kServer, 1000, 53, 5, "a.example"));
  Feed(kT0 + 1000, DnsResponse(kClient, kServer, 1000, 53, 5, "a.example", 2));
  Feed(kT0 + 2000, DnsQuery(kClient, kServer, 1001, 53, 6, "b.example"));
  Feed(kT0 + 3000, DnsResponse(kClient, kServer, 1001, 53, 6, "b.example", 5));
  Finish(kT0 + 60 * kS);
  const ServerCounters t = Total(Udp53());
  EXPECT_EQ(t.failures[static_cast<int>(Fail::kServfail)], 1u);
  EXPECT_EQ(t.failures[static_cast<int>(Fail::kRefused)], 1u);
  EXPECT_EQ(t.answered, 0u);
}

TEST_F(WorkerTest, TcpSynAnsweredByRstIsRefusedAndSynAckIsNotCounted) {
  Feed(kT0, Tcp(kClient, kServer, 40000, 53, parse::kTcpSyn));
  Feed(kT0 + 1000,
       Tcp(kServer, kClient, 53, 40000, parse::kTcpRst | parse::kTcpAck));
  Feed(kT0 + 2000, Tcp(kClient, kServer, 40001, 53, parse::kTcpSyn));
  Feed(kT0 + 3000,
       Tcp(kServer, kClient, 53, 40001, parse::kTcpSyn | parse::kTcpAck));
  Finish(kT0 + 60 * kS);
  const ServerKey tcp{kServer, 53, parse::Transport::kTcp};
  const ServerCounters t = Total(tcp);
  EXPECT_EQ(t.queries, 1u);
  EXPECT_EQ(t.failures[static_cast<int>(Fail::kTcpRefused)], 1u);
  EXPECT_EQ(worker_->table().size(), 0u);
}

TEST_F(WorkerTest, Ipv6AndIcmpv6PortUnreachable) {
  const auto c = V6(1), s = V6(0x53);
  const auto q = DnsQuery(c, s, 1000, 53, 5, "a.example", 28);
  Feed(kT0, q);
  Feed(kT0 + 1000, IcmpUnreachable(s, q, 4));
  Finish(kT0 + 60 * kS);
  const ServerCounters t = Total(ServerKey{s, 53, parse::Transport::kUdp});
  EXPECT_EQ(t.failures[static_cast<int>(Fail::kIcmpPort)], 1u);
}

TEST_F(WorkerTest, FinishTimesOutOnlyQueriesPastTheirTimeout) {
  Feed(kT0, DnsQuery(kClient, kServer, 1000, 53, 5, "old.example"));
  Feed(kT0 + 10 * kS, DnsQuery(kClient, kServer, 1001, 53, 6, "new.example"));
  Finish(kT0 + 12 * kS);
  const ServerCounters t = Total(Udp53());
  EXPECT_EQ(t.queries, 2u);
  EXPECT_EQ(t.failures[static_cast<int>(Fail::kTimeout)], 1u);
  EXPECT_EQ(t.unresolved, 1u);
}

TEST_F(WorkerTest, BucketsArePublishedAfterTheHold) {
  Feed(kT0, DnsQuery(kClient, kServer, 1000, 53, 5, "a.example"));
  std::unique_ptr<Bucket> b;
  const int64_t hold = worker_->config().HoldNs();
  worker_->Advance(kT0 + kS + hold - 1);
  EXPECT_FALSE(worker_->PopClosed(&b));
  EXPECT_LE(worker_->watermark_second(), kT0 / kS);
  worker_->Advance(kT0 + kS + hold);
  ASSERT_TRUE(worker_->PopClosed(&b));
  EXPECT_EQ(b->second, kT0 / kS);
  EXPECT_EQ(worker_->watermark_second(), kT0 / kS + 1);
  // Its only transaction timed out before it was published.
  ASSERT_EQ(b->servers.size(), 1u);
  EXPECT_EQ(b->servers[0].failures[static_cast<int>(Fail::kTimeout)], 1u);
  worker_->Recycle(std::move(b));
}

// Fires on every third name, from its hash alone: never writes the text,
// so a hit's record has the name only if the worker writes it.
class HashOnlyWatcher : public QueryWatcher {
 public:
  int Match(parse::DnsMessage* query, WatchHit* hits) override {
    if (query->name_hash % 3 != 0) return 0;
    hits[0] = {1, "by hash", "low"};
    return 1;
  }
};

// ProcessBurst (prefetch, hash reuse, questions decoded ahead) must not
// change what a worker counts or records: the same traffic through Process()
// and through bursts of every size gives identical stats and buckets,
// watch-list records included.
TEST(WorkerBurst, SameResultsAsOnePacketAtATime) {
  std::vector<testing::Frame> frames;
  std::vector<int64_t> times;
  uint64_t rng = 12345;
  auto next = [&rng](uint64_t n) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (rng >> 33) % n;
  };
  const parse::IpAddress servers[] = {V4(203, 0, 113, 2), V4(203, 0, 113, 3),
                                      V6(0x53)};
  int64_t t = kT0;
  for (int i = 0; i < 4000; ++i) {
    const parse::IpAddress& server = servers[next(3)];
    const parse::IpAddress client =
        server.version == 6 ? V6(static_cast<uint16_t>(0x100 + next(40)))
                            : V4(10, 0, static_cast<uint8_t>(next(4)),
                                 static_cast<uint8_t>(1 + next(50)));
    const uint16_t port = static_cast<uint16_t>(40000 + next(200));
    const uint16_t id = static_cast<uint16_t>(next(500));
    std::string name = "n";
    name += std::to_string(next(30));
    name += ".example";
    for (char& ch : name) {
      if (next(2) == 0) ch = static_cast<char>(std::toupper(ch));
    }
    const testing::Frame q = DnsQuery(client, server, port, 53, id, name);
    frames.push_back(q);
    times.push_back(t);
    const uint64_t r = next(10);
    if (r < 6) {
      frames.push_back(DnsResponse(client, server, port, 53, id, name,
                                   r == 0 ? 3 : (r == 1 ? 2 : 0)));
      times.push_back(t + 1000000);
    } else if (r == 6) {
      frames.push_back(IcmpUnreachable(server, q, server.version == 6 ? 4 : 3));
      times.push_back(t + 2000000);
    } else if (r == 7) {  // a retry
      frames.push_back(q);
      times.push_back(t + 3000000);
    }
    t += static_cast<int64_t>(next(3000)) * 1000;
  }
  // The responses and errors above were appended right after their query;
  // keep the frames in time order as a capture would be.
  std::vector<size_t> order(frames.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return times[a] < times[b]; });
  std::vector<parse::Packet> packets(frames.size());
  std::vector<parse::Bytes> bytes(frames.size());
  std::vector<int64_t> ts(frames.size());
  for (size_t i = 0; i < order.size(); ++i) {
    const testing::Frame& f = frames[order[i]];
    parse::DecodeFrame(parse::LinkType::kEthernet, f, &packets[i]);
    bytes[i] = parse::Bytes(f.data(), f.size());
    ts[i] = times[order[i]];
  }
  WorkerConfig c;
  c.max_transactions = 512;  // some evictions too
  c.frame_ring_slots = 256;
  auto one = Worker::Create(c, 0);
  auto burst = Worker::Create(c, 0);
  ASSERT_TRUE(one.ok() && burst.ok());
  HashOnlyWatcher watch_one, watch_burst;
  (*one)->SetWatcher(&watch_one);
  (*burst)->SetWatcher(&watch_burst);
  for (size_t i = 0; i < packets.size(); ++i)
    (*one)->Process(ts[i], packets[i], bytes[i]);
  for (size_t i = 0; i < packets.size();) {
    const size_t n = std::min<size_t>(packets.size() - i, 1 + next(64));
    (*burst)->ProcessBurst(&ts[i], &packets[i], &bytes[i], n);
    i += n;
  }
  (*one)->Finish(t + 100 * kS);
  (*burst)->Finish(t + 100 * kS);
  EXPECT_EQ(
      std::memcmp(&(*one)->stats(), &(*burst)->stats(), sizeof(WorkerStats)),
      0);
  EXPECT_GT((*one)->stats().dns_responses, 1000u);
  EXPECT_GT((*one)->stats().icmp_matched, 100u);
  EXPECT_GT((*one)->stats().evictions, 0u);
  std::unique_ptr<Bucket> a, b;
  int buckets = 0, watch_records = 0;
  while ((*one)->PopClosed(&a)) {
    ASSERT_TRUE((*burst)->PopClosed(&b));
    ++buckets;
    EXPECT_EQ(a->second, b->second);
    ASSERT_EQ(a->servers.size(), b->servers.size());
    for (size_t i = 0; i < a->servers.size(); ++i) {
      const ServerCounters &x = a->servers[i], &y = b->servers[i];
      EXPECT_TRUE(x.server == y.server);
      EXPECT_EQ(x.queries, y.queries);
      EXPECT_EQ(x.answered, y.answered);
      EXPECT_EQ(x.failed, y.failed);
      EXPECT_EQ(x.retries, y.retries);
      EXPECT_EQ(x.evicted, y.evicted);
      EXPECT_EQ(x.rcodes, y.rcodes);
      EXPECT_EQ(x.failures, y.failures);
      EXPECT_EQ(x.latency_log2_us, y.latency_log2_us);
      EXPECT_EQ(x.client_sketch, y.client_sketch);
    }
    EXPECT_EQ(a->failures.size(), b->failures.size());
    EXPECT_EQ(a->nxdomains.size(), b->nxdomains.size());
    EXPECT_EQ(a->names, b->names);
    ASSERT_EQ(a->watch.size(), b->watch.size());
    for (size_t i = 0; i < a->watch.size(); ++i) {
      const WatchRecord &x = a->watch[i], &y = b->watch[i];
      EXPECT_EQ(x.txid, y.txid);
      EXPECT_EQ(x.query_ns, y.query_ns);
      const std::string name(a->Name(x.qname_offset, x.qname_length));
      EXPECT_EQ(name, b->Name(y.qname_offset, y.qname_length));
      // Written by the worker, lowercase, although the watcher wrote none.
      EXPECT_TRUE(name.starts_with("n") && name.ends_with(".example")) << name;
      EXPECT_EQ(absl::AsciiStrToLower(name), name);
      watch_records += 1;
    }
  }
  EXPECT_FALSE((*burst)->PopClosed(&b));
  EXPECT_GT(buckets, 3);
  EXPECT_GT(watch_records, 500);
}

TEST(IcmpCodes, MapAsTheTableSays) {
  auto kind = [](bool v6, uint8_t code) {
    Fail f;
    return IcmpCodeToFail(v6, code, &f) ? static_cast<int>(f) : -1;
  };
  const int net = static_cast<int>(Fail::kIcmpNet),
            host = static_cast<int>(Fail::kIcmpHost),
            port = static_cast<int>(Fail::kIcmpPort),
            admin = static_cast<int>(Fail::kIcmpAdmin);
  const std::map<int, int> v4 = {
      {0, net},   {1, host},   {2, port}, {3, port},  {4, -1},     {5, host},
      {6, net},   {7, host},   {8, host}, {9, admin}, {10, admin}, {11, net},
      {12, host}, {13, admin}, {14, -1},  {15, -1}};
  for (const auto& [code, want] : v4)
    EXPECT_EQ(kind(false, code), want) << code;
  const std::map<int, int> v6 = {{0, net},  {1, admin}, {2, -1},   {3, host},
                                 {4, port}, {5, admin}, {6, admin}};
  for (const auto& [code, want] : v6) EXPECT_EQ(kind(true, code), want) << code;
}

// Query frames go through the worker's frame ring (written a line at a time
// with streaming stores where the CPU has them) and come back as evidence:
// byte for byte, at every length around the line boundaries, cut at
// kMaxEvidenceFrame.
TEST_F(WorkerTest, EvidenceFramesComeBackByteForByte) {
  std::map<uint8_t, testing::Frame> sent;  // by the server's last octet
  for (uint8_t i = 0; i < 60; ++i) {
    // Names of 1..237 bytes: frames of 64..300 bytes, 4 apart.
    std::string name;
    for (int n = 1 + 4 * i; n > 0; n -= 50) {
      if (!name.empty()) name += '.';
      name += std::string(std::min(n, 49), static_cast<char>('a' + i % 26));
    }
    const auto q = DnsQuery(kClient, V4(203, 0, 113, i), 1000 + i, 53, i, name);
    sent[i] = q;
    Feed(kT0 + i * 1000, q);
  }
  Finish(kT0 + 60 * kS);
  size_t checked = 0;
  for (const auto& b : buckets_) {
    for (const ServerCounters& c : b->servers) {
      ASSERT_GE(c.evidence, 0);
      const testing::Frame& want = sent.at(c.server.ip.bytes[3]);
      const Frame& got = b->evidence[c.evidence].first.query;
      const size_t n = std::min<size_t>(want.size(), kMaxEvidenceFrame);
      ASSERT_EQ(got.length, n) << want.size();
      EXPECT_EQ(got.ts_ns, kT0 + c.server.ip.bytes[3] * 1000);
      EXPECT_EQ(std::memcmp(got.bytes.data(), want.data(), n), 0)
          << want.size();
      ++checked;
    }
  }
  EXPECT_EQ(checked, sent.size());
}

// The ring keeps the last frame_ring_slots query frames (64 here): a
// failure of an older query has no query frame, a newer one has its own.
TEST_F(WorkerTest, EvidenceOfQueriesTheRingStillHolds) {
  WorkerConfig config;  // not the fixture's 64 servers a bucket: 100
  config.max_transactions = 1024;
  config.frame_ring_slots = 64;
  auto w = Worker::Create(config, 0);
  ASSERT_TRUE(w.ok());
  worker_ = std::move(*w);
  constexpr int kQueries = 100;  // each to its own server, all timing out
  for (int i = 0; i < kQueries; ++i) {
    Feed(kT0 + i * 1000,
         DnsQuery(kClient,
                  V4(203, 0, static_cast<uint8_t>(i / 256),
                     static_cast<uint8_t>(i % 256)),
                  2000 + i, 53, static_cast<uint16_t>(i), "gone.example"));
  }
  Finish(kT0 + 60 * kS);
  int with_frame = 0, checked = 0;
  for (const auto& b : buckets_) {
    for (const ServerCounters& c : b->servers) {
      ASSERT_GE(c.evidence, 0);
      const int i = c.server.ip.bytes[2] * 256 + c.server.ip.bytes[3];
      const Frame& got = b->evidence[c.evidence].first.query;
      EXPECT_EQ(got.length > 0, i >= kQueries - 64) << i;
      if (got.length > 0) {
        EXPECT_EQ(got.ts_ns, kT0 + i * 1000) << i;
      }
      with_frame += got.length > 0;
      ++checked;
    }
  }
  EXPECT_EQ(checked, kQueries);
  EXPECT_EQ(with_frame, 64);
  EXPECT_EQ(worker_->stats().failures_without_query_frame, kQueries - 64);
}

}  // namespace
}  // namespace edgecap::flow
