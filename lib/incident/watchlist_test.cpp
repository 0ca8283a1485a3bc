#include "lib/incident/watchlist.h"

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/flow/test_frames.h"
#include "lib/incident/detector.h"
#include "lib/incident/json_writer.h"
#include "lib/incident/report.h"

namespace edgecap::incident {
namespace {

using flow::kNsPerSecond;
constexpr int64_t kS = kNsPerSecond;
constexpr int64_t kT0 = 1710422672LL * kS;  // 2024-03-14T13:24:32Z

parse::IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  const uint8_t x[4] = {a, b, c, d};
  return parse::IpAddress::V4(x);
}

struct Hit {
  int64_t t;
  uint32_t rule;
  uint8_t server;  // 10.0.0.<server>:53
  uint8_t client;  // 192.0.2.<client>
  std::string qname;
};

// The query frame of hit `h` as a worker would have seen it.
flow::Frame ts_frame(const Hit& h, const flow::WatchRecord& r) {
  const flow::testing::Frame q = flow::testing::DnsQuery(
      r.client, r.server.ip, r.client_port, 53, r.txid, h.qname, 1);
  flow::Frame f;
  f.ts_ns = h.t;
  f.length = static_cast<uint16_t>(q.size());
  std::memcpy(f.bytes.data(), q.data(), q.size());
  return f;
}

// What flow::Worker::Watch keeps per (rule, server): the FrameLess-first and
// -last frame.
void KeepEvidence(flow::Bucket* b, const flow::WatchRecord& r,
                  const flow::Frame& f) {
  for (flow::WatchEvidence& e : b->watch_evidence) {
    if (e.rule_id == r.rule_id && e.server == r.server) {
      if (flow::FrameLess(f, e.first)) e.first = f;
      if (flow::FrameLess(e.last, f)) e.last = f;
      return;
    }
  }
  b->watch_evidence.push_back({r.rule_id, r.server, f, f});
}

// Feeds `hits` to a Detector through `workers` workers (hit k goes to
// worker k % workers), one bucket per worker and second, and returns the
// JSON lines.
std::vector<nlohmann::json> Detect(const std::vector<Hit>& hits, int workers,
                                   int64_t end) {
  DetectorConfig config;  // quiet 300 s
  std::vector<Incident> out;
  Detector det(config, workers, [&](Incident i) { out.push_back(i); });
  std::vector<std::map<int64_t, std::unique_ptr<flow::Bucket>>> per(workers);
  for (size_t k = 0; k < hits.size(); ++k) {
    const Hit& h = hits[k];
    const int w = static_cast<int>(k % workers);
    auto& b = per[w][flow::SecondOf(h.t)];
    if (!b) {
      b = std::make_unique<flow::Bucket>();
      b->second = flow::SecondOf(h.t);
      b->worker = w;
    }
    flow::WatchRecord r;
    r.server.ip = V4(10, 0, 0, h.server);
    r.server.port = 53;
    r.client = V4(192, 0, 2, h.client);
    r.client_port = static_cast<uint16_t>(40000 + k);
    r.txid = static_cast<uint16_t>(k);
    r.qtype = 1;
    r.rule_id = h.rule;
    r.query_ns = h.t;
    auto put = [&](std::string_view s, uint32_t* off) {
      *off = static_cast<uint32_t>(b->names.size());
      b->names.append(s);
    };
    put(h.qname, &r.qname_offset);
    r.qname_length = static_cast<uint32_t>(h.qname.size());
    const std::string label = absl::StrCat("label ", h.rule);
    put(label, &r.label_offset);
    r.label_length = static_cast<uint32_t>(label.size());
    put(h.rule == 9 ? "critical" : "high", &r.severity_offset);
    r.severity_length = h.rule == 9 ? 8 : 4;
    b->watch.push_back(r);
    KeepEvidence(b.get(), r, ts_frame(h, r));
  }
  for (int w = 0; w < workers; ++w) {
    for (auto& [s, b] : per[w]) det.Offer(w, std::move(b));
    det.SetWatermark(w, INT64_MAX);
  }
  det.Poll();
  det.Finish(end);
  IncidentLog log;
  for (Incident& i : out) log.Add(std::move(i));
  std::vector<nlohmann::json> lines;
  for (const Incident& i : log.Finalize().incidents()) {
    lines.push_back(nlohmann::json::parse(ToJsonLine(i)));
  }
  return lines;
}

const std::vector<Hit> kHits = {
    {kT0, 7, 53, 1, "a.bad.example"},
    {kT0 + 1, 9, 53, 2, "x.bad.example"},
    {kT0 + 2, 7, 53, 2, "a.bad.example"},
    {kT0 + 10 * kS, 7, 53, 3, "b.bad.example"},
    {kT0 + 10 * kS + 5, 7, 54, 3, "b.bad.example"},  // another server
    // 299.9 s after the last hit: same incident.
    {kT0 + 309 * kS + 900'000'000, 7, 53, 1, "a.bad.example"},
    // 300 s after the last hit: a new incident.
    {kT0 + 609 * kS + 900'000'000, 7, 53, 4, "c.bad.example"},
};

TEST(Watchlist, OneIncidentPerRuleAndServerUntilQuiet) {
  const auto lines = Detect(kHits, 1, kT0 + 700 * kS);
  ASSERT_EQ(lines.size(), 4u);
  // (first_seen, kind, server, rule) order.
  const auto& a = lines[0];
  EXPECT_EQ(a["kind"], "watchlist");
  EXPECT_EQ(a["rule"]["id"], 7);
  EXPECT_EQ(a["rule"]["label"], "label 7");
  EXPECT_EQ(a["rule"]["severity"], "high");
  EXPECT_EQ(a["severity"], "high");
  EXPECT_EQ(a["server"]["ip"], "10.0.0.53");
  EXPECT_EQ(a["state"], "closed");
  EXPECT_EQ(a["queries"], 4);
  EXPECT_EQ(a["first_seen"], "2024-03-14T13:24:32.000000Z");
  EXPECT_EQ(a["last_seen"], "2024-03-14T13:29:41.900000Z");
  EXPECT_EQ(a["clients"]["count"], 3);
  EXPECT_EQ(a["clients"]["sample"][0], "192.0.2.1");
  EXPECT_EQ(a["qnames"][0]["name"], "a.bad.example");
  EXPECT_EQ(a["qnames"][0]["count"], 3);
  EXPECT_EQ(lines[1]["rule"]["id"], 9);
  EXPECT_EQ(lines[1]["severity"], "critical");
  EXPECT_EQ(lines[1]["queries"], 1);
  EXPECT_EQ(lines[2]["server"]["ip"], "10.0.0.54");
  EXPECT_EQ(lines[2]["state"], "closed");
  // The last one: 300 s of quiet have not passed at the end.
  EXPECT_EQ(lines[3]["state"], "open");
  EXPECT_EQ(lines[3]["queries"], 1);
  EXPECT_EQ(lines[3]["first_seen"], "2024-03-14T13:34:41.900000Z");
}

TEST(Watchlist, SameOutputWhateverTheWorkerSplit) {
  const auto one = Detect(kHits, 1, kT0 + 700 * kS);
  EXPECT_EQ(Detect(kHits, 2, kT0 + 700 * kS), one);
  EXPECT_EQ(Detect(kHits, 3, kT0 + 700 * kS), one);
}

// Evidence is the incident's earliest and latest query, whatever the worker
// split and however many hits each second has.
TEST(Watchlist, EvidenceIsTheFirstAndTheLastQuery) {
  std::vector<Hit> hits;
  for (int k = 0; k < 500; ++k) {
    // 100 hits a second for 5 s, the latest of each second first.
    const int64_t t = kT0 + (k / 100) * kS + (99 - k % 100) * 1000;
    hits.push_back({t, 7, 53, static_cast<uint8_t>(k % 200), "a.bad.example"});
  }
  hits.push_back({kT0 + 400 * kS, 7, 53, 1, "c.bad.example"});  // one hit
  const auto one = Detect(hits, 1, kT0 + 800 * kS);
  ASSERT_EQ(one.size(), 2u);
  for (int workers : {2, 3, 7})
    EXPECT_EQ(Detect(hits, workers, kT0 + 800 * kS), one);
  const auto& a = one[0];
  EXPECT_EQ(a["queries"], 500);
  ASSERT_EQ(a["evidence"].size(), 2u);
  EXPECT_EQ(a["evidence"][0].get<std::string>().substr(0, 15),
            "13:24:32.000000");
  EXPECT_EQ(a["evidence"][1].get<std::string>().substr(0, 15),
            "13:24:36.000099");
  EXPECT_EQ(a["last_seen"], "2024-03-14T13:24:36.000099Z");
  EXPECT_NE(a["evidence"][0].get<std::string>().find("192.0.2.99."),
            std::string::npos)
      << a["evidence"][0];
  ASSERT_EQ(one[1]["evidence"].size(), 1u);
  EXPECT_EQ(one[1]["evidence"][0].get<std::string>().substr(0, 15),
            "13:31:12.000000");
}

TEST(Watchlist, ClosedOnlyWhenTheEndIsQuietLongEnough) {
  const std::vector<Hit> h = {{kT0, 7, 53, 1, "a.bad.example"}};
  EXPECT_EQ(Detect(h, 1, kT0 + 300 * kS)[0]["state"], "closed");
  EXPECT_EQ(Detect(h, 1, kT0 + 300 * kS - 1)[0]["state"], "open");
}

TEST(Watchlist, ReportSaysWhoLookedUpWhat) {
  Incident i;
  i.kind = Kind::kWatchlist;
  i.rule = {.id = 7, .label = "Emotet C2"};
  i.severity = "high";
  i.server.ip = V4(10, 0, 0, 53);
  i.server.port = 53;
  i.queries = 2;
  i.client_count = 1;
  i.client_sample = {V4(192, 0, 2, 1)};
  i.qnames = {{"a.bad.example", 1, 2}};
  const std::string md = RenderIncident(i);
  for (const char* s :
       {"rule 7 (Emotet C2)", "Who looked up what", "a.bad.example",
        "192.0.2.1", "compromise", "sinkhole", "Matching queries: 2"}) {
    EXPECT_NE(md.find(s), std::string::npos) << s << "\n" << md;
  }
}

}  // namespace
}  // namespace edgecap::incident
