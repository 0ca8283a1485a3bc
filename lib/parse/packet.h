// Zero-copy decoding of one captured frame down to the transport layer, and of
// the datagram an ICMP/ICMPv6 error quotes. The result holds offsets into, and
// fields copied from, the caller's bytes; nothing is allocated.
//
//   parse::Packet p;
//   parse::Anomaly a = parse::DecodeFrame(parse::LinkType::kEthernet, frame,
//   &p); if (a == parse::Anomaly::kNone && p.transport ==
//   parse::Transport::kUdp &&
//       (p.ports.src == 53 || p.ports.dst == 53)) {
//     parse::DnsMessage dns;
//     parse::DecodeDns(p.payload, parse::DnsDepth::kQuestion, &dns);
//   }
#ifndef EDGECAP_LIB_PARSE_PACKET_H_
#define EDGECAP_LIB_PARSE_PACKET_H_

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>

#include "lib/parse/anomaly.h"

namespace edgecap::parse {

using Bytes = std::span<const uint8_t>;

// pcap LINKTYPE_ values edgecap decodes. Anything else is refused at start-up.
enum class LinkType : uint16_t {
  kNull = 0,  // BSD loopback: 4-byte host-order address family
  kEthernet = 1,
  kRaw = 101,  // raw IPv4 or IPv6, version from the header
  kLinuxSll = 113,
  kIpv4 = 228,
  kIpv6 = 229,
  kLinuxSll2 = 276,
};
bool IsSupportedLinkType(uint32_t pcap_link_type);

struct IpAddress {
  std::array<uint8_t, 16> bytes{};  // IPv4 uses bytes[0..3], the rest zero
  uint8_t version = 0;              // 4 or 6; 0 when unset

  static IpAddress V4(const uint8_t* b) {
    // Widened in a register and stored whole: four bytes copied into the
    // zeroed array made GCC build it on the stack and reload it as one
    // 16-byte word, a failed store forward on every IPv4 address decoded
    // (~80% of ParseIpv4's time in the replay profile).
    static_assert(std::endian::native == std::endian::little);
    uint32_t v4;
    std::memcpy(&v4, b, 4);
    const unsigned __int128 wide = v4;  // b[0..3], then zeros
    IpAddress a;
    std::memcpy(a.bytes.data(), &wide, 16);
    a.version = 4;
    return a;
  }
  static IpAddress V6(const uint8_t* b) {
    IpAddress a;
    std::memcpy(a.bytes.data(), b, 16);
    a.version = 6;
    return a;
  }
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const IpAddress& a) {
    return H::combine(std::move(h), a.bytes, a.version);
  }
};

enum class Transport : uint8_t { kNone, kUdp, kTcp, kIcmp, kIcmp6, kOther };

struct Ports {
  uint16_t src = 0;
  uint16_t dst = 0;
};

// TCP flag bits as on the wire.
inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04,
                         kTcpPsh = 0x08, kTcpAck = 0x10;

struct IpHeader {
  uint8_t version = 0;  // 4 or 6
  IpAddress src, dst;
  uint8_t protocol = 0;       // upper-layer protocol after IPv6 extensions
  uint8_t ttl = 0;            // hop limit for IPv6
  uint16_t id = 0;            // IPv4 identification
  uint16_t total_length = 0;  // as declared: IPv4 total length, IPv6 40+payload
  bool first_fragment = false;  // MF set and offset 0
  // Any fragment: IPv4 MF or a non-zero offset, or an IPv6 Fragment header
  // (even an atomic one, RFC 6946, or one cut short by the capture).
  bool is_fragment = false;
  uint16_t fragment_offset = 0;  // in 8-octet units
};

// What an ICMPv4 type 3/11 or ICMPv6 type 1/3 error quotes.
struct IcmpError {
  uint8_t type = 0;  // on-the-wire type/code (ICMPv4 or ICMPv6 numbering)
  uint8_t code = 0;
  bool unreachable = false;  // v4 type 3 or v6 type 1; else time exceeded
  IpHeader inner;            // the quoted IP header
  Transport inner_transport = Transport::kNone;
  bool has_inner_ports = false;  // quote long enough for UDP/TCP ports
  Ports inner_ports;
  Bytes inner_payload;  // quoted bytes after the inner UDP header (or TCP
                        // header when complete): a DNS message, often cut
};

struct Packet {
  uint8_t vlan_depth = 0;
  uint16_t vlan_ids[4] = {};  // outermost first, up to kMaxVlanTags
  IpHeader ip;
  uint16_t l3_offset = 0;  // where the IP header starts in the frame
  uint16_t l4_offset = 0;  // where the UDP/TCP/ICMP header starts (0: none)
  Transport transport = Transport::kNone;
  Ports ports;  // UDP/TCP
  uint8_t tcp_flags = 0;
  uint32_t tcp_seq = 0, tcp_ack = 0;
  uint8_t icmp_type = 0, icmp_code = 0;  // any ICMP/ICMPv6 message
  bool is_icmp_error = false;            // `icmp` below is filled
  IcmpError icmp;
  // UDP payload, TCP segment payload (after options), or ICMP body; clamped
  // to both the captured bytes and the lengths the headers declare.
  Bytes payload;
  uint16_t l4_length = 0;  // UDP length field / TCP header+payload length
};

inline constexpr int kMaxVlanTags = 4;
inline constexpr int kMaxIpv6ExtensionHeaders = 8;

// Decodes link, network and transport layers, and an ICMP error's quote.
// Returns kNone when the packet decoded as far as edgecap needs; otherwise the
// first anomaly met (fields decoded up to that point stay filled).
Anomaly DecodeFrame(LinkType link, Bytes frame, Packet* out);

}  // namespace edgecap::parse

#endif  // EDGECAP_LIB_PARSE_PACKET_H_
