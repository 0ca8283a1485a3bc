// Writes a classic libpcap file (not pcapng) through one large buffer:
// microsecond magic 0xa1b2c3d4 by default, nanosecond magic 0xa1b23c4d on
// request, host byte order as libpcap itself writes.
//
//   absl::StatusOr<std::unique_ptr<gen::PcapWriter>> w =
//       gen::PcapWriter::Create("out.pcap", /*link_type=*/1, /*nanos=*/false);
//   (*w)->Write(timestamp_ns, frame);
//   absl::Status s = (*w)->Close();
#ifndef EDGECAP_APPS_EDGECAP_GEN_PCAP_WRITER_H_
#define EDGECAP_APPS_EDGECAP_GEN_PCAP_WRITER_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace edgecap::gen {

class PcapWriter {
 public:
  static constexpr uint32_t kSnapLen = 262144;

  static absl::StatusOr<std::unique_ptr<PcapWriter>> Create(
      const std::string& path, uint32_t link_type, bool nanoseconds);
  ~PcapWriter();

  // Timestamps are nanoseconds since the Unix epoch; in microsecond files
  // the sub-microsecond part is dropped.
  void Write(int64_t timestamp_ns, std::span<const uint8_t> frame);
  absl::Status Close();

 private:
  PcapWriter(std::string path, std::FILE* file, bool nanoseconds);

  std::string path_;
  std::FILE* file_;
  bool nanoseconds_;
  std::vector<char> buffer_;
};

}  // namespace edgecap::gen

#endif  // EDGECAP_APPS_EDGECAP_GEN_PCAP_WRITER_H_
