// `edgecap-gen split`: distributes a capture's frames over N files the way a
// NIC with symmetric Toeplitz RSS distributes them over N RX queues, so tests
// can feed "hardware-dispatched" queues to edgecap (one file per queue).
//
//   absl::Status s = gen::SplitCapture("mix.pcap", 4, "mix-q");
//   // mix-q.0.pcap ... mix-q.3.pcap, same link type and time precision
#ifndef EDGECAP_APPS_EDGECAP_GEN_SPLIT_H_
#define EDGECAP_APPS_EDGECAP_GEN_SPLIT_H_

#include <string>

#include "absl/status/status.h"

namespace edgecap::gen {

absl::Status SplitCapture(const std::string& input, int queues,
                          const std::string& prefix);

}  // namespace edgecap::gen

#endif  // EDGECAP_APPS_EDGECAP_GEN_SPLIT_H_
