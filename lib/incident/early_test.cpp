#include "lib/incident/early.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "lib/flow/provisional.h"
#include "lib/flow/test_frames.h"
#include "lib/flow/worker.h"
#include "lib/incident/detector.h"

namespace edgecap::incident {
namespace {

using flow::kNsPerSecond;
using flow::testing::DnsQuery;
using flow::testing::DnsResponse;
using flow::testing::IcmpUnreachable;
using flow::testing::V4;

constexpr int64_t kS = kNsPerSecond;
constexpr int64_t kMs = kS / 1000;
constexpr int64_t kT0 = 1710422672LL * kS;

const parse::IpAddress kClient = V4(192, 51, 100, 15);
const parse::IpAddress kServer = V4(203, 0, 113, 2);
const flow::ServerKey kKey{kServer, 53, parse::Transport::kUdp};

// One worker, a detector, and the glue the pipeline does (FlowStatsEngine).
class EarlyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    flow::WorkerConfig wc;
    wc.max_transactions = 1024;
    wc.frame_ring_slots = 64;
    wc.max_servers_per_bucket = 64;
    wc.query_timeout_ns = 2 * kS;
    wc.sweep_period_ns = kS / 2;
    auto w = flow::Worker::Create(wc, 0);
    ASSERT_TRUE(w.ok());
    worker_ = std::move(*w);
    DetectorConfig dc;
    dc.window_ns = 10 * kS;
    dc.recovery_ns = 3 * kS;
    det_ = std::make_unique<Detector>(
        dc, 1, [this](Incident i) { written_.push_back(std::move(i)); });
  }
  void Feed(int64_t ts, const flow::testing::Frame& f) {
    parse::Packet p;
    parse::DecodeFrame(parse::LinkType::kEthernet, f, &p);
    worker_->Process(ts, p, f);
  }
  // What the stats lcore does every ~100 ms.
  void Tick(int64_t now) {
    worker_->Advance(now);
    tracker_.Summarize(*worker_, now, &summary_);
    det_->OfferProvisional(summary_);
    std::unique_ptr<flow::Bucket> b;
    while (worker_->PopClosed(&b)) det_->Offer(0, std::move(b));
    det_->SetWatermark(0, worker_->watermark_second());
    det_->Poll();
    det_->EvaluateEarly();
    while (det_->PopSpent(0, &b)) worker_->Recycle(std::move(b));
  }
  void Answered(int64_t t, uint16_t port) {
    Feed(t, DnsQuery(kClient, kServer, port, 53, port, "ok.example"));
    Feed(t + kMs,
         DnsResponse(kClient, kServer, port, 53, port, "ok.example", 0));
  }
  void Refused(int64_t t, uint16_t port) {
    const auto q = DnsQuery(kClient, kServer, port, 53, port, "x.example");
    Feed(t, q);
    Feed(t + kMs, IcmpUnreachable(kServer, q, 3));
  }

  std::unique_ptr<flow::Worker> worker_;
  flow::ProvisionalTracker tracker_;
  flow::ProvisionalSummary summary_;
  std::unique_ptr<Detector> det_;
  std::vector<Incident> written_;
};

TEST_F(EarlyTest, OpensWithinATickAndFinalBucketsConfirm) {
  for (uint16_t i = 0; i < 20; ++i) Answered(kT0 + i * 50 * kMs, 1000 + i);
  for (int64_t t = kT0; t < kT0 + 12 * kS; t += 100 * kMs) Tick(t);
  EXPECT_EQ(det_->stats().early_opens, 0u);  // healthy: nothing
  const int64_t start = kT0 + 12 * kS + 30 * kMs;
  for (uint16_t i = 0; i < 3; ++i) Refused(start + i * 10 * kMs, 2000 + i);
  Tick(start + 100 * kMs);
  EXPECT_EQ(det_->stats().early_opens, 1u);
  EXPECT_EQ(det_->stats().opens_announced, 1u);
  EXPECT_EQ(det_->stats().incidents_opened, 0u);
  std::vector<OpenIncident> open = det_->OpenIncidents();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_TRUE(open[0].early);
  EXPECT_EQ(open[0].incident.kind, Kind::kPortUnreachable);
  EXPECT_EQ(open[0].incident.first_seen_ns, start);
  EXPECT_EQ(open[0].incident.failed(), 3u);
  // More failures, then recovery; the final buckets open it ~19 s later
  // without announcing it again, and close it.
  for (uint16_t i = 0; i < 10; ++i) Refused(start + kS + i * kMs, 3000 + i);
  for (int64_t t = start + 200 * kMs; t < start + 3 * kS; t += 100 * kMs) {
    Tick(t);
  }
  for (uint16_t i = 0; i < 20; ++i)
    Answered(start + 3 * kS + i * kMs, 4000 + i);
  for (int64_t t = start + 3 * kS; t < start + 40 * kS; t += 100 * kMs) {
    Tick(t);
  }
  EXPECT_EQ(det_->stats().incidents_opened, 1u);
  EXPECT_EQ(det_->stats().early_opens_confirmed, 1u);
  EXPECT_EQ(det_->stats().early_opens_unconfirmed, 0u);
  EXPECT_EQ(det_->stats().opens_announced, 1u);
  ASSERT_EQ(written_.size(), 1u);
  EXPECT_EQ(written_[0].first_seen_ns, start);
  EXPECT_EQ(written_[0].failed(), 13u);
  EXPECT_TRUE(det_->OpenIncidents().empty());
}

