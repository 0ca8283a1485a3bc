#include "lib/pipeline/steering.h"

#include <rte_thash.h>

namespace edgecap::pipeline {
namespace {

// Toeplitz input is the header bytes in network order; rte_softrss wants them
// as host-order 32-bit words.
uint32_t Word(const uint8_t* b) {
  return static_cast<uint32_t>(b[0]) << 24 | static_cast<uint32_t>(b[1]) << 16 |
         static_cast<uint32_t>(b[2]) << 8 | b[3];
}

uint32_t HashTuple(const parse::IpAddress& src, const parse::IpAddress& dst,
                   bool with_ports, parse::Ports ports) {
  uint32_t tuple[9];
  uint32_t words = 0;
  const int len = src.version == 6 ? 16 : 4;
  for (int i = 0; i < len; i += 4) tuple[words++] = Word(&src.bytes[i]);
  for (int i = 0; i < len; i += 4) tuple[words++] = Word(&dst.bytes[i]);
  if (with_ports) {
    tuple[words++] = static_cast<uint32_t>(ports.src) << 16 | ports.dst;
  }
  return rte_softrss(tuple, words, SymmetricRssKey().data());
}

bool HasPorts(parse::Transport t) {
  return t == parse::Transport::kUdp || t == parse::Transport::kTcp;
}

}  // namespace

const std::array<uint8_t, kRssKeySize>& SymmetricRssKey() {
  static const std::array<uint8_t, kRssKeySize> kKey = [] {
    std::array<uint8_t, kRssKeySize> key{};
    for (int i = 0; i < kRssKeySize; i += 2) {
      key[i] = 0x6d;
      key[i + 1] = 0x5a;
    }
    return key;
  }();
  return kKey;
}

uint32_t FlowHash(const parse::Packet& p) {
  if (p.is_icmp_error && p.icmp.inner.version != 0) {
    const bool ports =
        HasPorts(p.icmp.inner_transport) && p.icmp.has_inner_ports;
    return HashTuple(p.icmp.inner.src, p.icmp.inner.dst, ports,
                     p.icmp.inner_ports);
  }
  if (p.ip.version == 0) return 0;
  return HashTuple(p.ip.src, p.ip.dst, HasPorts(p.transport), p.ports);
}

}  // namespace edgecap::pipeline
