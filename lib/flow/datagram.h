// Whether a UDP datagram's lengths agree with its IP header, for the flow
// worker to skip malformed DNS frames instead of tracking them. A capture
// cut by its snap length is fine (the IP datagram and the UDP datagram are
// cut together, the message decodes as far as it goes); what is not fine is
// UDP claiming more than IP carries, or IP claiming bytes that are neither
// UDP's nor captured (a bogus IPv4 total length / IPv6 payload length). The
// generator's `malformed` scenario has both; tshark decodes them as DNS, the
// ground truth does not count them as transactions.
//
//   parse::Packet p;
//   parse::DecodeFrame(link, frame, &p);
//   if (!flow::UdpLengthsAgree(p, frame.size())) ++malformed;  // skip it
#ifndef EDGECAP_LIB_FLOW_DATAGRAM_H_
#define EDGECAP_LIB_FLOW_DATAGRAM_H_

#include <cstddef>

#include "lib/parse/packet.h"

namespace edgecap::flow {

inline bool UdpLengthsAgree(const parse::Packet& p, size_t frame_length) {
  if (p.transport != parse::Transport::kUdp || p.ip.first_fragment ||
      p.l4_offset <= p.l3_offset) {
    return true;  // a first fragment's UDP length covers later fragments
  }
  const size_t ip_header = p.l4_offset - p.l3_offset;
  if (p.ip.total_length < ip_header) return false;
  const size_t ip_payload = p.ip.total_length - ip_header;
  if (p.l4_length > ip_payload) return false;
  return p.l4_length == ip_payload ||
         p.l3_offset + size_t{p.ip.total_length} <= frame_length;
}

}  // namespace edgecap::flow

#endif  // EDGECAP_LIB_FLOW_DATAGRAM_H_
