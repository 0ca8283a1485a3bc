// Acceptance of issue 4 on the generator's scenarios: decode -> N simulated
// flow workers (steered by flow hash, ICMP errors by the quoted flow) ->
// detector gives exactly the ground-truth incidents of FILE.truth.json, and
// byte-identical JSON lines for N = 1, 2, 4 and 7.
//
// EDGECAP_GEN: path of the edgecap-gen binary. Captures go to a temp dir.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "lib/incident/report.h"
#include "lib/incident/simulate.h"
#include "nlohmann/json.hpp"

namespace edgecap::incident {
namespace {

using Json = nlohmann::json;

std::string TempDir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/edgecap_flow_XXXXXX";
    const char* d = mkdtemp(tmpl);
    return std::string(d ? d : "/tmp");
  }();
  return dir;
}

std::string Generate(const std::string& scenario, bool ns = false) {
  const char* gen = std::getenv("EDGECAP_GEN");
  if (gen == nullptr) return {};
  const std::string pcap =
      TempDir() + "/" + scenario + (ns ? "-ns" : "") + ".pcap";
  if (!std::filesystem::exists(pcap)) {
    const std::string cmd = std::string(gen) + " " + scenario + " -o " + pcap +
                            (ns ? " --nanosecond" : "") + " > /dev/null";
    if (std::system(cmd.c_str()) != 0) return {};
  }
  return pcap;
}

std::string TruthPath(const std::string& pcap) {
  return pcap.substr(0, pcap.size() - 5) + ".truth.json";
}

SimulationConfig Config(int workers) {
  SimulationConfig c;
  c.workers = workers;
  c.worker.max_transactions = 1 << 16;
  c.worker.frame_ring_slots = 1 << 12;
  c.worker.max_servers_per_bucket = 1 << 10;
  return c;
}

// The fields the truth holds: everything but id, evidence and summary.
Json Comparable(const Incident& i) {
  Json j = Json::parse(ToJsonLine(i));
  j.erase("id");
  j.erase("evidence");
  j.erase("summary");
  return j;
}

class FlowScenario : public ::testing::TestWithParam<const char*> {};

TEST_P(FlowScenario, MatchesTruthForEverySplit) {
  const std::string scenario = GetParam();
  ASSERT_NE(std::getenv("EDGECAP_GEN"), nullptr) << "EDGECAP_GEN unset";
  const std::string pcap = Generate(scenario);
  ASSERT_FALSE(pcap.empty()) << "edgecap-gen failed for " << scenario;
  std::ifstream in(TruthPath(pcap));
  ASSERT_TRUE(in) << TruthPath(pcap);
  const Json truth = Json::parse(in);
  const Json& expected = truth.at("incidents");

  std::string reference;
  for (int n : {1, 2, 4, 7}) {
    auto r = SimulateCapture(pcap, Config(n));
    ASSERT_TRUE(r.ok()) << r.status();
    if (n == 1) {
      reference = r->jsonl;
      ASSERT_EQ(r->incidents.size(), expected.size()) << r->jsonl;
      for (size_t k = 0; k < expected.size(); ++k) {
        EXPECT_EQ(Comparable(r->incidents[k]), expected[k])
            << "incident " << k
            << "\nmine:  " << Comparable(r->incidents[k]).dump()
            << "\ntruth: " << expected[k].dump();
      }
      // Every transaction of the capture went through a worker.
      uint64_t packets = 0;
      for (uint64_t p : r->worker_packets) packets += p;
      EXPECT_EQ(packets, truth.at("counts").at("frames").get<uint64_t>());
    } else {
      EXPECT_EQ(r->jsonl, reference) << "split across " << n << " workers";
      // The split did spread the packets.
      int busy = 0;
      for (uint64_t p : r->worker_packets) busy += p > 0;
      if (truth.at("counts").at("frames").get<uint64_t>() > 100) {
        EXPECT_GT(busy, 1) << n << " workers";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, FlowScenario,
                         ::testing::Values("seed", "outage", "firewall",
                                           "router-unreachable", "timeouts",
                                           "servfail", "refused",
                                           "nxdomain-storm", "healthy",
                                           "ipv6-outage", "vlan", "malformed"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s) c = c == '-' ? '_' : c;
                           return s;
                         });

// The seed's report says what the analyst concluded by hand.
TEST(FlowSeedReport, SaysWhatTheAnalystConcluded) {
  ASSERT_NE(std::getenv("EDGECAP_GEN"), nullptr) << "EDGECAP_GEN unset";
  const std::string pcap = Generate("seed");
  ASSERT_FALSE(pcap.empty());
  auto r = SimulateCapture(pcap, Config(1));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->incidents.size(), 1u);
  const std::string md = RenderReport(r->incidents, {pcap});
  for (const char* needle :
       {"DNS over UDP to 203.0.113.2 port 53 was unreachable",
        "from 13:24:32 to 13:28:50", "ICMP \"udp port 53 unreachable\"",
        "query 35084", "yummyrecipesforme.com",
        "203.0.113.2 udp port 53 unreachable",  // tcpdump's evidence line
        "35084+ A? yummyrecipesforme.com.", "Next steps", "firewall"}) {
    EXPECT_NE(md.find(needle), std::string::npos) << needle << "\n" << md;
  }
  // The record's evidence: the first query and its ICMP error, the last
  // query and its (late) ICMP error, as tcpdump prints them.
  const auto& ev = r->incidents[0].evidence;
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[3].rfind("13:28:50.022967 IP 203.0.113.2 > 192.51.100.15: ICMP "
                        "203.0.113.2 udp port 53 unreachable",
                        0),
            0u)
      << ev[3];
  ASSERT_FALSE(r->incidents[0].evidence.empty());
  EXPECT_EQ(r->incidents[0].evidence.front().rfind(
                "13:24:32.192571 IP 192.51.100.15.52444 > 203.0.113.2.53: "
                "35084+ A? yummyrecipesforme.com.",
                0),
            0u)
      << r->incidents[0].evidence.front();
}

// Nanosecond timestamps give the same incidents.
TEST(FlowNanosecond, OutageMatchesTruth) {
  ASSERT_NE(std::getenv("EDGECAP_GEN"), nullptr) << "EDGECAP_GEN unset";
  const std::string pcap = Generate("outage", /*ns=*/true);
  ASSERT_FALSE(pcap.empty());
  std::ifstream in(TruthPath(pcap));
  const Json truth = Json::parse(in);
  auto r = SimulateCapture(pcap, Config(3));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->incidents.size(), truth.at("incidents").size());
  for (size_t k = 0; k < r->incidents.size(); ++k) {
    EXPECT_EQ(Comparable(r->incidents[k]), truth.at("incidents")[k]);
  }
}

}  // namespace
}  // namespace edgecap::incident
