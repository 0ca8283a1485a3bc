#include "lib/parse/evidence.h"

#include <net/if.h>

#include <cstdint>
#include <string>

#include "lib/parse/evidence_internal.h"

// This file frames a line: the time stamp, the link layer and the IP layer;
// the transport, DNS and ICMP printers are in the other evidence_*.cpp
// files (evidence_internal.h says why they walk the raw bytes themselves).

namespace edgecap::parse {

using evidence_internal::Appendf;
using evidence_internal::IpInfo;
using evidence_internal::Ipv4Text;
using evidence_internal::Ipv6Text;
using evidence_internal::PrintIcmp;
using evidence_internal::PrintIcmp6;
using evidence_internal::PrintTcp;
using evidence_internal::PrintUdp;
using evidence_internal::View;

namespace {

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
