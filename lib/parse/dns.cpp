#include "lib/parse/dns.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "lib/parse/name_hash.h"

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

// `m` is the start of the message holding the label (bytes before the label
// may be read, never before `m`); `o` must have 8 bytes of room (qname_text
// has them past its longest text).
inline char* AppendLabel(const uint8_t* m, const uint8_t* label, size_t len,
                         char* o) {
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t x;
    std::memcpy(&x, label + i, 8);
    if (!PlainChunk(x)) break;
    x = LowerChunk(x);
    std::memcpy(o, &x, 8);
    o += 8;
  }
  if (i < len && i + 8 > len && static_cast<size_t>(label - m) + len >= 8) {
    // The last 1-7 bytes (most labels are shorter than 8): one word loaded
    // so that it ends with the label, the bytes before it replaced by 'a'.
    static_assert(std::endian::native == std::endian::little);
    const size_t r = len - i;
    uint64_t x;
    std::memcpy(&x, label + len - 8, 8);
    x = (x >> (8 * (8 - r))) | (('a' * kOnes) << (8 * r));
    if (PlainChunk(x)) {
      x = LowerChunk(x);
      std::memcpy(o, &x, 8);  // the bytes past r are overwritten or unused
      return o + r;
    }
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

#if defined(EDGECAP_NAME_HASH_AVX512)
// The text of a name of up to 64 wire octets (root included) without
// pointers, written with a few vector operations: the bytes after the first
// length octet, the other length octets replaced by dots, 'A'..'Z'
// lowercased; what AppendLabel writes, for names without a byte it escapes
// (kPlain's zeros). False for anything else (longer, compressed, the root
// alone, a byte that dig prints escaped): ReadQname<true> writes those. A name
// was materialized for ~18% of the mix's packets (NXDOMAIN records, watch-list
// cache misses), at ~300 instructions a name in the label-by-label writer.
bool WriteQuickText(const uint8_t* m, size_t size, size_t pos,
                    DnsMessage* out) {
  uint64_t lengths = 0;  // where the length octets are, from pos
  size_t root = 0;
  for (;;) {
    if (pos + root >= size || root >= name_hash::kBlock) return false;
    const uint8_t len = m[pos + root];
    if (len == 0) break;
    if (len & 0xc0) return false;
    lengths |= uint64_t{1} << root;
    root += 1 + len;
  }
  if (root == 0) return false;
  const size_t text_length = root - 1;
  const __mmask64 text = _bzhi_u64(~uint64_t{0}, text_length);
  const __mmask64 dots = static_cast<__mmask64>(lengths >> 1) & text;
  const __m512i v = _mm512_maskz_loadu_epi8(text, m + pos + 1);
  const __mmask64 printable =
      _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8(0x21)),
                             _mm512_set1_epi8(0x7f - 0x21));
  const __mmask64 special = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('.')) |
                            _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\'));
  if ((text & ~dots & ~(printable & ~special)) != 0) return false;
  const __mmask64 upper = _mm512_cmplt_epu8_mask(
      _mm512_sub_epi8(v, _mm512_set1_epi8('A')), _mm512_set1_epi8(26));
  __m512i t = _mm512_mask_blend_epi8(
      upper, v, _mm512_or_si512(v, _mm512_set1_epi8(0x20)));
  t = _mm512_mask_blend_epi8(dots, t, _mm512_set1_epi8('.'));
  _mm512_mask_storeu_epi8(out->qname_text, text, t);
  out->qname_text[text_length] = '\0';
  out->qname_length = static_cast<uint16_t>(text_length);
  return true;
}
#endif

using name_hash::HashLabels;
using name_hash::Mix;

// The name at `start` was read without error and ends at `end`. Without
// pointers its labels sit in one piece; with them (rare in a question) they
// are gathered first.
uint64_t HashName(const uint8_t* m, size_t start, size_t end, bool pointers) {
  if (!pointers) return HashLabels(m + start, end - start);
  uint8_t buf[kMaxNameLength];
  size_t n = 0, pos = start;
  for (;;) {
    const uint8_t len = m[pos];
    if (len == 0) break;
    if ((len & 0xc0) == 0xc0) {
      pos = static_cast<size_t>(len & 0x3f) << 8 | m[pos + 1];
      continue;
    }
    std::memcpy(buf + n, m + pos, 1 + len);
    n += 1 + len;
    pos += 1 + len;
  }
  buf[n++] = 0;
  return HashLabels(buf, n);
}

