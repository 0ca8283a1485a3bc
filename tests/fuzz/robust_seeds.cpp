// Turns captures into flow_fuzz seeds (flow_fuzz.h): consecutive records of
// each capture, with their real time deltas, cut into inputs of at most
// MAX_BYTES; at most 8 inputs per capture, so large scenarios seed the
// fuzzer without drowning it. Captures of link types edgecap refuses are
// fed as Ethernet.
//
//   robust_seeds OUT_DIR MAX_BYTES capture.pcap [capture.pcapng ...]
#include <pcap/pcap.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "lib/capture/pcap_file.h"
#include "tests/fuzz/flow_fuzz.h"
#include "tests/fuzz/fuzz_input.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s OUT_DIR MAX_BYTES CAPTURE...\n", argv[0]);
    return 2;
  }
  const size_t max_bytes = std::strtoul(argv[2], nullptr, 10);
  int written = 0;
  for (int i = 3; i < argc; ++i) {
    uint8_t selector = 0;  // Ethernet
    if (auto file = edgecap::capture::PcapFile::Open(argv[i]); file.ok()) {
      for (size_t k = 0; k < edgecap::fuzz::kFuzzLinkTypes.size(); ++k) {
        if (edgecap::fuzz::kFuzzLinkTypes[k] == file->link_type()) {
          selector = static_cast<uint8_t>(k);
        }
      }
    }
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* pcap = pcap_open_offline(argv[i], err);
    if (pcap == nullptr) continue;  // the peer corpus has unreadable files
    int chunks = 0;
    std::string seed;
    int64_t last_us = 0;
    auto flush = [&]() {
      if (seed.size() <= edgecap::fuzz::kFlowHeader) return;
      std::ofstream out(
          std::string(argv[1]) + "/flow-" + std::to_string(written++),
          std::ios::binary);
      out << seed;
      ++chunks;
    };
    pcap_pkthdr* h;
    const u_char* data;
    while (chunks < 8 && pcap_next_ex(pcap, &h, &data) == 1) {
      const int64_t us = int64_t{h->ts.tv_sec} * 1000000 + h->ts.tv_usec;
      const uint16_t len =
          static_cast<uint16_t>(std::min<uint32_t>(h->caplen, 65535));
      if (seed.size() + edgecap::fuzz::kFlowRecordHeader + len > max_bytes) {
        flush();
        seed.clear();
      }
      if (seed.empty()) {
        seed.push_back(static_cast<char>(selector));
        seed.push_back(static_cast<char>(chunks % 4));  // vary the config
        last_us = us;
      }
      const int64_t delta =
          std::clamp<int64_t>(us - last_us, INT32_MIN, INT32_MAX);
      last_us = us;
      edgecap::fuzz::AppendFlowRecord(&seed, static_cast<int32_t>(delta), data,
                                      len);
    }
    if (chunks < 8) flush();
    pcap_close(pcap);
  }
  std::printf("%d seeds\n", written);
  return written > 0 ? 0 : 1;
}
