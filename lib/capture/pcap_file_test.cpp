#include "lib/capture/pcap_file.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
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

void Put32Be(std::vector<uint8_t>* b, uint32_t v) {
  for (int i = 3; i >= 0; --i) b->push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// A classic pcap file (version 2.4, Ethernet) of records of the given
// lengths, in either byte order; `snaplen` goes in the file header.
std::vector<uint8_t> ClassicPcap(const std::vector<uint32_t>& lengths,
                                 bool big_endian, uint32_t snaplen = 65535) {
  std::vector<uint8_t> b;
  auto put = [&](uint32_t v) { big_endian ? Put32Be(&b, v) : Put32(&b, v); };
  put(0xa1b2c3d4);
  put(big_endian ? 0x00020004 : 0x00040002);  // major 2, minor 4
  put(0), put(0), put(snaplen), put(1);
  uint32_t second = 1710422672;
  for (uint32_t len : lengths) {
    put(second++), put(0), put(len), put(len);
    for (uint32_t i = 0; i < len; ++i) b.push_back(static_cast<uint8_t>(i));
  }
  return b;
}

std::string Write(const std::string& name, const std::vector<uint8_t>& b) {
  std::string path = ::testing::TempDir() + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(b.data(), 1, b.size(), f);
  std::fclose(f);
  return path;
}

// What libpcap itself delivers, record by record.
Census CountWithNext(const std::string& path) {
  absl::StatusOr<PcapFile> file = PcapFile::Open(path);
  EXPECT_TRUE(file.ok()) << file.status();
  Census c;
  Record r;
  while (file->Next(&r)) {
    ++c.records;
    c.max_frame = std::max(c.max_frame, r.bytes.size());
  }
  c.status = file->status();
  return c;
}

void ExpectSameCount(const std::string& path) {
  const Census want = CountWithNext(path);
  absl::StatusOr<PcapFile> file = PcapFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  const Census got = file->Count();
  EXPECT_EQ(got.records, want.records) << path;
  EXPECT_EQ(got.max_frame, want.max_frame) << path;
  EXPECT_EQ(got.status, want.status) << path;
  Record r;
  EXPECT_FALSE(file->Next(&r)) << "Count() reads every record";
}

TEST(PcapFileCount, EqualsLibpcapOnWholeFilesOfBothByteOrders) {
  const std::vector<uint32_t> lengths = {60, 1514, 42, 0, 170, 60};
  for (bool big : {false, true}) {
    const std::string path = Write(big ? "count_be.pcap" : "count_le.pcap",
                                   ClassicPcap(lengths, big));
    ExpectSameCount(path);
    absl::StatusOr<PcapFile> file = PcapFile::Open(path);
    ASSERT_TRUE(file.ok());
    const Census c = file->Count();
    EXPECT_EQ(c.records, 6u);
    EXPECT_EQ(c.max_frame, 1514u);
    EXPECT_TRUE(c.status.ok()) << c.status;
  }
  ExpectSameCount(Write("count_empty.pcap", ClassicPcap({}, false)));
}

TEST(PcapFileCount, CutAndOversizedRecordsGetLibpcapsVerdict) {
  const std::vector<uint8_t> whole = ClassicPcap({60, 80, 100}, false);
  // Cut in the last record's data, and in its header.
  const std::string in_data =
      Write("count_cut_data.pcap", {whole.begin(), whole.end() - 50});
  ExpectSameCount(in_data);
  absl::StatusOr<PcapFile> file = PcapFile::Open(in_data);
  ASSERT_TRUE(file.ok());
  const Census c = file->Count();
  EXPECT_EQ(c.records, 2u);
  EXPECT_EQ(c.status.code(), absl::StatusCode::kDataLoss) << c.status;
  ExpectSameCount(
      Write("count_cut_header.pcap", {whole.begin(), whole.end() - 100 - 9}));
  // Records longer than the header's snapshot length: libpcap cuts them.
  ExpectSameCount(
      Write("count_over_snaplen.pcap", ClassicPcap({60, 300, 60}, false, 128)));
  // An absurd record length.
  std::vector<uint8_t> absurd = ClassicPcap({60, 60}, false);
  absurd[24 + 16 + 60 + 8 + 2] = 0x7f;  // second record's caplen
  ExpectSameCount(Write("count_absurd.pcap", absurd));
}

TEST(PcapFileCount, CountsWhatIsLeftAfterNext) {
  const std::string path =
      Write("count_after_next.pcap", ClassicPcap({60, 70, 80}, false));
  absl::StatusOr<PcapFile> file = PcapFile::Open(path);
  ASSERT_TRUE(file.ok());
  Record r;
  ASSERT_TRUE(file->Next(&r));
  const Census c = file->Count();
  EXPECT_EQ(c.records, 2u);
  EXPECT_EQ(c.max_frame, 80u);
}

TEST(PcapFileCount, PcapngIsReadByLibpcap) {
  ExpectSameCount(WritePcapng({1710422672192571, 1710422672192572}));
}

// Count() walks the file libpcap opened, not whatever the path names when it
// runs (a capture rotated between Open() and Count()).
TEST(PcapFileCount, CountsTheOpenedFileNotThePath) {
  const std::string path =
      Write("count_renamed.pcap", ClassicPcap({60, 70, 80}, false));
  absl::StatusOr<PcapFile> file = PcapFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  const std::string moved = path + ".1";
  ASSERT_EQ(std::rename(path.c_str(), moved.c_str()), 0);
  Write("count_renamed.pcap", ClassicPcap({60, 60, 60, 60, 60, 1500}, false));
  const Census c = file->Count();
  EXPECT_EQ(c.records, 3u);
  EXPECT_EQ(c.max_frame, 80u);
  EXPECT_TRUE(c.status.ok()) << c.status;
  std::remove(moved.c_str());
}

// A capture truncated in the middle of a record while Count() walks it (log
// rotation): no SIGBUS, and the count is what libpcap reads of the file
// either before the cut (all records) or after it (the whole records, and
// libpcap's "truncated" status). When the cut lands is up to the scheduler,
// so each round cuts after a different delay; a mapping of the file died of
// SIGBUS in most rounds.
TEST(PcapFileCount, FileCutDuringTheWalk) {
  const std::vector<uint32_t> lengths(100000, 150);  // 16.6 MB
  const std::vector<uint8_t> whole = ClassicPcap(lengths, false);
  const size_t record = 16 + 150;
  for (int round = 0; round < 12; ++round) {
    SCOPED_TRACE(round);
    const std::string path = Write("count_cut_live.pcap", whole);
    // Mid-record, in the second half of the file.
    const size_t kept = 60000 + 2000 * static_cast<size_t>(round);
    const off_t cut = static_cast<off_t>(24 + kept * record + 40);
    absl::StatusOr<PcapFile> file = PcapFile::Open(path);
    ASSERT_TRUE(file.ok()) << file.status();
    std::atomic<bool> go{false};
    std::thread cutter([&] {
      while (!go.load()) {
      }
      const auto until = std::chrono::steady_clock::now() +
                         std::chrono::microseconds(100 * round);
      while (std::chrono::steady_clock::now() < until) {
      }
      ASSERT_EQ(truncate(path.c_str(), cut), 0);
    });
    go.store(true);
    const Census c = file->Count();
    cutter.join();
    if (c.status.ok()) {
      EXPECT_EQ(c.records, lengths.size());
    } else {
      EXPECT_EQ(c.records, kept);
      EXPECT_EQ(c.status.code(), absl::StatusCode::kDataLoss) << c.status;
    }
    EXPECT_EQ(c.max_frame, 150u);
  }
}

}  // namespace
}  // namespace edgecap::capture
