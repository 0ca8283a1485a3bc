// The general frame decoder behind DecodeFrame's short path, for the test
// that holds the two to the same results (packet_test); not for callers.
#ifndef EDGECAP_LIB_PARSE_PACKET_INTERNAL_H_
#define EDGECAP_LIB_PARSE_PACKET_INTERNAL_H_

#include "lib/parse/packet.h"

namespace edgecap::parse::internal {

// DecodeFrame without its short path for Ethernet/IPv4/IPv6/UDP frames.
Anomaly DecodeFrameGeneral(LinkType link, Bytes frame, Packet* out);

}  // namespace edgecap::parse::internal

#endif  // EDGECAP_LIB_PARSE_PACKET_INTERNAL_H_