// Reads the name at `pos` (into out->qname_text when `text`), following
// compression pointers. A pointer must point before itself (RFC 1035: "a
// prior occurrence"); a loop made of labels and backward pointers ends at the
// hop limit (or at the 255-octet limit, whichever comes first).
// A template on `kText`: with the text writer in the same loop the compiler
// ran out of registers and kept the walk's position and bounds in vector
// registers and on the stack, adding ~6 cycles to every label of the walk
// that only hashes (perf annotate of the replay).
template <bool kText>
Anomaly ReadQname(const uint8_t* m, size_t size, size_t pos, DnsMessage* out,
                  size_t* next) {
  const size_t start = pos;
  if constexpr (!kText) {
    // The usual question: up to kQuickLabels labels, no pointer, inside the
    // message. Walked a fixed number of steps (a label's length, or 0 from
    // the root octet on) without a branch on the lengths, where the general
    // walk below leaves its loop after a data-dependent number of labels.
    // Anything else is walked again there, which names the anomaly.
    constexpr int kQuickLabels = 5;
    if (pos < size) {
#if defined(EDGECAP_NAME_HASH_AVX512)
      // Loaded and folded before the walk, off the chain of its steps.
      const __m512i window = name_hash::FoldedBlock(
          m + pos, std::min(name_hash::kBlock, size - pos));
#endif
      size_t end = pos;
      unsigned lengths = 0;
      for (int i = 0; i < kQuickLabels; ++i) {
        const uint8_t len = m[std::min(end, size - 1)];
        lengths |= len;
        end += len + (len != 0);
      }
      if (end < size && m[end] == 0 && (lengths & 0xc0) == 0 &&
          end + 1 - start <= kMaxNameLength) {
        *next = end + 1;
        const size_t n = end + 1 - start;
#if defined(EDGECAP_NAME_HASH_AVX512)
        out->name_hash = n <= name_hash::kBlock
                             ? name_hash::HashFoldedName(window, n)
                             : HashLabels(m + start, n);
#else
        out->name_hash = HashLabels(m + start, n);
#endif
        return Anomaly::kNone;
      }
    }
  }
  char* const text_start = out->qname_text;
  char* o = text_start;
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
    if constexpr (kText) {
      if (o != text_start) *o++ = '.';
      o = AppendLabel(m, m + pos + 1, len, o);
    }
    pos += 1 + len;
  }
  if constexpr (kText) {
    if (o == text_start) *o++ = '.';
    *o = '\0';
    out->qname_length = static_cast<uint16_t>(o - text_start);
  }
  *next = hops == 0 ? pos : after;
  out->name_hash = HashName(m, start, pos, hops != 0);
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
  out->qname_pending = false;
  out->name_hash = 0;
  out->question_hash = 0;
  out->wire = nullptr;
  out->wire_size = 0;
  out->has_edns = false;
  out->edns_udp_size = 0;
  out->edns_ext_rcode_hi = 0;
  out->edns_version = 0;
  out->edns_do = false;
  out->address_count = 0;
}

// `partial`: the message continues beyond `size` (DNS over TCP split across
// segments), so running out of bytes after the question is not an anomaly.
// `text`: write the qname text now (else MaterializeQname() does, later).
Anomaly Decode(const uint8_t* m, size_t size, DnsDepth depth, bool partial,
               bool text, DnsMessage* out) {
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
    const Anomaly a = text ? ReadQname<true>(m, size, pos, out, &pos)
                           : ReadQname<false>(m, size, pos, out, &pos);
    if (a != Anomaly::kNone) {
      out->qname_text[0] = '\0';  // no half names: qname() stays ""
      out->qname_length = 0;
      return a;
    }
    if (pos + 4 > size) {
      out->qname_pending = false;
      return Anomaly::kDnsTruncatedQuestion;
    }
    out->qtype = Load16(m + pos);
    out->qclass = Load16(m + pos + 2);
    pos += 4;
    out->has_question = true;
    out->question_hash =
        Mix(out->name_hash ^ (uint64_t{out->qtype} << 16 | out->qclass),
            0x2545f4914f6cdd1dull);
    if (!text) {
      out->qname_pending = true;
      out->wire = m;
      out->wire_size = static_cast<uint32_t>(size);
    }
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
  return Decode(message.data(), message.size(), depth, /*partial=*/false,
                /*text=*/true, out);
}

Anomaly DecodeDnsQuestion(Bytes message, DnsMessage* out) {
  return Decode(message.data(), message.size(), DnsDepth::kQuestion,
                /*partial=*/false, /*text=*/false, out);
}

namespace {
Anomaly DecodeTcp(Bytes segment, DnsDepth depth, bool text, DnsMessage* out) {
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
                /*partial=*/have < length, text, out);
}
}  // namespace

Anomaly DecodeDnsTcp(Bytes segment, DnsDepth depth, DnsMessage* out) {
  return DecodeTcp(segment, depth, /*text=*/true, out);
}

Anomaly DecodeDnsTcpQuestion(Bytes segment, DnsMessage* out) {
  return DecodeTcp(segment, DnsDepth::kQuestion, /*text=*/false, out);
}

void MaterializeQname(DnsMessage* m) {
  if (!m->qname_pending) return;
  m->qname_pending = false;
#if defined(EDGECAP_NAME_HASH_AVX512)
  // name_hash is already the name's: only the text is missing.
  if (WriteQuickText(m->wire, m->wire_size, kHeaderSize, m)) return;
#endif
  size_t next;
  // Read once already without error: the same walk cannot fail now.
  ReadQname<true>(m->wire, m->wire_size, kHeaderSize, m, &next);
}

}  // namespace edgecap::parse
