#include "apps/edgecap/config.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/pipeline/profile.h"

// The installed datadir, the source tree's profiles and the build root are
// compiled in by apps/edgecap/meson.build.
#ifndef EDGECAP_PROFILE_DIR
#define EDGECAP_PROFILE_DIR "/usr/local/share/edgecap/drivers-config"
#endif
#ifndef EDGECAP_SOURCE_PROFILE_DIR
#define EDGECAP_SOURCE_PROFILE_DIR ""
#endif
#ifndef EDGECAP_BUILD_ROOT
#define EDGECAP_BUILD_ROOT ""
#endif

namespace edgecap::app {
namespace {

namespace fs = std::filesystem;

bool IsDir(const std::string& p) {
  std::error_code ec;
  return !p.empty() && fs::is_directory(p, ec);
}

std::string SelfExe() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

}  // namespace

std::string ResolveProfileDir(const Options& o) {
  if (!o.profiles_dir.empty()) return o.profiles_dir;
  const std::string exe = SelfExe();
  if (!exe.empty()) {
    // Installed layout (meson install, the Debian package, a --destdir or
    // dpkg -x root): <prefix>/bin/edgecap and <prefix>/share/edgecap/.
    const fs::path installed = fs::path(exe).parent_path().parent_path() /
                               "share" / "edgecap" / "drivers-config";
    if (IsDir(installed.string())) return installed.string();
    const std::string build_root = EDGECAP_BUILD_ROOT;
    if (!build_root.empty() && absl::StartsWith(exe, build_root + "/") &&
        IsDir(EDGECAP_SOURCE_PROFILE_DIR)) {
      return EDGECAP_SOURCE_PROFILE_DIR;
    }
  }
  return EDGECAP_PROFILE_DIR;
}

std::string ProfileFor(const Options& o, const std::string& port_name) {
  for (const PortSpec& p : o.ports) {
    std::string name = p.device.substr(0, p.device.find(','));
    // "3b:00.0" is domain 0000 to EAL.
    if (std::count(name.begin(), name.end(), ':') == 1 &&
        name.find('.') != std::string::npos) {
      name = "0000:" + name;
    }
    if (absl::EqualsIgnoreCase(name, port_name)) return p.profile;
  }
  return "";
}

absl::StatusOr<std::string> CheckConfig(const Options& o) {
  std::vector<std::string> lines, warnings;
  auto line = [&](absl::string_view k, absl::string_view v) {
    lines.push_back(absl::StrCat(k, ": ", v));
  };
  // Profiles: every file in the directory must load (the driver, and so the
  // profile, of a PCI port is only known once EAL probes it).
  const std::string dir = ResolveProfileDir(o);
  if (!IsDir(dir)) {
    return absl::NotFoundError(
        absl::StrCat("drivers-config directory ", dir,
                     " does not exist (set input.profiles or --profiles)"));
  }
  std::map<std::string, pipeline::PortProfile> profiles;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".toml") continue;
    absl::StatusOr<pipeline::PortProfile> p =
        pipeline::LoadProfile(e.path().string());
    if (!p.ok()) return p.status();
    profiles[p->name] = *p;
  }
  if (profiles.empty()) {
    return absl::NotFoundError(absl::StrCat("no *.toml profiles in ", dir));
  }
  line("profiles", dir);
  auto profile_for_driver = [&](const std::string& driver) -> std::string {
    for (const auto& [name, p] : profiles) {
      for (const std::string& d : p.drivers) {
        if (d == driver) return name;
      }
    }
    return "";
  };
  auto readable = [&](const std::string& what, const std::string& file) {
    if (access(file.c_str(), R_OK) != 0) {
      return absl::NotFoundError(
          absl::StrCat(what, " ", file, ": cannot read: ", strerror(errno)));
    }
    return absl::OkStatus();
  };
  if (!o.pcap_files.empty()) {
    for (const std::string& f : o.pcap_files) {
      if (absl::Status s = readable("input.pcap", f); !s.ok()) return s;
    }
    line("input",
         absl::StrCat("pcap ", absl::StrJoin(o.pcap_files, " "), " (profile ",
                      profile_for_driver("net_pcap"), ")"));
    if (profile_for_driver("net_pcap").empty()) {
      return absl::NotFoundError(
          absl::StrCat("no profile in ", dir, " for driver 'net_pcap'"));
    }
  } else if (!o.iface.empty()) {
    line("input", absl::StrCat("iface ", o.iface, " (profile ",
                               profile_for_driver("net_af_packet"), ")"));
    if (!IsDir(absl::StrCat("/sys/class/net/", o.iface))) {
      warnings.push_back(
          absl::StrCat("interface ", o.iface, " does not exist on this host"));
    }
  } else if (!o.ports.empty()) {
    for (const PortSpec& p : o.ports) {
      if (!p.profile.empty() && profiles.count(p.profile) == 0) {
        return absl::NotFoundError(
            absl::StrCat("port ", p.device, ": no profile '", p.profile,
                         "' in ", dir, " (have: ",
                         absl::StrJoin(profiles, ", ",
                                       [](std::string* out, const auto& kv) {
                                         out->append(kv.first);
                                       }),
                         ")"));
      }
      line("port",
           absl::StrCat(p.device, " (profile ",
                        p.profile.empty() ? "by driver" : p.profile, ")"));
    }
  } else {
    line("input", "EAL options given on the command line");
  }
  if (!o.cpus.empty()) {
    const long online = sysconf(_SC_NPROCESSORS_CONF);
    // The file may be checked on another box than the one it is for: say
    // so, EAL refuses to start on missing CPUs anyway.
    std::vector<int> missing;
    for (int c : o.cpus) {
      if (c >= online) missing.push_back(c);
    }
    if (!missing.empty()) {
      warnings.push_back(absl::StrCat("cpu.lcores: CPU(s) ",
                                      absl::StrJoin(missing, ","),
                                      " do not exist on this host (it has ",
                                      online, "): EAL will not start here"));
    }
    const unsigned workers = o.workers == 0 ? 1 : o.workers;
    const unsigned needed = 1 + workers + (o.dispatch == Dispatch::kSoftware);
    if (o.cpus.size() < needed) {
      warnings.push_back(absl::StrCat(
          "cpu.lcores gives ", o.cpus.size(), " CPU(s) for ", needed,
          " lcores (stats, workers, dispatcher): they will share CPUs"));
    }
    line("lcores", absl::StrJoin(o.cpus, ","));
  }
  line("workers",
       o.workers == 0 ? std::string("default") : absl::StrCat(o.workers));
  line("dispatch", o.dispatch == Dispatch::kHardware   ? "hw"
                   : o.dispatch == Dispatch::kSoftware ? "sw"
                                                       : "auto");
  for (const auto& [what, file] :
       {std::pair<const char*, std::string>{"incidents", o.incidents_path},
        {"report", o.report_path}}) {
    if (file.empty()) continue;
    line(what, file);
    const fs::path parent = fs::absolute(file).parent_path();
    if (!IsDir(parent.string())) {
      warnings.push_back(absl::StrCat("output.", what, ": directory ",
                                      parent.string(), " does not exist yet"));
    }
  }
  if (!o.rules_path.empty()) {
    if (absl::Status s = readable("rules.file", o.rules_path); !s.ok())
      return s;
    line("rules", o.rules_path);
  }
  line("telemetry", o.telemetry ? "enabled" : "disabled");
  if (!o.telemetry_group.empty()) {
    if (getgrnam(o.telemetry_group.c_str()) == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          "telemetry.group: no group '", o.telemetry_group, "' on this host"));
    }
    line("telemetry group", o.telemetry_group);
  }
  const Thresholds& t = o.thresholds;
  line("thresholds",
       absl::StrFormat("query_timeout %gs, window %gs, min_failures %u, "
                       "min_failure_ratio %g, recovery %gs, quiet %gs",
                       t.query_timeout_seconds, t.window_seconds,
                       t.min_failures, t.min_failure_ratio, t.recovery_seconds,
                       t.quiet_seconds));
  for (const std::string& w : warnings) lines.push_back("warning: " + w);
  return absl::StrJoin(lines, "\n") + "\n";
}

absl::Status ApplyTelemetryAccess(const std::string& runtime_dir,
                                  const std::string& group) {
  if (group.empty()) return absl::OkStatus();
  const struct group* g = getgrnam(group.c_str());
  if (g == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("telemetry.group: no group '", group, "'"));
  }
  const std::string socket = runtime_dir + "/dpdk_telemetry.v2";
  // The socket: group may connect. Its directory: group may enter. Parents
  // (/var/run/dpdk is created 0700): search only, nothing listed or written.
  for (const auto& [file, mode] :
       {std::pair<std::string, mode_t>{socket, 0660}, {runtime_dir, 0750}}) {
    if (chown(file.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0 ||
        chmod(file.c_str(), mode) != 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("telemetry.group: cannot give ", file, " to group ",
                       group, ": ", strerror(errno)));
    }
  }
  const std::string parent = fs::path(runtime_dir).parent_path().string();
  struct stat st {};
  if (stat(parent.c_str(), &st) == 0 && (st.st_mode & 0011) != 0011) {
    if (chmod(parent.c_str(), (st.st_mode & 07777) | 0011) != 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("telemetry.group: cannot open ", parent,
                       " for search: ", strerror(errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace edgecap::app
