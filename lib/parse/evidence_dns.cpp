// DNS messages as tcpdump 4.99 prints them without -v: header flags, the
// question, and a summary of the answers, with names in tcpdump's raw case
// and escaping (not dig's).
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/parse/evidence_internal.h"

namespace edgecap::parse::evidence_internal {
namespace {

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

}  // namespace

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

}  // namespace edgecap::parse::evidence_internal
