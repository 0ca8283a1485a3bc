#include "lib/parse/anomaly.h"

namespace edgecap::parse {

std::string_view AnomalyName(Anomaly anomaly) {
  switch (anomaly) {
    case Anomaly::kNone:
      return "none";
    case Anomaly::kTruncatedLinkHeader:
      return "truncated_link_header";
    case Anomaly::kTooManyVlanTags:
      return "too_many_vlan_tags";
    case Anomaly::kUnsupportedEtherType:
      return "unsupported_ether_type";
    case Anomaly::kTruncatedIpv4:
      return "truncated_ipv4";
    case Anomaly::kIpVersionMismatch:
      return "ip_version_mismatch";
    case Anomaly::kBadIpv4HeaderLength:
      return "bad_ipv4_header_length";
    case Anomaly::kBadIpv4TotalLength:
      return "bad_ipv4_total_length";
    case Anomaly::kIpv4LaterFragment:
      return "ipv4_later_fragment";
    case Anomaly::kTruncatedIpv6:
      return "truncated_ipv6";
    case Anomaly::kBadIpv6PayloadLength:
      return "bad_ipv6_payload_length";
    case Anomaly::kTooManyIpv6ExtensionHeaders:
      return "too_many_ipv6_extension_headers";
    case Anomaly::kTruncatedIpv6ExtensionHeader:
      return "truncated_ipv6_extension_header";
    case Anomaly::kIpv6LaterFragment:
      return "ipv6_later_fragment";
    case Anomaly::kUnsupportedIpProtocol:
      return "unsupported_ip_protocol";
    case Anomaly::kTruncatedUdp:
      return "truncated_udp";
    case Anomaly::kBadUdpLength:
      return "bad_udp_length";
    case Anomaly::kTruncatedTcp:
      return "truncated_tcp";
    case Anomaly::kBadTcpHeaderLength:
      return "bad_tcp_header_length";
    case Anomaly::kTruncatedIcmp:
      return "truncated_icmp";
    case Anomaly::kIcmpQuoteTruncated:
      return "icmp_quote_truncated";
    case Anomaly::kIcmpQuoteGarbage:
      return "icmp_quote_garbage";
    case Anomaly::kDnsTruncatedHeader:
      return "dns_truncated_header";
    case Anomaly::kDnsTruncatedQuestion:
      return "dns_truncated_question";
    case Anomaly::kDnsLabelTooLong:
      return "dns_label_too_long";
    case Anomaly::kDnsNameTooLong:
      return "dns_name_too_long";
    case Anomaly::kDnsForwardPointer:
      return "dns_forward_pointer";
    case Anomaly::kDnsTooManyPointers:
      return "dns_too_many_pointers";
    case Anomaly::kDnsBadLabelType:
      return "dns_bad_label_type";
    case Anomaly::kDnsBogusCounts:
      return "dns_bogus_counts";
    case Anomaly::kDnsTruncatedRecord:
      return "dns_truncated_record";
    case Anomaly::kDnsTcpLengthMismatch:
      return "dns_tcp_length_mismatch";
    case Anomaly::kCount:
      break;
  }
  return "unknown";
}

}  // namespace edgecap::parse
