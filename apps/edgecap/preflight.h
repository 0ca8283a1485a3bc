// Checks and plans made before EAL starts, so that a bad capture, an
// unwritable output or an impossible worker layout fails with one line and
// without hugepages, ports or files touched.
//
//   absl::StatusOr<Input> in = CheckCaptures(o.pcap_files);
//   absl::StatusOr<Plan> plan = PlanDispatch(o, o.pcap_files.size());
//   absl::Status s = CheckWritable("--report", o.report_path);
#ifndef EDGECAP_APPS_EDGECAP_PREFLIGHT_H_
#define EDGECAP_APPS_EDGECAP_PREFLIGHT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "apps/edgecap/options.h"
#include "lib/parse/packet.h"

namespace edgecap::app {

struct Input {
  parse::LinkType link = parse::LinkType::kEthernet;
  std::vector<uint64_t> records;  // per --pcap file (RX queue)
  size_t max_frame = 0;           // longest captured record
};

// Opens every capture: a missing, unreadable or non-pcap file, or an
// unsupported link type, fails here with one line naming it.
absl::StatusOr<Input> CheckCaptures(const std::vector<std::string>& files);

struct Plan {
  uint16_t workers = 1;
  bool hardware = true;
  uint16_t queues = 1;  // RX queues per port

  // The stats lcore, the workers, and the dispatcher of software dispatch.
  unsigned lcores() const { return 1u + workers + (hardware ? 0u : 1u); }
};

absl::StatusOr<Plan> PlanDispatch(const Options& o, size_t pcap_files);

// Outputs are written at the end of an offline run: refuse at start-up what
// could not be written then, without creating or truncating anything.
absl::Status CheckWritable(const char* option, const std::string& path);

}  // namespace edgecap::app

#endif  // EDGECAP_APPS_EDGECAP_PREFLIGHT_H_
