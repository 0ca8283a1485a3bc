#include "apps/edgecap-gen/packet_builder.h"

#include <gtest/gtest.h>

#include "apps/edgecap-gen/dns_builder.h"
#include "lib/parse/dns.h"
#include "lib/parse/packet.h"

namespace edgecap::gen {
namespace {

// RFC 1071: summing a correct header including its checksum gives 0xffff.
uint16_t Verify(uint32_t sum, const uint8_t* p, size_t n) {
  return ChecksumFold(ChecksumAdd(sum, p, n));
}

uint32_t Pseudo(const Ip& s, const Ip& d, uint8_t proto, size_t len) {
  uint32_t sum = ChecksumAdd(0, s.b.data(), s.size());
  sum = ChecksumAdd(sum, d.b.data(), d.size());
  return sum + proto + static_cast<uint32_t>(len);
}

TEST(PacketBuilder, UdpV4ChecksumsAndDecode) {
  uint8_t msg[kMaxDnsMessage], f[kMaxFrame];
  const size_t n =
      BuildDnsQuery(msg, 35084, "yummyrecipesforme.com", kTypeA, false);
  const Ip c = Ip::V4(192, 51, 100, 15), s = Ip::V4(203, 0, 113, 2);
  const Built b = BuildUdp(f, L2{kMacClientSide, kMacServerSide}, c, s, 52444,
                           53, {msg, n}, IpOptions{64, 7});
  ASSERT_EQ(b.len, 14 + 20 + 8 + n);
  EXPECT_EQ(Verify(0, f + 14, 20), 0);
  EXPECT_EQ(Verify(Pseudo(c, s, 17, 8 + n), f + 34, 8 + n), 0);

  parse::Packet p;
  ASSERT_EQ(parse::DecodeFrame(parse::LinkType::kEthernet, {f, b.len}, &p),
            parse::Anomaly::kNone);
  EXPECT_EQ(p.ports.src, 52444);
  EXPECT_EQ(p.ports.dst, 53);
  EXPECT_EQ(p.payload.size(), n);
}

TEST(PacketBuilder, Icmp6QuoteAndChecksum) {
  uint8_t msg[kMaxDnsMessage], q[kMaxFrame], e[kMaxFrame];
  const size_t n = BuildDnsQuery(msg, 1, "example.com", kTypeAaaa, true);
  const Ip c = Ip::V6(0xc, 5), s = Ip::V6(0x53, 2);
  const L2 l2{kMacClientSide, kMacServerSide, 1, 100, 0};
  const Built bq = BuildUdp(q, l2, c, s, 4000, 53, {msg, n}, {});
  const Built be = BuildUnreachable(
      e, l2.Reversed(), s, c, 4, {q + bq.l3_offset, bq.len - bq.l3_offset}, {});
  const size_t icmp_len = be.len - be.l3_offset - 40;
  EXPECT_EQ(Verify(Pseudo(s, c, 58, icmp_len), e + be.l3_offset + 40, icmp_len),
            0);
  parse::Packet p;
  ASSERT_EQ(parse::DecodeFrame(parse::LinkType::kEthernet, {e, be.len}, &p),
            parse::Anomaly::kNone);
  EXPECT_EQ(p.vlan_depth, 1);
  ASSERT_TRUE(p.is_icmp_error);
  EXPECT_EQ(p.icmp.code, 4);
  EXPECT_EQ(p.icmp.inner.dst, parse::IpAddress::V6(s.b.data()));
  EXPECT_EQ(p.icmp.inner_ports.dst, 53);
}

TEST(PacketBuilder, Ipv4ErrorQuoteIsCutAt576Bytes) {
  uint8_t big[1400] = {0x45}, e[kMaxFrame];
  const Built be = BuildUnreachable(e, L2{}, Ip::V4(1, 2, 3, 4),
                                    Ip::V4(5, 6, 7, 8), 3, big, {});
  EXPECT_EQ(be.len - be.l3_offset, 576u);
}

}  // namespace
}  // namespace edgecap::gen
