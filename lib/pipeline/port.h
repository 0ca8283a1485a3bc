// Configures and starts one ethdev port from its PortProfile: RX queues (one
// per worker for hardware dispatch), descriptors, symmetric RSS (key and
// redirection table matching pipeline/steering.h), and the RX timestamp
// offload where the driver offers it.
//
//   absl::StatusOr<std::string> driver = pipeline::DriverName(port);
//   absl::Status s = pipeline::StartPort(port, queues, profile, pool);
//   ...
//   pipeline::StopPort(port);
#ifndef EDGECAP_LIB_PIPELINE_PORT_H_
#define EDGECAP_LIB_PIPELINE_PORT_H_

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/pipeline/profile.h"

namespace edgecap::pipeline {

absl::StatusOr<std::string> DriverName(uint16_t port);

// RX queues the port can offer.
absl::StatusOr<uint16_t> MaxRxQueues(uint16_t port);

absl::Status StartPort(uint16_t port, uint16_t rx_queues,
                       const PortProfile& profile, rte_mempool* pool);

// Drops seen by the port itself.
struct PortDrops {
  uint64_t ipackets = 0, imissed = 0, ierrors = 0, rx_nombuf = 0;
};
PortDrops ReadPortDrops(uint16_t port);

void StopPort(uint16_t port);

}  // namespace edgecap::pipeline

#endif  // EDGECAP_LIB_PIPELINE_PORT_H_
