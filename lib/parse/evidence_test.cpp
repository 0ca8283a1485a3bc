// Robustness of FormatEvidence on hostile input: every prefix of real-looking
// frames and pseudo-random bytes, on every link type, must give exactly one
// line that starts with the time of day. Byte-for-byte agreement with
// tcpdump is tested in tests/integration/evidence_vs_tcpdump_test.py.
#include "lib/parse/evidence.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace edgecap::parse {
namespace {

// An Ethernet frame: IPv4/UDP DNS query for yummyrecipesforme.com A.
std::vector<uint8_t> SeedQuery() {
  std::vector<uint8_t> f = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00};
  std::vector<uint8_t> dns = {0x89, 0x0c, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  for (char c : std::string("\x11yummyrecipesforme\x03"
                            "com"))
    dns.push_back(c);
  dns.insert(dns.end(), {0, 0, 1, 0, 1});
  uint16_t ulen = 8 + dns.size(), tlen = 20 + ulen;
  std::vector<uint8_t> ip = {0x45,
                             0,
                             uint8_t(tlen >> 8),
                             uint8_t(tlen),
                             0,
                             1,
                             0,
                             0,
                             64,
                             17,
                             0,
                             0,
                             192,
                             51,
                             100,
                             15,
                             203,
                             0,
                             113,
                             2,
                             0xcc,
                             0xdc,
                             0,
                             53,
                             uint8_t(ulen >> 8),
                             uint8_t(ulen),
                             0,
                             0};
  f.insert(f.end(), ip.begin(), ip.end());
  f.insert(f.end(), dns.begin(), dns.end());
  return f;
}

void ExpectOneLine(const std::string& line) {
  ASSERT_GE(line.size(), 16u);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_EQ(line[2], ':');
  EXPECT_EQ(line[8], '.');
}

TEST(Evidence, SeedQueryTimeOfDay) {
  std::vector<uint8_t> f = SeedQuery();
  // 13:24:32.192571 UTC on some day; nanoseconds below a microsecond drop.
  int64_t ns =
      (int64_t{19700} * 86400 + 13 * 3600 + 24 * 60 + 32) * 1000000000 +
      192571999;
  std::string line = FormatEvidence(ns, LinkType::kEthernet, f);
  EXPECT_EQ(line.substr(0, 16), "13:24:32.192571 ");
  EXPECT_NE(line.find("35084+ A? yummyrecipesforme.com. (39)"),
            std::string::npos)
      << line;
}

TEST(Evidence, EveryPrefixOnEveryLinkType) {
  std::vector<uint8_t> f = SeedQuery();
  for (LinkType link :
       {LinkType::kEthernet, LinkType::kRaw, LinkType::kIpv4, LinkType::kIpv6,
        LinkType::kLinuxSll, LinkType::kLinuxSll2, LinkType::kNull}) {
    for (size_t n = 0; n <= f.size(); ++n) {
      ExpectOneLine(FormatEvidence(0, link, Bytes(f.data(), n)));
    }
  }
}

TEST(Evidence, RandomBytesAfterValidHeaders) {
  std::mt19937 rng(12345);
  std::vector<uint8_t> seed = SeedQuery();
  for (int round = 0; round < 20000; ++round) {
    std::vector<uint8_t> f = seed;
    // Mutate a few bytes past the Ethernet header, sometimes many.
    int flips = 1 + rng() % (round % 10 == 0 ? 40 : 4);
    for (int i = 0; i < flips; ++i) f[14 + rng() % (f.size() - 14)] = rng();
    f.resize(14 + rng() % (f.size() - 13));
    ExpectOneLine(FormatEvidence(round, LinkType::kEthernet, f));
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace edgecap::parse
