#include "apps/edgecap-gen/dns_builder.h"

#include <cstring>

namespace edgecap::gen {
namespace {

inline uint8_t* Put16(uint8_t* p, uint16_t v) {
  p[0] = v >> 8;
  p[1] = v & 0xff;
  return p + 2;
}
inline uint8_t* Put32(uint8_t* p, uint32_t v) {
  p = Put16(p, v >> 16);
  return Put16(p, v & 0xffff);
}

uint8_t* Header(uint8_t* p, uint16_t txid, uint16_t flags, uint16_t qd,
                uint16_t an, uint16_t ns, uint16_t ar) {
  p = Put16(p, txid);
  p = Put16(p, flags);
  p = Put16(p, qd);
  p = Put16(p, an);
  p = Put16(p, ns);
  return Put16(p, ar);
}

uint8_t* Question(uint8_t* p, std::string_view qname, uint16_t qtype) {
  p += EncodeName(p, qname);
  p = Put16(p, qtype);
  return Put16(p, 1);  // IN
}

// OPT pseudo-RR advertising a 1232-byte UDP payload (the DNS flag day value).
uint8_t* Opt(uint8_t* p) {
  *p++ = 0;
  p = Put16(p, 41);
  p = Put16(p, 1232);
  p = Put32(p, 0);
  return Put16(p, 0);
}

// Resource record owned by the question name (compression pointer to 12).
uint8_t* RrHeader(uint8_t* p, uint16_t type, uint32_t ttl, uint16_t rdlen) {
  p = Put16(p, 0xc00c);
  p = Put16(p, type);
  p = Put16(p, 1);
  p = Put32(p, ttl);
  return Put16(p, rdlen);
}

}  // namespace

size_t EncodeName(uint8_t* out, std::string_view name) {
  uint8_t* p = out;
  while (!name.empty()) {
    const size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    *p++ = static_cast<uint8_t>(label.size());
    std::memcpy(p, label.data(), label.size());
    p += label.size();
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  *p++ = 0;
  return static_cast<size_t>(p - out);
}

size_t BuildDnsQuery(uint8_t* out, uint16_t txid, std::string_view qname,
                     uint16_t qtype, bool edns) {
  uint8_t* p = Header(out, txid, 0x0100, 1, 0, 0, edns ? 1 : 0);
  p = Question(p, qname, qtype);
  if (edns) p = Opt(p);
  return static_cast<size_t>(p - out);
}

size_t BuildDnsResponse(uint8_t* out, uint16_t txid, std::string_view qname,
                        uint16_t qtype, uint8_t rcode, bool edns,
                        uint32_t answer_seed) {
  // Known types get one record; others (HTTPS, SRV...) a NODATA answer.
  const bool answer =
      rcode == kRcodeNoError &&
      (qtype == kTypeA || qtype == kTypeAaaa || qtype == kTypeMx ||
       qtype == kTypeTxt || qtype == kTypePtr || qtype == kTypeNs ||
       qtype == kTypeCname);
  uint8_t* p = Header(out, txid, static_cast<uint16_t>(0x8180 | rcode), 1,
                      answer ? 1 : 0, 0, edns ? 1 : 0);
  p = Question(p, qname, qtype);
  if (answer) {
    const uint32_t ttl = 60 + answer_seed % 3540;
    switch (qtype) {
      case kTypeAaaa: {
        p = RrHeader(p, qtype, ttl, 16);
        static constexpr uint8_t kPrefix[8] = {0x20, 0x01, 0x0d, 0xb8,
                                               0xfe, 0,    0,    0};
        std::memcpy(p, kPrefix, 8);
        std::memset(p + 8, 0, 4);
        Put32(p + 12, answer_seed);
        p += 16;
        break;
      }
      case kTypeMx: {
        // Preference, then "mx1" + pointer to the question name.
        p = RrHeader(p, qtype, ttl, 2 + 4 + 2);
        p = Put16(p, 10);
        *p++ = 3;
        std::memcpy(p, "mx1", 3);
        p += 3;
        p = Put16(p, 0xc00c);
        break;
      }
      case kTypeTxt: {
        static constexpr std::string_view kText =
            "v=spf1 include:_spf.example.net -all";
        p = RrHeader(p, qtype, ttl, static_cast<uint16_t>(1 + kText.size()));
        *p++ = static_cast<uint8_t>(kText.size());
        std::memcpy(p, kText.data(), kText.size());
        p += kText.size();
        break;
      }
      case kTypePtr:
      case kTypeNs:
      case kTypeCname: {
        p = RrHeader(p, qtype, ttl, 4 + 2);
        *p++ = 3;
        std::memcpy(p, "ns1", 3);
        p += 3;
        p = Put16(p, 0xc00c);
        break;
      }
      default: {  // A: an address in 198.18.0.0/15
        p = RrHeader(p, kTypeA, ttl, 4);
        p = Put32(p, 0xc6120000u | (answer_seed & 0x1ffff));
        break;
      }
    }
  }
  if (edns) p = Opt(p);
  return static_cast<size_t>(p - out);
}

std::string QtypeName(uint16_t qtype) {
  switch (qtype) {
    case kTypeA:
      return "A";
    case kTypeNs:
      return "NS";
    case kTypeCname:
      return "CNAME";
    case kTypeSoa:
      return "SOA";
    case kTypePtr:
      return "PTR";
    case kTypeMx:
      return "MX";
    case kTypeTxt:
      return "TXT";
    case kTypeAaaa:
      return "AAAA";
    case kTypeSrv:
      return "SRV";
    case kTypeHttps:
      return "HTTPS";
    default:
      return "TYPE" + std::to_string(qtype);
  }
}

}  // namespace edgecap::gen
