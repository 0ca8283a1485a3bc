// Builds DNS messages (RFC 1035 wire format) for the generator: queries with
// RD set and optional EDNS, and responses echoing the question with an answer
// fitting the qtype (A, AAAA, MX, TXT, ...) or none for error rcodes.
//
//   uint8_t msg[512];
//   size_t n = gen::BuildDnsQuery(msg, 35084, "yummyrecipesforme.com",
//                                 gen::kTypeA, /*edns=*/false);
//   size_t m = gen::BuildDnsResponse(msg, 35084, "example.com", gen::kTypeA,
//                                    gen::kRcodeNoError, true, 0x1234);
#ifndef EDGECAP_APPS_EDGECAP_GEN_DNS_BUILDER_H_
#define EDGECAP_APPS_EDGECAP_GEN_DNS_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace edgecap::gen {

inline constexpr uint16_t kTypeA = 1, kTypeNs = 2, kTypeCname = 5, kTypeSoa = 6,
                          kTypePtr = 12, kTypeMx = 15, kTypeTxt = 16,
                          kTypeAaaa = 28, kTypeSrv = 33, kTypeHttps = 65;
inline constexpr uint8_t kRcodeNoError = 0, kRcodeFormErr = 1,
                         kRcodeServFail = 2, kRcodeNxDomain = 3,
                         kRcodeRefused = 5;

// Largest message these functions write (names up to 253 characters).
inline constexpr size_t kMaxDnsMessage = 600;

// Writes `name` ("www.example.com", no trailing dot) as labels; returns the
// bytes written.
size_t EncodeName(uint8_t* out, std::string_view name);

size_t BuildDnsQuery(uint8_t* out, uint16_t txid, std::string_view qname,
                     uint16_t qtype, bool edns);

// `answer_seed` picks the answer's addresses so that answers differ between
// names but not between runs.
size_t BuildDnsResponse(uint8_t* out, uint16_t txid, std::string_view qname,
                        uint16_t qtype, uint8_t rcode, bool edns,
                        uint32_t answer_seed);

// "A", "AAAA", "MX", ... or "TYPE123", as edgecap reports qtypes.
std::string QtypeName(uint16_t qtype);

}  // namespace edgecap::gen

#endif  // EDGECAP_APPS_EDGECAP_GEN_DNS_BUILDER_H_
