#include "apps/edgecap-gen/split.h"

#include <cstdio>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "apps/edgecap-gen/pcap_writer.h"
#include "apps/edgecap-gen/toeplitz.h"
#include "lib/capture/pcap_file.h"

namespace edgecap::gen {
namespace {

// Microsecond files stay microsecond; nanosecond pcap and pcapng (whose
// resolution libpcap does not report) are written with nanoseconds.
bool NeedsNanoseconds(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return true;
  uint32_t magic = 0;
  const size_t got = std::fread(&magic, sizeof(magic), 1, f);
  std::fclose(f);
  return got != 1 || (magic != 0xa1b2c3d4u && magic != 0xd4c3b2a1u);
}

}  // namespace

absl::Status SplitCapture(const std::string& input, int queues,
                          const std::string& prefix) {
  if (queues < 1 || queues > 128) {
    return absl::InvalidArgumentError("--queues must be between 1 and 128");
  }
  absl::StatusOr<capture::PcapFile> file = capture::PcapFile::Open(input);
  if (!file.ok()) return file.status();
  const uint32_t link = static_cast<uint32_t>(file->link_type());
  const bool nanos = NeedsNanoseconds(input);
  std::vector<std::unique_ptr<PcapWriter>> out;
  for (int q = 0; q < queues; ++q) {
    absl::StatusOr<std::unique_ptr<PcapWriter>> w =
        PcapWriter::Create(absl::StrCat(prefix, ".", q, ".pcap"), link, nanos);
    if (!w.ok()) return w.status();
    out.push_back(std::move(*w));
  }
  capture::Record record;
  while (file->Next(&record)) {
    out[RssQueue(link, record.bytes, queues)]->Write(record.timestamp_ns,
                                                     record.bytes);
  }
  if (!file->status().ok()) return file->status();
  for (auto& w : out) {
    if (absl::Status s = w->Close(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace edgecap::gen
