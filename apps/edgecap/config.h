// Deployment checks around the settings file (parsed in options.cpp, see
// ConfigKeys() there): `edgecap --check-config FILE` without EAL, where the
// drivers-config profiles are in a build tree or an install, and who may use
// the telemetry socket.
//
//   absl::StatusOr<Options> o = ParseCommandLine(argc, argv);
//   if (o->check_config) { absl::StatusOr<std::string> s = CheckConfig(*o); }
//   std::string dir = ResolveProfileDir(*o);
#ifndef EDGECAP_APPS_EDGECAP_CONFIG_H_
#define EDGECAP_APPS_EDGECAP_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "apps/edgecap/options.h"

namespace edgecap::app {

// Where the drivers-config profiles are: --profiles / input.profiles, else
// the installed datadir next to the binary (<bin>/../share/edgecap/
// drivers-config, so a package unpacked anywhere works), else the source
// tree when the binary runs from its build tree, else the configured datadir.
std::string ResolveProfileDir(const Options& o);

// The profile named for the ethdev `port_name` by --port DEV@PROFILE ("" when
// none: the driver picks). PCI ethdevs are named by their full address, vdevs
// by the devargs' name.
std::string ProfileFor(const Options& o, const std::string& port_name);

// `edgecap --check-config FILE`: what can be checked before EAL starts: the
// file (already applied to `o`), the profiles it names, the files it reads,
// the CPUs and the telemetry group. Returns the effective settings, one per
// line; warnings (e.g. an output directory that does not exist yet) are
// appended as lines starting with "warning: ".
absl::StatusOr<std::string> CheckConfig(const Options& o);

// After EAL init: lets members of `group` use the telemetry socket in
// `runtime_dir` (dpdk-telemetry.py needs connect permission on the socket
// and search permission on the directories above it). Empty group: no-op.
absl::Status ApplyTelemetryAccess(const std::string& runtime_dir,
                                  const std::string& group);

}  // namespace edgecap::app

#endif  // EDGECAP_APPS_EDGECAP_CONFIG_H_
