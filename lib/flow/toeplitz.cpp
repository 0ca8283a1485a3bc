#include "lib/flow/toeplitz.h"

#include <cstring>

namespace edgecap::flow {

uint32_t ToeplitzHash(std::span<const uint8_t> input, const RssKey& key) {
  // Sliding 32-bit window over the key: for every input bit set, xor in the
  // window that starts at that bit.
  uint32_t hash = 0;
  uint64_t window = 0;
  for (int i = 0; i < 8; ++i) window = window << 8 | key[i];
  size_t next_key_byte = 8;
  for (size_t i = 0; i < input.size(); ++i) {
    const uint8_t byte = input[i];
    for (int bit = 7; bit >= 0; --bit) {
      if (byte & (1u << bit)) hash ^= static_cast<uint32_t>(window >> 32);
      window <<= 1;
    }
    // After 8 shifts the low byte is free for the next key byte.
    window |= next_key_byte < key.size() ? key[next_key_byte] : 0;
    ++next_key_byte;
  }
  return hash;
}

uint32_t TupleHash(const parse::IpAddress& src, const parse::IpAddress& dst,
                   uint16_t sport, uint16_t dport, bool with_ports,
                   const RssKey& key) {
  uint8_t buf[36];
  const size_t alen = src.version == 6 ? 16 : 4;
  std::memcpy(buf, src.bytes.data(), alen);
  std::memcpy(buf + alen, dst.bytes.data(), alen);
  size_t n = 2 * alen;
  if (with_ports) {
    buf[n++] = sport >> 8;
    buf[n++] = sport & 0xff;
    buf[n++] = dport >> 8;
    buf[n++] = dport & 0xff;
  }
  return ToeplitzHash({buf, n}, key);
}

uint32_t FlowHash(const parse::Packet& p, const RssKey& key) {
  if (p.ip.version == 0) return 0;
  if (p.is_icmp_error && p.icmp.inner.version != 0) {
    const bool ports = p.icmp.has_inner_ports &&
                       (p.icmp.inner_transport == parse::Transport::kUdp ||
                        p.icmp.inner_transport == parse::Transport::kTcp);
    return TupleHash(p.icmp.inner.src, p.icmp.inner.dst,
                     ports ? p.icmp.inner_ports.src : 0,
                     ports ? p.icmp.inner_ports.dst : 0, ports, key);
  }
  const bool ports = p.transport == parse::Transport::kUdp ||
                     p.transport == parse::Transport::kTcp;
  return TupleHash(p.ip.src, p.ip.dst, p.ports.src, p.ports.dst, ports, key);
}

}  // namespace edgecap::flow
