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

// What one pass over a capture finds.
struct Census {
  uint64_t records = 0;  // whole records, as Next() delivers them
  size_t max_frame = 0;  // longest captured record
  absl::Status status;   // not OK: a cut or corrupt record ended the pass
};

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

  // Counts the records Next() would still deliver, and reads them all. A
  // classic pcap file not yet read from whose records are all whole and
  // within the snapshot length is walked header to header in 1 MiB preads
  // of libpcap's own descriptor (libpcap copies each record through stdio,
  // two freads a record: 57 ms for 1M records, the walk 15 ms, a mapping
  // 18 ms in the same runs, and SIGBUS if the file shrank); anything
  // else (pcapng, a cut or oversized record, another version, a file cut
  // while it is walked) is read with Next() so libpcap has its own say and
  // words.
  Census Count();

 private:
  PcapFile(std::string path, pcap* handle, parse::LinkType link_type);

  std::string path_;
  pcap* handle_ = nullptr;
  parse::LinkType link_type_;
  absl::Status status_;
  bool started_ = false;  // Next() was called
};

}  // namespace edgecap::capture

#endif  // EDGECAP_LIB_CAPTURE_PCAP_FILE_H_
