#include "lib/flow/watch.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/flow/test_frames.h"
#include "lib/flow/worker.h"

namespace edgecap::flow {
namespace {

using testing::DnsQuery;
using testing::DnsResponse;
using testing::V4;

constexpr int64_t kS = kNsPerSecond;
constexpr int64_t kT0 = 1710422672LL * kS;

// Fires rule 7 on names ending in "bad.example" and rule 9 on "x.bad.example";
// remembers every name it was asked about.
class FakeWatcher : public QueryWatcher {
 public:
  int Match(parse::DnsMessage* query, WatchHit* hits) override {
    parse::MaterializeQname(query);
    const std::string_view qname = query->qname();
    seen.emplace_back(qname);
    int n = 0;
    if (qname.ends_with("bad.example")) hits[n++] = {7, "bad things", "high"};
    if (qname == "x.bad.example") hits[n++] = {9, "", "low"};
    return n;
  }
  std::vector<std::string> seen;
};

class WatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WorkerConfig c;
    c.max_transactions = 1024;
    c.frame_ring_slots = 64;
    c.max_servers_per_bucket = 64;
    worker_ = std::move(*Worker::Create(c, 0));
    worker_->SetWatcher(&watcher_);
  }
  void Feed(int64_t ts, const testing::Frame& f) {
    parse::Packet p;
    ASSERT_EQ(parse::DecodeFrame(parse::LinkType::kEthernet, f, &p),
              parse::Anomaly::kNone);
    worker_->Process(ts, p, f);
  }
  std::vector<std::unique_ptr<Bucket>> Finish(int64_t end) {
    worker_->Finish(end);
    std::vector<std::unique_ptr<Bucket>> out;
    std::unique_ptr<Bucket> b;
    while (worker_->PopClosed(&b)) out.push_back(std::move(b));
    return out;
  }
  FakeWatcher watcher_;
  std::unique_ptr<Worker> worker_;
};

TEST_F(WatchTest, NewQueriesOnlyWithTheirRulesAndTexts) {
  const auto client = V4(10, 0, 0, 1), server = V4(10, 0, 0, 53);
  // Mixed case on the wire: the watcher sees the decoder's lowercase name.
  Feed(kT0, DnsQuery(client, server, 40000, 53, 1, "X.Bad.Example", 1));
  Feed(kT0 + kS, DnsQuery(client, server, 40000, 53, 1, "X.Bad.Example", 1));
  Feed(kT0 + kS + 1,
       DnsResponse(client, server, 40000, 53, 1, "x.bad.example", 0, 1));
  Feed(kT0 + 2 * kS,
       DnsQuery(client, server, 40001, 53, 2, "good.example", 28));
  // The answer and the retry are not new queries.
  EXPECT_EQ(watcher_.seen,
            (std::vector<std::string>{"x.bad.example", "good.example"}));
  EXPECT_EQ(worker_->stats().watch_hits, 2u);
  std::vector<std::unique_ptr<Bucket>> buckets = Finish(kT0 + 3 * kS);
  std::vector<const WatchRecord*> recs;
  const Bucket* hit_bucket = nullptr;
  for (const auto& b : buckets) {
    for (const WatchRecord& r : b->watch) {
      recs.push_back(&r);
      hit_bucket = b.get();
    }
  }
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(hit_bucket->second, kT0 / kS);
  EXPECT_EQ(recs[0]->rule_id, 7u);
  EXPECT_EQ(recs[1]->rule_id, 9u);
  for (const WatchRecord* r : recs) {
    EXPECT_EQ(r->query_ns, kT0);
    EXPECT_EQ(r->client, client);
    EXPECT_EQ(r->server.ip, server);
    EXPECT_EQ(r->server.port, 53);
    EXPECT_EQ(r->qtype, 1);
    EXPECT_EQ(r->client_port, 40000);
    EXPECT_EQ(r->txid, 1);
    EXPECT_EQ(hit_bucket->Name(r->qname_offset, r->qname_length),
              "x.bad.example");
  }
  EXPECT_EQ(hit_bucket->Name(recs[0]->label_offset, recs[0]->label_length),
            "bad things");
  EXPECT_EQ(
      hit_bucket->Name(recs[0]->severity_offset, recs[0]->severity_length),
      "high");
  EXPECT_EQ(
      hit_bucket->Name(recs[1]->severity_offset, recs[1]->severity_length),
      "low");
  // One evidence entry per (rule, server), both ends the query's frame.
  ASSERT_EQ(hit_bucket->watch_evidence.size(), 2u);
  const testing::Frame q =
      DnsQuery(client, server, 40000, 53, 1, "X.Bad.Example", 1);
  for (const WatchEvidence& e : hit_bucket->watch_evidence) {
    EXPECT_EQ(e.server.ip, server);
    for (const Frame* f : {&e.first, &e.last}) {
      EXPECT_EQ(f->ts_ns, kT0);
      ASSERT_EQ(f->length, q.size());
      EXPECT_EQ(std::memcmp(f->bytes.data(), q.data(), q.size()), 0);
    }
  }
  EXPECT_EQ(hit_bucket->watch_evidence[0].rule_id +
                hit_bucket->watch_evidence[1].rule_id,
            16u);
  // Recycled buckets come back empty.
  const Bucket* raw = hit_bucket;
  for (auto& b : buckets) worker_->Recycle(std::move(b));
  EXPECT_TRUE(raw->watch.empty());
  EXPECT_TRUE(raw->watch_evidence.empty());
  for (int8_t slot : raw->watch_index) EXPECT_EQ(slot, -1);
}

