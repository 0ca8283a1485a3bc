#include "lib/capture/pcap_file.h"

#include <pcap/pcap.h>

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"

namespace edgecap::capture {

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
      status_(std::move(other.status_)) {}

PcapFile& PcapFile::operator=(PcapFile&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) pcap_close(handle_);
    path_ = std::move(other.path_);
    handle_ = std::exchange(other.handle_, nullptr);
    link_type_ = other.link_type_;
    status_ = std::move(other.status_);
  }
  return *this;
}

PcapFile::~PcapFile() {
  if (handle_ != nullptr) pcap_close(handle_);
}

bool PcapFile::Next(Record* record) {
  if (handle_ == nullptr) return false;
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
