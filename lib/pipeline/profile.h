// Port profiles: how edgecap sets up a NIC or vdev (queues, descriptors,
// mempool, RSS hash fields and key, where packet time comes from), read from
// drivers-config/<name>.toml. One file per driver family; the reasons for the
// numbers are comments in the files.
//
//   absl::StatusOr<PortProfile> p =
//       pipeline::FindProfile("drivers-config", "net_ixgbe");
//   // p->rx_descriptors, p->rss_hash_fields ...
#ifndef EDGECAP_LIB_PIPELINE_PROFILE_H_
#define EDGECAP_LIB_PIPELINE_PROFILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/pipeline/packet_time.h"

namespace edgecap::pipeline {

struct PortProfile {
  std::string name;                  // file stem: "ixgbe"
  std::vector<std::string> drivers;  // rte_eth_dev_info.driver_name values
  uint16_t max_queues = 1;           // RX queues the driver can spread over
  uint16_t rx_descriptors = 1024;
  uint32_t mempool_mbufs = 16383;  // per port, before pipeline minimums
  uint32_t mempool_cache = 256;
  uint64_t rss_hash_fields = 0;  // RTE_ETH_RSS_* bits; 0: no RSS
  bool symmetric_key = true;     // program the repeated 0x6d5a key
  TimeSource packet_time = TimeSource::kTsc;
  bool promiscuous = true;
};

// Parses one profile file. Errors name the file and the bad key.
absl::StatusOr<PortProfile> LoadProfile(const std::string& path);

// The profile in `dir` whose `drivers` list holds `driver_name`.
absl::StatusOr<PortProfile> FindProfile(const std::string& dir,
                                        const std::string& driver_name);

// "ipv4" -> RTE_ETH_RSS_IPV4 etc.; 0 for an unknown name.
uint64_t RssFieldByName(const std::string& name);

}  // namespace edgecap::pipeline

#endif  // EDGECAP_LIB_PIPELINE_PROFILE_H_
