#include "apps/edgecap-gen/pcap_writer.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace edgecap::gen {
namespace {

struct FileHeader {
  uint32_t magic;
  uint16_t version_major, version_minor;
  int32_t thiszone;
  uint32_t sigfigs, snaplen, linktype;
};
struct RecordHeader {
  uint32_t ts_sec, ts_frac, caplen, len;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PcapWriter>> PcapWriter::Create(
    const std::string& path, uint32_t link_type, bool nanoseconds) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot create: ", std::strerror(errno)));
  }
  std::unique_ptr<PcapWriter> writer(new PcapWriter(path, file, nanoseconds));
  const FileHeader header{
      nanoseconds ? 0xa1b23c4du : 0xa1b2c3d4u, 2, 4, 0, 0, kSnapLen, link_type};
  std::fwrite(&header, sizeof(header), 1, file);
  return writer;
}

PcapWriter::PcapWriter(std::string path, std::FILE* file, bool nanoseconds)
    : path_(std::move(path)), file_(file), nanoseconds_(nanoseconds) {
  // A large stdio buffer turns a million small records into few syscalls.
  buffer_.resize(4 << 20);
  std::setvbuf(file_, buffer_.data(), _IOFBF, buffer_.size());
}

PcapWriter::~PcapWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void PcapWriter::Write(int64_t timestamp_ns, std::span<const uint8_t> frame) {
  const int64_t divisor = nanoseconds_ ? 1 : 1000;
  RecordHeader header{
      static_cast<uint32_t>(timestamp_ns / 1000000000),
      static_cast<uint32_t>((timestamp_ns % 1000000000) / divisor),
      static_cast<uint32_t>(frame.size()), static_cast<uint32_t>(frame.size())};
  std::fwrite(&header, sizeof(header), 1, file_);
  std::fwrite(frame.data(), 1, frame.size(), file_);
}

absl::Status PcapWriter::Close() {
  if (file_ == nullptr) return absl::OkStatus();
  const bool failed = std::ferror(file_) != 0;
  const bool close_failed = std::fclose(file_) != 0;
  file_ = nullptr;
  if (failed || close_failed) {
    return absl::DataLossError(absl::StrCat(path_, ": write failed"));
  }
  return absl::OkStatus();
}

}  // namespace edgecap::gen
