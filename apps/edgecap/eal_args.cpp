#include "apps/edgecap/eal_args.h"

#include <sched.h>

#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace edgecap::app {

std::string LcoreMap(unsigned lcores, const std::vector<int>& cpus) {
  if (cpus.empty()) return absl::StrCat("(0-", lcores - 1, ")");
  if (lcores <= cpus.size()) {
    std::vector<std::string> parts;
    for (unsigned i = 0; i < lcores; ++i) {
      parts.push_back(absl::StrCat(i, "@", cpus[i]));
    }
    return absl::StrJoin(parts, ",");
  }
  // Oversubscribed: let the kernel schedule every lcore on every CPU; the
  // pipeline yields when idle so correctness does not depend on speed.
  const std::string set = absl::StrCat("(", absl::StrJoin(cpus, ","), ")");
  return lcores == 1 ? absl::StrCat("0@", set)
                     : absl::StrCat("(0-", lcores - 1, ")@", set);
}

std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  return cpus;
}

namespace {

// Warnings and errors only. DPDK's telemetry library warns "No legacy
// callbacks, legacy socket not created" on every start (edgecap needs only
// the v2 socket); it logs through the lib.telemetry type, which EAL
// registers at the end of rte_eal_init with the first --log-level given
// that matches it (saved levels are searched newest first and the last
// match wins), hence before "*".
void AppendQuietLogLevels(std::vector<std::string>* args) {
  args->push_back("--log-level=lib.telemetry:error");
  args->push_back("--log-level=*:warning");
}

}  // namespace

std::vector<std::string> ShortcutEalArgs(const EalPlan& plan) {
  std::vector<std::string> args = {
      plan.argv0,
      "--no-huge",
      "-m",
      absl::StrCat(plan.memory_mb),
      "--no-pci",
      absl::StrCat("--file-prefix=edgecap-", plan.pid),
      absl::StrCat("--lcores=", LcoreMap(plan.lcores, plan.cpus)),
      // Ports are probed by edgecap itself (rte_dev_probe) so a failing vdev
      // gets its own message.
  };
  if (!plan.verbose) AppendQuietLogLevels(&args);
  return args;
}

bool IsPciAddress(const std::string& device) {
  const std::string name = device.substr(0, device.find(','));
  int colons = 0, dots = 0;
  for (char c : name) {
    if (c == ':') {
      ++colons;
    } else if (c == '.') {
      ++dots;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return colons >= 1 && dots == 1;
}

std::vector<std::string> PortEalArgs(const PortEalPlan& plan) {
  std::vector<std::string> args = {
      plan.argv0,
      absl::StrCat("--file-prefix=", plan.file_prefix),
      absl::StrCat("--lcores=", LcoreMap(plan.lcores, plan.cpus)),
  };
  if (plan.memory_mb != 0) {
    args.push_back("-m");
    args.push_back(absl::StrCat(plan.memory_mb));
  }
  bool any_pci = false;
  for (const std::string& d : plan.devices) {
    const bool pci = IsPciAddress(d);
    any_pci |= pci;
    args.push_back(pci ? "-a" : "--vdev");
    args.push_back(d);
  }
  // Only vdevs: probing no PCI device keeps EAL off the management NIC.
  if (!any_pci) args.push_back("--no-pci");
  if (!plan.verbose) AppendQuietLogLevels(&args);
  return args;
}

}  // namespace edgecap::app
