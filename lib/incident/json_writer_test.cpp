#include "lib/incident/json_writer.h"

#include <sstream>

#include "gtest/gtest.h"
#include "lib/flow/test_frames.h"

namespace edgecap::incident {
namespace {

using flow::testing::V4;
using flow::testing::V6;

Incident Sample() {
  Incident i;
  i.kind = Kind::kPortUnreachable;
  i.open = true;
  i.severity = "critical";
  i.server = flow::ServerKey{V4(203, 0, 113, 2), 53, parse::Transport::kUdp};
  i.reporters = {V4(203, 0, 113, 2)};
  i.first_seen_ns = 1710422672192571000LL;
  i.last_seen_ns = 1710422930022967999LL;  // sub-microsecond digits dropped
  i.queries = 3;
  i.failures[static_cast<int>(flow::Fail::kIcmpPort)] = 3;
  i.client_count = 1;
  i.client_sample = {V4(192, 51, 100, 15)};
  i.qnames = {{"yummyrecipesforme.com", 1, 3}};
  i.evidence = {"13:24:32.192571 IP 192.51.100.15.52444 > 203.0.113.2.53: ..."};
  i.summary = "s";
  return i;
}

TEST(Json, Rfc3339Microseconds) {
  EXPECT_EQ(Rfc3339(1710422672192571000LL), "2024-03-14T13:24:32.192571Z");
  EXPECT_EQ(Rfc3339(1710422672000000999LL), "2024-03-14T13:24:32.000000Z");
  EXPECT_EQ(Rfc3339(0), "1970-01-01T00:00:00.000000Z");
}

TEST(Json, RecordHasDesignFieldsInOrder) {
  Incident i = Sample();
  i.id = "edgecap-7";
  const std::string line = ToJsonLine(i);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto j = nlohmann::ordered_json::parse(line);
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  const std::vector<std::string> want = {
      "id",        "kind",       "state",     "severity", "server",
      "reporters", "first_seen", "last_seen", "queries",  "answered",
      "failures",  "clients",    "qnames",    "evidence", "summary"};
  EXPECT_EQ(keys, want);
  EXPECT_EQ(j["id"], "edgecap-7");
  EXPECT_EQ(j["kind"], "dns-port-unreachable");
  EXPECT_EQ(j["state"], "open");
  EXPECT_EQ(j["server"]["ip"], "203.0.113.2");
  EXPECT_EQ(j["server"]["port"], 53);
  EXPECT_EQ(j["server"]["transport"], "udp");
  EXPECT_EQ(j["last_seen"], "2024-03-14T13:28:50.022967Z");
  EXPECT_EQ(j["failures"]["icmp_port_unreachable"], 3);
  EXPECT_EQ(j["failures"]["timeouts"], 0);
  EXPECT_EQ(j["failures"]["nxdomain"], 0);
  EXPECT_EQ(j["failures"].size(), 9u);
  EXPECT_EQ(j["clients"]["sample"][0], "192.51.100.15");
  EXPECT_EQ(j["qnames"][0]["qtype"], "A");
}

TEST(Json, StormAndWatchlistExtraFields) {
  Incident i = Sample();
  i.kind = Kind::kNxdomainStorm;
  i.domain = "victim.example";
  auto j = nlohmann::json::parse(ToJsonLine(i));
  EXPECT_EQ(j["domain"], "victim.example");
  EXPECT_FALSE(j.contains("rule"));
  i.kind = Kind::kWatchlist;
  i.rule = {.id = 1001, .label = "bad-domains"};
  i.severity = "high";
  j = nlohmann::json::parse(ToJsonLine(i));
  EXPECT_EQ(j["rule"]["id"], 1001);
  EXPECT_EQ(j["rule"]["label"], "bad-domains");
  EXPECT_EQ(j["rule"]["severity"], "high");
  EXPECT_EQ(j["kind"], "watchlist");
}

TEST(Json, Ipv6AndQtypeNames) {
  Incident i = Sample();
  i.server.ip = V6(0x53);
  i.qnames = {{"a.example", 28, 1}, {"b.example", 99, 1}};
  auto j = nlohmann::json::parse(ToJsonLine(i));
  EXPECT_EQ(j["server"]["ip"], "2001:db8::53");
  EXPECT_EQ(j["qnames"][0]["qtype"], "AAAA");
  EXPECT_EQ(j["qnames"][1]["qtype"], "TYPE99");
}

TEST(Json, InvalidUtf8InANameStillMakesValidJson) {
  Incident i = Sample();
  i.qnames = {{std::string("bad\xff\xfe.example"), 1, 1}};
  EXPECT_NO_THROW(nlohmann::json::parse(ToJsonLine(i)));
}

TEST(Json, LiveWriterNumbersInWriteOrderOfflineLogSorts) {
  std::ostringstream out;
  JsonLinesWriter w(&out);
  Incident a = Sample(), b = Sample();
  b.first_seen_ns -= 1;
  w.Write(a);
  w.Write(b);
  EXPECT_EQ(a.id, "edgecap-1");
  EXPECT_EQ(b.id, "edgecap-2");
  EXPECT_EQ(w.written(), 2u);

  IncidentLog log;
  Incident c = Sample(), d = Sample(), e = Sample();
  d.first_seen_ns -= 1;
  e.kind = Kind::kAdminProhibited;  // same first_seen: kind name order
  log.Add(c);
  log.Add(d);
  log.Add(e);
  log.Finalize();
  ASSERT_EQ(log.incidents().size(), 3u);
  EXPECT_EQ(log.incidents()[0].first_seen_ns, d.first_seen_ns);
  EXPECT_EQ(log.incidents()[1].kind, Kind::kAdminProhibited);
  EXPECT_EQ(log.incidents()[2].id, "edgecap-3");
  const std::string lines = log.JsonLines();
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 3);
}

}  // namespace
}  // namespace edgecap::incident
