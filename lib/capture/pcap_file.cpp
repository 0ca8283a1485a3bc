#include "lib/capture/pcap_file.h"

#include <pcap/pcap.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

namespace edgecap::capture {
namespace {

// libpcap's MAXIMUM_SNAPLEN, the largest record it accepts for the link
// types edgecap decodes.
constexpr uint32_t kMaxSnaplen = 262144;

// Reads `fd` from `offset` on into `buf` until `want` bytes are there (or
// the file ends); false on a read error.
bool ReadAt(int fd, uint64_t offset, uint8_t* buf, size_t want, size_t* got) {
  *got = 0;
  while (*got < want) {
    const ssize_t n =
        pread(fd, buf + *got, want - *got, static_cast<off_t>(offset + *got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    *got += static_cast<size_t>(n);
  }
  return true;
}

// Walks a classic pcap file's record headers through `fd` from offset 0. It
// reads (pread, large chunks) rather than maps the file: a file cut while
// the walk runs (log rotation) then ends the walk like any cut file, where a
// mapping would raise SIGBUS. False wherever libpcap could judge differently
// from a plain count (it then reads the file itself).
bool WalkClassicPcap(int fd, Census* census) {
  // Larger than any record libpcap accepts (kMaxSnaplen plus its header), so
  // a record always fits once the buffer is refilled from its start.
  constexpr size_t kChunk = size_t{1} << 20;
  static_assert(kChunk >= 16 + kMaxSnaplen);
  std::unique_ptr<uint8_t[]> buf(new uint8_t[kChunk]);
  uint64_t buf_offset = 0;  // file offset of buf[0]
  size_t len = 0;           // bytes in buf
  size_t pos = 0;           // the next record header in buf
  bool eof = false, error = false;
  // At least `need` bytes at pos; false at the end of the file or on an
  // error.
  auto have = [&](size_t need) {
    if (len - pos >= need) return true;
    if (eof || error) return false;
    std::memmove(buf.get(), buf.get() + pos, len - pos);
    buf_offset += pos;
    len -= pos;
    pos = 0;
    const size_t room = kChunk - len;
    size_t got = 0;
    error = !ReadAt(fd, buf_offset + len, buf.get() + len, room, &got);
    eof = got < room;
    len += got;
    return len >= need;
  };
  if (!have(24)) return false;
  const uint8_t* p = buf.get();
  uint32_t magic;
  std::memcpy(&magic, p, 4);
  bool swap;
  if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
    swap = false;
  } else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
    swap = true;
  } else {
    return false;
  }
  auto u32 = [swap](const uint8_t* q) {
    uint32_t v;
    std::memcpy(&v, q, 4);
    return swap ? __builtin_bswap32(v) : v;
  };
  auto u16 = [swap](const uint8_t* q) {
    uint16_t v;
    std::memcpy(&v, q, 2);
    return swap ? __builtin_bswap16(v) : v;
  };
  // 2.4; libpcap fixes older headers up in ways a plain walk would not.
  if (u16(p + 4) != 2 || u16(p + 6) != 4) return false;
  // libpcap's snapshot: the header's, unless 0 or beyond the maximum. A
  // longer record is cut to it (or refused): libpcap's business.
  const uint32_t snaplen = u32(p + 16);
  const uint32_t snapshot =
      snaplen == 0 || snaplen > kMaxSnaplen ? kMaxSnaplen : snaplen;
  pos = 24;
  uint64_t records = 0;
  uint32_t longest = 0;
  while (have(1)) {
    if (!have(16)) return false;
    const uint32_t caplen = u32(buf.get() + pos + 8);
    if (caplen > snapshot || !have(16 + size_t{caplen})) return false;
    pos += 16 + size_t{caplen};
    ++records;
    longest = std::max(longest, caplen);
  }
  if (error) return false;
  census->records = records;
  census->max_frame = longest;
  return true;
}

}  // namespace

absl::StatusOr<PcapFile> PcapFile::Open(const std::string& path) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  // Nanosecond precision keeps both µs and ns captures exact.
  pcap* handle = pcap_open_offline_with_tstamp_precision(
      path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (handle == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot read as pcap or pcapng: ", errbuf));
  }
  int link = pcap_datalink(handle);
  // libpcap reports the file's LINKTYPE_RAW (101) as its own DLT_RAW, whose
  // number differs between platforms (12, or 14 on OpenBSD).
  if (link == DLT_RAW) link = 101;
  if (!parse::IsSupportedLinkType(static_cast<uint32_t>(link))) {
    const char* name = pcap_datalink_val_to_name(link);
    pcap_close(handle);
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": unsupported link type ", link, " (",
        name != nullptr ? name : "unknown",
        "); edgecap decodes Ethernet, raw IP, Linux cooked and BSD loopback"));
  }
  return PcapFile(path, handle, static_cast<parse::LinkType>(link));
}

PcapFile::PcapFile(std::string path, pcap* handle, parse::LinkType link_type)
    : path_(std::move(path)), handle_(handle), link_type_(link_type) {}

PcapFile::PcapFile(PcapFile&& other) noexcept
    : path_(std::move(other.path_)),
      handle_(std::exchange(other.handle_, nullptr)),
      link_type_(other.link_type_),
      status_(std::move(other.status_)),
      started_(other.started_) {}

PcapFile& PcapFile::operator=(PcapFile&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) pcap_close(handle_);
    path_ = std::move(other.path_);
    handle_ = std::exchange(other.handle_, nullptr);
    link_type_ = other.link_type_;
    status_ = std::move(other.status_);
    started_ = other.started_;
  }
  return *this;
}

PcapFile::~PcapFile() {
  if (handle_ != nullptr) pcap_close(handle_);
}

Census PcapFile::Count() {
  Census census;
  // libpcap's own descriptor: the file it opened, whatever the path names
  // now. pread leaves the position its stdio stream reads from untouched.
  FILE* stream = handle_ != nullptr ? pcap_file(handle_) : nullptr;
  if (!started_ && stream != nullptr &&
      WalkClassicPcap(fileno(stream), &census)) {
    // As if Next() had read them all.
    pcap_close(handle_);
    handle_ = nullptr;
    return census;
  }
  census = Census{};
  Record r;
  while (Next(&r)) {
    ++census.records;
    census.max_frame = std::max(census.max_frame, r.bytes.size());
  }
  census.status = status_;
  return census;
}

bool PcapFile::Next(Record* record) {
  if (handle_ == nullptr) return false;
  started_ = true;
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  const int rc = pcap_next_ex(handle_, &header, &data);
  if (rc == 1) {
    // Nanoseconds since 1970 in an int64_t reach the year 2262; a record
    // stamped beyond that (pcapng allows it) is corrupt, not a packet time.
    constexpr int64_t kMaxSeconds = INT64_MAX / 1000000000 - 1;
    if (header->ts.tv_sec > kMaxSeconds || header->ts.tv_sec < -kMaxSeconds) {
      status_ = absl::DataLossError(absl::StrCat(path_, ": record timestamp ",
                                                 header->ts.tv_sec,
                                                 " s is out of range"));
      return false;
    }
    record->timestamp_ns =
        static_cast<int64_t>(header->ts.tv_sec) * 1000000000 +
        static_cast<int64_t>(header->ts.tv_usec);
    record->bytes = {data, header->caplen};
    record->original_length = header->len;
    return true;
  }
  if (rc == PCAP_ERROR) {
    status_ =
        absl::DataLossError(absl::StrCat(path_, ": ", pcap_geterr(handle_)));
  }
  return false;
}

}  // namespace edgecap::capture
