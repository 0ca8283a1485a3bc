// libFuzzer target over the capture input (lib/capture/pcap_file.h): the
// input is a whole pcap or pcapng file, read through libpcap from a
// temporary file as edgecap reads --pcap files, and every record is decoded.
// Checks besides the sanitizers: a record never exceeds what libpcap may
// deliver, an error names the file, and records decode without trouble.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "lib/capture/pcap_file.h"
#include "lib/parse/dns.h"
#include "lib/parse/packet.h"

namespace {

const std::string& CapturePath() {
  static const std::string* path = [] {
    const char* dir = std::getenv("TMPDIR");
    auto* p =
        new std::string(absl::StrCat(dir != nullptr ? dir : "/tmp",
                                     "/edgecap-pcap-fuzz-", getpid(), ".pcap"));
    std::atexit([] { std::remove(CapturePath().c_str()); });
    return p;
  }();
  return *path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using edgecap::capture::PcapFile;
  FILE* f = std::fopen(CapturePath().c_str(), "wb");
  if (f == nullptr) __builtin_trap();
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto file = PcapFile::Open(CapturePath());
  if (!file.ok()) {
    if (!std::string(file.status().message()).starts_with(CapturePath()))
      __builtin_trap();
    return 0;
  }
  edgecap::capture::Record r;
  while (file->Next(&r)) {
    // Every record lies inside the file (libpcap copies it into its buffer,
    // but never more bytes than the file had).
    if (r.bytes.size() > size) __builtin_trap();
    edgecap::parse::Packet p;
    edgecap::parse::DecodeFrame(file->link_type(), r.bytes, &p);
    if (p.transport == edgecap::parse::Transport::kUdp) {
      edgecap::parse::DnsMessage m;
      edgecap::parse::DecodeDns(p.payload, edgecap::parse::DnsDepth::kAll, &m);
    }
  }
  if (!file->status().ok() &&
      !std::string(file->status().message()).starts_with(CapturePath())) {
    __builtin_trap();
  }
  return 0;
}
