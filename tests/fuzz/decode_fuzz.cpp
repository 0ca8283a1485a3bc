// libFuzzer target over every decoder: the frame decoder for each link type,
// DNS over UDP and TCP at full depth (on the decoded payloads, on the ICMP
// quote and on the raw input), and the evidence formatter. Besides the
// sanitizers, it checks the decoders' promises: every span they return lies
// inside the input, and the qname is NUL-terminated within its buffer.
#include <cstddef>
#include <cstdint>
#include <string>

#include "lib/parse/dns.h"
#include "lib/parse/evidence.h"
#include "lib/parse/packet.h"
#include "tests/fuzz/fuzz_input.h"

namespace edgecap::parse {
namespace {

void CheckInside(Bytes inner, Bytes outer) {
  if (inner.empty()) return;
  if (inner.data() < outer.data() ||
      inner.data() + inner.size() > outer.data() + outer.size()) {
    __builtin_trap();
  }
}

void CheckDns(const DnsMessage& m) {
  if (m.qname_length > kMaxQnameText || m.qname_text[m.qname_length] != '\0' ||
      m.address_count > kMaxAddressesKept) {
    __builtin_trap();
  }
}

void Decode(Bytes dns, bool tcp) {
  DnsMessage m;
  for (DnsDepth depth :
       {DnsDepth::kHeader, DnsDepth::kQuestion, DnsDepth::kAll}) {
    const Anomaly a =
        tcp ? DecodeDnsTcp(dns, depth, &m) : DecodeDns(dns, depth, &m);
    if (static_cast<size_t>(a) >= kAnomalyCount) __builtin_trap();
    CheckDns(m);
  }
}

}  // namespace
}  // namespace edgecap::parse

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgecap::parse;  // NOLINT
  if (size < 1) return 0;
  const LinkType link =
      edgecap::fuzz::kFuzzLinkTypes[data[0] %
                                    edgecap::fuzz::kFuzzLinkTypes.size()];
  const Bytes frame(data + 1, size - 1);
  Packet p;
  const Anomaly a = DecodeFrame(link, frame, &p);
  if (static_cast<size_t>(a) >= kAnomalyCount) __builtin_trap();
  CheckInside(p.payload, frame);
  CheckInside(p.icmp.inner_payload, frame);
  if (p.transport == Transport::kUdp) Decode(p.payload, false);
  if (p.transport == Transport::kTcp) Decode(p.payload, true);
  if (p.is_icmp_error) Decode(p.icmp.inner_payload, false);
  Decode(frame, false);
  Decode(frame, true);
  const std::string line = FormatEvidence(1700000000123456789, link, frame);
  if (line.find('\n') != std::string::npos) __builtin_trap();
  return 0;
}
