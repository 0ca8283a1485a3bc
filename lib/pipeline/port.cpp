#include "lib/pipeline/port.h"

#include <rte_errno.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/pipeline/steering.h"

namespace edgecap::pipeline {
namespace {

absl::Status Failed(uint16_t port, const std::string& what, int rc) {
  return absl::InternalError(absl::StrCat("port ", port, ": ", what, ": ",
                                          rte_strerror(rc < 0 ? -rc : rc)));
}

}  // namespace

absl::StatusOr<std::string> DriverName(uint16_t port) {
  rte_eth_dev_info info{};
  const int rc = rte_eth_dev_info_get(port, &info);
  if (rc != 0) return Failed(port, "cannot read device info", rc);
  return std::string(info.driver_name != nullptr ? info.driver_name : "?");
}

absl::StatusOr<uint16_t> MaxRxQueues(uint16_t port) {
  rte_eth_dev_info info{};
  const int rc = rte_eth_dev_info_get(port, &info);
  if (rc != 0) return Failed(port, "cannot read device info", rc);
  return info.max_rx_queues;
}

absl::Status StartPort(uint16_t port, uint16_t rx_queues,
                       const PortProfile& profile, rte_mempool* pool) {
  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(port, &info);
  if (rc != 0) return Failed(port, "cannot read device info", rc);
  if (rx_queues > info.max_rx_queues) {
    return absl::InvalidArgumentError(absl::StrCat(
        "port ", port, " (", info.driver_name, ") has ", info.max_rx_queues,
        " RX queue(s), ", rx_queues, " needed"));
  }
  rte_eth_conf conf{};
  // The key must outlive rte_eth_dev_configure only; NICs take 40 or 52
  // bytes, and the repeated pattern is symmetric at any length.
  std::vector<uint8_t> key(info.hash_key_size > 0 ? info.hash_key_size
                                                  : kRssKeySize);
  for (size_t i = 0; i < key.size(); ++i) key[i] = (i % 2 == 0) ? 0x6d : 0x5a;
  const uint64_t hash = profile.rss_hash_fields & info.flow_type_rss_offloads;
  if (rx_queues > 1 && hash != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = hash;
    if (profile.symmetric_key) {
      conf.rx_adv_conf.rss_conf.rss_key = key.data();
      conf.rx_adv_conf.rss_conf.rss_key_len = static_cast<uint8_t>(key.size());
    }
  }
  if (profile.packet_time == TimeSource::kDynfieldMicros &&
      (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP) != 0) {
    conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
  }
  // edgecap never transmits; some drivers want a TX queue all the same.
  uint16_t tx_queues = 0;
  rc = rte_eth_dev_configure(port, rx_queues, tx_queues, &conf);
  if (rc != 0) {
    tx_queues = 1;
    rc = rte_eth_dev_configure(port, rx_queues, tx_queues, &conf);
  }
  if (rc != 0) return Failed(port, "cannot configure", rc);
  uint16_t rx_desc = profile.rx_descriptors, tx_desc = 512;
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_desc, &tx_desc);
  if (rc != 0) return Failed(port, "cannot adjust descriptors", rc);
  const int socket = rte_eth_dev_socket_id(port);
  for (uint16_t q = 0; q < rx_queues; ++q) {
    rte_eth_rxconf rxconf = info.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    rc = rte_eth_rx_queue_setup(
        port, q, rx_desc, socket < 0 ? SOCKET_ID_ANY : socket, &rxconf, pool);
    if (rc != 0)
      return Failed(port, absl::StrCat("cannot set up RX queue ", q), rc);
  }
  for (uint16_t q = 0; q < tx_queues; ++q) {
    rc = rte_eth_tx_queue_setup(port, q, tx_desc,
                                socket < 0 ? SOCKET_ID_ANY : socket, nullptr);
    if (rc != 0) return Failed(port, "cannot set up the TX queue", rc);
  }
  rc = rte_eth_dev_start(port);
  if (rc != 0) return Failed(port, "cannot start", rc);
  if (profile.promiscuous) rte_eth_promiscuous_enable(port);  // best effort
  // Redirection table as in steering.h: entry i -> (i % 128) % queues, so the
  // NIC, the dispatcher and re-steering agree on every flow's worker.
  if (rx_queues > 1 && info.reta_size > 0) {
    std::vector<rte_eth_rss_reta_entry64> reta(
        (info.reta_size + RTE_ETH_RETA_GROUP_SIZE - 1) /
        RTE_ETH_RETA_GROUP_SIZE);
    for (uint16_t i = 0; i < info.reta_size; ++i) {
      auto& group = reta[i / RTE_ETH_RETA_GROUP_SIZE];
      group.mask |= 1ULL << (i % RTE_ETH_RETA_GROUP_SIZE);
      group.reta[i % RTE_ETH_RETA_GROUP_SIZE] =
          static_cast<uint16_t>((i % kRetaSize) % rx_queues);
    }
    rc = rte_eth_dev_rss_reta_update(port, reta.data(), info.reta_size);
    if (rc != 0)
      return Failed(port, "cannot program the RSS redirection table", rc);
  }
  return absl::OkStatus();
}

PortDrops ReadPortDrops(uint16_t port) {
  rte_eth_stats stats{};
  PortDrops d;
  if (rte_eth_stats_get(port, &stats) == 0) {
    d.ipackets = stats.ipackets;
    d.imissed = stats.imissed;
    d.ierrors = stats.ierrors;
    d.rx_nombuf = stats.rx_nombuf;
  }
  return d;
}

void StopPort(uint16_t port) {
  rte_eth_dev_stop(port);
  rte_eth_dev_close(port);
}

}  // namespace edgecap::pipeline
