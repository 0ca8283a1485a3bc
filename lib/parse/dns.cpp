#include "lib/parse/dns.h"

#include <array>
#include <cstring>

namespace edgecap::parse {
namespace {

inline uint16_t Load16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
inline uint32_t Load32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

constexpr uint16_t kTypeA = 1, kTypeAaaa = 28, kTypeOpt = 41, kClassIn = 1;
constexpr size_t kHeaderSize = 12;
constexpr size_t kMinQuestion = 5;  // root name + type + class
constexpr size_t kMinRecord = 11;   // root name + type/class/ttl/rdlength

// One lookup per label byte: the lowercase character to emit, or 0 when the
// byte must be escaped the way dig prints it ('.' and '\' with a backslash,
// anything outside '!'..'~' as \DDD).
constexpr std::array<char, 256> MakePlainTable() {
  std::array<char, 256> t{};
  for (int c = 0x21; c <= 0x7e; ++c) {
    t[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  }
  t['.'] = 0;
  t['\\'] = 0;
  return t;
}
constexpr std::array<char, 256> kPlain = MakePlainTable();

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;
inline uint64_t HasZeroByte(uint64_t v) { return (v - kOnes) & ~v & kHighs; }

// Eight label bytes at a time while none needs escaping (the usual case):
// then the text is the bytes themselves with 'A'..'Z' lowercased.
inline bool PlainChunk(uint64_t x) {
  const uint64_t below = (x - 0x21 * kOnes) & ~x & kHighs;  // any < 0x21
  return ((x & kHighs) | below | HasZeroByte(x ^ (0x7f * kOnes)) |
          HasZeroByte(x ^ ('.' * kOnes)) | HasZeroByte(x ^ ('\\' * kOnes))) ==
         0;
}
inline uint64_t LowerChunk(uint64_t x) {
  // All bytes are below 0x80 here, so the additions cannot carry across.
  const uint64_t ge_a = x + (0x80 - 'A') * kOnes;
  const uint64_t gt_z = x + (0x80 - 'Z' - 1) * kOnes;
  return x | ((ge_a & ~gt_z & kHighs) >> 2);
}

inline char* AppendLabel(const uint8_t* label, size_t len, char* o) {
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t x;
    std::memcpy(&x, label + i, 8);
    if (!PlainChunk(x)) break;
    x = LowerChunk(x);
    std::memcpy(o, &x, 8);
    o += 8;
  }
  for (; i < len; ++i) {
    const uint8_t c = label[i];
    const char plain = kPlain[c];
    if (plain != 0) {
      *o++ = plain;
    } else if (c == '.' || c == '\\') {
      *o++ = '\\';
      *o++ = static_cast<char>(c);
    } else {
      *o++ = '\\';
      *o++ = static_cast<char>('0' + c / 100);
      *o++ = static_cast<char>('0' + c / 10 % 10);
      *o++ = static_cast<char>('0' + c % 10);
    }
  }
  return o;
}

// Reads the name at `pos` into out->qname_text, following compression
// pointers. A pointer must point before itself (RFC 1035: "a prior
// occurrence"); a loop made of labels and backward pointers ends at the hop
// limit (or at the 255-octet limit, whichever comes first).
Anomaly ReadQname(const uint8_t* m, size_t size, size_t pos, DnsMessage* out,
                  size_t* next) {
  char* const text = out->qname_text;
  char* o = text;
  size_t after = 0;  // just past the name where it sits in the message
  int hops = 0;
  size_t wire = 1;  // the root octet
  for (;;) {
    if (pos >= size) return Anomaly::kDnsTruncatedQuestion;
    const uint8_t len = m[pos];
    if (len == 0) {
      ++pos;
      break;
    }
    switch (len & 0xc0) {
      case 0xc0: {
        if (pos + 2 > size) return Anomaly::kDnsTruncatedQuestion;
        const size_t target = static_cast<size_t>(len & 0x3f) << 8 | m[pos + 1];
        if (hops == 0) after = pos + 2;
        if (target >= pos) return Anomaly::kDnsForwardPointer;
        if (++hops > kMaxPointerHops) return Anomaly::kDnsTooManyPointers;
        pos = target;
        continue;
      }
      case 0x40:  // a length above 63 (or RFC 6891's retired extended type)
        return Anomaly::kDnsLabelTooLong;
      case 0x80:
        return Anomaly::kDnsBadLabelType;
      default:
        break;
    }
    wire += 1 + len;
    if (wire > kMaxNameLength) return Anomaly::kDnsNameTooLong;
    if (pos + 1 + len > size) return Anomaly::kDnsTruncatedQuestion;
    if (o != text) *o++ = '.';
    o = AppendLabel(m + pos + 1, len, o);
    pos += 1 + len;
  }
  if (o == text) *o++ = '.';
  *o = '\0';
  out->qname_length = static_cast<uint16_t>(o - text);
  *next = hops == 0 ? pos : after;
  return Anomaly::kNone;
}

// Steps over a name without expanding it: the name ends at its first
// pointer, which only has to point backwards.
Anomaly SkipName(const uint8_t* m, size_t size, size_t pos, size_t* next,
                 Anomaly truncated) {
  size_t wire = 1;
  for (;;) {
    if (pos >= size) return truncated;
    const uint8_t len = m[pos];
    if (len == 0) {
      *next = pos + 1;
      return Anomaly::kNone;
    }
    switch (len & 0xc0) {
      case 0xc0: {
        if (pos + 2 > size) return truncated;
        const size_t target = static_cast<size_t>(len & 0x3f) << 8 | m[pos + 1];
        if (target >= pos) return Anomaly::kDnsForwardPointer;
        *next = pos + 2;
        return Anomaly::kNone;
      }
      case 0x40:
        return Anomaly::kDnsLabelTooLong;
      case 0x80:
        return Anomaly::kDnsBadLabelType;
      default:
        break;
    }
    wire += 1 + len;
    if (wire > kMaxNameLength) return Anomaly::kDnsNameTooLong;
    pos += 1 + len;
  }
}

void Reset(DnsMessage* out) {
  out->header = DnsHeader{};
  out->has_question = false;
  out->qtype = out->qclass = 0;
  out->qname_length = 0;
  out->question_end = 0;
  out->qname_text[0] = '\0';
  out->has_edns = false;
  out->edns_udp_size = 0;
  out->edns_ext_rcode_hi = 0;
  out->edns_version = 0;
  out->edns_do = false;
  out->address_count = 0;
}

// `partial`: the message continues beyond `size` (DNS over TCP split across
// segments), so running out of bytes after the question is not an anomaly.
Anomaly Decode(const uint8_t* m, size_t size, DnsDepth depth, bool partial,
               DnsMessage* out) {
  Reset(out);
  if (size < kHeaderSize) return Anomaly::kDnsTruncatedHeader;
  DnsHeader& h = out->header;
  h.id = Load16(m);
  h.flags = Load16(m + 2);
  h.qdcount = Load16(m + 4);
  h.ancount = Load16(m + 6);
  h.nscount = Load16(m + 8);
  h.arcount = Load16(m + 10);
  // Every standard query asks one question; a response may legitimately
  // carry none (e.g. FORMERR).
  if (h.qdcount == 0 && !h.qr() && h.opcode() == 0) {
    return Anomaly::kDnsBogusCounts;
  }
  if (depth == DnsDepth::kHeader) return Anomaly::kNone;
  size_t pos = kHeaderSize;
  if (h.qdcount > 0) {
    const Anomaly a = ReadQname(m, size, pos, out, &pos);
    if (a != Anomaly::kNone) {
      out->qname_text[0] = '\0';  // no half names: qname() stays ""
      return a;
    }
    if (pos + 4 > size) return Anomaly::kDnsTruncatedQuestion;
    out->qtype = Load16(m + pos);
    out->qclass = Load16(m + pos + 2);
    pos += 4;
    out->has_question = true;
    out->question_end = static_cast<uint16_t>(pos);
  }
  if (depth == DnsDepth::kQuestion) return Anomaly::kNone;

  const size_t records = static_cast<size_t>(h.ancount) + h.nscount + h.arcount;
  const size_t more_questions = h.qdcount > 0 ? h.qdcount - 1u : 0;
  if (!partial &&
      pos + more_questions * kMinQuestion + records * kMinRecord > size) {
    return Anomaly::kDnsBogusCounts;
  }
  for (size_t i = 0; i < more_questions; ++i) {
    const Anomaly a =
        SkipName(m, size, pos, &pos, Anomaly::kDnsTruncatedQuestion);
    if (a == Anomaly::kDnsTruncatedQuestion && partial) return Anomaly::kNone;
    if (a != Anomaly::kNone) return a;
    if (pos + 4 > size) {
      return partial ? Anomaly::kNone : Anomaly::kDnsTruncatedQuestion;
    }
    pos += 4;
  }
  const size_t additional_from = static_cast<size_t>(h.ancount) + h.nscount;
  for (size_t i = 0; i < records; ++i) {
    const Anomaly a =
        SkipName(m, size, pos, &pos, Anomaly::kDnsTruncatedRecord);
    if (a == Anomaly::kDnsTruncatedRecord && partial) return Anomaly::kNone;
    if (a != Anomaly::kNone) return a;
    if (pos + 10 > size) {
      return partial ? Anomaly::kNone : Anomaly::kDnsTruncatedRecord;
    }
    const uint16_t type = Load16(m + pos);
    const uint16_t rclass = Load16(m + pos + 2);
    const uint32_t ttl = Load32(m + pos + 4);
    const size_t rdlength = Load16(m + pos + 8);
    const uint8_t* rdata = m + pos + 10;
    pos += 10 + rdlength;
    if (pos > size) {
      return partial ? Anomaly::kNone : Anomaly::kDnsTruncatedRecord;
    }
    if (i < h.ancount) {
      if (rclass == kClassIn && out->address_count < kMaxAddressesKept) {
        if (type == kTypeA && rdlength == 4) {
          out->addresses[out->address_count++] = IpAddress::V4(rdata);
        } else if (type == kTypeAaaa && rdlength == 16) {
          out->addresses[out->address_count++] = IpAddress::V6(rdata);
        }
      }
    } else if (i >= additional_from && type == kTypeOpt && !out->has_edns) {
      // RFC 6891: CLASS is the requestor's UDP payload size, TTL holds the
      // extended RCODE high bits, the version and the DO bit.
      out->has_edns = true;
      out->edns_udp_size = rclass;
      out->edns_ext_rcode_hi = static_cast<uint8_t>(ttl >> 24);
      out->edns_version = static_cast<uint8_t>(ttl >> 16);
      out->edns_do = ttl & 0x8000;
    }
  }
  return Anomaly::kNone;
}

}  // namespace

Anomaly DecodeDns(Bytes message, DnsDepth depth, DnsMessage* out) {
  return Decode(message.data(), message.size(), depth, /*partial=*/false, out);
}

Anomaly DecodeDnsTcp(Bytes segment, DnsDepth depth, DnsMessage* out) {
  if (segment.size() < 2) {
    Reset(out);
    return Anomaly::kDnsTruncatedHeader;
  }
  const size_t length = Load16(segment.data());
  if (length < kHeaderSize) {
    Reset(out);
    return Anomaly::kDnsTcpLengthMismatch;
  }
  const size_t have = segment.size() - 2;
  // Bytes beyond `length` belong to the next message of a pipelined stream.
  return Decode(segment.data() + 2, have < length ? have : length, depth,
                /*partial=*/have < length, out);
}

}  // namespace edgecap::parse
