// Toeplitz hash as NICs compute it for RSS, and the queue a NIC with the
// symmetric key (0x6d5a repeated) and a default 128-entry redirection table
// (entry i -> queue i % N) picks for a frame. Used by `edgecap-gen split` to
// emulate hardware dispatch. It belongs in a shared library later (lib/flow
// or lib/pipeline need the same function for ICMP re-steering).
//
//   uint32_t h = gen::Toeplitz(gen::kSymmetricRssKey, tuple_bytes);
//   int q = gen::RssQueue(gen::LinkTypeEthernet, frame, /*queues=*/4);
#ifndef EDGECAP_APPS_EDGECAP_GEN_TOEPLITZ_H_
#define EDGECAP_APPS_EDGECAP_GEN_TOEPLITZ_H_

#include <array>
#include <cstdint>
#include <span>

namespace edgecap::gen {

inline constexpr std::array<uint8_t, 40> kSymmetricRssKey = [] {
  std::array<uint8_t, 40> key{};
  for (size_t i = 0; i < key.size(); i += 2) key[i] = 0x6d, key[i + 1] = 0x5a;
  return key;
}();
inline constexpr int kRetaSize = 128;

// `key` must be at least input.size() + 4 bytes long.
uint32_t Toeplitz(std::span<const uint8_t> key, std::span<const uint8_t> input);

// The RSS hash input of a frame: IPv4/IPv6 source and destination address,
// then for UDP and TCP (not fragments) source and destination port. Returns
// the number of bytes written to `out` (8, 12, 32 or 36), 0 for non-IP.
size_t RssInput(uint32_t link_type, std::span<const uint8_t> frame,
                uint8_t out[36]);

// Queue for `frame` among `queues`; non-IP frames go to queue 0.
int RssQueue(uint32_t link_type, std::span<const uint8_t> frame, int queues);

}  // namespace edgecap::gen

#endif  // EDGECAP_APPS_EDGECAP_GEN_TOEPLITZ_H_
