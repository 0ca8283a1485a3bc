// Zero-copy DNS message decoding with RFC 1035 limits: 63-octet labels,
// 255-octet names, compression pointers only backwards and at most
// kMaxPointerHops of them. The qname comes out lowercase and dotted, without
// the trailing dot (the root is "."), in a buffer inside DnsMessage.
//
//   parse::DnsMessage m;
//   if (parse::DecodeDns(udp_payload, parse::DnsDepth::kQuestion, &m) ==
//       parse::Anomaly::kNone && m.has_question) {
//     Lookup(m.qname());   // "yummyrecipesforme.com"
//   }
//
// DNS over TCP: DecodeDnsTcp() reads the 2-byte length prefix of a message
// that starts a segment, then decodes the message.
//
// Where the text is rarely needed (a flow worker matching responses to
// queries), DecodeDnsQuestion() validates the question the same way but
// only hashes the name (question_hash); MaterializeQname() writes the text
// later, while the message bytes are still there:
//
//   parse::DecodeDnsQuestion(udp_payload, &m);
//   if (m.has_question && m.question_hash == stored) ...;
//   parse::MaterializeQname(&m);   // now m.qname() is the text
#ifndef EDGECAP_LIB_PARSE_DNS_H_
#define EDGECAP_LIB_PARSE_DNS_H_

#include <cstdint>
#include <string_view>

#include "lib/parse/anomaly.h"
#include "lib/parse/packet.h"

namespace edgecap::parse {

inline constexpr int kMaxLabelLength = 63;
inline constexpr int kMaxNameLength = 255;  // wire octets
inline constexpr int kMaxPointerHops = 16;
// Dotted text can be longer than the wire name: a '.' inside a label is
// written "\." and a non-printable byte "\DDD", as tcpdump and dig do.
inline constexpr int kMaxQnameText = 4 * kMaxNameLength;
inline constexpr int kMaxAddressesKept = 8;

enum class DnsDepth : uint8_t {
  kHeader,    // header only
  kQuestion,  // header + first question + (if cheap) nothing else
  kAll,       // + walk every record: EDNS0 OPT, A/AAAA rdata
};

struct DnsHeader {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;

  bool qr() const { return flags & 0x8000; }
  uint8_t opcode() const { return (flags >> 11) & 0xf; }
  bool aa() const { return flags & 0x0400; }
  bool tc() const { return flags & 0x0200; }
  bool rd() const { return flags & 0x0100; }
  bool ra() const { return flags & 0x0080; }
  bool ad() const { return flags & 0x0020; }
  bool cd() const { return flags & 0x0010; }
  uint8_t rcode() const { return flags & 0xf; }
};

// Response codes edgecap reasons about.
inline constexpr uint8_t kRcodeNoError = 0, kRcodeFormErr = 1,
                         kRcodeServFail = 2, kRcodeNxDomain = 3,
                         kRcodeNotImp = 4, kRcodeRefused = 5;

struct DnsMessage {
  DnsHeader header;
  bool has_question = false;
  uint16_t qtype = 0, qclass = 0;
  uint16_t qname_length = 0;  // text length in qname_text
  uint16_t question_end = 0;  // offset just past the first question
  // NUL-terminated for convenience; 7 spare bytes: the decoder writes whole
  // words.
  char qname_text[kMaxQnameText + 8];
  // Set by DecodeDnsQuestion*: qname_text is not written yet.
  bool qname_pending = false;
  // Of the first question's wire labels, case-folded: equal for names whose
  // text is equal (and, but for collisions, only for them). Seeded per
  // process: not comparable across processes.
  uint64_t name_hash = 0;
  // name_hash with qtype and qclass.
  uint64_t question_hash = 0;
  // The message, for MaterializeQname() (lazy decoding only).
  const uint8_t* wire = nullptr;
  uint32_t wire_size = 0;

  // Filled with DnsDepth::kAll.
  bool has_edns = false;
  uint16_t edns_udp_size = 0;
  uint8_t edns_ext_rcode_hi = 0;  // full rcode = hi << 4 | header rcode
  uint8_t edns_version = 0;
  bool edns_do = false;
  uint8_t address_count = 0;  // A/AAAA answers kept, up to kMaxAddressesKept
  IpAddress addresses[kMaxAddressesKept];

  // Empty while qname_pending: see MaterializeQname().
  std::string_view qname() const { return {qname_text, qname_length}; }
  uint16_t full_rcode() const {
    return static_cast<uint16_t>(edns_ext_rcode_hi) << 4 | header.rcode();
  }
};

Anomaly DecodeDns(Bytes message, DnsDepth depth, DnsMessage* out);

// `segment` is a TCP payload that starts a DNS message: 2-byte length, then
// the message (possibly continued in later segments: then only what is here
// is decoded and, if the question is complete, that is enough).
Anomaly DecodeDnsTcp(Bytes segment, DnsDepth depth, DnsMessage* out);

// DecodeDns(message, DnsDepth::kQuestion, out) (same anomalies, same fields
// except that a question cut after its name leaves no name text here, where
// DecodeDns keeps it) without writing the qname text: out->qname_pending until
// MaterializeQname(out), which must run while `message` is still valid.
Anomaly DecodeDnsQuestion(Bytes message, DnsMessage* out);
// The same for DecodeDnsTcp(segment, DnsDepth::kQuestion, out).
Anomaly DecodeDnsTcpQuestion(Bytes segment, DnsMessage* out);
// Writes qname_text/qname_length of a lazily decoded message (no-op
// otherwise).
void MaterializeQname(DnsMessage* m);

}  // namespace edgecap::parse

#endif  // EDGECAP_LIB_PARSE_DNS_H_
