// Test-only builders of wire bytes for the decoder tests, the benchmark and
// the fuzzer's hand-made seeds: each returns the bytes a real stack would
// send, with lengths filled in (checksums are left zero: nothing checks them).
//
//   auto frame = testing::Eth(0x0800, testing::Ipv4(
//       {192, 0, 2, 1}, {203, 0, 113, 2}, 17,
//       testing::Udp(5353, 53, testing::DnsQuery(7, "example.com", 1))));
#ifndef EDGECAP_LIB_PARSE_TEST_FRAMES_H_
#define EDGECAP_LIB_PARSE_TEST_FRAMES_H_

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace edgecap::parse::testing {

using Wire = std::vector<uint8_t>;

inline void Put16(Wire& w, uint16_t v) {
  w.push_back(static_cast<uint8_t>(v >> 8));
  w.push_back(static_cast<uint8_t>(v));
}
inline void Put32(Wire& w, uint32_t v) {
  Put16(w, static_cast<uint16_t>(v >> 16));
  Put16(w, static_cast<uint16_t>(v));
}
inline void Append(Wire& w, const Wire& tail) {
  w.insert(w.end(), tail.begin(), tail.end());
}
inline void Set16(Wire& w, size_t at, uint16_t v) {
  w[at] = static_cast<uint8_t>(v >> 8);
  w[at + 1] = static_cast<uint8_t>(v);
}

// Dotted name to wire labels (no compression); "." is the root.
inline Wire Name(std::string_view dotted) {
  Wire w;
  while (!dotted.empty() && dotted != ".") {
    const size_t dot = dotted.find('.');
    const std::string_view label = dotted.substr(0, dot);
    w.push_back(static_cast<uint8_t>(label.size()));
    w.insert(w.end(), label.begin(), label.end());
    if (dot == std::string_view::npos) break;
    dotted.remove_prefix(dot + 1);
  }
  w.push_back(0);
  return w;
}

inline Wire DnsHeaderBytes(uint16_t id, uint16_t flags, uint16_t qd,
                           uint16_t an, uint16_t ns, uint16_t ar) {
  Wire w;
  Put16(w, id);
  Put16(w, flags);
  Put16(w, qd);
  Put16(w, an);
  Put16(w, ns);
  Put16(w, ar);
  return w;
}

inline Wire DnsQuery(uint16_t id, std::string_view qname, uint16_t qtype,
                     bool edns = false) {
  Wire w = DnsHeaderBytes(id, 0x0100, 1, 0, 0, edns ? 1 : 0);
  Append(w, Name(qname));
  Put16(w, qtype);
  Put16(w, 1);
  if (edns) {
    w.push_back(0);
    Put16(w, 41);
    Put16(w, 1232);
    Put32(w, 0x00008000);  // DO
    Put16(w, 0);
  }
  return w;
}

inline Wire Udp(uint16_t sport, uint16_t dport, const Wire& payload) {
  Wire w;
  Put16(w, sport);
  Put16(w, dport);
  Put16(w, static_cast<uint16_t>(8 + payload.size()));
  Put16(w, 0);
  Append(w, payload);
  return w;
}

inline Wire Tcp(uint16_t sport, uint16_t dport, uint8_t flags,
                const Wire& payload, const Wire& options = {}) {
  Wire w;
  Put16(w, sport);
  Put16(w, dport);
  Put32(w, 1000);  // seq
  Put32(w, 2000);  // ack
  w.push_back(static_cast<uint8_t>((20 + options.size()) / 4 << 4));
  w.push_back(flags);
  Put16(w, 65535);
  Put32(w, 0);  // checksum, urgent
  Append(w, options);
  Append(w, payload);
  return w;
}

inline Wire Icmp(uint8_t type, uint8_t code, const Wire& body) {
  Wire w = {type, code, 0, 0, 0, 0, 0, 0};
  Append(w, body);
  return w;
}

using V4 = std::array<uint8_t, 4>;
using V6 = std::array<uint8_t, 16>;

inline Wire Ipv4(V4 src, V4 dst, uint8_t proto, const Wire& payload,
                 const Wire& options = {}, uint16_t frag = 0) {
  Wire w;
  w.push_back(static_cast<uint8_t>(0x40 | (20 + options.size()) / 4));
  w.push_back(0);
  Put16(w, static_cast<uint16_t>(20 + options.size() + payload.size()));
  Put16(w, 0x1234);
  Put16(w, frag);
  w.push_back(64);
  w.push_back(proto);
  Put16(w, 0);
  w.insert(w.end(), src.begin(), src.end());
  w.insert(w.end(), dst.begin(), dst.end());
  Append(w, options);
  Append(w, payload);
  return w;
}

inline V6 Addr6(uint8_t last) {
  V6 a{0x20, 0x01, 0x0d, 0xb8};
  a[15] = last;
  return a;
}

// `ext` is the extension-header chain (already with its next-header bytes),
// `first_nh` what the fixed header names.
inline Wire Ipv6(V6 src, V6 dst, uint8_t first_nh,
                 const Wire& ext_and_payload) {
  Wire w = {0x60, 0, 0, 0};
  Put16(w, static_cast<uint16_t>(ext_and_payload.size()));
  w.push_back(first_nh);
  w.push_back(64);
  w.insert(w.end(), src.begin(), src.end());
  w.insert(w.end(), dst.begin(), dst.end());
  Append(w, ext_and_payload);
  return w;
}

// An 8-octet option header (hop-by-hop, destination options, routing).
inline Wire Ext8(uint8_t next) { return {next, 0, 1, 4, 0, 0, 0, 0}; }
inline Wire FragmentHeader(uint8_t next, uint16_t offset_units, bool more) {
  Wire w = {next, 0};
  Put16(w, static_cast<uint16_t>(offset_units << 3 | (more ? 1 : 0)));
  Put32(w, 0xabcdef01);
  return w;
}

inline Wire Eth(
    uint16_t ethertype, const Wire& payload,
    std::initializer_list<std::pair<uint16_t, uint16_t>> tags = {}) {
  Wire w = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  for (const auto& [tpid, vid] : tags) {
    Put16(w, tpid);
    Put16(w, vid);
  }
  Put16(w, ethertype);
  Append(w, payload);
  return w;
}

}  // namespace edgecap::parse::testing

#endif  // EDGECAP_LIB_PARSE_TEST_FRAMES_H_
