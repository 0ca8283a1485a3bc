// Toeplitz hash (the RSS hash NICs compute) and the steering of decoded
// packets to workers. With the symmetric key (0x6d5a repeated) the hash of
// (a, b, pa, pb) equals that of (b, a, pb, pa), so a DNS query and its
// response land on the same worker; an ICMP error is steered by the flow it
// quotes, so it reaches the worker that holds the transaction. The value is
// what DPDK's rte_softrss() returns for the same tuple and key, so software
// dispatch and the NIC's RSS agree.
//
//   uint32_t h = flow::FlowHash(packet);            // 0 for non-IP
//   int worker = flow::SteerToWorker(packet, n_workers);
#ifndef EDGECAP_LIB_FLOW_TOEPLITZ_H_
#define EDGECAP_LIB_FLOW_TOEPLITZ_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/parse/packet.h"

namespace edgecap::flow {

inline constexpr size_t kRssKeyLength = 40;
using RssKey = std::array<uint8_t, kRssKeyLength>;

// 0x6d5a repeated: makes the hash symmetric in (src, dst) and (sport, dport).
inline constexpr RssKey kSymmetricRssKey = {
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a};

// Toeplitz hash of `input` (network byte order, at most key length - 4
// bytes) under `key`.
uint32_t ToeplitzHash(std::span<const uint8_t> input,
                      const RssKey& key = kSymmetricRssKey);

// Hash of the tuple as RSS builds it: src addr, dst addr, then (if
// `with_ports`) src port, dst port, all big-endian. IPv4 uses 4-byte addresses.
uint32_t TupleHash(const parse::IpAddress& src, const parse::IpAddress& dst,
                   uint16_t sport, uint16_t dport, bool with_ports,
                   const RssKey& key = kSymmetricRssKey);

// The flow a packet belongs to for placement: UDP/TCP by addresses and ports;
// an ICMP/ICMPv6 error by the datagram it quotes; other IP by addresses.
uint32_t FlowHash(const parse::Packet& packet,
                  const RssKey& key = kSymmetricRssKey);

// Worker index in [0, n_workers) as a NIC with a 128-entry redirection table
// filled round-robin would pick it.
inline constexpr uint32_t kRetaSize = 128;
inline int WorkerForHash(uint32_t hash, int n_workers) {
  return static_cast<int>((hash % kRetaSize) %
                          static_cast<uint32_t>(n_workers));
}
inline int SteerToWorker(const parse::Packet& packet, int n_workers) {
  return WorkerForHash(FlowHash(packet), n_workers);
}

}  // namespace edgecap::flow

#endif  // EDGECAP_LIB_FLOW_TOEPLITZ_H_
