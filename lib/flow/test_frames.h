// Test-only: builds Ethernet frames with IPv4/IPv6, UDP DNS messages, TCP
// flags and ICMP/ICMPv6 errors quoting a datagram, so unit tests can feed
// real bytes through parse::DecodeFrame. Checksums are left zero (the
// decoders do not check them).
//
//   auto q = testing::DnsQuery(V4(10,0,0,1), V4(10,0,0,53), 40000, 53, 7,
//                              "example.com", 1);
//   auto icmp = testing::IcmpUnreachable(V4(10,0,0,53), q, 3);
#ifndef EDGECAP_LIB_FLOW_TEST_FRAMES_H_
#define EDGECAP_LIB_FLOW_TEST_FRAMES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lib/parse/packet.h"

namespace edgecap::flow::testing {

using Frame = std::vector<uint8_t>;

inline parse::IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  const uint8_t x[4] = {a, b, c, d};
  return parse::IpAddress::V4(x);
}
inline parse::IpAddress V6(uint16_t last) {
  uint8_t x[16] = {0x20, 0x01, 0x0d, 0xb8};
  x[14] = last >> 8;
  x[15] = last & 0xff;
  return parse::IpAddress::V6(x);
}

inline void Put16(std::vector<uint8_t>* v, uint16_t x) {
  v->push_back(x >> 8);
  v->push_back(x & 0xff);
}

inline std::vector<uint8_t> DnsMessage(uint16_t id, bool response,
                                       uint8_t rcode, const std::string& qname,
                                       uint16_t qtype) {
  std::vector<uint8_t> m;
  Put16(&m, id);
  Put16(&m, static_cast<uint16_t>((response ? 0x8180 : 0x0100) | rcode));
  Put16(&m, 1);
  Put16(&m, 0);
  Put16(&m, 0);
  Put16(&m, 0);
  size_t start = 0;
  while (start <= qname.size()) {
    size_t dot = qname.find('.', start);
    if (dot == std::string::npos) dot = qname.size();
    m.push_back(static_cast<uint8_t>(dot - start));
    m.insert(m.end(), qname.begin() + start, qname.begin() + dot);
    start = dot + 1;
  }
  m.push_back(0);
  Put16(&m, qtype);
  Put16(&m, 1);
  return m;
}

// Ethernet + IP header around an L4 payload (`proto` 17, 6, 1 or 58).
inline Frame IpFrame(const parse::IpAddress& src, const parse::IpAddress& dst,
                     uint8_t proto, const std::vector<uint8_t>& l4) {
  Frame f = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
  const bool v6 = src.version == 6;
  Put16(&f, v6 ? 0x86dd : 0x0800);
  if (v6) {
    f.insert(f.end(), {0x60, 0, 0, 0});
    Put16(&f, static_cast<uint16_t>(l4.size()));
    f.push_back(proto == 1 ? 58 : proto);
    f.push_back(64);
    f.insert(f.end(), src.bytes.begin(), src.bytes.end());
    f.insert(f.end(), dst.bytes.begin(), dst.bytes.end());
  } else {
    f.push_back(0x45);
    f.push_back(0);
    Put16(&f, static_cast<uint16_t>(20 + l4.size()));
    Put16(&f, 0x1234);
    Put16(&f, 0);
    f.push_back(64);
    f.push_back(proto);
    Put16(&f, 0);
    f.insert(f.end(), src.bytes.begin(), src.bytes.begin() + 4);
    f.insert(f.end(), dst.bytes.begin(), dst.bytes.begin() + 4);
  }
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

inline Frame Udp(const parse::IpAddress& src, const parse::IpAddress& dst,
                 uint16_t sport, uint16_t dport,
                 const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> l4;
  Put16(&l4, sport);
  Put16(&l4, dport);
  Put16(&l4, static_cast<uint16_t>(8 + payload.size()));
  Put16(&l4, 0);
  l4.insert(l4.end(), payload.begin(), payload.end());
  return IpFrame(src, dst, 17, l4);
}

inline Frame DnsQuery(const parse::IpAddress& client,
                      const parse::IpAddress& server, uint16_t cport,
                      uint16_t sport, uint16_t id, const std::string& qname,
                      uint16_t qtype = 1) {
  return Udp(client, server, cport, sport,
             DnsMessage(id, false, 0, qname, qtype));
}

inline Frame DnsResponse(const parse::IpAddress& client,
                         const parse::IpAddress& server, uint16_t cport,
                         uint16_t sport, uint16_t id, const std::string& qname,
                         uint8_t rcode, uint16_t qtype = 1) {
  return Udp(server, client, sport, cport,
             DnsMessage(id, true, rcode, qname, qtype));
}

inline Frame Tcp(const parse::IpAddress& src, const parse::IpAddress& dst,
                 uint16_t sport, uint16_t dport, uint8_t flags) {
  std::vector<uint8_t> l4;
  Put16(&l4, sport);
  Put16(&l4, dport);
  l4.insert(l4.end(), {0, 0, 0, 1, 0, 0, 0, 0});
  l4.push_back(0x50);
  l4.push_back(flags);
  Put16(&l4, 65535);
  Put16(&l4, 0);
  Put16(&l4, 0);
  return IpFrame(src, dst, 6, l4);
}

// ICMP (v4 type 3 / v6 type 1) error from `reporter` quoting the IP datagram
// of `quoted` (an Ethernet frame from the builders above), cut to
// `quote_bytes` of the datagram.
inline Frame IcmpUnreachable(const parse::IpAddress& reporter,
                             const Frame& quoted, uint8_t code,
                             size_t quote_bytes = 1000) {
  const bool v6 = reporter.version == 6;
  std::vector<uint8_t> datagram(quoted.begin() + 14, quoted.end());
  if (datagram.size() > quote_bytes) datagram.resize(quote_bytes);
  // The quoted datagram's source is the error's destination.
  parse::IpAddress to;
  if (v6) {
    to = parse::IpAddress::V6(&quoted[14 + 8]);
  } else {
    to = parse::IpAddress::V4(&quoted[14 + 12]);
  }
  std::vector<uint8_t> l4 = {
      static_cast<uint8_t>(v6 ? 1 : 3), code, 0, 0, 0, 0, 0, 0};
  l4.insert(l4.end(), datagram.begin(), datagram.end());
  return IpFrame(reporter, to, 1, l4);
}

}  // namespace edgecap::flow::testing

#endif  // EDGECAP_LIB_FLOW_TEST_FRAMES_H_
