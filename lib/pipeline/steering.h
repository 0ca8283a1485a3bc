// Which worker owns a packet. Ports hash with symmetric Toeplitz (the
// repeated 0x6d5a key makes hash(a->b) == hash(b->a)), so a query and its
// response meet on one worker; an ICMP error is owned by the flow it quotes,
// so the worker that received it re-steers it when the quoted flow is not its
// own. The software dispatcher, the re-steering worker and the capture
// splitter that emulates a NIC must all agree, so this is the one place that
// maps a packet to a worker:
//   owner = reta[hash % kRetaSize], reta[i] = i % workers
// which is also how Port programs a NIC's redirection table.
//
//   parse::Packet p;  // decoded
//   uint16_t w = pipeline::OwnerOf(p, workers);
#ifndef EDGECAP_LIB_PIPELINE_STEERING_H_
#define EDGECAP_LIB_PIPELINE_STEERING_H_

#include <array>
#include <cstdint>

#include "lib/parse/packet.h"

namespace edgecap::pipeline {

inline constexpr int kRssKeySize = 40;
inline constexpr uint32_t kRetaSize = 128;  // the smallest common NIC RETA

// The symmetric key: 0x6d5a repeated (Woo and Park, "Scalable TCP session
// monitoring with symmetric receive-side scaling").
const std::array<uint8_t, kRssKeySize>& SymmetricRssKey();

// Toeplitz hash of the flow a packet belongs to: its own addresses and ports,
// or for an ICMP/ICMPv6 error the quoted datagram's. Addresses only for
// transports without ports; 0 for non-IP packets.
uint32_t FlowHash(const parse::Packet& packet);

inline uint16_t OwnerOfHash(uint32_t hash, uint16_t workers) {
  return static_cast<uint16_t>((hash % kRetaSize) % workers);
}

inline uint16_t OwnerOf(const parse::Packet& packet, uint16_t workers) {
  return workers <= 1 ? 0 : OwnerOfHash(FlowHash(packet), workers);
}

}  // namespace edgecap::pipeline

#endif  // EDGECAP_LIB_PIPELINE_STEERING_H_
