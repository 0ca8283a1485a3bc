#include "lib/parse/evidence.h"

#include <net/if.h>

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>

// The formatter walks the raw bytes itself instead of reusing DecodeFrame and
// DecodeDns: those normalise (lowercase names, dig-style escapes, anomaly
// verdicts), while an evidence line must reproduce tcpdump 4.99's own rules,
// including how it prints odd bytes in names and where it gives up with
// "[|domain]". Every read is bounds-checked against a "snap end" exactly as
// tcpdump's GET_ macros check against ndo_snapend, so a truncated or hostile
// frame yields the same partial line tcpdump prints.

namespace edgecap::parse {
namespace {

// Small formatting helpers: lib/parse links nothing but the C++ library.
[[gnu::format(printf, 2, 3)]] void Appendf(std::string* out, const char* fmt,
                                           ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n > 0) out->append(buf, std::min<size_t>(n, sizeof(buf) - 1));
}

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

std::string Ipv4Text(const uint8_t* b) {
  std::string s;
  Appendf(&s, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
  return s;
}

// inet_ntop's IPv6 text (RFC 5952 style, as tcpdump's addrtostr6 prints).
std::string Ipv6Text(const uint8_t* b) {
  uint16_t w[8];
  for (int i = 0; i < 8; ++i)
    w[i] = static_cast<uint16_t>(b[2 * i] << 8 | b[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (w[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && w[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best = -1;
  std::string out;
  // IPv4-mapped and IPv4-compatible forms keep the dotted quad at the end.
  bool v4_tail =
      best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff));
  for (int i = 0; i < 8; ++i) {
    if (best >= 0 && i >= best && i < best + best_len) {
      if (i == best) out += "::";
      continue;
    }
    if (v4_tail && i == 6) {
      out += Ipv4Text(b + 12);
      break;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    Appendf(&out, "%x", w[i]);
  }
  return out;
}

// tcpdump's fn_print_char: high bit as "M-", control characters as "^X".
void AppendChar(std::string* out, uint8_t c) {
  if (c & 0x80) {
    c &= 0x7f;
    *out += "M-";
  }
  if (c < 0x20 || c == 0x7f) {
    c ^= 0x40;
    *out += '^';
  }
  *out += static_cast<char>(c);
}

// Prints n bytes; false if the snap end cut them (tcpdump's nd_printn).
bool AppendBytes(std::string* out, const View& v, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!v.Has(p + i, 1)) return false;
    AppendChar(out, p[i]);
  }
  return true;
}

std::string_view QtypeName(uint16_t t) {
  switch (t) {
    case 1:
      return "A";
    case 2:
      return "NS";
    case 3:
      return "MD";
    case 4:
      return "MF";
    case 5:
      return "CNAME";
    case 6:
      return "SOA";
    case 7:
      return "MB";
    case 8:
      return "MG";
    case 9:
      return "MR";
    case 10:
      return "NULL";
    case 11:
      return "WKS";
    case 12:
      return "PTR";
    case 13:
      return "HINFO";
    case 14:
      return "MINFO";
    case 15:
      return "MX";
    case 16:
      return "TXT";
    case 17:
      return "RP";
    case 18:
      return "AFSDB";
    case 19:
      return "X25";
    case 20:
      return "ISDN";
    case 21:
      return "RT";
    case 22:
      return "NSAP";
    case 23:
      return "NSAP_PTR";
    case 24:
      return "SIG";
    case 25:
      return "KEY";
    case 26:
      return "PX";
    case 27:
      return "GPOS";
    case 28:
      return "AAAA";
    case 29:
      return "LOC";
    case 30:
      return "NXT";
    case 31:
      return "EID";
    case 32:
      return "NIMLOC";
    case 33:
      return "SRV";
    case 34:
      return "ATMA";
    case 35:
      return "NAPTR";
    case 36:
      return "KX";
    case 37:
      return "CERT";
    case 38:
      return "A6";
    case 39:
      return "DNAME";
    case 40:
      return "SINK";
    case 41:
      return "OPT";
    case 42:
      return "APL";
    case 43:
      return "DS";
    case 44:
      return "SSHFP";
    case 45:
      return "IPSECKEY";
    case 46:
      return "RRSIG";
    case 47:
      return "NSEC";
    case 48:
      return "DNSKEY";
    case 99:
      return "SPF";
    case 100:
      return "UINFO";
    case 101:
      return "UID";
    case 102:
      return "GID";
    case 103:
      return "UNSPEC";
    case 104:
      return "UNSPECA";
    case 249:
      return "TKEY";
    case 250:
      return "TSIG";
    case 251:
      return "IXFR";
    case 252:
      return "AXFR";
    case 253:
      return "MAILB";
    case 254:
      return "MAILA";
    case 255:
      return "ANY";
    case 256:
      return "URI";
    default:
      return {};
  }
}

std::string TypeText(uint16_t t) {
  std::string_view n = QtypeName(t);
  return n.empty() ? Cat("Type", t) : std::string(n);
}

std::string ClassText(uint16_t c) {
  switch (c) {
    case 1:
      return "IN";
    case 3:
      return "CHAOS";
    case 4:
      return "HS";
    case 255:
      return "ANY";
    default:
      return Cat("(Class ", c, ")");
  }
}

// Label kinds by the top two bits of the length octet.
constexpr uint8_t kTypeMask = 0xc0, kTypeIndir = 0xc0, kTypeEdns0 = 0x40,
                  kTypeReserved = 0x80, kEdns0BitLabel = 0x01;
constexpr unsigned kMaxCdname = 255;

// Skips a name without printing (tcpdump's ns_nskip); nullptr if cut.
const uint8_t* SkipName(const View& v, const uint8_t* cp) {
  if (!v.Has(cp, 1)) return nullptr;
  uint8_t i = *cp++;
  while (i) {
    switch (i & kTypeMask) {
      case kTypeIndir:
        return cp + 1;
      case kTypeEdns0: {
        if ((i & ~kTypeMask) != kEdns0BitLabel) return nullptr;
        if (!v.Has(cp, 1)) return nullptr;
        unsigned bitlen = *cp ? *cp : 256;
        ++cp;
        cp += (bitlen + 7) / 8;
        break;
      }
      case kTypeReserved:
        return nullptr;
      default:
        cp += i;
        break;
    }
    if (!v.Has(cp, 1)) return nullptr;
    i = *cp++;
  }
  return cp;
}

// Length of the label at cp for the walk, or -1 (printing the complaint).
int LabelLength(std::string* out, const View& v, const uint8_t* cp) {
  if (!v.Has(cp, 1)) return -1;
  uint8_t i = *cp;
  switch (i & kTypeMask) {
    case kTypeEdns0: {
      unsigned elt = i & ~kTypeMask;
      if (elt != kEdns0BitLabel) {
        Appendf(out, "<ELT %d>", elt);
        return -1;
      }
      if (!v.Has(cp + 1, 1)) return -1;
      unsigned bitlen = cp[1] ? cp[1] : 256;
      return static_cast<int>((bitlen + 7) / 8 + 1);
    }
    case kTypeIndir:
    case 0:
      return i;
    default:
      *out += "<BAD LABEL TYPE>";
      return -1;
  }
}

// A "\[x...]" bit-string label; nullptr if cut.
const uint8_t* BitLabel(std::string* out, const View& v, const uint8_t* cp) {
  if (!v.Has(cp, 1)) return nullptr;
  unsigned bitlen = *cp ? *cp : 256;
  unsigned slen = (bitlen + 3) / 4;
  const uint8_t* lim = cp + 1 + slen;
  *out += "\\[x";
  const uint8_t* bitp = cp + 1;
  unsigned b = bitlen;
  for (; bitp < lim && b > 7; b -= 8, ++bitp) {
    if (!v.Has(bitp, 1)) return nullptr;
    Appendf(out, "%02x", *bitp);
  }
  if (b > 4) {
    if (!v.Has(bitp, 1)) return nullptr;
    Appendf(out, "%02x", *bitp & (0xff << (8 - b)) & 0xff);
  } else if (b > 0) {
    if (!v.Has(bitp, 1)) return nullptr;
    Appendf(out, "%1x", ((*bitp >> 4) & 0x0f) & (0x0f << (4 - b)));
  }
  Appendf(out, "/%u]", bitlen);
  return lim;
}

// Prints a domain name as tcpdump's fqdn_print does; returns the position
// after the name in the message, or nullptr when it had to stop.
const uint8_t* PrintName(std::string* out, const View& v, const uint8_t* cp,
                         const uint8_t* bp) {
  int l = LabelLength(out, v, cp);
  if (l < 0) return nullptr;
  if (!v.Has(cp, 1)) return nullptr;
  unsigned max_offset = static_cast<unsigned>(cp - bp);
  unsigned i = *cp++;
  const uint8_t* rp = nullptr;
  bool compress = false;
  unsigned name_chars = 0;
  if ((i & kTypeMask) != kTypeIndir) rp = cp + l;
  if (i == 0) {
    *out += '.';
    return rp;
  }
  while (i && cp < v.end) {
    switch (i & kTypeMask) {
      case kTypeIndir: {
        if (!compress) {
          rp = cp + 1;
          compress = true;
        }
        if (!v.Has(cp, 1)) return nullptr;
        unsigned offset = ((i << 8) | *cp) & 0x3fff;
        // Pointers must move backwards: tcpdump's loop guard.
        if (offset >= max_offset) {
          *out += "<BAD PTR>";
          return nullptr;
        }
        max_offset = offset;
        cp = bp + offset;
        if (!v.Has(cp, 1)) return nullptr;
        i = *cp;
        if ((l = LabelLength(out, v, cp)) < 0) return nullptr;
        ++cp;
        continue;
      }
      case kTypeEdns0: {
        unsigned elt = i & ~kTypeMask;
        if (elt != kEdns0BitLabel) {
          Appendf(out, "<ELT %u>", elt);
          return nullptr;
        }
        if (BitLabel(out, v, cp) == nullptr) return nullptr;
        break;
      }
      case kTypeReserved:
        *out += "<BAD LABEL TYPE>";
        return nullptr;
      default:
        if (name_chars + l <= kMaxCdname) {
          if (!AppendBytes(out, v, cp, l)) return nullptr;
        } else if (name_chars < kMaxCdname) {
          if (!AppendBytes(out, v, cp, kMaxCdname - name_chars)) return nullptr;
        }
        name_chars += l;
        break;
    }
    cp += l;
    if (name_chars <= kMaxCdname) *out += '.';
    ++name_chars;
    if (!v.Has(cp, 1)) return nullptr;
    i = *cp;
    if ((l = LabelLength(out, v, cp)) < 0) return nullptr;
    ++cp;
    if (!compress) rp += l + 1;
  }
  if (name_chars > kMaxCdname) *out += "<DOMAIN NAME TOO LONG>";
  return rp;
}

// One question: " TYPE[ CLASS]? name"; nullptr when tcpdump would stop.
const uint8_t* PrintQuestion(std::string* out, const View& v, const uint8_t* cp,
                             const uint8_t* bp) {
  const uint8_t* np = cp;
  cp = SkipName(v, cp);
  if (cp == nullptr || !v.Has(cp, 4)) return nullptr;
  Append(out, " ", TypeText(v.U16(cp)));
  uint16_t qclass = v.U16(cp + 2);
  if (qclass != 1) Append(out, " ", ClassText(qclass));
  *out += "? ";
  cp = PrintName(out, v, np, bp);
  return cp ? cp + 4 : nullptr;
}

constexpr std::string_view kOpcodes[16] = {
    "",         " inv_q",    " stat",     " op3",     " notify",  " update",
    " op6",     " op7",      " op8",      " updateA", " updateD", " updateDA",
    " updateM", " updateMA", " zoneInit", " zoneRef"};

std::string RcodeText(unsigned rcode) {
  static constexpr std::string_view kNames[] = {
      "",          " FormErr",  " ServFail", " NXDomain", " NotImp",
      " Refused",  " YXDomain", " YXRRSet",  " NXRRSet",  " NotAuth",
      " NotZone",  " Resp11",   " Resp12",   " Resp13",   " Resp14",
      " NoChange", " BadVers",  "Resp17",    " Resp18",   " Resp19",
      " Resp20",   "Resp21",    " Resp22",   " BadCookie"};
  if (rcode < std::size(kNames)) return std::string(kNames[rcode]);
  return Cat(" Resp", rcode & 0xfff);
}

// A resource record in the non-verbose answer summary (tcpdump's ns_rprint
// with -v off); returns the next record or nullptr when cut.
const uint8_t* PrintRecord(std::string* out, const View& v, const uint8_t* cp,
                           const uint8_t* bp) {
  cp = SkipName(v, cp);
  if (cp == nullptr || !v.Has(cp, 10)) return v.end;
  uint16_t type = v.U16(cp);
  uint16_t rclass = v.U16(cp + 2);
  if (rclass != 1 && type != 41) Append(out, " ", ClassText(rclass));
  uint16_t opt_flags = type == 41 ? v.U16(cp + 6) : 0;
  uint16_t len = v.U16(cp + 8);
  cp += 10;
  const uint8_t* rp = cp + len;
  Append(out, " ", TypeText(type));
  if (rp > v.end) return nullptr;
  switch (type) {
    case 1:
      if (!v.Has(cp, 4)) return nullptr;
      Append(out, " ", Ipv4Text(cp));
      break;
    case 2:
    case 5:
    case 12:
    case 39:
      *out += ' ';
      if (PrintName(out, v, cp, bp) == nullptr) return nullptr;
      break;
    case 15:
      *out += ' ';
      if (!v.Has(cp, 2)) return nullptr;
      if (PrintName(out, v, cp + 2, bp) == nullptr) return nullptr;
      Append(out, " ", v.U16(cp));
      break;
    case 16:
      while (cp < rp) {
        *out += " \"";
        if (!v.Has(cp, 1)) return nullptr;
        uint8_t n = *cp++;
        if (!AppendBytes(out, v, cp, n)) return nullptr;
        cp += n;
        *out += '"';
      }
      break;
    case 33:
      *out += ' ';
      if (!v.Has(cp, 6)) return nullptr;
      if (PrintName(out, v, cp + 6, bp) == nullptr) return nullptr;
      Appendf(out, ":%u %u %u", v.U16(cp + 4), v.U16(cp), v.U16(cp + 2));
      break;
    case 28:
      if (!v.Has(cp, 16)) return nullptr;
      Append(out, " ", Ipv6Text(cp));
      break;
    case 41:
      Appendf(out, " UDPsize=%u", rclass);
      if (opt_flags & 0x8000) *out += " DO";
      break;
    default:
      break;
  }
  return rp;
}

// tcpdump's domain_print with -v off. `length` is the DNS length tcpdump
// was handed (UDP payload, or TCP payload including the 2-byte prefix).
void PrintDns(std::string* out, const View& pv, const uint8_t* bp,
              unsigned length, bool over_tcp) {
  View v = pv;
  if (over_tcp) {
    if (length < 2) {
      Appendf(out, " [DNS over TCP: length %u < 2] (invalid)", length);
      return;
    }
    length -= 2;
    if (!v.Has(bp, 2)) {
      *out += " [|domain]";
      return;
    }
    if (v.U16(bp) != length) {
      Appendf(out, " [prefix length(%u) != length(%u)] (invalid)", v.U16(bp),
              length);
      return;
    }
    bp += 2;
    *out += ' ';
  }
  if (length < 12) {
    Appendf(out, "domain [length %u < 12] (invalid)", length);
    return;
  }
  if (!v.Has(bp, 12)) {
    *out += " [|domain]";
    return;
  }
  const uint16_t id = v.U16(bp), flags = v.U16(bp + 2);
  unsigned qdcount = v.U16(bp + 4), ancount = v.U16(bp + 6),
           nscount = v.U16(bp + 8), arcount = v.U16(bp + 10);
  const unsigned opcode = (flags >> 11) & 0xf;
  const uint8_t* cp = bp + 12;
  auto trunc = [out] { *out += " [|domain]"; };

  if (flags & 0x8000) {
    // Extended rcode from an OPT record, looked for the way tcpdump does.
    unsigned rcode = flags & 0xf;
    const uint8_t* p = cp;
    bool stop = false;
    for (unsigned i = 0; i < qdcount && !stop; ++i) {
      if ((p = SkipName(v, p)) == nullptr)
        stop = true;
      else if ((p += 4) >= v.end)
        stop = true;
    }
    for (unsigned i = 0; i < ancount + nscount && !stop; ++i) {
      if ((p = SkipName(v, p)) == nullptr) {
        stop = true;
        break;
      }
      p += 8;
      if (!v.Has(p, 2)) {
        stop = true;
        break;
      }
      p += 2 + v.U16(p);
      if (p >= v.end) stop = true;
    }
    for (unsigned i = 0; i < arcount && !stop; ++i) {
      if ((p = SkipName(v, p)) == nullptr) break;
      if (!v.Has(p, 2)) break;
      uint16_t type = v.U16(p);
      p += 4;
      if (!v.Has(p, 1)) break;
      if (type == 41) {
        rcode |= *p << 4;
        break;
      }
      p += 4;
      if (!v.Has(p, 2)) break;
      p += 2 + v.U16(p);
      if (p >= v.end) break;
    }
    Append(out, id, kOpcodes[opcode], RcodeText(rcode),
           (flags & 0x0400) ? "*" : "", (flags & 0x0080) ? "" : "-",
           (flags & 0x0200) ? "|" : "", (flags & 0x0020) ? "$" : "");
    if (qdcount != 1) Appendf(out, " [%uq]", qdcount);
    for (unsigned i = 0; i < qdcount; ++i) {
      if (i != 0) *out += ',';
      if ((cp = SkipName(v, cp)) == nullptr) return trunc();
      cp += 4;
    }
    Appendf(out, " %u/%u/%u", ancount, nscount, arcount);
    if (ancount) {
      if ((cp = PrintRecord(out, v, cp, bp)) == nullptr) return trunc();
      --ancount;
      while (cp < v.end && ancount) {
        *out += ',';
        if ((cp = PrintRecord(out, v, cp, bp)) == nullptr) return trunc();
        --ancount;
      }
    }
    if (ancount) return trunc();
  } else {
    Append(out, id, kOpcodes[opcode], (flags & 0x0100) ? "+" : "",
           (flags & 0x0010) ? "%" : "");
    if (flags & 0x6cf) Appendf(out, " [b2&3=0x%x]", flags);
    if (opcode == 1) {
      if (qdcount) Appendf(out, " [%uq]", qdcount);
      if (ancount != 1) Appendf(out, " [%ua]", ancount);
    } else {
      if (ancount) Appendf(out, " [%ua]", ancount);
      if (qdcount != 1) Appendf(out, " [%uq]", qdcount);
    }
    if (nscount) Appendf(out, " [%un]", nscount);
    if (arcount) Appendf(out, " [%uau]", arcount);
    if (qdcount) {
      if ((cp = PrintQuestion(out, v, cp, bp)) == nullptr) return trunc();
      --qdcount;
      while (cp < v.end && qdcount) {
        if ((cp = PrintQuestion(out, v, cp, bp)) == nullptr) return trunc();
        --qdcount;
      }
    }
    if (qdcount) return trunc();
  }
  Appendf(out, " (%u)", length);
}

std::string TcpFlags(uint8_t f) {
  std::string s;
  if (f & 0x01) s += 'F';
  if (f & 0x02) s += 'S';
  if (f & 0x04) s += 'R';
  if (f & 0x08) s += 'P';
  if (f & 0x10) s += '.';
  if (f & 0x20) s += 'U';
  if (f & 0x40) s += 'E';
  if (f & 0x80) s += 'W';
  return s.empty() ? "none" : s;
}

struct IpInfo {
  std::string src, dst;  // printed addresses
  bool v6 = false;
  bool ports_with_addresses = true;  // false after IPv6 extension headers
};

void AppendEndpoints(std::string* out, const IpInfo& ip, unsigned sport,
                     unsigned dport) {
  if (ip.ports_with_addresses) {
    Appendf(out, "%s.%u > %s.%u: ", ip.src.c_str(), sport, ip.dst.c_str(),
            dport);
  } else {
    Appendf(out, "%u > %u: ", sport, dport);
  }
}

void PrintUdp(std::string* out, const View& v, const uint8_t* bp,
              unsigned length, const IpInfo& ip) {
  if (!v.Has(bp, 4)) {
    *out += " [|udp]";
    return;
  }
  unsigned sport = v.U16(bp), dport = v.U16(bp + 2);
  if (!v.Has(bp, 8)) {
    AppendEndpoints(out, ip, sport, dport);
    *out += " [|udp]";
    return;
  }
  unsigned ulen = v.U16(bp + 4);
  if (ulen < 8) {
    AppendEndpoints(out, ip, sport, dport);
    Appendf(out, "truncated-udplength %u", ulen);
    return;
  }
  if (length < 8) {
    AppendEndpoints(out, ip, sport, dport);
    Appendf(out, "truncated-udp %u", length);
    return;
  }
  ulen -= 8;
  length -= 8;
  if (ulen < length) length = ulen;
  const uint8_t* cp = bp + 8;
  AppendEndpoints(out, ip, sport, dport);
  if (sport == 53 || dport == 53) {
    PrintDns(out, v, cp, length, false);
  } else {
    Appendf(out, "UDP, length %u", length);
  }
}

void PrintTcpOptions(std::string* out, const View& v, const uint8_t* cp,
                     unsigned hlen) {
  const uint8_t* end = cp + (hlen - 20);
  *out += ", options [";
  bool first = true;
  while (cp < end) {
    if (!v.Has(cp, 1)) break;
    uint8_t opt = *cp;
    unsigned len = 1;
    if (opt != 0 && opt != 1) {
      if (!v.Has(cp, 2)) break;
      len = cp[1];
    }
    if (!first) *out += ',';
    first = false;
    switch (opt) {
      case 0:
        *out += "eol";
        break;
      case 1:
        *out += "nop";
        break;
      case 2:
        if (len == 4 && v.Has(cp, 4))
          Append(out, "mss ", v.U16(cp + 2));
        else
          *out += "mss";
        break;
      case 3:
        if (len == 3 && v.Has(cp, 3))
          Append(out, "wscale ", cp[2]);
        else
          *out += "wscale";
        break;
      case 4:
        *out += "sackOK";
        break;
      case 8:
        if (len == 10 && v.Has(cp, 10))
          Append(out, "TS val ", v.U32(cp + 2), " ecr ", v.U32(cp + 6));
        else
          *out += "TS";
        break;
      default:
        Append(out, "unknown-", opt);
        break;
    }
    if (opt == 0) break;
    if (len < 1 || (opt > 1 && len < 2)) break;
    cp += len;
  }
  *out += ']';
}

void PrintTcp(std::string* out, const View& v, const uint8_t* bp,
              unsigned length, const IpInfo& ip) {
  if (!v.Has(bp, 4)) {
    *out += " [|tcp]";
    return;
  }
  unsigned sport = v.U16(bp), dport = v.U16(bp + 2);
  AppendEndpoints(out, ip, sport, dport);
  if (!v.Has(bp, 20)) {
    *out += " [|tcp]";
    return;
  }
  unsigned hlen = (bp[12] >> 4) * 4;
  if (hlen < 20) {
    Appendf(out, "tcp %u [bad hdr length %u - too short, < 20]", length, hlen);
    return;
  }
  uint32_t seq = v.U32(bp + 4), ack = v.U32(bp + 8);
  uint8_t flags = bp[13];
  unsigned win = v.U16(bp + 14), urp = v.U16(bp + 18);
  Append(out, "Flags [", TcpFlags(flags), "]");
  if (hlen > length) {
    Appendf(out, " [bad hdr length %u - too long, > %u]", hlen, length);
    return;
  }
  length -= hlen;
  if (length > 0 || (flags & 0x07)) {
    Append(out, ", seq ", seq);
    if (length > 0) Append(out, ":", static_cast<uint32_t>(seq + length));
  }
  if (flags & 0x10) Append(out, ", ack ", ack);
  Append(out, ", win ", win);
  if (flags & 0x20) Append(out, ", urg ", urp);
  if (hlen > 20) PrintTcpOptions(out, v, bp + 20, hlen);
  Append(out, ", length ", length);
  if (length > 0 && (sport == 53 || dport == 53)) {
    PrintDns(out, v, bp + hlen, length, true);
  }
}

void PrintIcmp(std::string* out, const View& v, const uint8_t* bp,
               unsigned length) {
  auto trunc = [out] { *out += " [|icmp]"; };
  if (!v.Has(bp, 2)) return trunc();
  uint8_t type = bp[0], code = bp[1];
  std::string text;
  const uint8_t* oip = bp + 8;  // quoted IP header
  switch (type) {
    case 0:
    case 8:
      if (!v.Has(bp, 8)) return trunc();
      Appendf(&text, "echo %s, id %u, seq %u", type == 8 ? "request" : "reply",
              v.U16(bp + 4), v.U16(bp + 6));
      break;
    case 3: {
      if (!v.Has(oip, 20)) return trunc();
      std::string dst = Ipv4Text(oip + 16);
      switch (code) {
        case 0:
          text = Cat("net ", dst, " unreachable");
          break;
        case 1:
          text = Cat("host ", dst, " unreachable");
          break;
        case 2:
          text = Cat(dst, " protocol ", oip[9], " unreachable");
          break;
        case 3: {
          unsigned hlen = (oip[0] & 0x0f) * 4;
          const uint8_t* ouh = oip + hlen;
          if (!v.Has(ouh + 2, 2)) return trunc();
          unsigned dport = v.U16(ouh + 2);
          if (oip[9] == 6) {
            text = Cat(dst, " tcp port ", dport, " unreachable");
          } else if (oip[9] == 17) {
            text = Cat(dst, " udp port ", dport, " unreachable");
          } else {
            text =
                Cat(dst, " protocol ", oip[9], " port ", dport, " unreachable");
          }
          break;
        }
        case 4: {
          unsigned mtu = v.U16(bp + 6);
          text = mtu ? Cat(dst, " unreachable - need to frag (mtu ", mtu, ")")
                     : Cat(dst, " unreachable - need to frag");
          break;
        }
        case 5:
          text = Cat(dst, " unreachable - source route failed");
          break;
        case 6:
          text = Cat("net ", dst, " unreachable - unknown");
          break;
        case 7:
          text = Cat("host ", dst, " unreachable - unknown");
          break;
        case 8:
          text = Cat(dst, " unreachable - source host isolated");
          break;
        case 9:
          text = Cat("net ", dst, " unreachable - admin prohibited");
          break;
        case 10:
          text = Cat("host ", dst, " unreachable - admin prohibited");
          break;
        case 11:
          text = Cat("net ", dst, " unreachable - tos prohibited");
          break;
        case 12:
          text = Cat("host ", dst, " unreachable - tos prohibited");
          break;
        case 13:
          text = Cat("host ", dst, " unreachable - admin prohibited filter");
          break;
        case 14:
          text = Cat("host ", dst, " unreachable - host precedence violation");
          break;
        case 15:
          text = Cat("host ", dst, " unreachable - precedence cutoff");
          break;
        default:
          text = Cat(dst, " unreachable - #", code);
          break;
      }
      break;
    }
    case 11:
      if (!v.Has(oip, 20)) return trunc();
      text = code == 0   ? "time exceeded in-transit"
             : code == 1 ? "ip reassembly time exceeded"
                         : Cat("time exceeded-#", code);
      break;
    default:
      text = Cat("type-#", type);
      break;
  }
  Appendf(out, "ICMP %s, length %u", text.c_str(), length);
}

// The quoted datagram's upper-layer header, skipping IPv6 extension headers
// as tcpdump's get_upperlayer does; nullptr unless it is UDP or TCP.
const uint8_t* QuotedUpperLayer(const View& v, const uint8_t* ip6,
                                uint8_t* proto) {
  if (!v.Has(ip6, 40)) return nullptr;
  uint8_t nh = ip6[6];
  const uint8_t* cp = ip6 + 40;
  for (int guard = 0; guard < 64; ++guard) {
    switch (nh) {
      case 0:   // hop-by-hop
      case 60:  // destination options
      case 43:  // routing
        if (!v.Has(cp, 2)) return nullptr;
        nh = cp[0];
        cp += (cp[1] + 1) * 8;
        break;
      case 44:  // fragment
        if (!v.Has(cp, 8)) return nullptr;
        if (v.U16(cp + 2) & 0xfff8) return nullptr;  // not the first
        nh = cp[0];
        cp += 8;
        break;
      case 51:  // AH
        if (!v.Has(cp, 2)) return nullptr;
        nh = cp[0];
        cp += (cp[1] + 2) * 4;
        break;
      case 6:
      case 17:
        if (!v.Has(cp, 4)) return nullptr;
        *proto = nh;
        return cp;
      default:
        return nullptr;
    }
  }
  return nullptr;
}

void PrintIcmp6(std::string* out, const View& v, const uint8_t* bp,
                unsigned length) {
  *out += "ICMP6, ";
  auto trunc = [out] { *out += " [|icmp6]"; };
  if (!v.Has(bp, 2)) return trunc();
  uint8_t type = bp[0], code = bp[1];
  const uint8_t* oip = bp + 8;
  switch (type) {
    case 1: {
      *out += "destination unreachable";
      const bool have_dst = v.Has(oip, 40);
      switch (code) {
        case 0:
          *out += ", unreachable route";
          if (!have_dst) return trunc();
          Append(out, " ", Ipv6Text(oip + 24));
          break;
        case 1:
          *out += ",  unreachable prohibited";
          if (!have_dst) return trunc();
          Append(out, " ", Ipv6Text(oip + 24));
          break;
        case 2:
          *out += ", beyond scope";
          if (!have_dst) return trunc();
          Append(out, " ", Ipv6Text(oip + 24), ", source address ",
                 Ipv6Text(oip + 8));
          break;
        case 3:
          *out += ", unreachable address";
          if (!have_dst) return trunc();
          Append(out, " ", Ipv6Text(oip + 24));
          break;
        case 4: {
          *out += ", unreachable port";
          uint8_t proto = 0;
          const uint8_t* up = QuotedUpperLayer(v, oip, &proto);
          if (up == nullptr) return trunc();
          Append(out, ", ", Ipv6Text(oip + 24), proto == 6 ? " tcp" : " udp",
                 " port ", v.U16(up + 2));
          break;
        }
        default:
          // tcpdump follows this with a hex dump on continuation lines; an
          // evidence line is one line, so only the first is reproduced.
          Appendf(out, ", unknown unreach code (%u)", code);
          return;
      }
      break;
    }
    case 3:
      *out += "time exceeded";
      if (!v.Has(oip, 40)) return trunc();
      if (code == 0) {
        Append(out, " in-transit for ", Ipv6Text(oip + 24));
      } else if (code == 1) {
        Append(out, " in-reassembly for ", Ipv6Text(oip + 24));
      } else {
        Append(out, ", unknown code (", code, ")");
      }
      break;
    case 128:
    case 129:
      if (!v.Has(bp, 8)) return trunc();
      Appendf(out, "echo %s, id %u, seq %u", type == 128 ? "request" : "reply",
              v.U16(bp + 4), v.U16(bp + 6));
      break;
    default:
      Append(out, "type-#", type);
      break;
  }
  Append(out, ", length ", length);
}

void PrintIpv4(std::string* out, const View& frame, const uint8_t* bp) {
  *out += "IP ";
  if (!frame.Has(bp, 20)) {
    *out += " [|ip]";
    return;
  }
  unsigned hlen = (bp[0] & 0x0f) * 4;
  unsigned len = frame.U16(bp + 2);
  if (hlen < 20) {
    Appendf(out, "bad-hlen %u", hlen);
    return;
  }
  if (len < hlen) {
    Appendf(out, "bad-len %u", len);
    return;
  }
  size_t captured = static_cast<size_t>(frame.end - bp);
  View v = frame;
  if (len > captured) {
    Appendf(out, "truncated-ip - %u bytes missing! ",
            static_cast<unsigned>(len - captured));
  } else {
    v.end = bp + len;
  }
  if (!v.Has(bp, hlen)) {
    *out += " [|ip]";
    return;
  }
  IpInfo ip;
  ip.src = Ipv4Text(bp + 12);
  ip.dst = Ipv4Text(bp + 16);
  unsigned off = frame.U16(bp + 6);
  unsigned proto = bp[9];
  unsigned plen = len - hlen;
  const uint8_t* cp = bp + hlen;
  if ((off & 0x1fff) != 0) {
    Appendf(out, "%s > %s: ip-proto-%u", ip.src.c_str(), ip.dst.c_str(), proto);
    return;
  }
  switch (proto) {
    case 17:
      PrintUdp(out, v, cp, plen, ip);
      break;
    case 6:
      PrintTcp(out, v, cp, plen, ip);
      break;
    case 1:
      Appendf(out, "%s > %s: ", ip.src.c_str(), ip.dst.c_str());
      PrintIcmp(out, v, cp, plen);
      break;
    default:
      Appendf(out, "%s > %s: ip-proto-%u %u", ip.src.c_str(), ip.dst.c_str(),
              proto, plen);
      break;
  }
}

void PrintIpv6(std::string* out, const View& frame, const uint8_t* bp) {
  *out += "IP6 ";
  if (!frame.Has(bp, 40)) {
    *out += " [|ip6]";
    return;
  }
  unsigned payload_len = frame.U16(bp + 4);
  unsigned len = payload_len + 40;
  size_t captured = static_cast<size_t>(frame.end - bp);
  View v = frame;
  if (len > captured) {
    Appendf(out, "truncated-ip6 - %u bytes missing!",
            static_cast<unsigned>(len - captured));
  } else {
    v.end = bp + len;
  }
  IpInfo ip;
  ip.v6 = true;
  ip.src = Ipv6Text(bp + 8);
  ip.dst = Ipv6Text(bp + 24);
  uint8_t nh = bp[6];
  const uint8_t* cp = bp + 40;
  unsigned remaining = payload_len;
  bool printed_addresses = false;
  auto addresses = [&] {
    if (!printed_addresses) {
      Appendf(out, "%s > %s: ", ip.src.c_str(), ip.dst.c_str());
      printed_addresses = true;
      ip.ports_with_addresses = false;
    }
  };
  for (int n = 0; n < 16; ++n) {
    unsigned advance = 0;
    switch (nh) {
      case 0:
      case 60:
      case 43: {
        addresses();
        if (!v.Has(cp, 2)) {
          *out += nh == 0 ? "HBH [|hbhopt]" : " [|ip6]";
          return;
        }
        advance = (cp[1] + 1) * 8;
        *out += nh == 0 ? "HBH " : nh == 60 ? "DSTOPT " : "srcrt ";
        if (nh == 43) {
          // Best effort: tcpdump prints routing header details here.
        }
        nh = cp[0];
        break;
      }
      case 44: {
        addresses();
        if (!v.Has(cp, 8)) {
          *out += "frag [|frag6]";
          return;
        }
        unsigned offset = v.U16(cp + 2) & 0xfff8;
        Appendf(out, "frag (%u|%u) ", offset,
                remaining >= 8 ? remaining - 8 : 0);
        if (offset != 0) return;
        advance = 8;
        nh = cp[0];
        break;
      }
      case 17:
        if (printed_addresses) ip.ports_with_addresses = false;
        PrintUdp(out, v, cp, remaining, ip);
        return;
      case 6:
        PrintTcp(out, v, cp, remaining, ip);
        return;
      case 58:
        addresses();
        PrintIcmp6(out, v, cp, remaining);
        return;
      case 59:
        addresses();
        *out += "no next header";
        return;
      default:
        addresses();
        Appendf(out, "ip-proto-%u %u", nh, remaining);
        return;
    }
    cp += advance;
    remaining = remaining >= advance ? remaining - advance : 0;
  }
}

// Chooses IPv4 or IPv6 by the version nibble (raw IP link types).
void PrintRawIp(std::string* out, const View& v, const uint8_t* bp) {
  if (!v.Has(bp, 1)) {
    *out += " [|ip]";
    return;
  }
  switch (bp[0] >> 4) {
    case 4:
      PrintIpv4(out, v, bp);
      break;
    case 6:
      PrintIpv6(out, v, bp);
      break;
    default:
      Appendf(out, "IP%u", bp[0] >> 4);
      break;
  }
}

void PrintEtherType(std::string* out, const View& v, const uint8_t* bp,
                    uint16_t ether_type) {
  switch (ether_type) {
    case 0x0800:
      PrintIpv4(out, v, bp);
      break;
    case 0x86dd:
      PrintIpv6(out, v, bp);
      break;
    case 0x0806:
      *out += "ARP";
      break;
    default:
      Appendf(out, "ethertype Unknown (0x%04x)", ether_type);
      break;
  }
}

void PrintEthernet(std::string* out, const View& v, const uint8_t* bp) {
  if (!v.Has(bp, 14)) {
    *out += "[|ether]";
    return;
  }
  const uint8_t* cp = bp + 12;
  uint16_t type = v.U16(cp);
  cp += 2;
  // tcpdump prints nothing for 802.1Q/802.1ad tags unless -e is given.
  for (int depth = 0; type == 0x8100 || type == 0x88a8 || type == 0x9100;
       ++depth) {
    if (!v.Has(cp, 4)) {
      *out += "[|vlan]";
      return;
    }
    type = v.U16(cp + 2);
    cp += 4;
  }
  if (type <= 1500) {
    Appendf(out, "802.3, length %u", type);
    return;
  }
  PrintEtherType(out, v, cp, type);
}

void PrintLinuxSll(std::string* out, const View& v, const uint8_t* bp) {
  if (!v.Has(bp, 16)) {
    *out += "[|sll]";
    return;
  }
  uint16_t type = v.U16(bp + 14);
  const uint8_t* cp = bp + 16;
  if (type == 0x8100) {
    // tcpdump's SLL printer goes through the generic ethertype path here
    // and names the inner type before the packet.
    if (!v.Has(cp, 4)) {
      *out += "[|vlan]";
      return;
    }
    type = v.U16(cp + 2);
    cp += 4;
    if (type == 0x0800)
      *out += "ethertype IPv4, ";
    else if (type == 0x86dd)
      *out += "ethertype IPv6, ";
  }
  PrintEtherType(out, v, cp, type);
}

void PrintLinuxSll2(std::string* out, const View& v, const uint8_t* bp) {
  if (!v.Has(bp, 20)) {
    *out += "[|sll2]";
    return;
  }
  uint16_t type = v.U16(bp);
  uint32_t ifindex = v.U32(bp + 4);
  uint8_t pkttype = bp[10];
  char name[IF_NAMESIZE + 1] = {};
  // tcpdump names the interface of this host, as it does when it reads.
  if (if_indextoname(ifindex, name) != nullptr) {
    Appendf(out, "%-5s ", name);
  } else {
    Appendf(out, "%-5u ", ifindex);
  }
  switch (pkttype) {
    case 0:
      *out += "In  ";
      break;
    case 1:
      *out += "B   ";
      break;
    case 2:
      *out += "M   ";
      break;
    case 3:
      *out += "P   ";
      break;
    case 4:
      *out += "Out ";
      break;
    default:
      Appendf(out, "%-3u ", pkttype);
      break;
  }
  PrintEtherType(out, v, bp + 20, type);
}

void PrintNull(std::string* out, const View& v, const uint8_t* bp) {
  if (!v.Has(bp, 4)) {
    *out += "[|null]";
    return;
  }
  // Host byte order of the capturing machine: accept either.
  uint32_t family =
      bp[0] | bp[1] << 8 | bp[2] << 16 | static_cast<uint32_t>(bp[3]) << 24;
  if ((family & 0xffff0000) != 0) family = v.U32(bp);
  switch (family) {
    case 2:
      PrintIpv4(out, v, bp + 4);
      break;
    case 24:
    case 28:
    case 30:
      PrintIpv6(out, v, bp + 4);
      break;
    default:
      Appendf(out, "AF %u", family);
      break;
  }
}

}  // namespace

std::string FormatEvidence(int64_t timestamp_ns, LinkType link, Bytes frame) {
  int64_t us = timestamp_ns / 1000;
  if (timestamp_ns < 0 && timestamp_ns % 1000 != 0) --us;
  int64_t day_us = us % (86400LL * 1000000);
  if (day_us < 0) day_us += 86400LL * 1000000;
  int64_t secs = day_us / 1000000;
  std::string out;
  // libpcap hands tcpdump a negative tv_sec for pre-1970 stamps (and for
  // classic pcap seconds >= 2^31, sign-extended); tcpdump 4.99.3 then prints
  // this instead of a time.
  if (timestamp_ns < 0) {
    out = "[Error converting time] ";
  } else {
    Appendf(&out, "%02d:%02d:%02d.%06d ", static_cast<int>(secs / 3600),
            static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60),
            static_cast<int>(day_us % 1000000));
  }
  View v{frame.data(), frame.data() + frame.size()};
  const uint8_t* bp = frame.data();
  switch (link) {
    case LinkType::kEthernet:
      PrintEthernet(&out, v, bp);
      break;
    case LinkType::kRaw:
    case LinkType::kIpv4:
    case LinkType::kIpv6:
      PrintRawIp(&out, v, bp);
      break;
    case LinkType::kLinuxSll:
      PrintLinuxSll(&out, v, bp);
      break;
    case LinkType::kLinuxSll2:
      PrintLinuxSll2(&out, v, bp);
      break;
    case LinkType::kNull:
      PrintNull(&out, v, bp);
      break;
  }
  return out;
}

}  // namespace edgecap::parse
