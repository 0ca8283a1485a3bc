#include "lib/parse/anomaly.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>

#include "lib/parse/dns.h"
#include "lib/parse/packet.h"
#include "lib/parse/test_frames.h"

namespace edgecap::parse {
namespace {

using namespace testing;  // NOLINT: the builders

TEST(AnomalyTest, NamesAreStableAndDistinct) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kAnomalyCount; ++i) {
    const std::string_view name = AnomalyName(static_cast<Anomaly>(i));
    EXPECT_NE(name, "unknown") << i;
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_"),
              std::string_view::npos)
        << name;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_EQ(AnomalyName(Anomaly::kNone), "none");
  EXPECT_EQ(AnomalyName(Anomaly::kDnsForwardPointer), "dns_forward_pointer");
}

TEST(AnomalyTest, CountersCountEachBucket) {
  AnomalyCounters c;
  c.Count(Anomaly::kNone);
  c.Count(Anomaly::kDnsBogusCounts);
  c.Count(Anomaly::kDnsBogusCounts);
  EXPECT_EQ(c[Anomaly::kNone], 1u);
  EXPECT_EQ(c[Anomaly::kDnsBogusCounts], 2u);
  EXPECT_EQ(c[Anomaly::kTruncatedUdp], 0u);
}

Anomaly Frame(LinkType link, const Wire& w) {
  Packet p;
  return DecodeFrame(link, Bytes(w.data(), w.size()), &p);
}
Anomaly Dns(const Wire& w) {
  DnsMessage m;
  return DecodeDns(Bytes(w.data(), w.size()), DnsDepth::kAll, &m);
}
Wire Q(const Wire& name_and_tail) {
  Wire w = DnsHeaderBytes(1, 0x0100, 1, 0, 0, 0);
  Append(w, name_and_tail);
  return w;
}

