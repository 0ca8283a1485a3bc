// edgecap's command line and config file. DPDK convention:
//   edgecap [EAL options] -- [edgecap options]
// and shortcuts that need no hugepages and no bound NIC:
//   edgecap --pcap FILE [--pcap FILE2 ...] [options]   (net_pcap; one file
//           per RX queue for hardware dispatch)
//   edgecap --iface IFNAME [options]                    (net_af_packet)
// A --config FILE.toml holds the same settings (keys are the long option names
// with '-' written '_'); the command line overrides it.
//
//   absl::StatusOr<Options> o = ParseCommandLine(argc, argv);
//   if (!o.ok()) { fprintf(stderr, "edgecap: %s\n", ...); return 2; }
#ifndef EDGECAP_APPS_EDGECAP_OPTIONS_H_
#define EDGECAP_APPS_EDGECAP_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace edgecap::app {

enum class Dispatch { kAuto, kHardware, kSoftware };

struct Thresholds {
  double query_timeout_seconds = 5;
  double window_seconds = 300;
  uint32_t min_failures = 3;
  double min_failure_ratio = 0.5;
  double recovery_seconds = 10;
  double quiet_seconds = 300;
};

struct Options {
  std::vector<std::string> eal_args;  // before "--" (DPDK convention), argv[0]
  bool shortcut = false;              // --pcap / --iface build the EAL args
  std::vector<std::string> pcap_files;
  std::string iface;
  uint16_t workers = 0;  // 0: not given (1, or one per --pcap file)
  Dispatch dispatch = Dispatch::kAuto;
  std::string incidents_path;
  std::string report_path;
  std::string rules_path;
  std::string config_path;
  std::string profiles_dir;  // drivers-config
  uint32_t memory_mb = 0;    // 0: computed
  int progress = -1;         // -1: when stderr is a terminal
  bool quiet = false;        // no summary/report on stdout
  bool verbose = false;      // keep DPDK's own log lines
  bool linger = false;       // offline: keep serving telemetry after the end
  // Benchmark: replay the --pcap file in a loop (net_pcap infinite_rx) as
  // live traffic for this long, then print the packet rate. 0: off.
  double duration_seconds = 0;
  std::string file_prefix;  // EAL --file-prefix for the shortcuts
  bool help = false;
  bool version = false;
  Thresholds thresholds;
};

absl::StatusOr<Options> ParseCommandLine(int argc, char** argv);

std::string Usage();

}  // namespace edgecap::app

#endif  // EDGECAP_APPS_EDGECAP_OPTIONS_H_
