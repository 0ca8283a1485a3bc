#include "lib/incident/report.h"

#include "gtest/gtest.h"
#include "lib/flow/test_frames.h"

namespace edgecap::incident {
namespace {

using flow::testing::V4;

Incident Of(Kind kind, flow::Fail fail) {
  Incident i;
  i.id = "edgecap-1";
  i.kind = kind;
  i.severity = "critical";
  i.server = flow::ServerKey{V4(203, 0, 113, 2), 53, parse::Transport::kUdp};
  i.first_seen_ns = 1710422672192571000LL;
  i.last_seen_ns = 1710422930022967000LL;
  i.queries = 3;
  i.failures[static_cast<int>(fail)] = 3;
  i.client_count = 1;
  i.client_sample = {V4(192, 51, 100, 15)};
  i.qnames = {{"yummyrecipesforme.com", 1, 3}};
  if (flow::IsIcmpFail(fail)) i.reporters = {V4(198, 51, 100, 254)};
  i.example.valid = true;
  i.example.kind = fail;
  i.example.client = V4(192, 51, 100, 15);
  i.example.client_port = 52444;
  i.example.txid = 35084;
  i.example.qname = "yummyrecipesforme.com";
  i.example.qtype = 1;
  i.example.query_ns = i.first_seen_ns;
  i.example.evidence_ns = i.first_seen_ns + 3906000000LL;
  return i;
}

void ExpectAll(const std::string& md,
               std::initializer_list<const char*> needles) {
  for (const char* n : needles)
    EXPECT_NE(md.find(n), std::string::npos) << n << "\n" << md;
}

TEST(Report, PortUnreachableFromTheServerItself) {
  Incident i = Of(Kind::kPortUnreachable, flow::Fail::kIcmpPort);
  i.reporters = {i.server.ip};
  i.evidence = {
      "13:24:32.192571 IP 192.51.100.15.52444 > 203.0.113.2.53: 35084+ A? "
      "yummyrecipesforme.com. (39)",
      "13:24:36.098564 IP 203.0.113.2 > 192.51.100.15: ICMP 203.0.113.2 udp "
      "port "
      "53 unreachable, length 67"};
  const std::string md = RenderReport({i}, {"seed.pcap"});
  ExpectAll(md, {"# edgecap incident report",
                 "seed.pcap",
                 "### What happened",
                 "DNS over UDP to 203.0.113.2 port 53 was unreachable",
                 "from 13:24:32 to 13:28:50 UTC on 2024-03-14",
                 "the server 203.0.113.2 itself",
                 "ICMP \"udp port 53 unreachable\"",
                 "query 35084",
                 "yummyrecipesforme.com (A)",
                 "### Evidence",
                 "```\n13:24:32.192571",
                 "### Timeline",
                 "2024-03-14T13:24:32.192571Z",
                 "### Who and what",
                 "### Interpretation",
                 "nothing listens on the DNS port",
                 "### Next steps",
                 "DNS service runs on 203.0.113.2",
                 "firewall",
                 "passes port 53"});
}

TEST(Report, NextStepsPerKind) {
  ExpectAll(RenderIncident(Of(Kind::kAdminProhibited, flow::Fail::kIcmpAdmin)),
            {"Find the rule that rejects DNS", "198.51.100.254",
             "administratively prohibited"});
  ExpectAll(RenderIncident(Of(Kind::kHostUnreachable, flow::Fail::kIcmpHost)),
            {"routing", "ARP", "the router 198.51.100.254"});
  ExpectAll(RenderIncident(Of(Kind::kNetUnreachable, flow::Fail::kIcmpNet)),
            {"no route", "routing table"});
  ExpectAll(RenderIncident(Of(Kind::kServfail, flow::Fail::kServfail)),
            {"SERVFAIL", "upstream", "DNSSEC"});
  ExpectAll(RenderIncident(Of(Kind::kRefused, flow::Fail::kRefused)),
            {"REFUSED", "access control"});
  ExpectAll(RenderIncident(Of(Kind::kTimeout, flow::Fail::kTimeout)),
            {"stopped answering", "silently drops"});
  Incident tcp = Of(Kind::kTcpRefused, flow::Fail::kTcpRefused);
  tcp.server.transport = parse::Transport::kTcp;
  ExpectAll(RenderIncident(tcp),
            {"DNS over TCP", "RST", "Enable DNS over TCP"});
  Incident storm = Of(Kind::kNxdomainStorm, flow::Fail::kTimeout);
  storm.domain = "victim.example";
  storm.failures = {};
  storm.nxdomain = 400;
  ExpectAll(RenderIncident(storm),
            {"random-subdomain", "victim.example", "Rate-limit",
             "Notify the operator of victim.example"});
}

TEST(Report, EmptyReportSaysSo) {
  EXPECT_NE(RenderReport({}, {"healthy.pcap"}).find("No incidents."),
            std::string::npos);
}

}  // namespace
}  // namespace edgecap::incident
