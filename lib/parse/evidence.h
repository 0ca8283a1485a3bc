// One tcpdump -n style line per packet, for incident evidence and reports.
// For DNS queries and ICMP/ICMPv6 unreachable errors the line is byte-identical
// to what `tcpdump -n -r` prints for the same packet; other packets are best
// effort. Runs off the fast path (the stats lcore), so it may allocate.
//
//   std::string line = parse::FormatEvidence(ts_ns, LinkType::kEthernet,
//   frame);
//   // "13:24:32.192571 IP 192.51.100.15.52444 > 203.0.113.2.53: 35084+ A?
//   //  yummyrecipesforme.com. (39)"
#ifndef EDGECAP_LIB_PARSE_EVIDENCE_H_
#define EDGECAP_LIB_PARSE_EVIDENCE_H_

#include <cstdint>
#include <string>

#include "lib/parse/packet.h"

namespace edgecap::parse {

// `timestamp_ns` is nanoseconds since the Unix epoch (UTC); tcpdump prints
// microseconds of the local time of day, and edgecap always runs in UTC.
std::string FormatEvidence(int64_t timestamp_ns, LinkType link, Bytes frame);

}  // namespace edgecap::parse

#endif  // EDGECAP_LIB_PARSE_EVIDENCE_H_
