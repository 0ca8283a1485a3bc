#include "apps/edgecap-gen/packet_builder.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace edgecap::gen {
namespace {

inline void Put16(uint8_t* p, uint16_t v) {
  p[0] = v >> 8;
  p[1] = v & 0xff;
}
inline void Put32(uint8_t* p, uint32_t v) {
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v & 0xff;
}

constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17,
                  kProtoIcmp6 = 58;

// Writes the IP header for `payload_len` bytes of `protocol` and returns its
// length; the IPv4 header checksum is filled in.
size_t BuildIpHeader(uint8_t* p, const Ip& src, const Ip& dst, uint8_t protocol,
                     size_t payload_len, const IpOptions& opt) {
  if (src.version == 4) {
    p[0] = 0x45;
    p[1] = 0;
    Put16(p + 2, static_cast<uint16_t>(20 + payload_len));
    Put16(p + 4, opt.id);
    Put16(p + 6, opt.dont_fragment ? 0x4000 : 0);
    p[8] = opt.ttl;
    p[9] = protocol;
    Put16(p + 10, 0);
    std::memcpy(p + 12, src.b.data(), 4);
    std::memcpy(p + 16, dst.b.data(), 4);
    Put16(p + 10, ChecksumFold(ChecksumAdd(0, p, 20)));
    return 20;
  }
  Put32(p, 0x60000000);
  Put16(p + 4, static_cast<uint16_t>(payload_len));
  p[6] = protocol;
  p[7] = opt.ttl;
  std::memcpy(p + 8, src.b.data(), 16);
  std::memcpy(p + 24, dst.b.data(), 16);
  return 40;
}

uint32_t PseudoHeaderSum(const Ip& src, const Ip& dst, uint8_t protocol,
                         size_t len) {
  uint32_t sum = ChecksumAdd(0, src.b.data(), src.size());
  sum = ChecksumAdd(sum, dst.b.data(), dst.size());
  return sum + protocol + static_cast<uint32_t>(len >> 16) +
         static_cast<uint32_t>(len & 0xffff);
}

uint16_t EtherType(const Ip& ip) { return ip.version == 4 ? 0x0800 : 0x86dd; }

}  // namespace

std::string Ip::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(version == 4 ? AF_INET : AF_INET6, b.data(), text, sizeof(text));
  return text;
}

uint32_t ChecksumAdd(uint32_t sum, const uint8_t* data, size_t len) {
  size_t i = 0;
  for (; i + 1 < len; i += 2) sum += (uint32_t{data[i]} << 8) | data[i + 1];
  if (i < len) sum += uint32_t{data[i]} << 8;
  return sum;
}

uint16_t ChecksumFold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

size_t BuildL2(uint8_t* out, const L2& l2, uint16_t ethertype) {
  std::memcpy(out, l2.dst.data(), 6);
  std::memcpy(out + 6, l2.src.data(), 6);
  size_t off = 12;
  if (l2.tags == 1) {
    Put16(out + off, 0x8100);
    Put16(out + off + 2, l2.outer_vid);
    off += 4;
  } else if (l2.tags == 2) {
    Put16(out + off, 0x88a8);
    Put16(out + off + 2, l2.outer_vid);
    Put16(out + off + 4, 0x8100);
    Put16(out + off + 6, l2.inner_vid);
    off += 8;
  }
  Put16(out + off, ethertype);
  return off + 2;
}

Built BuildUdp(uint8_t* out, const L2& l2, const Ip& src, const Ip& dst,
               uint16_t src_port, uint16_t dst_port,
               std::span<const uint8_t> payload, const IpOptions& ip) {
  const size_t l3 = BuildL2(out, l2, EtherType(src));
  const size_t udp_len = 8 + payload.size();
  uint8_t* udp =
      out + l3 + BuildIpHeader(out + l3, src, dst, kProtoUdp, udp_len, ip);
  Put16(udp, src_port);
  Put16(udp + 2, dst_port);
  Put16(udp + 4, static_cast<uint16_t>(udp_len));
  Put16(udp + 6, 0);
  // An empty span may hold a null pointer, which memcpy must not get.
  if (!payload.empty()) std::memcpy(udp + 8, payload.data(), payload.size());
  uint16_t sum = ChecksumFold(
      ChecksumAdd(PseudoHeaderSum(src, dst, kProtoUdp, udp_len), udp, udp_len));
  if (sum == 0) sum = 0xffff;  // 0 means "no checksum" in UDP
  Put16(udp + 6, sum);
  return {static_cast<size_t>(udp + udp_len - out), l3};
}

Built BuildTcp(uint8_t* out, const L2& l2, const Ip& src, const Ip& dst,
               uint16_t src_port, uint16_t dst_port, const TcpFields& tcp,
               std::span<const uint8_t> payload, const IpOptions& ip) {
  const size_t l3 = BuildL2(out, l2, EtherType(src));
  const size_t header_len = tcp.mss_option ? 24 : 20;
  const size_t seg_len = header_len + payload.size();
  uint8_t* t =
      out + l3 + BuildIpHeader(out + l3, src, dst, kProtoTcp, seg_len, ip);
  Put16(t, src_port);
  Put16(t + 2, dst_port);
  Put32(t + 4, tcp.seq);
  Put32(t + 8, tcp.ack);
  t[12] = static_cast<uint8_t>((header_len / 4) << 4);
  t[13] = tcp.flags;
  Put16(t + 14, tcp.window);
  Put16(t + 16, 0);
  Put16(t + 18, 0);
  if (tcp.mss_option) {
    t[20] = 2;
    t[21] = 4;
    Put16(t + 22, 1460);
  }
  if (!payload.empty()) {
    std::memcpy(t + header_len, payload.data(), payload.size());
  }
  Put16(t + 16,
        ChecksumFold(ChecksumAdd(PseudoHeaderSum(src, dst, kProtoTcp, seg_len),
                                 t, seg_len)));
  return {static_cast<size_t>(t + seg_len - out), l3};
}

Built BuildUnreachable(uint8_t* out, const L2& l2, const Ip& src, const Ip& dst,
                       uint8_t code, std::span<const uint8_t> quoted,
                       const IpOptions& ip) {
  const bool v4 = src.version == 4;
  const size_t l3 = BuildL2(out, l2, EtherType(src));
  const size_t ip_header = v4 ? 20 : 40;
  const size_t max_error = v4 ? 576 : 1280;
  const size_t quote_len = std::min(quoted.size(), max_error - ip_header - 8);
  const size_t icmp_len = 8 + quote_len;
  uint8_t* icmp = out + l3 +
                  BuildIpHeader(out + l3, src, dst,
                                v4 ? kProtoIcmp : kProtoIcmp6, icmp_len, ip);
  icmp[0] = v4 ? 3 : 1;
  icmp[1] = code;
  Put16(icmp + 2, 0);
  Put32(icmp + 4, 0);
  std::memcpy(icmp + 8, quoted.data(), quote_len);
  uint32_t sum = v4 ? 0 : PseudoHeaderSum(src, dst, kProtoIcmp6, icmp_len);
  Put16(icmp + 2, ChecksumFold(ChecksumAdd(sum, icmp, icmp_len)));
  return {static_cast<size_t>(icmp + icmp_len - out), l3};
}

}  // namespace edgecap::gen
