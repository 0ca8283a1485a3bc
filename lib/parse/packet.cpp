#include "lib/parse/packet.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "lib/parse/packet_internal.h"

namespace edgecap::parse {
namespace {

// Every read below is preceded by a length check against `end`, the smaller
// of the captured bytes and what the enclosing header declares; the loads
// themselves are unchecked so the compiler can fuse them.
inline uint16_t Load16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
inline uint32_t Load32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17,
                  kProtoIcmp6 = 58;
constexpr uint8_t kExtHopByHop = 0, kExtRouting = 43, kExtFragment = 44,
                  kExtDestOpts = 60;

inline bool IsVlanTpid(uint16_t t) {
  return t == 0x8100 || t == 0x88a8 || t == 0x9100;
}

// Where an IP datagram's upper layer lies, relative to the IP header.
struct L3Span {
  size_t l4 = 0;            // upper-layer header offset
  size_t end = 0;           // min(captured, declared)
  size_t declared_end = 0;  // what the IP header declares
  bool later_fragment = false;
};

// `avail` is how many bytes are readable at `p`.
Anomaly ParseIpv4(const uint8_t* p, size_t avail, IpHeader* ip, L3Span* s) {
  if (avail < 20) return Anomaly::kTruncatedIpv4;
  if ((p[0] >> 4) != 4) return Anomaly::kIpVersionMismatch;
  const size_t hlen = static_cast<size_t>(p[0] & 0xf) * 4;
  ip->version = 4;
  ip->total_length = Load16(p + 2);
  ip->id = Load16(p + 4);
  ip->ttl = p[8];
  ip->protocol = p[9];
  ip->src = IpAddress::V4(p + 12);
  ip->dst = IpAddress::V4(p + 16);
  const uint16_t frag = Load16(p + 6);
  const bool mf = frag & 0x2000;
  ip->fragment_offset = frag & 0x1fff;
  ip->is_fragment = mf || ip->fragment_offset != 0;
  ip->first_fragment = mf && ip->fragment_offset == 0;
  if (hlen < 20) return Anomaly::kBadIpv4HeaderLength;
  if (ip->total_length < hlen) return Anomaly::kBadIpv4TotalLength;
  if (hlen > avail) return Anomaly::kTruncatedIpv4;
  s->l4 = hlen;
  s->declared_end = ip->total_length;
  s->end = std::min<size_t>(avail, ip->total_length);
  s->later_fragment = ip->fragment_offset != 0;
  return Anomaly::kNone;
}

Anomaly ParseIpv6(const uint8_t* p, size_t avail, IpHeader* ip, L3Span* s) {
  if (avail < 40) return Anomaly::kTruncatedIpv6;
  if ((p[0] >> 4) != 6) return Anomaly::kIpVersionMismatch;
  const size_t plen = Load16(p + 4);
  uint8_t nh = p[6];
  ip->version = 6;
  ip->ttl = p[7];
  ip->src = IpAddress::V6(p + 8);
  ip->dst = IpAddress::V6(p + 24);
  // A zero payload length with a hop-by-hop header is a jumbogram (RFC
  // 2675): its real length is in an option; the captured bytes bound it.
  const bool jumbo = plen == 0 && nh == kExtHopByHop;
  s->declared_end = jumbo ? avail : 40 + plen;
  ip->total_length =
      static_cast<uint16_t>(std::min<size_t>(s->declared_end, 0xffff));
  s->end = std::min(avail, s->declared_end);
  size_t off = 40;
  for (int n = 0;; ++n) {
    if (nh != kExtHopByHop && nh != kExtRouting && nh != kExtFragment &&
        nh != kExtDestOpts) {
      break;
    }
    // Named by the previous header even when cut short: still a fragment.
    if (nh == kExtFragment) ip->is_fragment = true;
    if (n == kMaxIpv6ExtensionHeaders) {
      ip->protocol = nh;
      return Anomaly::kTooManyIpv6ExtensionHeaders;
    }
    if (off + 8 > s->end) {
      ip->protocol = nh;
      return off + 8 > avail ? Anomaly::kTruncatedIpv6ExtensionHeader
                             : Anomaly::kBadIpv6PayloadLength;
    }
    const uint8_t* h = p + off;
    if (nh == kExtFragment) {
      const uint16_t frag = Load16(h + 2);
      ip->fragment_offset = frag >> 3;
      ip->first_fragment = (frag & 1) && ip->fragment_offset == 0;
      ip->id = static_cast<uint16_t>(Load32(h + 4));
      nh = h[0];
      off += 8;
      if (ip->fragment_offset != 0) {
        // What follows is the middle of the datagram, not a header.
        ip->protocol = nh;
        s->l4 = off;
        s->later_fragment = true;
        return Anomaly::kNone;
      }
      continue;
    }
    const size_t len = (static_cast<size_t>(h[1]) + 1) * 8;
    if (off + len > s->end) {
      ip->protocol = nh;
      return off + len > avail ? Anomaly::kTruncatedIpv6ExtensionHeader
                               : Anomaly::kBadIpv6PayloadLength;
    }
    nh = h[0];
    off += len;
  }
  ip->protocol = nh;
  s->l4 = off;
  return Anomaly::kNone;
}

inline bool IsIcmpError(bool v6, uint8_t type) {
  return v6 ? (type == 1 || type == 3) : (type == 3 || type == 11);
}

// A quoted datagram is usually cut short (RFC 792 asks for the IP header and
// 8 bytes), so its declared lengths exceed the quote: that is not an error.
// A quote that cannot be an IP header of the right version is garbage.
Anomaly DecodeQuote(const uint8_t* q, size_t qlen, bool v6, IcmpError* e) {
  if (qlen == 0) return Anomaly::kIcmpQuoteTruncated;
  if ((q[0] >> 4) != (v6 ? 6 : 4)) return Anomaly::kIcmpQuoteGarbage;
  L3Span s;
  const Anomaly a = v6 ? ParseIpv6(q, qlen, &e->inner, &s)
                       : ParseIpv4(q, qlen, &e->inner, &s);
  switch (a) {
    case Anomaly::kNone:
      break;
    case Anomaly::kTruncatedIpv4:
    case Anomaly::kTruncatedIpv6:
    case Anomaly::kTruncatedIpv6ExtensionHeader:
      return Anomaly::kIcmpQuoteTruncated;
    default:
      return Anomaly::kIcmpQuoteGarbage;
  }
  const uint8_t proto = e->inner.protocol;
  e->inner_transport = proto == kProtoUdp     ? Transport::kUdp
                       : proto == kProtoTcp   ? Transport::kTcp
                       : proto == kProtoIcmp  ? Transport::kIcmp
                       : proto == kProtoIcmp6 ? Transport::kIcmp6
                                              : Transport::kOther;
  // A later fragment quotes no transport header.
  if (s.later_fragment) return Anomaly::kNone;
  if (e->inner_transport != Transport::kUdp &&
      e->inner_transport != Transport::kTcp) {
    return Anomaly::kNone;
  }
  const uint8_t* t = q + s.l4;
  const size_t tavail = s.end - s.l4;
  if (tavail < 4) return Anomaly::kIcmpQuoteTruncated;
  e->has_inner_ports = true;
  e->inner_ports.src = Load16(t);
  e->inner_ports.dst = Load16(t + 2);
  if (e->inner_transport == Transport::kUdp) {
    if (tavail < 8) return Anomaly::kNone;
    const size_t udp_len = Load16(t + 4);
    if (udp_len < 8) return Anomaly::kIcmpQuoteGarbage;
    const size_t end = std::min(tavail, udp_len);
    e->inner_payload = Bytes(t + 8, end - 8);
  } else {
    if (tavail < 13) return Anomaly::kNone;
    const size_t doff = static_cast<size_t>(t[12] >> 4) * 4;
    if (doff < 20) return Anomaly::kIcmpQuoteGarbage;
    if (doff <= tavail) e->inner_payload = Bytes(t + doff, tavail - doff);
  }
  return Anomaly::kNone;
}

}  // namespace

bool IsSupportedLinkType(uint32_t link) {
  switch (link) {
    case 0:
    case 1:
    case 101:
    case 113:
    case 228:
    case 229:
    case 276:
      return true;
    default:
      return false;
  }
}

namespace {

// The frame nearly every packet at a DNS edge is: Ethernet, IPv4 without
// options or fragmentation or IPv6 without extension headers, UDP, with
// lengths that agree. Its checks and fields in one short function, where
// the general decoder walks link types, VLAN tags, extension headers and
// ICMP quotes (in a loop: 6.7 -> 3.5 ns a frame; in the replay with the
// worker's work skipped, 1.7-2 of its ~12 ns a packet). GCC turns the
// selects on the IP version into a branch; a branch-free version (masks
// hidden from the optimizer) was slower in that replay. False when the
// frame is not such a frame; `out` is then the general decoder's to write.
bool DecodeEthernetUdp(const uint8_t* p, size_t cap, Packet* out) {
  // Room for either version's headers: both are read alike. (A minimum
  // Ethernet frame of 60 bytes, an IPv4 query for a short name, is the
  // general decoder's.)
  constexpr size_t kEth = 14, kV4 = 20, kV6 = 40, kUdp = 8;
  if (cap < kEth + kV6 + kUdp) return false;
  const uint8_t* const ip = p + kEth;
  const uint16_t ethertype = Load16(p + 12);
  const bool v4 = ethertype == kEtherIpv4 && ip[0] == 0x45 &&
                  (Load16(ip + 6) & 0x3fff) == 0 && ip[9] == kProtoUdp;
  const bool v6 =
      ethertype == kEtherIpv6 && (ip[0] >> 4) == 6 && ip[6] == kProtoUdp;
  if (!(v4 | v6)) return false;
  const size_t hlen = v6 ? kV6 : kV4;
  const size_t declared = v6 ? kV6 + Load16(ip + 4) : Load16(ip + 2);
  const size_t end = std::min(cap - kEth, declared);
  const uint8_t* const udp = ip + hlen;
  const size_t udp_len = Load16(udp + 4);
  if (end < hlen + kUdp || udp_len < kUdp || udp_len > declared - hlen) {
    return false;  // an anomaly: the general decoder names it
  }
  static constexpr Packet kEmpty{};
  *out = kEmpty;
  // The addresses: IPv6's 16 bytes or IPv4's 4 and zeros (the 4 in the low
  // bytes of the first word).
  static_assert(std::endian::native == std::endian::little);
  const uint64_t six = v6 ? ~uint64_t{0} : 0;
  uint64_t src[2], dst[2];
  std::memcpy(src, ip + 8, 16);
  std::memcpy(dst, ip + 24, 16);
  uint32_t src4, dst4;
  std::memcpy(&src4, ip + 12, 4);
  std::memcpy(&dst4, ip + 16, 4);
  src[0] = (src[0] & six) | (src4 & ~six);
  src[1] &= six;
  dst[0] = (dst[0] & six) | (dst4 & ~six);
  dst[1] &= six;
  IpHeader& h = out->ip;
  h.version = v6 ? 6 : 4;
  std::memcpy(h.src.bytes.data(), src, 16);
  std::memcpy(h.dst.bytes.data(), dst, 16);
  h.src.version = h.dst.version = h.version;
  h.protocol = kProtoUdp;
  h.ttl = v6 ? ip[7] : ip[8];
  h.id = v6 ? 0 : Load16(ip + 4);
  h.total_length = static_cast<uint16_t>(std::min<size_t>(declared, 0xffff));
  out->l3_offset = kEth;
  out->l4_offset = static_cast<uint16_t>(kEth + hlen);
  out->transport = Transport::kUdp;
  out->ports.src = Load16(udp);
  out->ports.dst = Load16(udp + 2);
  out->l4_length = static_cast<uint16_t>(udp_len);
  out->payload = Bytes(udp + kUdp, std::min(end - hlen, udp_len) - kUdp);
  return true;
}

}  // namespace

Anomaly DecodeFrame(LinkType link, Bytes frame, Packet* out) {
  if (link == LinkType::kEthernet &&
      DecodeEthernetUdp(frame.data(), frame.size(), out)) {
    return Anomaly::kNone;
  }
  return internal::DecodeFrameGeneral(link, frame, out);
}

namespace internal {

Anomaly DecodeFrameGeneral(LinkType link, Bytes frame, Packet* out) {
  static constexpr Packet kEmpty{};
  *out = kEmpty;
  const uint8_t* const p = frame.data();
  const size_t cap = frame.size();
  size_t off = 0;
  uint16_t ethertype = 0;
  switch (link) {
    case LinkType::kEthernet:
      if (cap < 14) return Anomaly::kTruncatedLinkHeader;
      ethertype = Load16(p + 12);
      off = 14;
      break;
    case LinkType::kLinuxSll:
      if (cap < 16) return Anomaly::kTruncatedLinkHeader;
      ethertype = Load16(p + 14);
      off = 16;
      break;
    case LinkType::kLinuxSll2:
      if (cap < 20) return Anomaly::kTruncatedLinkHeader;
      ethertype = Load16(p);
      off = 20;
      break;
    case LinkType::kNull: {
      if (cap < 4) return Anomaly::kTruncatedLinkHeader;
      // The family is in the capturing host's byte order, which the file
      // does not record: accept both. AF_INET6 differs per OS (24 NetBSD/
      // OpenBSD, 28 FreeBSD, 30 macOS).
      const uint32_t le =
          static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
          static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
      const uint32_t be = Load32(p);
      const auto is = [&](uint32_t v) { return le == v || be == v; };
      if (is(2)) {
        ethertype = kEtherIpv4;
      } else if (is(24) || is(28) || is(30)) {
        ethertype = kEtherIpv6;
      } else {
        return Anomaly::kUnsupportedEtherType;
      }
      off = 4;
      break;
    }
    case LinkType::kRaw:
      if (cap < 1) return Anomaly::kTruncatedLinkHeader;
      if ((p[0] >> 4) == 4) {
        ethertype = kEtherIpv4;
      } else if ((p[0] >> 4) == 6) {
        ethertype = kEtherIpv6;
      } else {
        return Anomaly::kIpVersionMismatch;
      }
      break;
    case LinkType::kIpv4:
      ethertype = kEtherIpv4;
      break;
    case LinkType::kIpv6:
      ethertype = kEtherIpv6;
      break;
    default:
      return Anomaly::kUnsupportedEtherType;
  }
  // Linux cooked headers may carry the 802.1Q tag in the payload too.
  if (link == LinkType::kEthernet || link == LinkType::kLinuxSll ||
      link == LinkType::kLinuxSll2) {
    while (IsVlanTpid(ethertype)) {
      if (out->vlan_depth == kMaxVlanTags) return Anomaly::kTooManyVlanTags;
      if (cap < off + 4) return Anomaly::kTruncatedLinkHeader;
      out->vlan_ids[out->vlan_depth++] = Load16(p + off) & 0x0fff;
      ethertype = Load16(p + off + 2);
      off += 4;
    }
  }
  out->l3_offset = static_cast<uint16_t>(off);
  L3Span s;
  Anomaly a;
  bool v6;
  if (ethertype == kEtherIpv4) {
    v6 = false;
    a = ParseIpv4(p + off, cap - off, &out->ip, &s);
  } else if (ethertype == kEtherIpv6) {
    v6 = true;
    a = ParseIpv6(p + off, cap - off, &out->ip, &s);
  } else {
    return Anomaly::kUnsupportedEtherType;
  }
  if (a != Anomaly::kNone) return a;
  if (s.later_fragment) {
    return v6 ? Anomaly::kIpv6LaterFragment : Anomaly::kIpv4LaterFragment;
  }
  const uint8_t* t = p + off + s.l4;
  const size_t avail = s.end - s.l4;  // clamped to captured and declared
  out->l4_offset = static_cast<uint16_t>(off + s.l4);
  switch (out->ip.protocol) {
    case kProtoUdp: {
      out->transport = Transport::kUdp;
      if (avail < 8) return Anomaly::kTruncatedUdp;
      out->ports.src = Load16(t);
      out->ports.dst = Load16(t + 2);
      const size_t udp_len = Load16(t + 4);
      out->l4_length = static_cast<uint16_t>(udp_len);
      if (udp_len < 8) return Anomaly::kBadUdpLength;
      out->payload = Bytes(t + 8, std::min(avail, udp_len) - 8);
      // A first fragment carries only part of the datagram the UDP length
      // describes; otherwise UDP may not claim more than IP declares.
      if (!out->ip.first_fragment && udp_len > s.declared_end - s.l4) {
        return Anomaly::kBadUdpLength;
      }
      return Anomaly::kNone;
    }
    case kProtoTcp: {
      out->transport = Transport::kTcp;
      if (avail < 20) return Anomaly::kTruncatedTcp;
      out->ports.src = Load16(t);
      out->ports.dst = Load16(t + 2);
      out->tcp_seq = Load32(t + 4);
      out->tcp_ack = Load32(t + 8);
      out->tcp_flags = t[13];
      out->l4_length = static_cast<uint16_t>(
          std::min<size_t>(s.declared_end - s.l4, 0xffff));
      const size_t doff = static_cast<size_t>(t[12] >> 4) * 4;
      if (doff < 20) return Anomaly::kBadTcpHeaderLength;
      if (doff > avail) {
        return doff > s.declared_end - s.l4 ? Anomaly::kBadTcpHeaderLength
                                            : Anomaly::kTruncatedTcp;
      }
      out->payload = Bytes(t + doff, avail - doff);
      return Anomaly::kNone;
    }
    case kProtoIcmp:
    case kProtoIcmp6: {
      const bool icmp6 = out->ip.protocol == kProtoIcmp6;
      // ICMPv4 in IPv6 and ICMPv6 in IPv4 are not things hosts send.
      if (icmp6 != v6) break;
      out->transport = icmp6 ? Transport::kIcmp6 : Transport::kIcmp;
      if (avail < 4) return Anomaly::kTruncatedIcmp;
      out->icmp_type = t[0];
      out->icmp_code = t[1];
      out->l4_length = static_cast<uint16_t>(avail);
      if (avail >= 8) out->payload = Bytes(t + 8, avail - 8);
      if (!IsIcmpError(icmp6, t[0])) return Anomaly::kNone;
      out->is_icmp_error = true;
      IcmpError& e = out->icmp;
      e.type = t[0];
      e.code = t[1];
      e.unreachable = icmp6 ? t[0] == 1 : t[0] == 3;
      if (avail < 8) return Anomaly::kTruncatedIcmp;
      return DecodeQuote(t + 8, avail - 8, icmp6, &e);
    }
    default:
      break;
  }
  out->transport = Transport::kOther;
  return Anomaly::kUnsupportedIpProtocol;
}

}  // namespace internal

}  // namespace edgecap::parse
