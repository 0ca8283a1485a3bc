// The version edgecap reports (--version, the telemetry settings); the build
// passes it in from meson's project version.
#ifndef EDGECAP_APPS_EDGECAP_VERSION_H_
#define EDGECAP_APPS_EDGECAP_VERSION_H_

#ifndef EDGECAP_VERSION
#define EDGECAP_VERSION "unknown"
#endif

namespace edgecap::app {

inline constexpr char kEdgecapVersion[] = EDGECAP_VERSION;

}  // namespace edgecap::app

#endif  // EDGECAP_APPS_EDGECAP_VERSION_H_
