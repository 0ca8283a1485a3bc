#include "apps/edgecap-gen/toeplitz.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

// DPDK's headers use volatile ++/-- that C++20 deprecates.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wvolatile"
#include <rte_thash.h>
#pragma GCC diagnostic pop

#include "apps/edgecap-gen/packet_builder.h"
#include "apps/edgecap-gen/rng.h"

namespace edgecap::gen {
namespace {

// Microsoft's RSS verification key and vectors ("Verifying the RSS Hash
// Calculation"): they pin the bit order of the implementation.
constexpr uint8_t kMsKey[40] = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
                                0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
                                0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
                                0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
                                0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

TEST(Toeplitz, MicrosoftIpv4Vectors) {
  const uint8_t tcp1[] = {66, 9,    149,  187,  161, 142, 100,
                          80, 0x0a, 0xea, 0x06, 0xe6};  // ports 2794 -> 1766
  EXPECT_EQ(Toeplitz(kMsKey, {tcp1, 8}), 0x323e8fc2u);
  EXPECT_EQ(Toeplitz(kMsKey, tcp1), 0x51ccc178u);
  const uint8_t tcp2[] = {199, 92,   111,  2,    65,  69, 140,
                          83,  0x37, 0x96, 0x12, 0x83};  // ports 14230 -> 4739
  EXPECT_EQ(Toeplitz(kMsKey, {tcp2, 8}), 0xd718262au);
  EXPECT_EQ(Toeplitz(kMsKey, tcp2), 0xc626b0eau);
}

TEST(Toeplitz, MicrosoftIpv6Vector) {
  uint8_t in[36] = {};
  inet_pton(AF_INET6, "3ffe:2501:200:1fff::7", in);
  inet_pton(AF_INET6, "3ffe:2501:200:3::1", in + 16);
  in[32] = 0x0a, in[33] = 0xea, in[34] = 0x06, in[35] = 0xe6;
  EXPECT_EQ(Toeplitz(kMsKey, {in, 32}), 0x2cc18cd5u);
  EXPECT_EQ(Toeplitz(kMsKey, in), 0x40207d3du);
}

// Same result as DPDK's software RSS (what lib/pipeline uses to re-steer),
// and symmetric with the repeated 0x6d5a key.
TEST(Toeplitz, MatchesRteSoftrssAndIsSymmetric) {
  Rng rng(7);
  for (int i = 0; i < 1000; ++i) {
    uint8_t in[36];
    for (uint8_t& b : in) b = static_cast<uint8_t>(rng.Next());
    const size_t len = i % 2 ? 12 : 36;
    std::vector<uint32_t> words(len / 4);
    for (size_t w = 0; w < words.size(); ++w) {
      uint32_t be;
      std::memcpy(&be, in + 4 * w, 4);
      words[w] = ntohl(be);
    }
    const uint32_t h = Toeplitz(kSymmetricRssKey, {in, len});
    EXPECT_EQ(h, rte_softrss(words.data(), static_cast<uint32_t>(words.size()),
                             kSymmetricRssKey.data()));
    // Swap the addresses and the ports.
    const size_t a = len == 12 ? 4 : 16;
    uint8_t sw[36];
    std::memcpy(sw, in + a, a);
    std::memcpy(sw + a, in, a);
    std::memcpy(sw + 2 * a, in + 2 * a + 2, 2);
    std::memcpy(sw + 2 * a + 2, in + 2 * a, 2);
    EXPECT_EQ(h, Toeplitz(kSymmetricRssKey, {sw, len}));
  }
}

TEST(Toeplitz, QueryResponseAndIcmpPlacement) {
  uint8_t q[kMaxFrame], r[kMaxFrame], e[kMaxFrame];
  const uint8_t payload[12] = {1, 2};
  const L2 l2{kMacClientSide, kMacServerSide, 2, 10, 200};
  const Ip c = Ip::V4(100, 64, 1, 2), s = Ip::V4(203, 0, 113, 2);
  const Built bq = BuildUdp(q, l2, c, s, 40000, 53, payload, {});
  const Built br = BuildUdp(r, l2.Reversed(), s, c, 53, 40000, payload, {});
  for (int n : {2, 3, 4, 8}) {
    EXPECT_EQ(RssQueue(1, {q, bq.len}, n), RssQueue(1, {r, br.len}, n));
  }
  uint8_t in[36];
  EXPECT_EQ(RssInput(1, {q, bq.len}, in), 12u);
  const Built be =
      BuildUnreachable(e, l2.Reversed(), s, c, 3, {q + bq.l3_offset, 40}, {});
  EXPECT_EQ(RssInput(1, {e, be.len}, in), 8u);  // ICMP: addresses only
  EXPECT_EQ(RssInput(1, {q, 13}, in), 0u);
}

}  // namespace
}  // namespace edgecap::gen