// One real input per enumerator: proves each is reachable and that the
// decoder names it (the detailed checks live in packet_test / dns_test).
TEST(AnomalyTest, EveryAnomalyHasAnInputThatProducesIt) {
  const V4 a = {10, 0, 0, 1}, b = {10, 0, 0, 2};
  const Wire udp = Ipv4(a, b, 17, Udp(1, 53, DnsQuery(1, "a", 1)));
  auto with = [](Wire w, size_t at, uint16_t v) {
    Set16(w, at, v);
    return w;
  };
  Wire ihl4 = udp;
  ihl4[0] = 0x44;
  Wire ext9;
  for (int i = 0; i < kMaxIpv6ExtensionHeaders + 1; ++i) Append(ext9, Ext8(60));
  Wire ext_cut = Ipv6(Addr6(1), Addr6(2), 60, Ext8(17));
  ext_cut.resize(44);
  Wire tcp_doff = Ipv4(a, b, 6, Tcp(1, 53, 0, {}));
  tcp_doff[32] = 0x10;
  Wire l64 = {64};
  l64.insert(l64.end(), 70, 'x');
  Wire big = {63};
  big.insert(big.end(), 63, 'x');
  Append(big, Wire{0xc0, 12, 0, 1, 0, 1});
  const std::vector<std::pair<Anomaly, std::function<Anomaly()>>> cases = {
      {Anomaly::kNone, [&] { return Frame(LinkType::kRaw, udp); }},
      {Anomaly::kTruncatedLinkHeader,
       [&] { return Frame(LinkType::kEthernet, Wire(10, 0)); }},
      {Anomaly::kTooManyVlanTags,
       [&] {
         return Frame(LinkType::kEthernet, Eth(0x0800, udp,
                                               {{0x8100, 1},
                                                {0x8100, 1},
                                                {0x8100, 1},
                                                {0x8100, 1},
                                                {0x8100, 1}}));
       }},
      {Anomaly::kUnsupportedEtherType,
       [&] { return Frame(LinkType::kEthernet, Eth(0x0806, Wire(28, 0))); }},
      {Anomaly::kTruncatedIpv4,
       [&] {
         return Frame(LinkType::kIpv4, Wire(udp.begin(), udp.begin() + 19));
       }},
      {Anomaly::kIpVersionMismatch,
       [&] { return Frame(LinkType::kIpv6, udp); }},
      {Anomaly::kBadIpv4HeaderLength,
       [&] { return Frame(LinkType::kIpv4, ihl4); }},
      {Anomaly::kBadIpv4TotalLength,
       [&] { return Frame(LinkType::kIpv4, with(udp, 2, 10)); }},
      {Anomaly::kIpv4LaterFragment,
       [&] { return Frame(LinkType::kIpv4, with(udp, 6, 0x0001)); }},
      {Anomaly::kTruncatedIpv6,
       [&] { return Frame(LinkType::kIpv6, Wire(30, 0x60)); }},
      {Anomaly::kBadIpv6PayloadLength,
       [&] {
         return Frame(LinkType::kIpv6,
                      with(Ipv6(Addr6(1), Addr6(2), 60, Ext8(17)), 4, 2));
       }},
      {Anomaly::kTooManyIpv6ExtensionHeaders,
       [&] {
         return Frame(LinkType::kIpv6, Ipv6(Addr6(1), Addr6(2), 60, ext9));
       }},
      {Anomaly::kTruncatedIpv6ExtensionHeader,
       [&] { return Frame(LinkType::kIpv6, ext_cut); }},
      {Anomaly::kIpv6LaterFragment,
       [&] {
         return Frame(LinkType::kIpv6, Ipv6(Addr6(1), Addr6(2), 44,
                                            FragmentHeader(17, 1, false)));
       }},
      {Anomaly::kUnsupportedIpProtocol,
       [&] { return Frame(LinkType::kIpv4, Ipv4(a, b, 89, Wire(20, 0))); }},
      {Anomaly::kTruncatedUdp,
       [&] { return Frame(LinkType::kIpv4, Ipv4(a, b, 17, Wire(4, 0))); }},
      {Anomaly::kBadUdpLength,
       [&] { return Frame(LinkType::kIpv4, with(udp, 24, 2)); }},
      {Anomaly::kTruncatedTcp,
       [&] { return Frame(LinkType::kIpv4, Ipv4(a, b, 6, Wire(12, 0))); }},
      {Anomaly::kBadTcpHeaderLength,
       [&] { return Frame(LinkType::kIpv4, tcp_doff); }},
      {Anomaly::kTruncatedIcmp,
       [&] {
         return Frame(LinkType::kIpv4, Ipv4(a, b, 1, Wire{3, 3}));
       }},
      {Anomaly::kIcmpQuoteTruncated,
       [&] {
         return Frame(
             LinkType::kIpv4,
             Ipv4(b, a, 1, Icmp(3, 3, Wire(udp.begin(), udp.begin() + 12))));
       }},
      {Anomaly::kIcmpQuoteGarbage,
       [&] {
         return Frame(LinkType::kIpv4, Ipv4(b, a, 1, Icmp(3, 3, Wire(28, 0))));
       }},
      {Anomaly::kDnsTruncatedHeader, [&] { return Dns(Wire(11, 0)); }},
      {Anomaly::kDnsTruncatedQuestion,
       [&] {
         return Dns(Q({3, 'a'}));
       }},
      {Anomaly::kDnsLabelTooLong, [&] { return Dns(Q(l64)); }},
      {Anomaly::kDnsNameTooLong, [&] { return Dns(Q(big)); }},
      {Anomaly::kDnsForwardPointer,
       [&] {
         return Dns(Q({0xc0, 20, 0, 0, 1, 0, 1}));
       }},
      {Anomaly::kDnsTooManyPointers,
       [&] {
         return Dns(Q({1, 'a', 0xc0, 12, 0, 1, 0, 1}));
       }},
      {Anomaly::kDnsBadLabelType,
       [&] {
         return Dns(Q({0x80, 0, 0, 1, 0, 1}));
       }},
      {Anomaly::kDnsBogusCounts,
       [&] { return Dns(DnsHeaderBytes(1, 0x0100, 0, 0, 0, 0)); }},
      {Anomaly::kDnsTruncatedRecord,
       [&] {
         Wire w = DnsHeaderBytes(1, 0x8180, 1, 1, 0, 0);
         Append(w, Wire{1, 'a', 0, 0, 1, 0, 1});
         Append(w, Wire{0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 9, 1});
         return Dns(w);
       }},
      {Anomaly::kDnsTcpLengthMismatch,
       [&] {
         DnsMessage m;
         const Wire w = {0, 3, 1, 2, 3};
         return DecodeDnsTcp(Bytes(w.data(), w.size()), DnsDepth::kAll, &m);
       }},
  };
  std::set<Anomaly> covered;
  for (const auto& [want, run] : cases) {
    EXPECT_EQ(run(), want) << AnomalyName(want);
    covered.insert(want);
  }
  EXPECT_EQ(covered.size(), kAnomalyCount) << "an anomaly has no test input";
}

}  // namespace
}  // namespace edgecap::parse
