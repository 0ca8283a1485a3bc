// Internal to lib/parse's evidence formatter (evidence.h): the pieces the
// per-layer printers share. Only the evidence_*.cpp files include this.
//
//   View v{frame.data(), frame.data() + frame.size()};
//   if (!v.Has(p, 2)) { *out += " [|domain]"; return; }
//   Append(out, "mss ", v.U16(p));
//
// The formatter walks the raw bytes itself instead of reusing DecodeFrame and
// DecodeDns: those normalise (lowercase names, dig-style escapes, anomaly
// verdicts), while an evidence line must reproduce tcpdump 4.99's own rules,
// including how it prints odd bytes in names and where it gives up with
// "[|domain]". Every read is bounds-checked against a "snap end" exactly as
// tcpdump's GET_ macros check against ndo_snapend, so a truncated or hostile
// frame yields the same partial line tcpdump prints.
#ifndef EDGECAP_LIB_PARSE_EVIDENCE_INTERNAL_H_
#define EDGECAP_LIB_PARSE_EVIDENCE_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace edgecap::parse::evidence_internal {

// Small formatting helpers: lib/parse links nothing but the C++ library.
[[gnu::format(printf, 2, 3)]] void Appendf(std::string* out, const char* fmt,
                                           ...);

template <typename T>
void AppendOne(std::string* out, const T& x) {
  if constexpr (std::is_integral_v<T>) {
    *out += std::to_string(x);
  } else {
    *out += std::string_view(x);
  }
}

template <typename... Args>
void Append(std::string* out, const Args&... args) {
  (AppendOne(out, args), ...);
}

template <typename... Args>
std::string Cat(const Args&... args) {
  std::string s;
  Append(&s, args...);
  return s;
}

// A view of the bytes tcpdump considers readable: [data, end).
struct View {
  const uint8_t* data;
  const uint8_t* end;

  bool Has(const uint8_t* p, size_t n) const {
    return p >= data && p <= end && static_cast<size_t>(end - p) >= n;
  }
  uint8_t U8(const uint8_t* p) const { return p[0]; }
  uint16_t U16(const uint8_t* p) const {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
  }
  uint32_t U32(const uint8_t* p) const {
    return static_cast<uint32_t>(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3];
  }
};

std::string Ipv4Text(const uint8_t* b);
// inet_ntop's IPv6 text (RFC 5952 style, as tcpdump's addrtostr6 prints).
std::string Ipv6Text(const uint8_t* b);
// Prints n bytes; false if the snap end cut them (tcpdump's nd_printn).
bool AppendBytes(std::string* out, const View& v, const uint8_t* p, size_t n);

// How the IP layer hands its addresses to the transport printers.
struct IpInfo {
  std::string src, dst;  // printed addresses
  bool v6 = false;
  bool ports_with_addresses = true;  // false after IPv6 extension headers
};

// tcpdump's domain_print with -v off. `length` is the DNS length tcpdump
// was handed (UDP payload, or TCP payload including the 2-byte prefix).
void PrintDns(std::string* out, const View& pv, const uint8_t* bp,
              unsigned length, bool over_tcp);

// The UDP/TCP header and then, on port 53, the DNS message.
void PrintUdp(std::string* out, const View& v, const uint8_t* bp,
              unsigned length, const IpInfo& ip);
void PrintTcp(std::string* out, const View& v, const uint8_t* bp,
              unsigned length, const IpInfo& ip);

// ICMP and ICMPv6 messages, with unreachable errors worded as tcpdump does.
void PrintIcmp(std::string* out, const View& v, const uint8_t* bp,
               unsigned length);
void PrintIcmp6(std::string* out, const View& v, const uint8_t* bp,
                unsigned length);

}  // namespace edgecap::parse::evidence_internal

#endif  // EDGECAP_LIB_PARSE_EVIDENCE_INTERNAL_H_
