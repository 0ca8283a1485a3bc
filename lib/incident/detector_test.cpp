#include "lib/incident/detector.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/flow/test_frames.h"
#include "lib/incident/json_writer.h"

namespace edgecap::incident {
namespace {

using flow::Fail;
using flow::kNsPerSecond;
using flow::testing::V4;

constexpr int64_t kS = kNsPerSecond;
constexpr int64_t kT0 = 1710421200LL * kS;  // 2024-03-14T13:00:00Z

struct Txn {
  flow::ServerKey server;
  int64_t query_ns;
  bool answered;
  Fail kind = Fail::kTimeout;
  int64_t evidence_ns = 0;
  parse::IpAddress client = V4(10, 0, 0, 1);
  std::string qname = "a.example";
  parse::IpAddress reporter;
  uint8_t rcode = 0;
  bool reclassify_later = false;  // a timeout whose ICMP comes later
};

flow::ServerKey Server(uint8_t last) {
  return flow::ServerKey{V4(192, 0, 2, last), 53, parse::Transport::kUdp};
}

// Builds per-worker buckets the way flow::Worker fills them; `worker_of`
// splits transactions among workers.
std::vector<std::map<int64_t, std::unique_ptr<flow::Bucket>>> Buckets(
    const std::vector<Txn>& txns, int workers,
    const std::function<int(size_t)>& worker_of) {
  std::vector<std::map<int64_t, std::unique_ptr<flow::Bucket>>> out(workers);
  auto bucket = [&](int w, int64_t s) -> flow::Bucket& {
    auto& b = out[w][s];
    if (!b) {
      b = std::make_unique<flow::Bucket>();
      b->second = s;
      b->worker = w;
    }
    return *b;
  };
  auto counters = [](flow::Bucket& b,
                     const flow::ServerKey& k) -> flow::ServerCounters& {
    for (auto& c : b.servers) {
      if (c.server == k) return c;
    }
    b.servers.emplace_back();
    b.servers.back().server = k;
    return b.servers.back();
  };
  for (size_t i = 0; i < txns.size(); ++i) {
    const Txn& t = txns[i];
    const int w = worker_of(i);
    flow::Bucket& b = bucket(w, flow::SecondOf(t.query_ns));
    flow::ServerCounters& c = counters(b, t.server);
    ++c.queries;
    if (t.answered) {
      ++c.answered;
      ++c.rcodes[t.rcode];
      c.max_answered_ns = std::max(c.max_answered_ns, t.evidence_ns);
      if (t.rcode == 3) {
        ++c.nxdomain;
        flow::NxRecord r;
        r.server = t.server;
        r.client = t.client;
        r.qtype = 1;
        r.query_ns = t.query_ns;
        r.answer_ns = t.evidence_ns;
        r.qname_offset = b.names.size();
        r.qname_length = t.qname.size();
        b.names += t.qname;
        b.nxdomains.push_back(r);
      }
      continue;
    }
    const Fail first = t.reclassify_later ? Fail::kTimeout : t.kind;
    ++c.failed;
    ++c.failures[static_cast<int>(first)];
    flow::FailureRecord r;
    r.server = t.server;
    r.client = t.client;
    r.reporter = t.reclassify_later ? parse::IpAddress{} : t.reporter;
    r.kind = first;
    r.query_ns = t.query_ns;
    r.evidence_ns = t.reclassify_later ? t.query_ns : t.evidence_ns;
    r.has_qname = true;
    r.qtype = 1;
    r.qname_offset = b.names.size();
    r.qname_length = t.qname.size();
    b.names += t.qname;
    b.failures.push_back(r);
    if (t.reclassify_later) {
      flow::Bucket& later = bucket(w, flow::SecondOf(t.evidence_ns));
      flow::FailureRecord x = r;
      x.kind = t.kind;
      x.reporter = t.reporter;
      x.evidence_ns = t.evidence_ns;
      x.qname_offset = later.names.size();
      later.names += t.qname;
      later.reclassified.push_back(x);
    }
  }
  return out;
}

// Runs the detector over the transactions; returns the JSON lines.
std::string RunDetector(const std::vector<Txn>& txns, int64_t final_ns,
                        int workers = 1,
                        std::function<int(size_t)> worker_of = nullptr,
                        std::vector<Incident>* incidents = nullptr,
                        DetectorConfig config = {}) {
  if (!worker_of) worker_of = [](size_t) { return 0; };
  auto per_worker = Buckets(txns, workers, worker_of);
  IncidentLog log;
  Detector det(config, workers, [&](Incident i) { log.Add(std::move(i)); });
  // Offer second by second, moving watermarks as a live run would.
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (auto& m : per_worker) {
    if (!m.empty())
      lo = std::min(lo, m.begin()->first), hi = std::max(hi, m.rbegin()->first);
  }
  for (int64_t s = lo; s <= hi; ++s) {
    for (int w = 0; w < workers; ++w) {
      auto it = per_worker[w].find(s);
      if (it != per_worker[w].end()) det.Offer(w, std::move(it->second));
      det.SetWatermark(w, s + 1);
    }
    det.Poll();
  }
  for (int w = 0; w < workers; ++w) det.SetWatermark(w, INT64_MAX);
  det.Finish(final_ns);
  log.Finalize();
  if (incidents) *incidents = log.incidents();
  return log.JsonLines();
}

Txn Fail1(const flow::ServerKey& s, int64_t q, Fail kind,
          int64_t delay = 1000000) {
  Txn t{s,           q,  false, kind, q + delay, V4(10, 0, 0, 1),
        "a.example", {}, 0,     false};
  if (flow::IsIcmpFail(kind)) t.reporter = s.ip;
  return t;
}
Txn Ok(const flow::ServerKey& s, int64_t q, uint8_t rcode = 0) {
  Txn t{s,           q,  true, Fail::kTimeout, q + 2000000, V4(10, 0, 0, 1),
        "a.example", {}, 0,    false};
  t.rcode = rcode;
  return t;
}

TEST(Detector, ThreeFailuresOverFourMinutesAreOneIncident) {
  const auto s = Server(2);
  std::vector<Txn> t = {Fail1(s, kT0 + 32 * kS, Fail::kIcmpPort),
                        Fail1(s, kT0 + 152 * kS, Fail::kIcmpPort),
                        Fail1(s, kT0 + 272 * kS, Fail::kIcmpPort)};
  std::vector<Incident> inc;
  RunDetector(t, kT0 + 290 * kS, 1, nullptr, &inc);
  ASSERT_EQ(inc.size(), 1u);
  EXPECT_EQ(inc[0].kind, Kind::kPortUnreachable);
  EXPECT_TRUE(inc[0].open);
  EXPECT_EQ(inc[0].first_seen_ns, kT0 + 32 * kS);
  EXPECT_EQ(inc[0].last_seen_ns, kT0 + 272 * kS + 1000000);
  EXPECT_EQ(inc[0].queries, 3u);
  EXPECT_EQ(inc[0].severity, "critical");
  EXPECT_EQ(inc[0].id, "edgecap-1");
}

TEST(Detector, TwoFailuresAreNotEnough) {
  const auto s = Server(2);
  std::vector<Txn> t = {Fail1(s, kT0, Fail::kIcmpPort),
                        Fail1(s, kT0 + kS, Fail::kIcmpPort)};
  EXPECT_EQ(RunDetector(t, kT0 + 100 * kS), "");
}

TEST(Detector, EarlierAnswersDelayTheOpening) {
  const auto s = Server(3);
  std::vector<Txn> t;
  for (int i = 0; i < 100; ++i) t.push_back(Ok(s, kT0 + i * kS));
  // 60 failures from 100 s on, one per second: the ratio reaches 0.5 when
  // failures outnumber the answers still in the window.
  for (int i = 0; i < 60; ++i)
    t.push_back(Fail1(s, kT0 + (100 + i) * kS, Fail::kTimeout));
  EXPECT_EQ(RunDetector(t, kT0 + 165 * kS), "");  // 60 failures vs 100 answers
  for (int i = 60; i < 120; ++i)
    t.push_back(Fail1(s, kT0 + (100 + i) * kS, Fail::kTimeout));
  std::vector<Incident> inc;
  RunDetector(t, kT0 + 225 * kS, 1, nullptr, &inc);
  ASSERT_EQ(inc.size(), 1u);
  EXPECT_EQ(inc[0].kind, Kind::kTimeout);
  EXPECT_EQ(inc[0].first_seen_ns, kT0 + 100 * kS);  // the first failure
  EXPECT_EQ(inc[0].queries, 120u);
  EXPECT_EQ(inc[0].answered, 0u);
}

TEST(Detector, ClosesAfterRecoveryAndCountsTheRecoveringAnswers) {
  const auto s = Server(4);
  const auto other = Server(5);
  std::vector<Txn> t;
  for (int i = 0; i < 10; ++i)
    t.push_back(Fail1(s, kT0 + i * kS, Fail::kIcmpHost));
  t.push_back(Ok(s, kT0 + 11 * kS));
  // Other traffic keeps time moving past the recovery period.
  for (int i = 0; i < 60; ++i) t.push_back(Ok(other, kT0 + i * kS));
  std::vector<Incident> inc;
  RunDetector(t, kT0 + 60 * kS, 1, nullptr, &inc);
  ASSERT_EQ(inc.size(), 1u);
  EXPECT_FALSE(inc[0].open);
  EXPECT_EQ(inc[0].kind, Kind::kHostUnreachable);
  EXPECT_EQ(inc[0].queries, 11u);
  EXPECT_EQ(inc[0].answered, 1u);
  EXPECT_EQ(inc[0].severity, "critical");  // 10 / 11
}

TEST(Detector, NoAnswerClosesOnlyAfterTheQuietPeriod) {
  const auto s = Server(4);
  std::vector<Txn> t;
  for (int i = 0; i < 5; ++i)
    t.push_back(Fail1(s, kT0 + i * kS, Fail::kTimeout));
  std::vector<Incident> inc;
  RunDetector(t, kT0 + 200 * kS, 1, nullptr, &inc);
  ASSERT_EQ(inc.size(), 1u);
  EXPECT_TRUE(inc[0].open);
  RunDetector(t, kT0 + 4 * kS + 1000000 + 300 * kS, 1, nullptr, &inc);
  ASSERT_EQ(inc.size(), 1u);
  EXPECT_FALSE(inc[0].open);
}

TEST(Detector, ANewIncidentNeedsNewFailuresAfterAClose) {
  const auto s = Server(6);
  std::vector<Txn> t;
  for (int i = 0; i < 5; ++i)
    t.push_back(Fail1(s, kT0 + i * kS, Fail::kIcmpPort));
  t.push_back(Ok(s, kT0 + 6 * kS));
  t.push_back(Ok(s, kT0 + 40 * kS));
  t.push_back(Ok(s, kT0 + 100 * kS));
  for (int i = 0; i < 3; ++i)
    t.push_back(Fail1(s, kT0 + (200 + i) * kS, Fail::kServfail));
  std::vector<Incident> inc;
  RunDetector(t, kT0 + 400 * kS, 1, nullptr, &inc);
  ASSERT_EQ(inc.size(), 2u);
  EXPECT_EQ(inc[0].kind, Kind::kPortUnreachable);
  EXPECT_EQ(inc[0].queries, 6u);
  EXPECT_EQ(inc[1].kind, Kind::kServfail);
  EXPECT_EQ(inc[1].first_seen_ns, kT0 + 200 * kS);
  EXPECT_EQ(inc[1].queries, 3u);
  EXPECT_EQ(inc[1].id, "edgecap-2");
}

TEST(Detector, KindIsTheStrongestEvidence) {
  auto kind_of = [](std::vector<std::pair<Fail, int>> mix) {
    const auto s = Server(7);
    std::vector<Txn> t;
    int64_t q = kT0;
    for (auto [f, n] : mix) {
      for (int i = 0; i < n; ++i, q += kS / 10) t.push_back(Fail1(s, q, f));
    }
    std::vector<Incident> inc;
    RunDetector(t, kT0 + 100 * kS, 1, nullptr, &inc);
    return inc.size() == 1 ? std::string(KindName(inc[0].kind))
                           : std::string("none");
  };
  EXPECT_EQ(kind_of({{Fail::kTimeout, 50}, {Fail::kIcmpNet, 1}}),
            "dns-net-unreachable");
  EXPECT_EQ(kind_of({{Fail::kIcmpHost, 3}, {Fail::kIcmpAdmin, 3}}),
            "dns-admin-prohibited");
  EXPECT_EQ(kind_of({{Fail::kIcmpHost, 4}, {Fail::kIcmpPort, 3}}),
            "dns-host-unreachable");
  EXPECT_EQ(kind_of({{Fail::kServfail, 9}, {Fail::kTcpRefused, 1}}),
            "dns-tcp-refused");
  EXPECT_EQ(kind_of({{Fail::kServfail, 3}, {Fail::kRefused, 4}}),
            "dns-refused");
  EXPECT_EQ(kind_of({{Fail::kServfail, 4}, {Fail::kRefused, 4}}),
            "dns-servfail");
  EXPECT_EQ(kind_of({{Fail::kTimeout, 3}}), "dns-timeout");
}

TEST(Detector, LateIcmpMovesATimeoutToTheIcmpKind) {
  const auto s = Server(8);
  std::vector<Txn> t;
  for (int i = 0; i < 3; ++i) {
    Txn x = Fail1(s, kT0 + i * 60 * kS, Fail::kIcmpPort, 40 * kS);
    x.reclassify_later = true;
    t.push_back(x);
  }
  std::vector<Incident> inc;
  RunDetector(t, kT0 + 200 * kS, 1, nullptr, &inc);
  ASSERT_EQ(inc.size(), 1u);
  EXPECT_EQ(inc[0].kind, Kind::kPortUnreachable);
  EXPECT_EQ(inc[0].failures[static_cast<int>(Fail::kIcmpPort)], 3u);
  EXPECT_EQ(inc[0].failures[static_cast<int>(Fail::kTimeout)], 0u);
  EXPECT_EQ(inc[0].last_seen_ns, kT0 + 120 * kS + 40 * kS);
}

TEST(Detector, ClientsAndNamesAreBoundedAndOrdered) {
  const auto s = Server(9);
  std::vector<Txn> t;
  for (int i = 0; i < 40; ++i) {
    Txn x = Fail1(s, kT0 + i * kS / 4, Fail::kIcmpPort);
    x.client = V4(10, 0, 0, static_cast<uint8_t>(40 - i));
    x.qname = i < 20 ? "top.example" : absl::StrCat("n", i % 13, ".example");
    t.push_back(x);
  }
  std::vector<Incident> inc;
  RunDetector(t, kT0 + 100 * kS, 1, nullptr, &inc);
  ASSERT_EQ(inc.size(), 1u);
  EXPECT_EQ(inc[0].client_count, 40u);
  ASSERT_EQ(inc[0].client_sample.size(), 10u);
  EXPECT_EQ(inc[0].client_sample[0], V4(10, 0, 0, 1));
  EXPECT_EQ(inc[0].client_sample[9], V4(10, 0, 0, 10));
  ASSERT_EQ(inc[0].qnames.size(), 10u);
  EXPECT_EQ(inc[0].qnames[0].name, "top.example");
  EXPECT_EQ(inc[0].qnames[0].count, 20u);
  EXPECT_EQ(inc[0].qnames[1].count, 2u);  // n0.example... ties by name
  EXPECT_LT(inc[0].qnames[1].name, inc[0].qnames[2].name);
}

TEST(Detector, NxdomainStormOpensAndCloses) {
  const auto resolver = Server(53);
  std::vector<Txn> t;
  for (int i = 0; i < 400; ++i) {
    Txn x = Ok(resolver, kT0 + i * kS / 40, 3);
    x.qname = absl::StrCat("r", i * 7919 % 100000, ".victim.example");
    x.client = V4(10, 1, 0, static_cast<uint8_t>(i % 12));
    t.push_back(x);
  }
  for (int i = 0; i < 50; ++i) {  // ordinary NXDOMAINs elsewhere
    Txn x = Ok(resolver, kT0 + i * kS, 3);
    x.qname = absl::StrCat("typo", i, ".example.org");
    t.push_back(x);
  }
  std::vector<Incident> inc;
  RunDetector(t, kT0 + 200 * kS, 1, nullptr, &inc);
  ASSERT_EQ(inc.size(), 1u);
  EXPECT_EQ(inc[0].kind, Kind::kNxdomainStorm);
  EXPECT_EQ(inc[0].domain, "victim.example");
  EXPECT_EQ(inc[0].server, resolver);
  EXPECT_FALSE(inc[0].open);
  EXPECT_EQ(inc[0].first_seen_ns, kT0);
  EXPECT_EQ(inc[0].nxdomain, 400u);
  EXPECT_EQ(inc[0].client_count, 12u);
  EXPECT_EQ(inc[0].severity, "critical");
  const std::string line = ToJsonLine(inc[0]);
  EXPECT_NE(line.find("\"domain\":\"victim.example\""), std::string::npos);
  // Still flooding at the end: open.
  RunDetector(t, kT0 + 10 * kS, 1, nullptr, &inc);
  ASSERT_EQ(inc.size(), 1u);
  EXPECT_TRUE(inc[0].open);
}

// NXDOMAIN for many distinct names directly under a public suffix is a
// resolver's everyday background (typos, names that do not exist), not a
// flood against the suffix; the same answers under one registered domain
// are one.
TEST(Detector, NoStormAgainstAPublicSuffix) {
  const auto resolver = Server(53);
  std::vector<Txn> t;
  for (int i = 0; i < 400; ++i) {
    for (const char* suffix : {".com", ".co.uk", ".shop.co.uk"}) {
      Txn x = Ok(resolver, kT0 + i * kS / 40, 3);
      x.qname = absl::StrCat("r", i * 7919 % 100000, suffix);
      x.client = V4(10, 1, 0, static_cast<uint8_t>(i % 12));
      t.push_back(x);
    }
  }
  std::vector<Incident> inc;
  RunDetector(t, kT0 + 200 * kS, 1, nullptr, &inc);
  ASSERT_EQ(inc.size(), 1u);
  EXPECT_EQ(inc[0].kind, Kind::kNxdomainStorm);
  EXPECT_EQ(inc[0].domain, "shop.co.uk");
  EXPECT_EQ(inc[0].nxdomain, 400u);
}

// Storms against several domains that open, close and stay open in the
// same seconds come out in domain order (the tracker walks its domains in
// hash order), and thousands of distinct public-suffix parents before them
// (unknown top-level names, each a suffix by the list's "*" rule: more
// than the tracker remembers verdicts for) neither open a storm nor keep
// one from opening.
TEST(Detector, ManyStormsComeOutInDomainOrder) {
  const auto resolver = Server(53);
  std::vector<Txn> t;
  for (int i = 0; i < 5000; ++i) {
    Txn x = Ok(resolver, kT0 + i * kS / 1000, 3);
    x.qname = absl::StrCat("n", i, ".tld", i);
    t.push_back(x);
  }
  for (int i = 0; i < 400; ++i) {  // and as many under com: no storm
    for (const char* domain :
         {"zeta.example", "alpha.example", "com", "mid.example"}) {
      Txn x = Ok(resolver, kT0 + 10 * kS + i * kS / 40, 3);
      x.qname = absl::StrCat("r", i * 7919 % 100000, ".", domain);
      x.client = V4(10, 1, 0, static_cast<uint8_t>(i % 12));
      t.push_back(x);
    }
  }
  for (const int64_t end_s : {200, 25}) {  // closed, then still open
    std::vector<Incident> inc;
    RunDetector(t, kT0 + end_s * kS, 1, nullptr, &inc);
    ASSERT_EQ(inc.size(), 3u) << end_s;
    const char* want[] = {"alpha.example", "mid.example", "zeta.example"};
    for (int k = 0; k < 3; ++k) {
      EXPECT_EQ(inc[k].kind, Kind::kNxdomainStorm);
      EXPECT_EQ(inc[k].domain, want[k]) << end_s;
      EXPECT_EQ(inc[k].nxdomain, 400u);
      EXPECT_EQ(inc[k].open, end_s == 25);
    }
  }
}

TEST(Detector, OutputDoesNotDependOnTheSplit) {
  std::vector<Txn> t;
  uint64_t x = 88172645463325252ull;
  auto next = [&] {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
  };
  for (int i = 0; i < 3000; ++i) {
    const auto s = Server(static_cast<uint8_t>(1 + next() % 6));
    const int64_t q = kT0 + static_cast<int64_t>(next() % (900 * kS));
    const bool bad_window =
        s.ip.bytes[3] <= 2 && q > kT0 + 300 * kS && q < kT0 + 500 * kS;
    if (bad_window || next() % 50 == 0) {
      static constexpr Fail kinds[] = {Fail::kIcmpPort, Fail::kTimeout,
                                       Fail::kServfail, Fail::kIcmpAdmin};
      Txn f = Fail1(s, q, kinds[next() % 4]);
      f.client = V4(10, 2, next() % 4, next() % 256);
      f.qname = absl::StrCat("q", next() % 30, ".example");
      t.push_back(f);
    } else {
      Txn a = Ok(s, q, next() % 20 == 0 ? 3 : 0);
      // Under a registered name, not directly under a public suffix: the
      // NXDOMAINs among them feed the storm tracker.
      a.qname = absl::StrCat("x", next() % 1000, ".a.example");
      t.push_back(a);
    }
  }
  std::sort(t.begin(), t.end(),
            [](const Txn& a, const Txn& b) { return a.query_ns < b.query_ns; });
  std::vector<Incident> inc;
  const std::string one = RunDetector(t, kT0 + 1000 * kS, 1, nullptr, &inc);
  EXPECT_GE(inc.size(), 2u) << one;
  for (int n : {2, 3, 7}) {
    EXPECT_EQ(RunDetector(t, kT0 + 1000 * kS, n,
                          [&](size_t i) {
                            return static_cast<int>((i * 2654435761u) % n);
                          }),
              one)
        << n << " workers";
  }
}

}  // namespace
}  // namespace edgecap::incident
