// DPDK under a run: EAL (from the options' shortcut, --port devices or raw
// EAL arguments), the ports with their profiles, and the mbuf pool. Whatever
// was started is stopped when the Dataplane goes away, ports before EAL, so
// every return path of a run cleans up.
//
//   Dataplane dp;
//   if (absl::Status s = dp.StartEal(o, plan, input); !s.ok()) return s;
//   ... telemetry, which needs EAL but not the ports ...
//   if (absl::Status s = dp.StartPorts(o, plan); !s.ok()) return s;
//   pipeline::Pipeline pipe(config, dp.pool(), ...);
#ifndef EDGECAP_APPS_EDGECAP_DATAPLANE_H_
#define EDGECAP_APPS_EDGECAP_DATAPLANE_H_

#include <rte_mempool.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "apps/edgecap/options.h"
#include "apps/edgecap/preflight.h"
#include "lib/pipeline/profile.h"

namespace edgecap::app {

class Dataplane {
 public:
  // Each worker's ring from the dispatcher (or the RX queue it owns).
  static constexpr uint32_t kRingSize = 1024;

  Dataplane() = default;
  Dataplane(const Dataplane&) = delete;
  Dataplane& operator=(const Dataplane&) = delete;
  ~Dataplane();

  absl::Status StartEal(const Options& o, const Plan& plan, const Input& input);
  // Probes or finds the ports, loads their profiles, creates the pool and
  // starts every port with plan.queues RX queues.
  absl::Status StartPorts(const Options& o, const Plan& plan);

  const std::vector<uint16_t>& ports() const { return ports_; }
  const std::vector<pipeline::PortProfile>& profiles() const {
    return profiles_;
  }
  rte_mempool* pool() const { return pool_; }
  const std::string& profile_dir() const { return profile_dir_; }
  // --duration: net_pcap loops over the capture.
  bool replay() const { return replay_; }

 private:
  bool eal_started_ = false;
  bool replay_ = false;
  uint32_t mbufs_ = 0;
  uint16_t mbuf_size_ = 0;
  std::string profile_dir_;
  std::vector<uint16_t> ports_;
  std::vector<pipeline::PortProfile> profiles_;
  std::vector<uint16_t> started_ports_;
  rte_mempool* pool_ = nullptr;
};

}  // namespace edgecap::app

#endif  // EDGECAP_APPS_EDGECAP_DATAPLANE_H_
