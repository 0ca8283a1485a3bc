#include "lib/flow/toeplitz.h"

#include "gtest/gtest.h"
#include "lib/flow/test_frames.h"

namespace edgecap::flow {
namespace {

using testing::V4;

// Microsoft's RSS verification key and vectors ("Verifying the RSS Hash
// Calculation"), which DPDK's test_thash uses too.
constexpr RssKey kMsKey = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
                           0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
                           0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
                           0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
                           0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

TEST(Toeplitz, MicrosoftVectors) {
  struct V {
    parse::IpAddress src, dst;
    uint16_t sport, dport;
    uint32_t ip_only, with_ports;
  };
  const V vs[] = {
      {V4(66, 9, 149, 187), V4(161, 142, 100, 80), 2794, 1766, 0x323e8fc2,
       0x51ccc178},
      {V4(199, 92, 111, 2), V4(65, 69, 140, 83), 14230, 4739, 0xd718262a,
       0xc626b0ea},
      {V4(24, 19, 198, 95), V4(12, 22, 207, 184), 12898, 38024, 0xd2d0a5de,
       0x5c2b394a},
      {V4(38, 27, 205, 30), V4(209, 142, 163, 6), 48228, 2217, 0x82989176,
       0xafc7327f},
      {V4(153, 39, 163, 191), V4(202, 188, 127, 2), 44251, 1303, 0x5d1809c5,
       0x10e828a2},
  };
  for (const V& v : vs) {
    EXPECT_EQ(TupleHash(v.src, v.dst, 0, 0, false, kMsKey), v.ip_only);
    EXPECT_EQ(TupleHash(v.src, v.dst, v.sport, v.dport, true, kMsKey),
              v.with_ports);
  }
}

TEST(Toeplitz, SymmetricKeyIsSymmetric) {
  for (uint32_t i = 0; i < 1000; ++i) {
    const auto a = V4(10, i & 0xff, (i >> 8) & 0xff, 1);
    const auto b = V4(192, 0, 2, i & 0xff);
    const uint16_t pa = static_cast<uint16_t>(1024 + i * 7), pb = 53;
    EXPECT_EQ(TupleHash(a, b, pa, pb, true), TupleHash(b, a, pb, pa, true));
  }
  const auto a6 = testing::V6(1), b6 = testing::V6(0x53);
  EXPECT_EQ(TupleHash(a6, b6, 1000, 53, true),
            TupleHash(b6, a6, 53, 1000, true));
}

TEST(Toeplitz, QueryResponseAndIcmpErrorSteerToTheSameWorker) {
  // With the symmetric key the hash only depends on the xor of the tuple's
  // 16-bit words, so the flows here are random, not a counting pattern.
  int spread[7] = {};
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (uint16_t i = 0; i < 500; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const auto client =
        V4(100, 64 + (x & 63), (x >> 8) & 0xff, (x >> 16) & 0xff);
    const auto server = V4(203, 0, 113, 2);
    const uint16_t port = static_cast<uint16_t>(1024 + (x >> 24) % 60000);
    const auto q = testing::DnsQuery(client, server, port, 53, i, "a.example");
    const auto r =
        testing::DnsResponse(client, server, port, 53, i, "a.example", 0);
    // From a router, so the outer header differs from the flow's.
    const auto e = testing::IcmpUnreachable(V4(198, 51, 100, 254), q, 13);
    parse::Packet pq, pr, pe;
    ASSERT_EQ(parse::DecodeFrame(parse::LinkType::kEthernet, q, &pq),
              parse::Anomaly::kNone);
    ASSERT_EQ(parse::DecodeFrame(parse::LinkType::kEthernet, r, &pr),
              parse::Anomaly::kNone);
    ASSERT_EQ(parse::DecodeFrame(parse::LinkType::kEthernet, e, &pe),
              parse::Anomaly::kNone);
    for (int n : {2, 4, 7}) {
      EXPECT_EQ(SteerToWorker(pq, n), SteerToWorker(pr, n));
      EXPECT_EQ(SteerToWorker(pq, n), SteerToWorker(pe, n));
    }
    ++spread[SteerToWorker(pq, 7)];
  }
  for (int n : spread) EXPECT_GT(n, 30);  // 500 flows spread over 7 workers
}

}  // namespace
}  // namespace edgecap::flow
