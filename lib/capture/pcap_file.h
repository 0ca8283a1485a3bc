// Reads pcap and pcapng files through libpcap, outside DPDK: for tests, the
// generator's split mode and the appliance's start-up check of a capture's
// link type (net_pcap itself does not look at it).
//
//   absl::StatusOr<capture::PcapFile> file = capture::PcapFile::Open(path);
//   if (!file.ok()) return file.status();
//   capture::Record record;
//   while (file->Next(&record)) Process(record.timestamp_ns, record.bytes);
//   if (!file->status().ok()) ...   // cut or corrupt record
#ifndef EDGECAP_LIB_CAPTURE_PCAP_FILE_H_
#define EDGECAP_LIB_CAPTURE_PCAP_FILE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/parse/packet.h"

struct pcap;

namespace edgecap::capture {

struct Record {
  int64_t timestamp_ns = 0;        // since the Unix epoch
  std::span<const uint8_t> bytes;  // valid until the next Next() call
  uint32_t original_length = 0;
};

class PcapFile {
 public:
  // Fails with a message naming the file for a missing, unreadable or
  // non-pcap file, and for a link type edgecap does not decode.
  static absl::StatusOr<PcapFile> Open(const std::string& path);

  PcapFile(PcapFile&&) noexcept;
  PcapFile& operator=(PcapFile&&) noexcept;
  ~PcapFile();

  parse::LinkType link_type() const { return link_type_; }

  // False at end of file or on error; status() tells which.
  bool Next(Record* record);
  const absl::Status& status() const { return status_; }

 private:
  PcapFile(std::string path, pcap* handle, parse::LinkType link_type);

  std::string path_;
  pcap* handle_ = nullptr;
  parse::LinkType link_type_;
  absl::Status status_;
};

}  // namespace edgecap::capture

#endif  // EDGECAP_LIB_CAPTURE_PCAP_FILE_H_
