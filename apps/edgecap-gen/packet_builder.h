// Builds Ethernet frames (optionally 802.1Q / QinQ tagged) carrying IPv4 or
// IPv6 with UDP, TCP, ICMP or ICMPv6, in place in a caller's buffer, with
// every checksum correct. No allocation: the generator calls this millions of
// times.
//
//   uint8_t frame[gen::kMaxFrame];
//   gen::L2 l2 = gen::L2::Untagged(gen::kMacClientSide, gen::kMacServerSide);
//   gen::Built q = gen::BuildUdp(frame, l2, client, server, 52444, 53,
//                                dns_bytes, gen::IpOptions{});
//   // q.len bytes of frame; the IP datagram starts at q.l3_offset.
#ifndef EDGECAP_APPS_EDGECAP_GEN_PACKET_BUILDER_H_
#define EDGECAP_APPS_EDGECAP_GEN_PACKET_BUILDER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace edgecap::gen {

inline constexpr size_t kMaxFrame = 2048;

struct Ip {
  std::array<uint8_t, 16> b{};  // IPv4 in b[0..3]
  uint8_t version = 4;

  static Ip V4(uint8_t a, uint8_t b1, uint8_t c, uint8_t d) {
    Ip ip;
    ip.b[0] = a, ip.b[1] = b1, ip.b[2] = c, ip.b[3] = d;
    return ip;
  }
  static Ip V4(uint32_t host_order) {
    return V4(host_order >> 24, host_order >> 16, host_order >> 8, host_order);
  }
  // 2001:db8:<hi>::<lo>: documentation prefix, enough variety for tests.
  static Ip V6(uint16_t hi, uint32_t lo) {
    Ip ip;
    ip.version = 6;
    ip.b[0] = 0x20, ip.b[1] = 0x01, ip.b[2] = 0x0d, ip.b[3] = 0xb8;
    ip.b[4] = hi >> 8, ip.b[5] = hi & 0xff;
    ip.b[12] = lo >> 24, ip.b[13] = lo >> 16, ip.b[14] = lo >> 8;
    ip.b[15] = lo & 0xff;
    return ip;
  }
  size_t size() const { return version == 4 ? 4 : 16; }
  std::string ToString() const;  // dotted quad or RFC 5952 text
  friend bool operator==(const Ip&, const Ip&) = default;
  // Numeric order with every IPv4 address before every IPv6 one.
  friend auto operator<=>(const Ip& x, const Ip& y) {
    if (x.version != y.version) return x.version <=> y.version;
    return x.b <=> y.b;
  }
};

using Mac = std::array<uint8_t, 6>;
// The tap sits between an access router and the core: frames towards the
// servers go from the first MAC to the second, answers the other way.
inline constexpr Mac kMacClientSide = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
inline constexpr Mac kMacServerSide = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x02};

struct L2 {
  Mac src{}, dst{};
  uint8_t tags = 0;  // 0, 1 (802.1Q) or 2 (QinQ: 802.1ad + 802.1Q)
  uint16_t outer_vid = 0, inner_vid = 0;  // inner_vid used when tags == 2

  L2 Reversed() const {
    L2 r = *this;
    r.src = dst;
    r.dst = src;
    return r;
  }
};

struct IpOptions {
  uint8_t ttl = 64;
  uint16_t id = 0;  // IPv4 identification
  bool dont_fragment = false;
};

struct Built {
  size_t len = 0;        // bytes of frame written
  size_t l3_offset = 0;  // where the IP header starts
};

// Writes Ethernet (+ tags) and returns the offset of the L3 header.
size_t BuildL2(uint8_t* out, const L2& l2, uint16_t ethertype);

Built BuildUdp(uint8_t* out, const L2& l2, const Ip& src, const Ip& dst,
               uint16_t src_port, uint16_t dst_port,
               std::span<const uint8_t> payload, const IpOptions& ip);

struct TcpFields {
  uint32_t seq = 0, ack = 0;
  uint8_t flags = 0;  // FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10
  uint16_t window = 64240;
  bool mss_option = false;  // SYN segments carry MSS 1460
};
Built BuildTcp(uint8_t* out, const L2& l2, const Ip& src, const Ip& dst,
               uint16_t src_port, uint16_t dst_port, const TcpFields& tcp,
               std::span<const uint8_t> payload, const IpOptions& ip);

// ICMPv4 type 3 or ICMPv6 type 1 (chosen by src.version) quoting `quoted`,
// the offending IP datagram, cut as a Linux host cuts it (576 bytes of IPv4
// error, 1280 of IPv6 error).
Built BuildUnreachable(uint8_t* out, const L2& l2, const Ip& src, const Ip& dst,
                       uint8_t code, std::span<const uint8_t> quoted,
                       const IpOptions& ip);

// Internet checksum helpers, exposed for tests.
uint32_t ChecksumAdd(uint32_t sum, const uint8_t* data, size_t len);
uint16_t ChecksumFold(uint32_t sum);

}  // namespace edgecap::gen

#endif  // EDGECAP_APPS_EDGECAP_GEN_PACKET_BUILDER_H_