TEST_F(EarlyTest, ConfirmedIncidentIsListedAsFinalWhileOpen) {
  for (uint16_t i = 0; i < 5; ++i) Refused(kT0 + i * 10 * kMs, 2000 + i);
  for (int64_t t = kT0; t < kT0 + 25 * kS; t += 100 * kMs) Tick(t);
  EXPECT_EQ(det_->stats().early_opens_confirmed, 1u);
  std::vector<OpenIncident> open = det_->OpenIncidents();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_FALSE(open[0].early);
  EXPECT_EQ(open[0].incident.failed(), 5u);
  EXPECT_EQ(open[0].incident.server, kKey);
}

TEST_F(EarlyTest, TimeoutsOpenSoonAfterTheyExpire) {
  const int64_t start = kT0 + 200 * kMs;
  for (uint16_t i = 0; i < 5; ++i) {
    Feed(start + i * kMs,
         DnsQuery(kClient, kServer, 5000 + i, 53, i, "slow.example"));
  }
  int64_t opened = 0;
  for (int64_t t = start; t < start + 6 * kS && opened == 0; t += 100 * kMs) {
    Tick(t);
    if (det_->stats().early_opens > 0) opened = t;
  }
  ASSERT_NE(opened, 0);
  // The third query expired at start + 2.002 s.
  EXPECT_GT(opened, start + 2 * kS);
  EXPECT_LE(opened - (start + 2 * kS + 2 * kMs), 700 * kMs);
  ASSERT_EQ(det_->OpenIncidents().size(), 1u);
  EXPECT_EQ(det_->OpenIncidents()[0].incident.kind, Kind::kTimeout);
}

// A summary claiming failures the final buckets never hold: counted as
// unconfirmed once those seconds are final, never written.
TEST_F(EarlyTest, UnconfirmedEarlyOpenIsCountedNotWritten) {
  flow::ProvisionalSummary fake;
  fake.worker = 0;
  fake.now_ns = kT0 + 500 * kMs;
  fake.below_second = kT0 / kS;
  flow::ProvisionalEntry e;
  e.server = kKey;
  e.second = kT0 / kS;
  e.queries = e.failed = 4;
  e.failures[static_cast<int>(flow::Fail::kTimeout)] = 4;
  e.first_failed_query_ns = kT0 + 10 * kMs;
  e.last_evidence_ns = kT0 + 10 * kMs;
  fake.entries.push_back(e);
  Answered(kT0, 100);
  worker_->Advance(kT0 + 500 * kMs);
  det_->OfferProvisional(fake);
  det_->EvaluateEarly();
  EXPECT_EQ(det_->stats().early_opens, 1u);
  for (int64_t t = kT0 + 600 * kMs; t < kT0 + 30 * kS; t += 100 * kMs) {
    Tick(t);
  }
  EXPECT_EQ(det_->stats().early_opens_unconfirmed, 1u);
  EXPECT_EQ(det_->stats().incidents_opened, 0u);
  EXPECT_TRUE(det_->OpenIncidents().empty());
  det_->Finish(kT0 + 30 * kS);
  det_->SettleEarly();
  EXPECT_TRUE(written_.empty());
}

}  // namespace
}  // namespace edgecap::incident
