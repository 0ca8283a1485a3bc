// UDP and TCP headers in tcpdump's words; DNS on port 53 continues in
// evidence_dns.cpp.
#include <cstdint>
#include <string>

#include "lib/parse/evidence_internal.h"

namespace edgecap::parse::evidence_internal {
namespace {

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

void AppendEndpoints(std::string* out, const IpInfo& ip, unsigned sport,
                     unsigned dport) {
  if (ip.ports_with_addresses) {
    Appendf(out, "%s.%u > %s.%u: ", ip.src.c_str(), sport, ip.dst.c_str(),
            dport);
  } else {
    Appendf(out, "%u > %u: ", sport, dport);
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

}  // namespace

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

}  // namespace edgecap::parse::evidence_internal
