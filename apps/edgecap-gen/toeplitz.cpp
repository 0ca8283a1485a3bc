#include "apps/edgecap-gen/toeplitz.h"

#include <cstring>

namespace edgecap::gen {

uint32_t Toeplitz(std::span<const uint8_t> key,
                  std::span<const uint8_t> input) {
  uint32_t result = 0;
  // `window` holds key bits [i, i + 32) for input bit i; the next key bit
  // shifts in from the right.
  uint32_t window = (uint32_t{key[0]} << 24) | (uint32_t{key[1]} << 16) |
                    (uint32_t{key[2]} << 8) | key[3];
  for (size_t i = 0; i < input.size(); ++i) {
    const uint8_t next_key = key[i + 4];
    for (int bit = 7; bit >= 0; --bit) {
      if ((input[i] >> bit) & 1) result ^= window;
      window = (window << 1) | ((next_key >> bit) & 1);
    }
  }
  return result;
}

size_t RssInput(uint32_t link_type, std::span<const uint8_t> frame,
                uint8_t out[36]) {
  size_t off = 0;
  uint16_t ethertype = 0;
  if (link_type == 1) {  // Ethernet, possibly tagged
    if (frame.size() < 14) return 0;
    off = 12;
    ethertype = static_cast<uint16_t>((frame[off] << 8) | frame[off + 1]);
    while (
        (ethertype == 0x8100 || ethertype == 0x88a8 || ethertype == 0x9100) &&
        frame.size() >= off + 6) {
      off += 4;
      ethertype = static_cast<uint16_t>((frame[off] << 8) | frame[off + 1]);
    }
    off += 2;
  } else if (link_type == 101 || link_type == 228 || link_type == 229) {
    if (frame.empty()) return 0;
    ethertype = (frame[0] >> 4) == 6 ? 0x86dd : 0x0800;
  } else {
    return 0;
  }
  const uint8_t* ip = frame.data() + off;
  const size_t avail = frame.size() - off;
  size_t n = 0, l4 = 0;
  uint8_t protocol = 0;
  bool fragment = false;
  if (ethertype == 0x0800) {
    if (avail < 20 || (ip[0] >> 4) != 4) return 0;
    std::memcpy(out, ip + 12, 8);
    n = 8;
    l4 = (ip[0] & 0x0f) * 4u;
    protocol = ip[9];
    fragment = ((ip[6] & 0x3f) | ip[7]) != 0;
  } else if (ethertype == 0x86dd) {
    if (avail < 40 || (ip[0] >> 4) != 6) return 0;
    std::memcpy(out, ip + 8, 32);
    n = 32;
    l4 = 40;
    protocol = ip[6];
  } else {
    return 0;
  }
  if ((protocol == 6 || protocol == 17) && !fragment && avail >= l4 + 4) {
    std::memcpy(out + n, ip + l4, 4);
    n += 4;
  }
  return n;
}

int RssQueue(uint32_t link_type, std::span<const uint8_t> frame, int queues) {
  uint8_t input[36];
  const size_t n = RssInput(link_type, frame, input);
  if (n == 0) return 0;
  const uint32_t hash = Toeplitz(kSymmetricRssKey, {input, n});
  return static_cast<int>((hash % kRetaSize) % static_cast<uint32_t>(queues));
}

}  // namespace edgecap::gen
