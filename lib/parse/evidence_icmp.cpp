// ICMP and ICMPv6 messages as tcpdump prints them, above all the
// unreachable errors that quote the failed DNS query.
#include <cstdint>
#include <string>

#include "lib/parse/evidence_internal.h"

namespace edgecap::parse::evidence_internal {
namespace {

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

}  // namespace

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

}  // namespace edgecap::parse::evidence_internal
