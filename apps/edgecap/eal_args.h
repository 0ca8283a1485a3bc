// EAL arguments for the --pcap/--iface shortcuts: a machine without hugepages
// or bound NICs (--no-huge, --no-pci), a memory size that fits the mbuf pool,
// a per-process --file-prefix (so runs side by side do not collide and the
// telemetry socket has a known home), and an --lcores map that places every
// lcore on the CPUs the process may use, floating when lcores outnumber them.
//
//   std::vector<std::string> args = app::ShortcutEalArgs(
//       {.argv0 = "edgecap", .lcores = 3, .cpus = {0, 1}, .memory_mb = 512,
//        .pid = getpid(), .verbose = false});
#ifndef EDGECAP_APPS_EDGECAP_EAL_ARGS_H_
#define EDGECAP_APPS_EDGECAP_EAL_ARGS_H_

#include <string>
#include <vector>

namespace edgecap::app {

struct EalPlan {
  std::string argv0;
  unsigned lcores = 1;    // main + workers + dispatcher
  std::vector<int> cpus;  // allowed CPUs, ascending
  unsigned memory_mb = 512;
  int pid = 0;
  bool verbose = false;
};

std::vector<std::string> ShortcutEalArgs(const EalPlan& plan);

// --port: NICs by PCI address (allow-listed with -a, hugepages) or vdevs,
// a fixed file prefix so the telemetry socket has a known home for the
// service, and lcores pinned to the given CPUs.
struct PortEalPlan {
  std::string argv0;
  unsigned lcores = 1;
  std::vector<int> cpus;
  unsigned memory_mb = 0;  // 0: hugepages as needed
  std::string file_prefix = "edgecap";
  std::vector<std::string> devices;  // PCI addresses or vdev devargs
  bool verbose = false;
};

std::vector<std::string> PortEalArgs(const PortEalPlan& plan);

// "0000:3b:00.0" or "3b:00.0" (as opposed to a vdev's devargs).
bool IsPciAddress(const std::string& device);

// "0@1,1@2" when each lcore gets its own CPU, else "(0-3)@(0,1)".
std::string LcoreMap(unsigned lcores, const std::vector<int>& cpus);

// CPUs this process may run on.
std::vector<int> AllowedCpus();

}  // namespace edgecap::app

#endif  // EDGECAP_APPS_EDGECAP_EAL_ARGS_H_