// The evidence of a busy second is its earliest and its latest hit, however
// many hits came between and in whatever order the capture has them.
TEST_F(WatchTest, EvidenceIsTheEarliestAndTheLatestHitOfEachKey) {
  const auto server = V4(10, 0, 0, 53), other = V4(10, 0, 0, 54);
  const int64_t base = kT0 + 5 * kS;
  // 200 hits on `server`, the latest (t = 150 us) in the middle, the earliest
  // (t = 1 us) near the end; `other` once.
  int64_t latest = 0;
  for (int k = 0; k < 200; ++k) {
    const int64_t t = k == 100 ? 150'000 : k == 190 ? 1'000 : 2'000 + 100 * k;
    latest = std::max(latest, t);
    Feed(base + t, DnsQuery(V4(192, 0, 2, static_cast<uint8_t>(k)), server,
                            static_cast<uint16_t>(40000 + k), 53,
                            static_cast<uint16_t>(k), "a.bad.example", 1));
  }
  Feed(base + 3'000,
       DnsQuery(V4(192, 0, 2, 1), other, 41000, 53, 7, "b.bad.example", 1));
  std::vector<std::unique_ptr<Bucket>> buckets = Finish(base + 2 * kS);
  const Bucket* b = nullptr;
  for (const auto& x : buckets) {
    if (!x->watch.empty()) b = x.get();
  }
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->watch.size(), 201u);
  ASSERT_EQ(b->watch_evidence.size(), 2u);
  EXPECT_EQ(b->dropped_watch_evidence, 0u);
  for (const WatchEvidence& e : b->watch_evidence) {
    EXPECT_EQ(e.rule_id, 7u);
    if (e.server.ip == server) {
      EXPECT_EQ(e.first.ts_ns, base + 1'000);
      EXPECT_EQ(e.last.ts_ns, base + latest);
      const testing::Frame q = DnsQuery(V4(192, 0, 2, 100), server, 40100, 53,
                                        100, "a.bad.example", 1);
      ASSERT_EQ(e.last.length, q.size());
      EXPECT_EQ(std::memcmp(e.last.bytes.data(), q.data(), q.size()), 0);
    } else {
      EXPECT_EQ(e.server.ip, other);
      EXPECT_EQ(e.first.ts_ns, base + 3'000);
      EXPECT_EQ(e.last.ts_ns, base + 3'000);
    }
  }
}

// More keys than a bucket keeps: the rest are counted, their records stay.
TEST_F(WatchTest, KeysBeyondTheCapAreCountedAsDropped) {
  const int servers = static_cast<int>(kMaxWatchKeysPerBucket) + 10;
  for (int k = 0; k < servers; ++k) {
    Feed(kT0 + k,
         DnsQuery(V4(192, 0, 2, 1), V4(10, 0, 1, static_cast<uint8_t>(k)),
                  static_cast<uint16_t>(40000 + k), 53,
                  static_cast<uint16_t>(k), "a.bad.example", 1));
  }
  for (const auto& b : Finish(kT0 + kS)) {
    if (b->watch.empty()) continue;
    EXPECT_EQ(b->watch.size(), static_cast<size_t>(servers));
    EXPECT_EQ(b->watch_evidence.size(), kMaxWatchKeysPerBucket);
    EXPECT_EQ(b->dropped_watch_evidence, 10u);
    for (size_t i = 0; i < b->watch_evidence.size(); ++i) {
      EXPECT_EQ(b->watch_evidence[i].server.ip.bytes[3], i);
    }
  }
}

TEST_F(WatchTest, NoWatcherNoRecords) {
  worker_->SetWatcher(nullptr);
  Feed(kT0, DnsQuery(V4(10, 0, 0, 1), V4(10, 0, 0, 53), 40000, 53, 1,
                     "x.bad.example", 1));
  for (const auto& b : Finish(kT0 + kS)) EXPECT_TRUE(b->watch.empty());
  EXPECT_TRUE(watcher_.seen.empty());
}

}  // namespace
}  // namespace edgecap::flow
