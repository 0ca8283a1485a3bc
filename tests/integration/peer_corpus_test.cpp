// Decodes every capture of the peer corpus (tcpdump's own test captures, see
// ../shared/corpus/peer/README.md) with lib/capture + lib/parse and compares
// edgecap's counts with MANIFEST.tsv, which holds tshark 4.0.17's counts for
// each file. Where a correct port-53 decoder and tshark must disagree, the
// rule is written down below (kRules) and the comparison stays exact: the
// expected value is tshark's value changed by exactly that rule.
//
// The corpus directory comes from EDGECAP_PEER_CORPUS (meson sets it); a
// missing corpus fails the test.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/capture/pcap_file.h"
#include "lib/parse/dns.h"
#include "lib/parse/packet.h"

namespace edgecap {
namespace {

using Distribution = std::map<int, int>;  // value -> count

// The columns compared. malformed_frames is tshark's own notion (any
// dissector's complaint) and is not compared.
struct Counts {
  int frames = 0;
  int dns_queries = 0;
  int dns_responses = 0;
  Distribution dns_rcodes;
  Distribution dns_ext_rcode_hi;
  int dns_in_icmp_quote = 0;
  Distribution icmp4_unreach_by_code;
  Distribution icmp6_unreach_by_code;
  int ipv4_frag_frames = 0;
  int ipv6_frag_frames = 0;
  int vlan_frames = 0;
};

std::string Show(const Distribution& d) {
  if (d.empty()) return "-";
  std::vector<std::string> parts;
  for (const auto& [k, v] : d) parts.push_back(absl::StrCat(k, ":", v));
  return absl::StrJoin(parts, ";");
}

Distribution ParseDistribution(const std::string& field, bool hex) {
  Distribution d;
  if (field == "-") return d;
  for (absl::string_view item : absl::StrSplit(field, ';')) {
    std::vector<std::string> kv = absl::StrSplit(item, ':');
    EXPECT_EQ(kv.size(), 2u) << field;
    int key = 0, count = 0;
    if (hex) {
      key = static_cast<int>(std::strtol(kv[0].c_str(), nullptr, 16));
    } else {
      EXPECT_TRUE(absl::SimpleAtoi(kv[0], &key)) << field;
    }
    EXPECT_TRUE(absl::SimpleAtoi(kv[1], &count)) << field;
    d[key] = count;
  }
  return d;
}

struct ManifestRow {
  std::string file;
  std::string linktype;
  Counts counts;
};

std::vector<ManifestRow> ReadManifest(const std::filesystem::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header = absl::StrSplit(line, '\t');
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
  std::vector<ManifestRow> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    auto num = [&](const char* name) {
      int v = -1;
      EXPECT_TRUE(absl::SimpleAtoi(f.at(col.at(name)), &v)) << name;
      return v;
    };
    auto dist = [&](const char* name, bool hex) {
      return ParseDistribution(f.at(col.at(name)), hex);
    };
    ManifestRow r;
    r.file = f.at(col.at("file"));
    r.linktype = f.at(col.at("linktype"));
    Counts& c = r.counts;
    c.frames = num("frames");
    c.dns_queries = num("dns_queries");
    c.dns_responses = num("dns_responses");
    c.dns_rcodes = dist("dns_rcodes", false);
    c.dns_ext_rcode_hi = dist("dns_ext_rcode_hi", true);
    c.dns_in_icmp_quote = num("dns_in_icmp_quote");
    c.icmp4_unreach_by_code = dist("icmp4_unreach_by_code", false);
    c.icmp6_unreach_by_code = dist("icmp6_unreach_by_code", false);
    c.ipv4_frag_frames = num("ipv4_frag_frames");
    c.ipv6_frag_frames = num("ipv6_frag_frames");
    c.vlan_frames = num("vlan_frames");
    rows.push_back(std::move(r));
  }
  return rows;
}

bool IsDnsPort(const parse::Ports& p) { return p.src == 53 || p.dst == 53; }

// edgecap's DNS rule: a DNS message is UDP or TCP with port 53 on either
// side whose 12-byte header is present. mDNS (5353), LLMNR (5355) and
// alternative ports (8053) are not DNS to edgecap: it watches the service
// clients use to resolve names, which is port 53.
void CountDns(const parse::DnsMessage& m, parse::Anomaly a, Counts* c) {
  if (a == parse::Anomaly::kDnsTruncatedHeader ||
      a == parse::Anomaly::kDnsTcpLengthMismatch) {
    return;
  }
  if (m.header.qr()) {
    ++c->dns_responses;
    ++c->dns_rcodes[m.header.rcode()];
  } else {
    ++c->dns_queries;
  }
  if (m.has_edns) ++c->dns_ext_rcode_hi[m.edns_ext_rcode_hi];
}

Counts DecodeCapture(capture::PcapFile& file) {
  Counts c;
  capture::Record record;
  while (file.Next(&record)) {
    ++c.frames;
    parse::Packet p;
    parse::DecodeFrame(file.link_type(), record.bytes, &p);
    if (p.vlan_depth > 0) ++c.vlan_frames;
    if (p.ip.version == 4 && p.ip.is_fragment) ++c.ipv4_frag_frames;
    if (p.ip.version == 6 && p.ip.is_fragment) ++c.ipv6_frag_frames;
    parse::DnsMessage m;
    if (p.transport == parse::Transport::kUdp && IsDnsPort(p.ports) &&
        p.l4_length >= 8) {
      CountDns(m, parse::DecodeDns(p.payload, parse::DnsDepth::kAll, &m), &c);
    } else if (p.transport == parse::Transport::kTcp && IsDnsPort(p.ports) &&
               !p.payload.empty()) {
      CountDns(m, parse::DecodeDnsTcp(p.payload, parse::DnsDepth::kAll, &m),
               &c);
    } else if (p.transport == parse::Transport::kIcmp && p.icmp_type == 3) {
      ++c.icmp4_unreach_by_code[p.icmp_code];
    } else if (p.transport == parse::Transport::kIcmp6 && p.icmp_type == 1) {
      ++c.icmp6_unreach_by_code[p.icmp_code];
    }
    if (p.is_icmp_error && p.icmp.has_inner_ports &&
        IsDnsPort(p.icmp.inner_ports) &&
        p.icmp.inner_transport == parse::Transport::kUdp &&
        parse::DecodeDns(p.icmp.inner_payload, parse::DnsDepth::kQuestion,
                         &m) != parse::Anomaly::kDnsTruncatedHeader) {
      ++c.dns_in_icmp_quote;
    }
  }
  EXPECT_TRUE(file.status().ok()) << file.status();
  return c;
}

// Where tshark and a correct port-53 decoder disagree. Each rule changes
// tshark's counts for one file into what edgecap must report.
struct Rule {
  const char* file;
  const char* why;
  void (*apply)(Counts*);
};

const Rule kRules[] = {
    {"dns_tcp_8053.pcap",
     "DNS on TCP 8053: tshark counts it only with -d tcp.port==8053,dns "
     "(default 0, as the manifest); edgecap counts port 53 only",
     [](Counts*) {}},
    {"dns_udp_8053.pcap",
     "DNS on UDP 8053: tshark dissects it as DNS by heuristics; edgecap counts "
     "port 53 only",
     [](Counts* c) {
       c->dns_queries = c->dns_responses = 0;
       c->dns_rcodes.clear();
       c->dns_ext_rcode_hi.clear();
     }},
    {"someip1.pcap",
     "SOME/IP on UDP 30490/31490: tshark 4.0 labels 3 frames as malformed DNS "
     "responses; not port 53, so not DNS",
     [](Counts* c) {
       c->dns_responses = 0;
       c->dns_rcodes.clear();
     }},
    {"LINKTYPE_IPV4_invalid.pcap",
     "link type IPV4 (228) carrying an IPv6 packet: edgecap refuses it as a "
     "version mismatch (as tcpdump does); tshark decodes the query anyway",
     [](Counts* c) { c->dns_queries = 0; }},
    {"rtp-seg-fault-1.pcapng",
     "UDP to port 53 with a 9-byte payload: no 12-byte DNS header, so no DNS "
     "message (tshark counts one malformed query)",
     [](Counts* c) { c->dns_queries = 0; }},
};

// Link types edgecap does not decode (PPP, HDLC, ARCnet, NFLOG, PKTAP, ...)
// are refused when the file is opened, with a message naming the link type:
// such a file yields no counts at all, whatever tshark found in it.
const char kRefusedRule[] =
    "link type not decoded by edgecap: the file is refused at open";

TEST(PeerCorpusTest, CountsAgreeWithTsharkUnderTheStatedRules) {
  const char* dir_env = std::getenv("EDGECAP_PEER_CORPUS");
  ASSERT_NE(dir_env, nullptr) << "EDGECAP_PEER_CORPUS is not set";
  const std::filesystem::path dir = dir_env;
  ASSERT_TRUE(std::filesystem::exists(dir / "MANIFEST.tsv"))
      << "peer corpus missing: " << dir
      << " (expected ../shared/corpus/peer beside the repository)";
  const std::vector<ManifestRow> rows = ReadManifest(dir / "MANIFEST.tsv");
  ASSERT_GE(rows.size(), 80u);

  int refused = 0, decoded = 0;
  std::map<std::string, int> rules_used;
  for (const ManifestRow& row : rows) {
    SCOPED_TRACE(row.file);
    absl::StatusOr<capture::PcapFile> file =
        capture::PcapFile::Open((dir / row.file).string());
    uint32_t link = 0;
    ASSERT_TRUE(absl::SimpleAtoi(row.linktype, &link)) << row.linktype;
    if (!parse::IsSupportedLinkType(link)) {
      ASSERT_FALSE(file.ok()) << kRefusedRule;
      EXPECT_NE(file.status().message().find(absl::StrCat("link type ", link)),
                std::string::npos)
          << file.status();
      ++refused;
      continue;
    }
    EXPECT_TRUE(file.ok()) << file.status();
    if (!file.ok()) continue;
    ++decoded;
    Counts want = row.counts;
    for (const Rule& rule : kRules) {
      if (row.file == rule.file) {
        rule.apply(&want);
        ++rules_used[rule.file];
      }
    }
    const Counts got = DecodeCapture(*file);
    if (std::getenv("PEER_CORPUS_VERBOSE") != nullptr) {
      std::printf(
          "%-36s frames=%d q=%d r=%d rcodes=%s ext=%s icmp4=%s "
          "frag4=%d frag6=%d vlan=%d\n",
          row.file.c_str(), got.frames, got.dns_queries, got.dns_responses,
          Show(got.dns_rcodes).c_str(), Show(got.dns_ext_rcode_hi).c_str(),
          Show(got.icmp4_unreach_by_code).c_str(), got.ipv4_frag_frames,
          got.ipv6_frag_frames, got.vlan_frames);
    }
    EXPECT_EQ(got.frames, want.frames);
    EXPECT_EQ(got.dns_queries, want.dns_queries);
    EXPECT_EQ(got.dns_responses, want.dns_responses);
    EXPECT_EQ(Show(got.dns_rcodes), Show(want.dns_rcodes));
    EXPECT_EQ(Show(got.dns_ext_rcode_hi), Show(want.dns_ext_rcode_hi));
    EXPECT_EQ(got.dns_in_icmp_quote, want.dns_in_icmp_quote);
    EXPECT_EQ(Show(got.icmp4_unreach_by_code),
              Show(want.icmp4_unreach_by_code));
    EXPECT_EQ(Show(got.icmp6_unreach_by_code),
              Show(want.icmp6_unreach_by_code));
    EXPECT_EQ(got.ipv4_frag_frames, want.ipv4_frag_frames);
    EXPECT_EQ(got.ipv6_frag_frames, want.ipv6_frag_frames);
    EXPECT_EQ(got.vlan_frames, want.vlan_frames);
  }
  // Every rule must still be needed: a rule for a file that is gone or
  // refused would silently stop being checked.
  for (const Rule& rule : kRules) {
    EXPECT_EQ(rules_used[rule.file], 1) << "rule not applied: " << rule.file;
  }
  EXPECT_GT(decoded, 60);
  EXPECT_GT(refused, 5);
}

}  // namespace
}  // namespace edgecap
