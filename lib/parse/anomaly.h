// Anomalies the decoders report instead of failing: one enumerator per thing
// that can be wrong with a packet, so the fast path can keep one counter each
// and move on.
//
//   parse::AnomalyCounters counters;
//   parse::Anomaly a = parse::DecodeFrame(link, frame, &packet);
//   counters.Count(a);   // kNone is counted too: it is the "clean" bucket
#ifndef EDGECAP_LIB_PARSE_ANOMALY_H_
#define EDGECAP_LIB_PARSE_ANOMALY_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace edgecap::parse {

enum class Anomaly : uint8_t {
  kNone = 0,
  // Link layer.
  kTruncatedLinkHeader,
  kTooManyVlanTags,
  kUnsupportedEtherType,  // not IPv4/IPv6 (ARP, LLDP, ...): not an error
  // IPv4.
  kTruncatedIpv4,
  kIpVersionMismatch,  // link says IPv4/IPv6, header says otherwise
  kBadIpv4HeaderLength,
  kBadIpv4TotalLength,
  kIpv4LaterFragment,  // non-first fragment: counted, not reassembled
  // IPv6.
  kTruncatedIpv6,
  kBadIpv6PayloadLength,
  kTooManyIpv6ExtensionHeaders,
  kTruncatedIpv6ExtensionHeader,
  kIpv6LaterFragment,
  // Transport.
  kUnsupportedIpProtocol,  // not UDP/TCP/ICMP/ICMPv6: not an error
  kTruncatedUdp,
  kBadUdpLength,
  kTruncatedTcp,
  kBadTcpHeaderLength,
  kTruncatedIcmp,
  // ICMP error quotes.
  kIcmpQuoteTruncated,  // quote too short for the inner IP header
  kIcmpQuoteGarbage,    // quote is not an IP header we can read
  // DNS.
  kDnsTruncatedHeader,
  kDnsTruncatedQuestion,
  kDnsLabelTooLong,
  kDnsNameTooLong,
  kDnsForwardPointer,
  kDnsTooManyPointers,
  kDnsBadLabelType,
  kDnsBogusCounts,
  kDnsTruncatedRecord,
  kDnsTcpLengthMismatch,
  kCount,
};

inline constexpr size_t kAnomalyCount = static_cast<size_t>(Anomaly::kCount);

// Stable snake_case name, used in telemetry and in exit summaries.
std::string_view AnomalyName(Anomaly anomaly);

// One counter per anomaly, written by exactly one lcore.
struct AnomalyCounters {
  std::array<uint64_t, kAnomalyCount> counts{};
  void Count(Anomaly anomaly) { ++counts[static_cast<size_t>(anomaly)]; }
  uint64_t operator[](Anomaly anomaly) const {
    return counts[static_cast<size_t>(anomaly)];
  }
};

}  // namespace edgecap::parse

#endif  // EDGECAP_LIB_PARSE_ANOMALY_H_
