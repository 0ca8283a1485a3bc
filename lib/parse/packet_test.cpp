#include "lib/parse/packet.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "lib/parse/dns.h"
#include "lib/parse/packet_internal.h"
#include "lib/parse/test_frames.h"

namespace edgecap::parse {
namespace {

using namespace testing;  // NOLINT: the builders

const V4 kClient = {192, 0, 2, 15};
const V4 kServer = {203, 0, 113, 2};
const V4 kRouter = {198, 51, 100, 1};

Wire QueryDatagram() {
  return Ipv4(kClient, kServer, 17,
              Udp(52444, 53, DnsQuery(35084, "Example.COM", 1)));
}

Anomaly Decode(LinkType link, const Wire& w, Packet* p) {
  return DecodeFrame(link, Bytes(w.data(), w.size()), p);
}

std::string QnameOf(Bytes payload) {
  DnsMessage m;
  if (DecodeDns(payload, DnsDepth::kQuestion, &m) != Anomaly::kNone) return "";
  return std::string(m.qname());
}

TEST(DecodeFrameTest, EthernetIpv4UdpDnsQuery) {
  const Wire dns = DnsQuery(35084, "Example.COM", 1);
  const Wire frame = Eth(0x0800, QueryDatagram());
  Packet p;
  ASSERT_EQ(Decode(LinkType::kEthernet, frame, &p), Anomaly::kNone);
  EXPECT_EQ(p.vlan_depth, 0);
  EXPECT_EQ(p.l3_offset, 14);
  EXPECT_EQ(p.l4_offset, 34);
  EXPECT_EQ(p.ip.version, 4);
  EXPECT_EQ(p.ip.src, IpAddress::V4(kClient.data()));
  EXPECT_EQ(p.ip.dst, IpAddress::V4(kServer.data()));
  EXPECT_EQ(p.ip.ttl, 64);
  EXPECT_EQ(p.ip.id, 0x1234);
  EXPECT_FALSE(p.ip.is_fragment);
  EXPECT_EQ(p.transport, Transport::kUdp);
  EXPECT_EQ(p.ports.src, 52444);
  EXPECT_EQ(p.ports.dst, 53);
  EXPECT_EQ(p.l4_length, 8 + dns.size());
  ASSERT_EQ(p.payload.size(), dns.size());
  EXPECT_TRUE(std::equal(dns.begin(), dns.end(), p.payload.begin()));
  EXPECT_EQ(QnameOf(p.payload), "example.com");
}

TEST(DecodeFrameTest, EthernetPaddingIsNotPayload) {
  Wire frame = Eth(0x0800, Ipv4(kClient, kServer, 17, Udp(1, 53, {})));
  frame.resize(60, 0);  // minimum Ethernet frame
  Packet p;
  ASSERT_EQ(Decode(LinkType::kEthernet, frame, &p), Anomaly::kNone);
  EXPECT_EQ(p.payload.size(), 0u);
}

TEST(DecodeFrameTest, SnapLengthCutsPayloadToCapturedBytes) {
  Wire frame = Eth(0x0800, QueryDatagram());
  frame.resize(frame.size() - 5);
  Packet p;
  ASSERT_EQ(Decode(LinkType::kEthernet, frame, &p), Anomaly::kNone);
  EXPECT_EQ(p.payload.size(), frame.size() - 42);
}

TEST(DecodeFrameTest, VlanTagsAtEveryTpid) {
  for (uint16_t tpid : {0x8100, 0x88a8, 0x9100}) {
    const Wire frame = Eth(0x0800, QueryDatagram(), {{tpid, 0x2000 | 100}});
    Packet p;
    ASSERT_EQ(Decode(LinkType::kEthernet, frame, &p), Anomaly::kNone) << tpid;
    EXPECT_EQ(p.vlan_depth, 1);
    EXPECT_EQ(p.vlan_ids[0], 100);  // priority bits stripped
    EXPECT_EQ(p.l3_offset, 18);
    EXPECT_EQ(p.ports.dst, 53);
  }
}

TEST(DecodeFrameTest, QinQOutermostFirstUpToTheLimit) {
  const Wire frame =
      Eth(0x86dd,
          Ipv6(Addr6(1), Addr6(2), 17, Udp(4000, 53, DnsQuery(1, "a.b", 28))),
          {{0x88a8, 200}, {0x8100, 2001}, {0x8100, 3}, {0x9100, 4}});
  Packet p;
  ASSERT_EQ(Decode(LinkType::kEthernet, frame, &p), Anomaly::kNone);
  ASSERT_EQ(p.vlan_depth, 4);
  EXPECT_EQ(p.vlan_ids[0], 200);
  EXPECT_EQ(p.vlan_ids[1], 2001);
  EXPECT_EQ(p.vlan_ids[3], 4);
  EXPECT_EQ(p.ip.version, 6);
  EXPECT_EQ(QnameOf(p.payload), "a.b");
}

TEST(DecodeFrameTest, TooManyAndTruncatedVlanTags) {
  const Wire five =
      Eth(0x0800, QueryDatagram(),
          {{0x8100, 1}, {0x8100, 2}, {0x8100, 3}, {0x8100, 4}, {0x8100, 5}});
  Packet p;
  EXPECT_EQ(Decode(LinkType::kEthernet, five, &p), Anomaly::kTooManyVlanTags);
  Wire cut = Eth(0x8100, {0x00});
  EXPECT_EQ(Decode(LinkType::kEthernet, cut, &p),
            Anomaly::kTruncatedLinkHeader);
}

TEST(DecodeFrameTest, TruncatedLinkHeaders) {
  Packet p;
  const Wire w(3, 0);
  for (LinkType l : {LinkType::kEthernet, LinkType::kLinuxSll,
                     LinkType::kLinuxSll2, LinkType::kNull}) {
    EXPECT_EQ(Decode(l, w, &p), Anomaly::kTruncatedLinkHeader);
  }
  EXPECT_EQ(Decode(LinkType::kRaw, {}, &p), Anomaly::kTruncatedLinkHeader);
  EXPECT_EQ(Decode(LinkType::kEthernet, Wire(13, 0), &p),
            Anomaly::kTruncatedLinkHeader);
  EXPECT_EQ(Decode(LinkType::kLinuxSll, Wire(15, 0), &p),
            Anomaly::kTruncatedLinkHeader);
  EXPECT_EQ(Decode(LinkType::kLinuxSll2, Wire(19, 0), &p),
            Anomaly::kTruncatedLinkHeader);
}

TEST(DecodeFrameTest, NonIpEtherTypeIsNotAnError) {
  Packet p;
  EXPECT_EQ(Decode(LinkType::kEthernet, Eth(0x0806, Wire(28, 0)), &p),
            Anomaly::kUnsupportedEtherType);
}

TEST(DecodeFrameTest, LinuxCookedV1AndV2) {
  Wire sll = {0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00};
  Append(sll, QueryDatagram());
  Packet p;
  ASSERT_EQ(Decode(LinkType::kLinuxSll, sll, &p), Anomaly::kNone);
  EXPECT_EQ(p.l3_offset, 16);
  EXPECT_EQ(p.ports.dst, 53);

  Wire sll_vlan = {0, 0, 0, 1, 0,    6,    1, 2, 3,    4,
                   5, 6, 0, 0, 0x81, 0x00, 0, 7, 0x08, 0x00};
  Append(sll_vlan, QueryDatagram());
  ASSERT_EQ(Decode(LinkType::kLinuxSll, sll_vlan, &p), Anomaly::kNone);
  EXPECT_EQ(p.vlan_depth, 1);
  EXPECT_EQ(p.vlan_ids[0], 7);

  Wire sll2 = {0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1,
               4,    6,    1, 2, 3, 4, 5, 6, 0, 0};
  Append(sll2, Ipv6(Addr6(1), Addr6(2), 17, Udp(1, 53, DnsQuery(1, "x", 1))));
  ASSERT_EQ(Decode(LinkType::kLinuxSll2, sll2, &p), Anomaly::kNone);
  EXPECT_EQ(p.l3_offset, 20);
  EXPECT_EQ(QnameOf(p.payload), "x");
}

TEST(DecodeFrameTest, BsdLoopbackFamilyInEitherByteOrder) {
  struct Case {
    std::array<uint8_t, 4> family;
    bool v6;
  };
  const Case cases[] = {
      {{2, 0, 0, 0}, false}, {{0, 0, 0, 2}, false}, {{24, 0, 0, 0}, true},
      {{0, 0, 0, 24}, true}, {{28, 0, 0, 0}, true}, {{0, 0, 0, 28}, true},
      {{30, 0, 0, 0}, true}, {{0, 0, 0, 30}, true},
  };
  for (const Case& c : cases) {
    Wire w(c.family.begin(), c.family.end());
    Append(w, c.v6 ? Ipv6(Addr6(1), Addr6(2), 17, Udp(9, 53, {}))
                   : Ipv4(kClient, kServer, 17, Udp(9, 53, {})));
    Packet p;
    ASSERT_EQ(Decode(LinkType::kNull, w, &p), Anomaly::kNone);
    EXPECT_EQ(p.ip.version, c.v6 ? 6 : 4);
    EXPECT_EQ(p.l3_offset, 4);
  }
  Wire other = {7, 0, 0, 0};
  Append(other, QueryDatagram());
  Packet p;
  EXPECT_EQ(Decode(LinkType::kNull, other, &p), Anomaly::kUnsupportedEtherType);
}

TEST(DecodeFrameTest, RawIpLinkTypesCheckTheVersion) {
  const Wire v4 = QueryDatagram();
  const Wire v6 = Ipv6(Addr6(1), Addr6(2), 17, Udp(9, 53, {}));
  Packet p;
  EXPECT_EQ(Decode(LinkType::kRaw, v4, &p), Anomaly::kNone);
  EXPECT_EQ(p.ip.version, 4);
  EXPECT_EQ(Decode(LinkType::kRaw, v6, &p), Anomaly::kNone);
  EXPECT_EQ(p.ip.version, 6);
  EXPECT_EQ(Decode(LinkType::kIpv4, v4, &p), Anomaly::kNone);
  EXPECT_EQ(Decode(LinkType::kIpv6, v6, &p), Anomaly::kNone);
  EXPECT_EQ(Decode(LinkType::kIpv4, v6, &p), Anomaly::kIpVersionMismatch);
  EXPECT_EQ(Decode(LinkType::kIpv6, v4, &p), Anomaly::kIpVersionMismatch);
  EXPECT_EQ(Decode(LinkType::kRaw, Wire{0x50, 0, 0}, &p),
            Anomaly::kIpVersionMismatch);
  EXPECT_EQ(Decode(LinkType::kEthernet, Eth(0x0800, v6), &p),
            Anomaly::kIpVersionMismatch);
}

TEST(DecodeFrameTest, SupportedLinkTypes) {
  for (uint32_t l : {0u, 1u, 101u, 113u, 228u, 229u, 276u}) {
    EXPECT_TRUE(IsSupportedLinkType(l)) << l;
  }
  for (uint32_t l : {9u, 50u, 104u, 108u, 127u, 239u, 258u}) {
    EXPECT_FALSE(IsSupportedLinkType(l)) << l;
  }
}

TEST(DecodeFrameTest, Ipv4OptionsAreSkipped) {
  const Wire rr = {7, 7, 4, 0, 0, 0, 0, 1};  // record route + padding
  const Wire frame = Eth(0x0800, Ipv4(kClient, kServer, 17,
                                      Udp(1, 53, DnsQuery(1, "o.p", 1)), rr));
  Packet p;
  ASSERT_EQ(Decode(LinkType::kEthernet, frame, &p), Anomaly::kNone);
  EXPECT_EQ(p.l4_offset, 14 + 28);
  EXPECT_EQ(QnameOf(p.payload), "o.p");
}

TEST(DecodeFrameTest, Ipv4HeaderProblems) {
  Packet p;
  Wire short_ip = Eth(0x0800, Wire(19, 0x45));
  EXPECT_EQ(Decode(LinkType::kEthernet, short_ip, &p), Anomaly::kTruncatedIpv4);

  Wire ihl4 = QueryDatagram();
  ihl4[0] = 0x44;
  EXPECT_EQ(Decode(LinkType::kRaw, ihl4, &p), Anomaly::kBadIpv4HeaderLength);

  Wire ihl15 = QueryDatagram();
  ihl15[0] = 0x4f;
  ihl15.resize(40);  // header claims 60 bytes, 40 captured
  Set16(ihl15, 2, 100);
  EXPECT_EQ(Decode(LinkType::kRaw, ihl15, &p), Anomaly::kTruncatedIpv4);

  Wire total = QueryDatagram();
  Set16(total, 2, 19);
  EXPECT_EQ(Decode(LinkType::kRaw, total, &p), Anomaly::kBadIpv4TotalLength);

  // Declared shorter than the UDP header.
  Wire cut = QueryDatagram();
  Set16(cut, 2, 24);
  EXPECT_EQ(Decode(LinkType::kRaw, cut, &p), Anomaly::kTruncatedUdp);
}

TEST(DecodeFrameTest, Ipv4Fragments) {
  const Wire udp = Udp(1, 53, DnsQuery(1, "frag.example", 1));
  // First fragment: carries the UDP header whose length covers more than
  // this fragment.
  Wire first_payload(udp.begin(), udp.begin() + 24);
  Packet p;
  ASSERT_EQ(Decode(LinkType::kRaw,
                   Ipv4(kClient, kServer, 17, first_payload, {}, 0x2000), &p),
            Anomaly::kNone);
  EXPECT_TRUE(p.ip.first_fragment);
  EXPECT_TRUE(p.ip.is_fragment);
  EXPECT_EQ(p.ports.dst, 53);
  EXPECT_EQ(p.payload.size(), 16u);

  Wire later(udp.begin() + 24, udp.end());
  EXPECT_EQ(
      Decode(LinkType::kRaw, Ipv4(kClient, kServer, 17, later, {}, 3), &p),
      Anomaly::kIpv4LaterFragment);
  EXPECT_TRUE(p.ip.is_fragment);
  EXPECT_FALSE(p.ip.first_fragment);
  EXPECT_EQ(p.ip.fragment_offset, 3);
  EXPECT_EQ(p.transport, Transport::kNone);
}

TEST(DecodeFrameTest, Ipv6ExtensionHeaders) {
  Wire chain = Ext8(60);    // hop-by-hop -> dest opts
  Append(chain, Ext8(43));  // dest opts -> routing
  Append(chain, Ext8(44));  // routing -> fragment
  Append(chain, FragmentHeader(17, 0, true));
  Append(chain, Udp(5000, 53, DnsQuery(9, "six.example", 28)));
  const Wire frame = Ipv6(Addr6(1), Addr6(2), 0, chain);  // outlives p
  Packet p;
  ASSERT_EQ(Decode(LinkType::kRaw, frame, &p), Anomaly::kNone);
  EXPECT_EQ(p.ip.protocol, 17);
  EXPECT_EQ(p.l4_offset, 40 + 32);
  EXPECT_TRUE(p.ip.first_fragment);
  EXPECT_EQ(QnameOf(p.payload), "six.example");

  Wire later = FragmentHeader(17, 10, false);
  Append(later, Wire(16, 0xee));
  EXPECT_EQ(Decode(LinkType::kRaw, Ipv6(Addr6(1), Addr6(2), 44, later), &p),
            Anomaly::kIpv6LaterFragment);
  EXPECT_EQ(p.ip.fragment_offset, 10);
  EXPECT_TRUE(p.ip.is_fragment);
}

TEST(DecodeFrameTest, Ipv6Problems) {
  Packet p;
  EXPECT_EQ(Decode(LinkType::kIpv6, Wire(39, 0x60), &p),
            Anomaly::kTruncatedIpv6);

  Wire many;
  for (int i = 0; i < kMaxIpv6ExtensionHeaders + 1; ++i) Append(many, Ext8(60));
  EXPECT_EQ(Decode(LinkType::kIpv6, Ipv6(Addr6(1), Addr6(2), 60, many), &p),
            Anomaly::kTooManyIpv6ExtensionHeaders);

  Wire cut = Ipv6(Addr6(1), Addr6(2), 60, Ext8(17));
  cut.resize(cut.size() - 3);
  Set16(cut, 4, 8);
  EXPECT_EQ(Decode(LinkType::kIpv6, cut, &p),
            Anomaly::kTruncatedIpv6ExtensionHeader);

  // The header is all captured but the payload length stops inside it.
  Wire bad = Ipv6(Addr6(1), Addr6(2), 60, Ext8(17));
  Set16(bad, 4, 4);
  EXPECT_EQ(Decode(LinkType::kIpv6, bad, &p), Anomaly::kBadIpv6PayloadLength);
}

TEST(DecodeFrameTest, UdpProblems) {
  Packet p;
  EXPECT_EQ(Decode(LinkType::kRaw, Ipv4(kClient, kServer, 17, Wire(7, 0)), &p),
            Anomaly::kTruncatedUdp);
  Wire short_len = QueryDatagram();
  Set16(short_len, 24, 7);
  EXPECT_EQ(Decode(LinkType::kRaw, short_len, &p), Anomaly::kBadUdpLength);
  EXPECT_EQ(p.payload.size(), 0u);
  Wire long_len = QueryDatagram();
  Set16(long_len, 24, 400);
  EXPECT_EQ(Decode(LinkType::kRaw, long_len, &p), Anomaly::kBadUdpLength);
  // Still clamped to what IP declares.
  EXPECT_EQ(p.payload.size(), long_len.size() - 28);
  // UDP length 8 leaves bytes after the datagram: they are not payload.
  Wire zero = QueryDatagram();
  Set16(zero, 24, 8);
  EXPECT_EQ(Decode(LinkType::kRaw, zero, &p), Anomaly::kNone);
  EXPECT_EQ(p.payload.size(), 0u);
}

TEST(DecodeFrameTest, TcpFlagsOptionsAndPayload) {
  Wire dns = DnsQuery(1, "tcp.example", 1);
  Wire seg = {0, static_cast<uint8_t>(dns.size())};
  Append(seg, dns);
  const Wire opts = {2, 4, 5, 0xb4, 1, 1, 4, 2};
  const Wire frame = Eth(
      0x0800,
      Ipv4(kClient, kServer, 6, Tcp(40000, 53, kTcpPsh | kTcpAck, seg, opts)));
  Packet p;
  ASSERT_EQ(Decode(LinkType::kEthernet, frame, &p), Anomaly::kNone);
  EXPECT_EQ(p.transport, Transport::kTcp);
  EXPECT_EQ(p.tcp_flags, kTcpPsh | kTcpAck);
  EXPECT_EQ(p.tcp_seq, 1000u);
  EXPECT_EQ(p.tcp_ack, 2000u);
  EXPECT_EQ(p.l4_length, 28 + seg.size());
  ASSERT_EQ(p.payload.size(), seg.size());
  DnsMessage m;
  ASSERT_EQ(DecodeDnsTcp(p.payload, DnsDepth::kQuestion, &m), Anomaly::kNone);
  EXPECT_EQ(m.qname(), "tcp.example");
}

TEST(DecodeFrameTest, TcpProblems) {
  Packet p;
  EXPECT_EQ(Decode(LinkType::kRaw, Ipv4(kClient, kServer, 6, Wire(19, 0)), &p),
            Anomaly::kTruncatedTcp);
  Wire doff4 = Ipv4(kClient, kServer, 6, Tcp(1, 53, kTcpSyn, {}));
  doff4[20 + 12] = 0x40;
  EXPECT_EQ(Decode(LinkType::kRaw, doff4, &p), Anomaly::kBadTcpHeaderLength);
  EXPECT_EQ(p.tcp_flags, kTcpSyn);  // decoded before the problem
  // Options claimed beyond the datagram.
  Wire doff15 = Ipv4(kClient, kServer, 6, Tcp(1, 53, kTcpSyn, Wire(8, 0)));
  doff15[20 + 12] = 0xf0;
  EXPECT_EQ(Decode(LinkType::kRaw, doff15, &p), Anomaly::kBadTcpHeaderLength);
  // ... or just beyond the captured bytes.
  Wire snap = Ipv4(kClient, kServer, 6, Tcp(1, 53, kTcpSyn, Wire(40, 0)));
  snap[20 + 12] = 0xf0;
  snap.resize(70);
  EXPECT_EQ(Decode(LinkType::kRaw, snap, &p), Anomaly::kTruncatedTcp);
}

TEST(DecodeFrameTest, OtherProtocolsAndIcmpInfo) {
  Packet p;
  EXPECT_EQ(Decode(LinkType::kRaw, Ipv4(kClient, kServer, 47, Wire(8, 0)), &p),
            Anomaly::kUnsupportedIpProtocol);
  EXPECT_EQ(p.transport, Transport::kOther);
  // ICMPv6 carried in IPv4 is not something we decode.
  EXPECT_EQ(Decode(LinkType::kRaw, Ipv4(kClient, kServer, 58, Wire(8, 0)), &p),
            Anomaly::kUnsupportedIpProtocol);
  ASSERT_EQ(Decode(LinkType::kRaw,
                   Ipv4(kClient, kServer, 1, Icmp(8, 0, Wire(4, 1))), &p),
            Anomaly::kNone);
  EXPECT_EQ(p.transport, Transport::kIcmp);
  EXPECT_EQ(p.icmp_type, 8);
  EXPECT_FALSE(p.is_icmp_error);
  EXPECT_EQ(p.payload.size(), 4u);
  EXPECT_EQ(Decode(LinkType::kRaw, Ipv4(kClient, kServer, 1, Wire(3, 3)), &p),
            Anomaly::kTruncatedIcmp);
  // An error needs its 8-byte header before the quote.
  EXPECT_EQ(
      Decode(LinkType::kRaw, Ipv4(kClient, kServer, 1, Wire{3, 3, 0, 0}), &p),
      Anomaly::kTruncatedIcmp);
  EXPECT_TRUE(p.is_icmp_error);
}

TEST(DecodeFrameTest, IcmpUnreachableQuotingAQueryEveryCode) {
  const Wire dns = DnsQuery(35084, "yummyrecipesforme.com", 1);
  for (uint8_t code = 0; code <= 15; ++code) {
    const Wire frame = Eth(
        0x0800, Ipv4(kServer, kClient, 1,
                     Icmp(3, code,
                          Ipv4(kClient, kServer, 17, Udp(52444, 53, dns),
                               {1, 1, 1, 0}))));  // the quote has options too
    Packet p;
    ASSERT_EQ(Decode(LinkType::kEthernet, frame, &p), Anomaly::kNone) << code;
    EXPECT_EQ(p.transport, Transport::kIcmp);
    ASSERT_TRUE(p.is_icmp_error);
    EXPECT_EQ(p.icmp.type, 3);
    EXPECT_EQ(p.icmp.code, code);
    EXPECT_TRUE(p.icmp.unreachable);
    EXPECT_EQ(p.icmp.inner.version, 4);
    EXPECT_EQ(p.icmp.inner.src, IpAddress::V4(kClient.data()));
    EXPECT_EQ(p.icmp.inner.dst, IpAddress::V4(kServer.data()));
    EXPECT_EQ(p.icmp.inner_transport, Transport::kUdp);
    ASSERT_TRUE(p.icmp.has_inner_ports);
    EXPECT_EQ(p.icmp.inner_ports.src, 52444);
    EXPECT_EQ(p.icmp.inner_ports.dst, 53);
    EXPECT_EQ(p.icmp.inner_payload.size(), dns.size());
    EXPECT_EQ(QnameOf(p.icmp.inner_payload), "yummyrecipesforme.com");
  }
}

TEST(DecodeFrameTest, IcmpTimeExceededWithShortRfc792Quote) {
  Wire quote = Ipv4(kClient, kServer, 17, Udp(5555, 53, DnsQuery(1, "x.y", 1)));
  quote.resize(28);  // IP header + 8 bytes, as old routers quote
  Packet p;
  ASSERT_EQ(
      Decode(LinkType::kRaw, Ipv4(kRouter, kClient, 1, Icmp(11, 0, quote)), &p),
      Anomaly::kNone);
  EXPECT_FALSE(p.icmp.unreachable);
  EXPECT_EQ(p.icmp.type, 11);
  EXPECT_TRUE(p.icmp.has_inner_ports);
  EXPECT_EQ(p.icmp.inner_ports.src, 5555);
  EXPECT_EQ(p.icmp.inner_payload.size(), 0u);
}

TEST(DecodeFrameTest, IcmpQuotesOfTcp) {
  Wire quote = Ipv4(kClient, kServer, 6, Tcp(33000, 53, kTcpSyn, {}));
  Packet p;
  ASSERT_EQ(
      Decode(LinkType::kRaw, Ipv4(kServer, kClient, 1, Icmp(3, 13, quote)), &p),
      Anomaly::kNone);
  EXPECT_EQ(p.icmp.inner_transport, Transport::kTcp);
  EXPECT_EQ(p.icmp.inner_ports.dst, 53);
}

TEST(DecodeFrameTest, IcmpQuoteGarbageAndTruncation) {
  const Wire good = Ipv4(kClient, kServer, 17, Udp(1, 53, DnsQuery(1, "q", 1)));
  auto decode_quote = [](const Wire& quote) {
    Packet p;
    return Decode(LinkType::kRaw, Ipv4(kServer, kClient, 1, Icmp(3, 3, quote)),
                  &p);
  };
  EXPECT_EQ(decode_quote({}), Anomaly::kIcmpQuoteTruncated);
  EXPECT_EQ(decode_quote(Wire(good.begin(), good.begin() + 10)),
            Anomaly::kIcmpQuoteTruncated);
  EXPECT_EQ(decode_quote(Wire(good.begin(), good.begin() + 22)),
            Anomaly::kIcmpQuoteTruncated);  // no room for both ports
  EXPECT_EQ(decode_quote(Wire(30, 0xff)), Anomaly::kIcmpQuoteGarbage);
  Wire v6 = Ipv6(Addr6(1), Addr6(2), 17, Udp(1, 53, {}));
  EXPECT_EQ(decode_quote(v6), Anomaly::kIcmpQuoteGarbage);
  Wire ihl = good;
  ihl[0] = 0x43;
  EXPECT_EQ(decode_quote(ihl), Anomaly::kIcmpQuoteGarbage);
  Wire total = good;
  Set16(total, 2, 12);
  EXPECT_EQ(decode_quote(total), Anomaly::kIcmpQuoteGarbage);
  Wire udp_len = good;
  Set16(udp_len, 24, 3);
  EXPECT_EQ(decode_quote(udp_len), Anomaly::kIcmpQuoteGarbage);
  // A later fragment quotes no transport header: fine, no ports.
  Wire frag = good;
  Set16(frag, 6, 0x0010);
  Packet p;
  ASSERT_EQ(
      Decode(LinkType::kRaw, Ipv4(kServer, kClient, 1, Icmp(3, 4, frag)), &p),
      Anomaly::kNone);
  EXPECT_FALSE(p.icmp.has_inner_ports);
}

TEST(DecodeFrameTest, Icmp6ErrorsQuoteIpv6WithExtensionHeaders) {
  const Wire dns = DnsQuery(77, "v6.example", 28);
  Wire inner_chain = Ext8(17);
  Append(inner_chain, Udp(6000, 53, dns));
  const Wire quote = Ipv6(Addr6(1), Addr6(2), 60, inner_chain);
  for (uint8_t type : {1, 3}) {
    for (uint8_t code = 0; code <= 7; ++code) {
      const Wire frame =
          Eth(0x86dd, Ipv6(Addr6(2), Addr6(1), 58, Icmp(type, code, quote)));
      Packet p;
      ASSERT_EQ(Decode(LinkType::kEthernet, frame, &p), Anomaly::kNone);
      EXPECT_EQ(p.transport, Transport::kIcmp6);
      ASSERT_TRUE(p.is_icmp_error);
      EXPECT_EQ(p.icmp.unreachable, type == 1);
      EXPECT_EQ(p.icmp.code, code);
      EXPECT_EQ(p.icmp.inner.version, 6);
      EXPECT_EQ(p.icmp.inner.protocol, 17);
      EXPECT_EQ(p.icmp.inner_ports.src, 6000);
      EXPECT_EQ(QnameOf(p.icmp.inner_payload), "v6.example");
    }
  }
  // ICMPv6 type 2 (packet too big) is not an error edgecap follows.
  Packet p;
  ASSERT_EQ(Decode(LinkType::kIpv6,
                   Ipv6(Addr6(2), Addr6(1), 58, Icmp(2, 0, quote)), &p),
            Anomaly::kNone);
  EXPECT_FALSE(p.is_icmp_error);
  // An IPv4 quote inside ICMPv6, and a chain of too many headers, are
  // garbage; a chain cut by the quote is a truncated quote.
  EXPECT_EQ(
      Decode(LinkType::kIpv6,
             Ipv6(Addr6(2), Addr6(1), 58, Icmp(1, 4, QueryDatagram())), &p),
      Anomaly::kIcmpQuoteGarbage);
  Wire many;
  for (int i = 0; i < kMaxIpv6ExtensionHeaders + 1; ++i) Append(many, Ext8(60));
  EXPECT_EQ(Decode(LinkType::kIpv6,
                   Ipv6(Addr6(2), Addr6(1), 58,
                        Icmp(1, 4, Ipv6(Addr6(1), Addr6(2), 60, many))),
                   &p),
            Anomaly::kIcmpQuoteGarbage);
  Wire cut = quote;
  cut.resize(44);
  EXPECT_EQ(Decode(LinkType::kIpv6,
                   Ipv6(Addr6(2), Addr6(1), 58, Icmp(1, 4, cut)), &p),
            Anomaly::kIcmpQuoteTruncated);
}

void ExpectSameIp(const IpHeader& a, const IpHeader& b, const char* what) {
  EXPECT_EQ(a.version, b.version) << what;
  EXPECT_EQ(a.src, b.src) << what;
  EXPECT_EQ(a.dst, b.dst) << what;
  EXPECT_EQ(a.protocol, b.protocol) << what;
  EXPECT_EQ(a.ttl, b.ttl) << what;
  EXPECT_EQ(a.id, b.id) << what;
  EXPECT_EQ(a.total_length, b.total_length) << what;
  EXPECT_EQ(a.first_fragment, b.first_fragment) << what;
  EXPECT_EQ(a.is_fragment, b.is_fragment) << what;
  EXPECT_EQ(a.fragment_offset, b.fragment_offset) << what;
}

void ExpectSamePacket(const Packet& a, const Packet& b) {
  EXPECT_EQ(a.vlan_depth, b.vlan_depth);
  for (int i = 0; i < kMaxVlanTags; ++i)
    EXPECT_EQ(a.vlan_ids[i], b.vlan_ids[i]);
  ExpectSameIp(a.ip, b.ip, "ip");
  EXPECT_EQ(a.l3_offset, b.l3_offset);
  EXPECT_EQ(a.l4_offset, b.l4_offset);
  EXPECT_EQ(a.transport, b.transport);
  EXPECT_EQ(a.ports.src, b.ports.src);
  EXPECT_EQ(a.ports.dst, b.ports.dst);
  EXPECT_EQ(a.tcp_flags, b.tcp_flags);
  EXPECT_EQ(a.tcp_seq, b.tcp_seq);
  EXPECT_EQ(a.tcp_ack, b.tcp_ack);
  EXPECT_EQ(a.icmp_type, b.icmp_type);
  EXPECT_EQ(a.icmp_code, b.icmp_code);
  EXPECT_EQ(a.is_icmp_error, b.is_icmp_error);
  EXPECT_EQ(a.icmp.type, b.icmp.type);
  EXPECT_EQ(a.icmp.code, b.icmp.code);
  ExpectSameIp(a.icmp.inner, b.icmp.inner, "icmp.inner");
  EXPECT_EQ(a.icmp.unreachable, b.icmp.unreachable);
  EXPECT_EQ(a.icmp.inner_transport, b.icmp.inner_transport);
  EXPECT_EQ(a.icmp.has_inner_ports, b.icmp.has_inner_ports);
  EXPECT_EQ(a.icmp.inner_ports.src, b.icmp.inner_ports.src);
  EXPECT_EQ(a.icmp.inner_ports.dst, b.icmp.inner_ports.dst);
  EXPECT_EQ(a.icmp.inner_payload.data(), b.icmp.inner_payload.data());
  EXPECT_EQ(a.icmp.inner_payload.size(), b.icmp.inner_payload.size());
  EXPECT_EQ(a.payload.data(), b.payload.data());
  EXPECT_EQ(a.payload.size(), b.payload.size());
  EXPECT_EQ(a.l4_length, b.l4_length);
}

// DecodeFrame takes a shortcut for Ethernet/IPv4/IPv6/UDP frames; on every
// frame, taken or not, it must decode what the general decoder decodes.
// Frames of both versions with random bytes of their headers changed (the
// version, header length, fragment bits, protocol, lengths) and random cuts.
TEST(DecodeFrameTest, UdpShortcutAgreesWithTheGeneralDecoder) {
  const Wire dns = DnsQuery(4242, "shortcut.Example.net", 28, true);
  const std::vector<Wire> seeds = {
      Eth(0x0800, Ipv4(kClient, kServer, 17, Udp(5353, 53, dns))),
      Eth(0x86dd, Ipv6(Addr6(1), Addr6(2), 17, Udp(53, 40000, dns))),
      Eth(0x0800, Ipv4(kServer, kRouter, 17, Udp(53, 53, Wire(20, 0)))),
      Eth(0x86dd, Ipv6(Addr6(3), Addr6(4), 17, Udp(1, 53, {1, 2, 3}))),
  };
  std::mt19937 rng(8);
  int shortcut = 0, anomalies = 0;
  for (int i = 0; i < 40000; ++i) {
    Wire w = seeds[i % seeds.size()];
    const int edits = static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      // Mostly in the IP and UDP headers, where the shortcut decides.
      const size_t at = 12 + rng() % std::min<size_t>(w.size() - 12, 52);
      w[at] = rng() % 2 ? static_cast<uint8_t>(rng())
                        : static_cast<uint8_t>(w[at] ^ (1u << (rng() % 8)));
    }
    if (rng() % 4 == 0) w.resize(rng() % (w.size() + 1));
    Packet fast, general;
    const Anomaly a = Decode(LinkType::kEthernet, w, &fast);
    ASSERT_EQ(a, internal::DecodeFrameGeneral(
                     LinkType::kEthernet, Bytes(w.data(), w.size()), &general))
        << i;
    ExpectSamePacket(fast, general);
    if (HasFailure()) FAIL() << "frame " << i;
    // Frames of the kind the short path decodes (the general decoder would
    // give the same: the count says the test has them, not who decoded).
    shortcut += a == Anomaly::kNone && w.size() >= 62 &&
                fast.transport == Transport::kUdp && fast.vlan_depth == 0 &&
                !fast.ip.is_fragment &&
                fast.l4_offset == (fast.ip.version == 4 ? 34 : 54);
    anomalies += a != Anomaly::kNone;
  }
  EXPECT_GT(shortcut, 10000);
  EXPECT_GT(anomalies, 5000);
}

TEST(DecodeFrameTest, NeverReadsPastTheSpan) {
  // Every prefix of a rich frame must decode without touching bytes beyond
  // it (ASan builds catch a read past the heap copy).
  Wire chain = Ext8(44);
  Append(chain, FragmentHeader(58, 0, false));
  Append(chain, Icmp(1, 4,
                     Ipv6(Addr6(1), Addr6(2), 17,
                          Udp(1, 53, DnsQuery(1, "prefix.example", 1, true)))));
  const Wire frame =
      Eth(0x86dd, Ipv6(Addr6(2), Addr6(1), 0, chain), {{0x8100, 5}});
  for (size_t n = 0; n <= frame.size(); ++n) {
    const Wire prefix(frame.begin(), frame.begin() + n);
    Packet p;
    const Anomaly a = Decode(LinkType::kEthernet, prefix, &p);
    if (n == frame.size()) {
      EXPECT_EQ(a, Anomaly::kNone);
    } else {
      EXPECT_NE(a, Anomaly::kCount);
    }
    for (size_t i = 0; i < p.payload.size(); ++i) (void)p.payload[i];
  }
}

}  // namespace
}  // namespace edgecap::parse
