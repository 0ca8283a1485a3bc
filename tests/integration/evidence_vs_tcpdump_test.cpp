// Prints parse::FormatEvidence() for every packet of a capture, one line per
// packet as "<packet number>\t<line>", so evidence_vs_tcpdump_test.py can set
// it beside `tcpdump -n -#` packet by packet. A capture whose link type
// edgecap does not decode prints "unsupported-linktype <n>" and exits 0.
//
//   evidence_vs_tcpdump_test capture.pcap
#include <pcap/pcap.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "lib/parse/evidence.h"
#include "lib/parse/packet.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CAPTURE\n", argv[0]);
    return 2;
  }
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline_with_tstamp_precision(
      argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
  if (p == nullptr) {
    std::fprintf(stderr, "%s: %s\n", argv[1], err);
    return 1;
  }
  const int dlt = pcap_datalink(p);
  // libpcap reports DLT_ values; these are the ones whose number differs
  // from the LINKTYPE_ in the file.
  int linktype = dlt;
  if (dlt == DLT_RAW) linktype = 101;
  if (!edgecap::parse::IsSupportedLinkType(static_cast<uint32_t>(linktype))) {
    std::printf("unsupported-linktype %d\n", linktype);
    pcap_close(p);
    return 0;
  }
  const auto link = static_cast<edgecap::parse::LinkType>(linktype);
  pcap_pkthdr* h;
  const u_char* data;
  unsigned n = 0;
  int rc;
  while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
    ++n;
    const int64_t ns = static_cast<int64_t>(h->ts.tv_sec) * 1000000000 +
                       static_cast<int64_t>(h->ts.tv_usec);
    std::string line = edgecap::parse::FormatEvidence(
        ns, link, edgecap::parse::Bytes(data, h->caplen));
    std::printf("%u\t%s\n", n, line.c_str());
  }
  pcap_close(p);
  return 0;
}
