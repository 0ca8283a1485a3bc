#include "lib/capture/pcap_file.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace edgecap::capture {
namespace {

void Put32(std::vector<uint8_t>* b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// A little-endian pcapng file: section header, one Ethernet interface
// (microsecond resolution), then one 60-byte packet per timestamp.
std::string WritePcapng(const std::vector<uint64_t>& timestamps_us) {
  std::vector<uint8_t> b;
  Put32(&b, 0x0A0D0D0A), Put32(&b, 28), Put32(&b, 0x1A2B3C4D);
  Put32(&b, 0x00000001);                         // version 1.0
  Put32(&b, 0xffffffff), Put32(&b, 0xffffffff);  // section length unknown
  Put32(&b, 28);
  Put32(&b, 1), Put32(&b, 20), Put32(&b, 1), Put32(&b, 65535), Put32(&b, 20);
  for (uint64_t ts : timestamps_us) {
    Put32(&b, 6), Put32(&b, 32 + 60), Put32(&b, 0);
    Put32(&b, static_cast<uint32_t>(ts >> 32));
    Put32(&b, static_cast<uint32_t>(ts));
    Put32(&b, 60), Put32(&b, 60);
    b.insert(b.end(), 60, 0);
    Put32(&b, 32 + 60);
  }
  std::string path = ::testing::TempDir() + "pcap_file_test.pcapng";
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(b.data(), 1, b.size(), f);
  std::fclose(f);
  return path;
}

TEST(PcapFile, ReadsPcapngTimesInNanoseconds) {
  absl::StatusOr<PcapFile> file =
      PcapFile::Open(WritePcapng({1710422672192571}));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->link_type(), parse::LinkType::kEthernet);
  Record r;
  ASSERT_TRUE(file->Next(&r));
  EXPECT_EQ(r.timestamp_ns, int64_t{1710422672192571000});
  EXPECT_EQ(r.bytes.size(), 60u);
  EXPECT_FALSE(file->Next(&r));
  EXPECT_TRUE(file->status().ok());
}

// Found by tests/fuzz/pcap_fuzz: a pcapng timestamp past the year 2262
// overflowed the nanosecond conversion.
TEST(PcapFile, TimestampBeyondNanosecondRangeIsACorruptRecord) {
  const uint64_t far_us = uint64_t{1759756153000} * 1000000;
  absl::StatusOr<PcapFile> file =
      PcapFile::Open(WritePcapng({1710422672192571, far_us}));
  ASSERT_TRUE(file.ok()) << file.status();
  Record r;
  ASSERT_TRUE(file->Next(&r));
  EXPECT_FALSE(file->Next(&r));
  EXPECT_EQ(file->status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(file->status().message().find("out of range"), std::string::npos)
      << file->status();
}

}  // namespace
}  // namespace edgecap::capture
