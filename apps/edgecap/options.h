// edgecap's command line and config file. DPDK convention:
//   edgecap [EAL options] -- [edgecap options]
// and shortcuts that need no hugepages and no bound NIC:
//   edgecap --pcap FILE [--pcap FILE2 ...] [options]   (net_pcap; one file
//           per RX queue for hardware dispatch)
//   edgecap --iface IFNAME [options]                    (net_af_packet)
//   edgecap --port DEV[@PROFILE] [options]              (NICs / vdevs, EAL
//           arguments built from --lcores, --memory, --eal-arg)
// A --config FILE.toml holds the same settings, one key per option in
// sections (see ConfigKeys() and config/edgecap.example.toml); the command
// line overrides it. `--check-config FILE` validates one (config.h).
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

// --port DEVICE[@PROFILE]: a PCI address or vdev devargs, and the
// drivers-config profile to use instead of the one matched by driver.
struct PortSpec {
  std::string device;
  std::string profile;
};

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
  uint32_t mbufs = 0;        // pool size; 0: room for every ring and cache
  int progress = -1;         // -1: when stderr is a terminal
  bool quiet = false;        // no summary/report on stdout
  bool verbose = false;      // keep DPDK's own log lines
  bool linger = false;       // offline: keep serving telemetry after the end
  // Benchmark: replay the --pcap file in a loop (net_pcap infinite_rx) as
  // live traffic for this long, then print the packet rate. 0: off.
  double duration_seconds = 0;
  std::string file_prefix;      // EAL --file-prefix for the shortcuts
  std::vector<PortSpec> ports;  // --port
  std::vector<int> cpus;        // --lcores, ascending
  std::vector<std::string> extra_eal_args;  // --eal-arg
  bool telemetry = true;                    // --no-telemetry
  std::string telemetry_group;              // --telemetry-group
  bool check_config = false;                // --check-config FILE
  bool help = false;
  bool version = false;
  Thresholds thresholds;
};

absl::StatusOr<Options> ParseCommandLine(int argc, char** argv);

// The settings file: one key of one section per option (booleans may stand
// for a pair such as --progress/--no-progress).
struct ConfigKey {
  std::string path;             // "thresholds.window", "port.device"
  std::string option;           // "window"; booleans: the option for true
  std::string option_if_false;  // booleans: the option for false ("": none)
};
const std::vector<ConfigKey>& ConfigKeys();

// Options the file cannot hold: they name the file or act on it.
const std::vector<std::string>& CommandLineOnlyOptions();

// Applies `path` to `o` through the command line's own setters, so a value
// is valid in the file iff it is valid on the command line. Errors read
// "FILE:LINE:COLUMN: key 'cpu.workers': why".
absl::Status ApplyConfigFile(const std::string& path, Options& o);

// Sets one option by its long name, as if given on the command line.
absl::Status SetOption(Options& o, const std::string& name,
                       const std::string& value);

// Every long option name.
std::vector<std::string> OptionNames();

std::string Usage();

}  // namespace edgecap::app

#endif  // EDGECAP_APPS_EDGECAP_OPTIONS_H_
