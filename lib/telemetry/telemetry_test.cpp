// Unit tests without EAL: parameter validation of every command, paging and
// the byte budget, the JSON -> rte_tel_data limits, per-server totals and
// latency quantiles from real bucket counters.
#include <rte_telemetry.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/telemetry/commands.h"
#include "lib/telemetry/publisher.h"
#include "lib/telemetry/reply.h"
#include "lib/telemetry/server_board.h"

namespace edgecap::telemetry {
// DPDK frees the containers nested in a reply when it writes the reply to the
// socket; these tests fill replies without writing them, so the nested
// containers would show as leaks. LeakSanitizer's API is weak here so the
// test also links without a sanitizer runtime.
extern "C" void __lsan_disable() __attribute__((weak));
extern "C" void __lsan_enable() __attribute__((weak));

namespace {

// Fills `d` from `reply` the way a handler does, with leak checking paused.
absl::Status FillUnsent(const Json& reply, rte_tel_data* d) {
  if (__lsan_disable != nullptr) __lsan_disable();
  absl::Status s = ToTelData(reply, d);
  if (__lsan_enable != nullptr) __lsan_enable();
  return s;
}

flow::ServerCounters Counters(uint8_t last_octet, uint32_t queries) {
  flow::ServerCounters c;
  c.server.ip.version = 4;
  c.server.ip.bytes[0] = 192;
  c.server.ip.bytes[1] = 0;
  c.server.ip.bytes[2] = 2;
  c.server.ip.bytes[3] = last_octet;
  c.server.port = 53;
  c.queries = queries;
  c.answered = queries;
  return c;
}

incident::Incident MakeIncident(int n) {
  incident::Incident i;
  i.id = absl::StrCat("edgecap-", n);
  i.kind = incident::Kind::kPortUnreachable;
  i.severity = "critical";
  i.server = Counters(static_cast<uint8_t>(n), 0).server;
  i.first_seen_ns = 1710421500'000000000 + n;
  i.last_seen_ns = i.first_seen_ns + 1000;
  i.queries = 10;
  i.failures[0] = 9;
  i.summary = std::string(300, 'x');  // longer than a telemetry string
  i.evidence = {"13:05:00.363446 IP 203.0.113.2 > 100.64.4.22: ICMP"};
  return i;
}

std::shared_ptr<Snapshot> SnapshotWith(int incidents, int servers) {
  auto s = std::make_shared<Snapshot>();
  s->stats = {{"packets", 1}};
  s->workers = {{"workers", Json::array()}};
  s->config = {{"workers", 1}};
  for (int i = 1; i <= incidents; ++i)
    s->incidents.push_back(MakeEntry(MakeIncident(i)));
  ServerBoard board;
  flow::Bucket b;
  for (int i = 0; i < servers; ++i)
    b.servers.push_back(Counters(static_cast<uint8_t>(i), 1000 - i));
  board.Add(b);
  for (const ServerRow& r : board.Top(kMaxServers))
    s->servers.push_back(ServerJson(r));
  s->servers_tracked = board.size();
  return s;
}

TEST(Commands, RefuseBadAndMissingParameters) {
  auto s = SnapshotWith(3, 5);
  for (const char* cmd :
       {"/edgecap/stats", "/edgecap/workers", "/edgecap/config",
        "/edgecap/rules", "/edgecap/rules/reload"}) {
    EXPECT_TRUE(Execute(cmd, nullptr, s.get()).ok()) << cmd;
    EXPECT_FALSE(Execute(cmd, "1", s.get()).ok()) << cmd;
    EXPECT_FALSE(Execute(cmd, "garbage", s.get()).ok()) << cmd;
  }
  EXPECT_FALSE(Execute("/edgecap/servers", nullptr, s.get()).ok());
  EXPECT_FALSE(Execute("/edgecap/servers", "", s.get()).ok());
  for (const char* bad :
       {"0", "-1", "+3", " 3", "3 ", "3x", "257", "99999999999", "1e3"}) {
    EXPECT_FALSE(Execute("/edgecap/servers", bad, s.get()).ok()) << bad;
  }
  EXPECT_TRUE(Execute("/edgecap/servers", "256", s.get()).ok());
  EXPECT_FALSE(Execute("/edgecap/incident", nullptr, s.get()).ok());
  EXPECT_FALSE(Execute("/edgecap/incident", "edgecap-99", s.get()).ok());
  EXPECT_FALSE(Execute("/edgecap/incident", "a\"b", s.get()).ok());
  EXPECT_FALSE(
      Execute("/edgecap/incident", std::string(200, 'a').c_str(), s.get())
          .ok());
  EXPECT_TRUE(Execute("/edgecap/incident", "edgecap-2", s.get()).ok());
  EXPECT_FALSE(Execute("/edgecap/incidents", "x", s.get()).ok());
  EXPECT_FALSE(Execute("/edgecap/incidents", "4", s.get()).ok());  // past 3
  EXPECT_TRUE(Execute("/edgecap/incidents", "3", s.get()).ok());   // empty page
  EXPECT_FALSE(Execute("/edgecap/nope", nullptr, s.get()).ok());
  // Before the first snapshot: empty replies, not a crash.
  EXPECT_TRUE(Execute("/edgecap/stats", nullptr, nullptr).ok());
  EXPECT_TRUE(Execute("/edgecap/incidents", nullptr, nullptr).ok());
}

TEST(Commands, IncidentsArePagedWithinTheLimits) {
  auto s = SnapshotWith(100, 0);
  uint64_t offset = 0;
  std::vector<std::string> ids;
  int pages = 0;
  while (true) {
    const std::string param = std::to_string(offset);
    absl::StatusOr<Json> r =
        Execute("/edgecap/incidents", param.c_str(), s.get());
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(CheckReply(*r).ok()) << CheckReply(*r);
    EXPECT_LE((*r)["count"].get<size_t>(), kIncidentsPerPage);
    for (const Json& i : (*r)["incidents"]) ids.push_back(i["id"]);
    ++pages;
    if ((*r)["next"].get<int64_t>() < 0) break;
    offset = (*r)["next"].get<uint64_t>();
  }
  ASSERT_EQ(ids.size(), 100u);
  EXPECT_EQ(ids.front(), "edgecap-1");
  EXPECT_EQ(ids.back(), "edgecap-100");
  EXPECT_GE(pages, 4);
}

TEST(Commands, OpenIncidentIdIsStableDistinctAndAccepted) {
  incident::Incident a = MakeIncident(1), b = MakeIncident(2);
  a.id.clear();
  const std::string id = OpenIncidentId(a);
  EXPECT_EQ(id.size(), 5u + 16u);
  EXPECT_TRUE(id.starts_with("open-")) << id;
  a.queries = 99;  // counts move while it stays open; the id does not
  a.last_seen_ns += 5'000000000;
  EXPECT_EQ(OpenIncidentId(a), id);
  EXPECT_NE(OpenIncidentId(b), id);  // another server
  incident::Incident c = a;
  c.kind = incident::Kind::kTimeout;
  EXPECT_NE(OpenIncidentId(c), id);
  // A snapshot lists it under that id and /edgecap/incident fetches it.
  auto s = SnapshotWith(1, 0);
  auto e = std::make_shared<IncidentEntry>(*MakeEntry(a));
  e->id = id;
  e->record["id"] = id;
  s->incidents.push_back(e);
  absl::StatusOr<Json> r = Execute("/edgecap/incident", id.c_str(), s.get());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["id"], id);
}

TEST(Commands, ServersByQueriesWithinBudget) {
  auto s = SnapshotWith(0, 250);
  absl::StatusOr<Json> r = Execute("/edgecap/servers", "5", s.get());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ((*r)["servers"].size(), 5u);
  EXPECT_EQ((*r)["servers"][0]["queries"], 1000);
  EXPECT_EQ((*r)["servers"][4]["ip"], "192.0.2.4");
  r = Execute("/edgecap/servers", "256", s.get());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(CheckReply(*r).ok());
  EXPECT_EQ((*r)["shown"], (*r)["servers"].size());
  EXPECT_GT((*r)["servers"].size(), 20u);
}

TEST(Reply, LongStringsAreSplitAndLimitsEnforced) {
  auto s = SnapshotWith(1, 0);
  absl::StatusOr<Json> r = Execute("/edgecap/incident", "edgecap-1", s.get());
  ASSERT_TRUE(r.ok());
  rte_tel_data* d = rte_tel_data_alloc();
  EXPECT_TRUE(FillUnsent(*r, d).ok());
  rte_tel_data_free(d);
  EXPECT_EQ(SplitString(std::string(300, 'x')).size(), 3u);

  Json big = Json::object();
  for (int i = 0; i < 257; ++i) big[absl::StrCat("k", i)] = i;
  EXPECT_FALSE(CheckReply(big).ok());
  d = rte_tel_data_alloc();
  EXPECT_FALSE(FillUnsent(big, d).ok());
  rte_tel_data_free(d);
  Json arr = Json::array();
  for (int i = 0; i < 513; ++i) arr.push_back(i);
  EXPECT_FALSE(CheckReply(Json{{"a", arr}}).ok());
  Json huge = Json::array();
  for (int i = 0; i < 200; ++i) huge.push_back(std::string(100, 'y'));
  EXPECT_FALSE(CheckReply(Json{{"a", huge}}).ok());  // > 16 KiB
  // Control bytes never reach the client.
  EXPECT_EQ(ReplySize(Json{{"a", "x\ny"}}), ReplySize(Json{{"a", "x?y"}}));
}

TEST(ServerBoard, TotalsAndLatencyQuantiles) {
  ServerBoard board;
  flow::Bucket b1, b2;
  flow::ServerCounters c = Counters(1, 100);
  c.latency_log2_us[3] = 50;   // < 8 us
  c.latency_log2_us[10] = 49;  // < 1024 us
  c.latency_log2_us[14] = 1;   // < 16384 us
  c.rcodes[3] = 7;
  b1.servers.push_back(c);
  b2.servers.push_back(Counters(2, 300));
  b2.servers.push_back(Counters(1, 1));
  board.Add(b1);
  board.Add(b2);
  EXPECT_EQ(board.size(), 2u);
  EXPECT_EQ(board.totals().queries, 401u);
  EXPECT_EQ(board.totals().rcodes[3], 7u);
  const std::vector<ServerRow> top = board.Top(10);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].queries, 300u);
  EXPECT_EQ(top[1].queries, 101u);
  EXPECT_EQ(top[1].LatencyQuantileUs(0.5), 8u);
  EXPECT_EQ(top[1].LatencyQuantileUs(0.9), 1024u);
  EXPECT_EQ(top[1].LatencyQuantileUs(0.999), 16384u);
  EXPECT_EQ(top[0].LatencyQuantileUs(0.5), 0u);
}

}  // namespace
}  // namespace edgecap::telemetry
