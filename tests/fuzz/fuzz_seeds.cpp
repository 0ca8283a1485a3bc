// Writes every frame of the given captures as a decode_fuzz seed file into
// OUT_DIR: one byte selecting the capture's link type (fuzz_input.h), then
// the frame. Captures of link types edgecap refuses are fed as Ethernet, so
// their bytes still seed the fuzzer.
//
//   fuzz_seeds OUT_DIR capture.pcap [capture.pcapng ...]
#include <pcap/pcap.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "lib/capture/pcap_file.h"
#include "tests/fuzz/fuzz_input.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR CAPTURE...\n", argv[0]);
    return 2;
  }
  int written = 0;
  for (int i = 2; i < argc; ++i) {
    absl::StatusOr<edgecap::capture::PcapFile> file =
        edgecap::capture::PcapFile::Open(argv[i]);
    uint8_t selector = 0;  // Ethernet
    if (file.ok()) {
      for (size_t k = 0; k < edgecap::fuzz::kFuzzLinkTypes.size(); ++k) {
        if (edgecap::fuzz::kFuzzLinkTypes[k] == file->link_type()) {
          selector = static_cast<uint8_t>(k);
        }
      }
    }
    // Read the raw records with libpcap so refused link types seed too.
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* pcap = pcap_open_offline(argv[i], err);
    if (pcap == nullptr) {
      std::fprintf(stderr, "%s: %s\n", argv[i], err);
      return 1;
    }
    pcap_pkthdr* h;
    const u_char* data;
    while (pcap_next_ex(pcap, &h, &data) == 1) {
      const std::string path =
          std::string(argv[1]) + "/seed-" + std::to_string(written++);
      std::ofstream out(path, std::ios::binary);
      out.put(static_cast<char>(selector));
      out.write(reinterpret_cast<const char*>(data), h->caplen);
    }
    pcap_close(pcap);
  }
  std::printf("%d seeds\n", written);
  return written > 0 ? 0 : 1;
}
