#include "apps/edgecap/options.h"

#include <toml++/toml.h>

#include <algorithm>
#include <functional>
#include <map>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace edgecap::app {
namespace {

using Setter = std::function<absl::Status(Options&, const std::string&)>;

struct Spec {
  bool takes_value;
  Setter set;
  const char* help;
};

absl::Status Bad(const std::string& option, const std::string& value,
                 const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("option --", option, ": bad value '", value, "': ", why));
}

Setter Seconds(double Thresholds::*field, const char* name) {
  return [field, name](Options& o, const std::string& v) {
    double d;
    if (!absl::SimpleAtod(v, &d) || !(d > 0) || d > 86400 * 365) {
      return Bad(name, v, "expected seconds > 0");
    }
    o.thresholds.*field = d;
    return absl::OkStatus();
  };
}

// Watch evidence is kept per worker-second and merged after that second's
// records: a watch-list incident that closed and reopened within one second
// would lose the second's evidence lines.
Setter QuietSeconds() {
  return [](Options& o, const std::string& v) {
    double d;
    if (!absl::SimpleAtod(v, &d) || !(d >= 1) || d > 86400 * 365) {
      return Bad("quiet-seconds", v,
                 "expected seconds >= 1 (watch-list evidence is kept per "
                 "second)");
    }
    o.thresholds.quiet_seconds = d;
    return absl::OkStatus();
  };
}

Setter Path(std::string Options::*field) {
  return [field](Options& o, const std::string& v) {
    o.*field = v;
    return absl::OkStatus();
  };
}

const std::map<std::string, Spec>& Specs() {
  static const auto* kSpecs = new std::map<std::string, Spec>{
      {"pcap",
       {true,
        [](Options& o, const std::string& v) {
          o.pcap_files.push_back(v);
          return absl::OkStatus();
        },
        "FILE      read a pcap/pcapng file (repeat: one file per RX queue)"}},
      {"iface",
       {true, Path(&Options::iface),
        "IFNAME   capture live through af_packet"}},
      {"workers",
       {true,
        [](Options& o, const std::string& v) {
          uint32_t n;
          if (!absl::SimpleAtoi(v, &n) || n < 1 || n > 64) {
            return Bad("workers", v, "expected 1..64");
          }
          o.workers = static_cast<uint16_t>(n);
          return absl::OkStatus();
        },
        "N      worker lcores (default 1, or one per --pcap file)"}},
      {"dispatch",
       {true,
        [](Options& o, const std::string& v) {
          if (v == "hw") {
            o.dispatch = Dispatch::kHardware;
          } else if (v == "sw") {
            o.dispatch = Dispatch::kSoftware;
          } else if (v == "auto") {
            o.dispatch = Dispatch::kAuto;
          } else {
            return Bad("dispatch", v, "expected hw, sw or auto");
          }
          return absl::OkStatus();
        },
        "MODE  hw: one RX queue per worker (RSS); sw: a dispatcher lcore; "
        "auto"}},
      {"incidents",
       {true, Path(&Options::incidents_path),
        "FILE  write incidents as JSON lines"}},
      {"report",
       {true, Path(&Options::report_path),
        "FILE     write the Markdown report"}},
      {"rules",
       {true,
        [](Options& o, const std::string& v) {
          // Repeatable; main splits the comma list.
          if (v.empty()) return Bad("rules", v, "expected a file name");
          o.rules_path = o.rules_path.empty() ? v : o.rules_path + "," + v;
          return absl::OkStatus();
        },
        "FILE[,FILE]  watch lists: Hyperscan expression files, or domain "
        "lists named *.domains (repeatable; SIGHUP reloads)"}},
      {"config",
       {true, Path(&Options::config_path),
        "FILE     settings file (TOML); options override it"}},
      {"profiles",
       {true, Path(&Options::profiles_dir),
        "DIR    driver profiles (default: the bundled drivers-config)"}},
      {"memory",
       {true,
        [](Options& o, const std::string& v) {
          uint32_t mb;
          if (!absl::SimpleAtoi(v, &mb) || mb < 64 || mb > 1048576) {
            return Bad("memory", v, "expected megabytes, at least 64");
          }
          o.memory_mb = mb;
          return absl::OkStatus();
        },
        "MB       EAL memory for --pcap/--iface (default: what the pool "
        "needs)"}},
      {"mbufs",
       {true,
        [](Options& o, const std::string& v) {
          uint32_t n;
          if (!absl::SimpleAtoi(v, &n) || n < 256 || n > 16777215) {
            return Bad("mbufs", v, "expected 256..16777215");
          }
          o.mbufs = n;
          return absl::OkStatus();
        },
        "N         mbuf pool (default: room for every ring, burst and "
        "cache; fewer lose packets, counted as rx_nombuf)"}},
      {"query-timeout",
       {true, Seconds(&Thresholds::query_timeout_seconds, "query-timeout"),
        "S  seconds before an unanswered query times out (5)"}},
      {"window",
       {true, Seconds(&Thresholds::window_seconds, "window"),
        "S         detector window (300)"}},
      {"min-failures",
       {true,
        [](Options& o, const std::string& v) {
          uint32_t n;
          if (!absl::SimpleAtoi(v, &n) || n < 1) {
            return Bad("min-failures", v, "expected an integer >= 1");
          }
          o.thresholds.min_failures = n;
          return absl::OkStatus();
        },
        "N   failures in the window to open an incident (3)"}},
      {"min-failure-ratio",
       {true,
        [](Options& o, const std::string& v) {
          double d;
          if (!absl::SimpleAtod(v, &d) || !(d > 0) || d > 1) {
            return Bad("min-failure-ratio", v, "expected a ratio in (0, 1]");
          }
          o.thresholds.min_failure_ratio = d;
          return absl::OkStatus();
        },
        "R  failures/(failures+answered) to open (0.5)"}},
      {"recovery",
       {true, Seconds(&Thresholds::recovery_seconds, "recovery"),
        "S       answered and failure-free this long closes (10)"}},
      {"quiet-seconds",
       {true, QuietSeconds(),
        "S  no failure evidence this long closes (300; at least 1)"}},
      {"progress",
       {false,
        [](Options& o, const std::string&) {
          o.progress = 1;
          return absl::OkStatus();
        },
        "           progress line on stderr even when it is not a terminal"}},
      {"no-progress",
       {false,
        [](Options& o, const std::string&) {
          o.progress = 0;
          return absl::OkStatus();
        },
        "        no progress line"}},
      {"quiet",
       {false,
        [](Options& o, const std::string&) {
          o.quiet = true;
          return absl::OkStatus();
        },
        "              no summary or report on stdout"}},
      {"linger",
       {false,
        [](Options& o, const std::string&) {
          o.linger = true;
          return absl::OkStatus();
        },
        "             after the input is drained, keep serving telemetry "
        "until SIGINT/SIGTERM"}},
      {"duration",
       {true,
        [](Options& o, const std::string& v) {
          double d;
          if (!absl::SimpleAtod(v, &d) || !(d > 0) || d > 86400) {
            return Bad("duration", v, "expected seconds > 0");
          }
          o.duration_seconds = d;
          return absl::OkStatus();
        },
        "SECONDS benchmark: replay the --pcap file in a loop (net_pcap "
        "infinite_rx) as live traffic, stop after SECONDS, print the rate"}},
      {"file-prefix",
       {true,
        [](Options& o, const std::string& v) {
          const bool ok = !v.empty() && v.size() <= 64 && v[0] != '.' &&
                          std::all_of(v.begin(), v.end(), [](char c) {
                            return absl::ascii_isalnum(c) || c == '-' ||
                                   c == '_' || c == '.';
                          });
          if (!ok) return Bad("file-prefix", v, "expected [A-Za-z0-9._-]");
          o.file_prefix = v;
          return absl::OkStatus();
        },
        "NAME EAL file prefix for --pcap/--iface (default edgecap-PID); "
        "the telemetry socket is /var/run/dpdk/NAME/dpdk_telemetry.v2"}},
      {"verbose",
       {false,
        [](Options& o, const std::string&) {
          o.verbose = true;
          return absl::OkStatus();
        },
        "            keep DPDK's log lines"}},
      {"port",
       {true,
        [](Options& o, const std::string& v) {
          PortSpec port;
          port.device = v;
          const size_t at = v.rfind('@');
          if (at != std::string::npos) {
            port.device = v.substr(0, at);
            port.profile = v.substr(at + 1);
            const bool ok =
                !port.profile.empty() &&
                std::all_of(
                    port.profile.begin(), port.profile.end(), [](char c) {
                      return absl::ascii_isalnum(c) || c == '_' || c == '-';
                    });
            if (!ok) return Bad("port", v, "profile: expected a file stem");
          }
          // A PCI address (DDDD:BB:DD.F or BB:DD.F) or a vdev's devargs.
          const std::string name = port.device.substr(0, port.device.find(','));
          const bool pci =
              std::count(name.begin(), name.end(), ':') >= 1 &&
              name.find('.') != std::string::npos &&
              std::all_of(name.begin(), name.end(), [](char c) {
                return absl::ascii_isxdigit(c) || c == ':' || c == '.';
              });
          const bool vdev = !name.empty() && absl::ascii_isalpha(name[0]) &&
                            std::all_of(name.begin(), name.end(), [](char c) {
                              return absl::ascii_isalnum(c) || c == '_';
                            });
          if (!pci && !vdev) {
            return Bad("port", v,
                       "expected a PCI address (0000:3b:00.0) or a vdev "
                       "(net_pcap0,rx_pcap=FILE), optionally @PROFILE");
          }
          o.ports.push_back(port);
          return absl::OkStatus();
        },
        "DEV[@PROFILE] capture on a NIC (PCI address, bound to vfio-pci) or "
        "vdev, with a drivers-config profile (default: by driver); repeat "
        "for more ports; builds the EAL arguments (hugepages)"}},
      {"lcores",
       {true,
        [](Options& o, const std::string& v) {
          std::vector<int> cpus;
          for (absl::string_view part : absl::StrSplit(v, ',')) {
            int lo, hi;
            const size_t dash = part.find('-');
            const bool ok =
                dash == absl::string_view::npos
                    ? absl::SimpleAtoi(part, &lo) && (hi = lo, true)
                    : absl::SimpleAtoi(part.substr(0, dash), &lo) &&
                          absl::SimpleAtoi(part.substr(dash + 1), &hi);
            if (!ok || lo < 0 || hi < lo || hi > 1023) {
              return Bad("lcores", v, "expected CPUs such as 2-6 or 2,4,6");
            }
            for (int c = lo; c <= hi; ++c) {
              if (!cpus.empty() && c <= cpus.back()) {
                return Bad("lcores", v, "CPUs must be ascending, each once");
              }
              cpus.push_back(c);
            }
          }
          o.cpus = std::move(cpus);
          return absl::OkStatus();
        },
        "LIST    CPUs for the stats lcore, the workers, then the dispatcher "
        "(default: the CPUs the process may use)"}},
      {"eal-arg",
       {true,
        [](Options& o, const std::string& v) {
          o.extra_eal_args.push_back(v);
          return absl::OkStatus();
        },
        "ARG    one more EAL argument for --port/--pcap/--iface (repeat)"}},
      {"telemetry",
       {false,
        [](Options& o, const std::string&) {
          o.telemetry = true;
          return absl::OkStatus();
        },
        "          DPDK telemetry socket with /edgecap/ commands (default)"}},
      {"no-telemetry",
       {false,
        [](Options& o, const std::string&) {
          o.telemetry = false;
          return absl::OkStatus();
        },
        "       no telemetry socket (EAL --no-telemetry)"}},
      {"telemetry-group",
       {true,
        [](Options& o, const std::string& v) {
          const bool ok =
              !v.empty() && v.size() <= 32 &&
              std::all_of(v.begin(), v.end(), [](char c) {
                return absl::ascii_isalnum(c) || c == '_' || c == '-';
              });
          if (!ok) return Bad("telemetry-group", v, "expected a group name");
          o.telemetry_group = v;
          return absl::OkStatus();
        },
        "GROUP members may use the telemetry socket"}},
      {"check-config",
       {true,
        [](Options& o, const std::string& v) {
          o.config_path = v;
          o.check_config = true;
          return absl::OkStatus();
        },
        "FILE validate a settings file and print the effective settings, "
        "without starting EAL"}},
      {"help",
       {false,
        [](Options& o, const std::string&) {
          o.help = true;
          return absl::OkStatus();
        },
        "               this text"}},
      {"version",
       {false,
        [](Options& o, const std::string&) {
          o.version = true;
          return absl::OkStatus();
        },
        "            version"}},
  };
  return *kSpecs;
}

enum class Kind { kString, kStringList, kInteger, kNumber, kBool };

struct KeySpec {
  const char* section;
  const char* key;
  Kind kind;
  const char* option;
  const char* option_if_false = "";
};

// One row per key. The kinds are TOML's: a number of seconds may be written
// 5 or 2.5, a worker count must be an integer, a path a string.
const std::vector<KeySpec>& Table() {
  static const auto* kTable = new std::vector<KeySpec>{
      {"input", "pcap", Kind::kStringList, "pcap"},
      {"input", "iface", Kind::kString, "iface"},
      {"input", "profiles", Kind::kString, "profiles"},
      {"input", "duration", Kind::kNumber, "duration"},
      {"cpu", "lcores", Kind::kString, "lcores"},
      {"cpu", "workers", Kind::kInteger, "workers"},
      {"cpu", "dispatch", Kind::kString, "dispatch"},
      {"eal", "memory", Kind::kInteger, "memory"},
      {"eal", "mbufs", Kind::kInteger, "mbufs"},
      {"eal", "file_prefix", Kind::kString, "file-prefix"},
      {"eal", "args", Kind::kStringList, "eal-arg"},
      {"eal", "verbose", Kind::kBool, "verbose"},
      {"output", "incidents", Kind::kString, "incidents"},
      {"output", "report", Kind::kString, "report"},
      {"output", "quiet", Kind::kBool, "quiet"},
      {"output", "progress", Kind::kBool, "progress", "no-progress"},
      {"rules", "file", Kind::kString, "rules"},
      {"thresholds", "query_timeout", Kind::kNumber, "query-timeout"},
      {"thresholds", "window", Kind::kNumber, "window"},
      {"thresholds", "min_failures", Kind::kInteger, "min-failures"},
      {"thresholds", "min_failure_ratio", Kind::kNumber, "min-failure-ratio"},
      {"thresholds", "recovery", Kind::kNumber, "recovery"},
      {"thresholds", "quiet_seconds", Kind::kNumber, "quiet-seconds"},
      {"telemetry", "enabled", Kind::kBool, "telemetry", "no-telemetry"},
      {"telemetry", "group", Kind::kString, "telemetry-group"},
      {"telemetry", "linger", Kind::kBool, "linger"},
  };
  return *kTable;
}

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kString:
      return "a string";
    case Kind::kStringList:
      return "a list of strings";
    case Kind::kInteger:
      return "an integer";
    case Kind::kNumber:
      return "a number";
    case Kind::kBool:
      return "true or false";
  }
  return "?";
}

std::string Where(const std::string& path, const toml::source_region& r) {
  if (r.begin.line == 0) return path;
  return absl::StrCat(path, ":", r.begin.line, ":", r.begin.column);
}

absl::Status KeyError(const std::string& path, const toml::source_region& r,
                      const std::string& key, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat(Where(path, r), ": key '", key, "': ", why));
}

// The setters speak command-line ("option --workers: bad value ..."); in a
// file the key is what the operator sees.
std::string WithoutOptionPrefix(absl::string_view message) {
  if (absl::StartsWith(message, "option --")) {
    const size_t colon = message.find(": ");
    if (colon != absl::string_view::npos) message.remove_prefix(colon + 2);
  }
  return std::string(message);
}

absl::Status Set(const std::string& path, const toml::source_region& r,
                 const std::string& key, Options& o, const std::string& option,
                 const std::string& value) {
  absl::Status s = SetOption(o, option, value);
  if (s.ok()) return s;
  return KeyError(path, r, key, WithoutOptionPrefix(s.message()));
}

// A TOML scalar as the command line would spell it.
bool ScalarText(const toml::node& n, Kind kind, std::string* out) {
  switch (kind) {
    case Kind::kString:
    case Kind::kStringList:
      if (const auto* s = n.as_string()) {
        *out = s->get();
        return true;
      }
      return false;
    case Kind::kInteger:
      if (const auto* i = n.as_integer()) {
        *out = absl::StrCat(i->get());
        return true;
      }
      return false;
    case Kind::kNumber:
      if (const auto* i = n.as_integer()) {
        *out = absl::StrCat(i->get());
        return true;
      }
      if (const auto* d = n.as_floating_point()) {
        *out = absl::StrFormat("%.17g", d->get());
        return true;
      }
      return false;
    case Kind::kBool:
      return false;
  }
  return false;
}

absl::Status ApplyKey(const std::string& path, const KeySpec& spec,
                      const toml::node& node, Options& o) {
  const std::string key = absl::StrCat(spec.section, ".", spec.key);
  const toml::source_region& r = node.source();
  auto wrong_type = [&]() {
    return KeyError(path, r, key,
                    absl::StrCat("expected ", KindName(spec.kind), ", got ",
                                 [&]() -> std::string {
                                   std::ostringstream os;
                                   os << node.type();
                                   return os.str();
                                 }()));
  };
  if (spec.kind == Kind::kBool) {
    const auto* b = node.as_boolean();
    if (b == nullptr) return wrong_type();
    const std::string option = b->get() ? spec.option : spec.option_if_false;
    if (option.empty()) return absl::OkStatus();
    return Set(path, r, key, o, option, "");
  }
  std::vector<std::pair<std::string, toml::source_region>> values;
  if (spec.kind == Kind::kStringList && node.is_array()) {
    for (const toml::node& item : *node.as_array()) {
      std::string text;
      if (!ScalarText(item, spec.kind, &text)) {
        return KeyError(path, item.source(), key, "expected a list of strings");
      }
      values.emplace_back(text, item.source());
    }
  } else {
    std::string text;
    if (!ScalarText(node, spec.kind, &text)) return wrong_type();
    values.emplace_back(text, r);
  }
  for (const auto& [text, where] : values) {
    if (absl::Status s = Set(path, where, key, o, spec.option, text); !s.ok())
      return s;
  }
  return absl::OkStatus();
}

// [[port]]: device (required), profile (optional).
absl::Status ApplyPorts(const std::string& path, const toml::node& node,
                        Options& o) {
  const toml::array* ports = node.as_array();
  if (ports == nullptr || !ports->is_array_of_tables()) {
    return KeyError(path, node.source(), "port",
                    "expected [[port]] tables (device = \"0000:3b:00.0\")");
  }
  for (const toml::node& item : *ports) {
    const toml::table& t = *item.as_table();
    std::string device, profile;
    for (const auto& [k, v] : t) {
      const std::string key = absl::StrCat("port.", std::string(k.str()));
      if (k.str() != "device" && k.str() != "profile") {
        return KeyError(path, k.source(), key,
                        "unknown key (known: device, profile)");
      }
      const auto* s = v.as_string();
      if (s == nullptr) {
        return KeyError(path, v.source(), key, "expected a string");
      }
      (k.str() == "device" ? device : profile) = s->get();
    }
    if (device.empty()) {
      return KeyError(path, item.source(), "port.device",
                      "missing: every [[port]] names its device (a PCI "
                      "address or a vdev such as net_pcap0,rx_pcap=FILE)");
    }
    const std::string value =
        profile.empty() ? device : absl::StrCat(device, "@", profile);
    const auto& where = t.contains("profile") ? t.get("profile")->source()
                                              : t.get("device")->source();
    if (absl::Status s = Set(path, where, "port", o, "port", value); !s.ok())
      return s;
  }
  return absl::OkStatus();
}

std::string KnownKeys(const std::string& section) {
  std::vector<std::string> keys;
  for (const KeySpec& k : Table()) {
    if (section == k.section) keys.push_back(k.key);
  }
  return absl::StrJoin(keys, ", ");
}

}  // namespace

const std::vector<ConfigKey>& ConfigKeys() {
  static const auto* kKeys = [] {
    auto* keys = new std::vector<ConfigKey>;
    for (const KeySpec& k : Table()) {
      keys->push_back(
          {absl::StrCat(k.section, ".", k.key), k.option, k.option_if_false});
    }
    keys->push_back({"port.device", "port", ""});
    keys->push_back({"port.profile", "port", ""});
    return keys;
  }();
  return *kKeys;
}

const std::vector<std::string>& CommandLineOnlyOptions() {
  static const auto* kOnly =
      new std::vector<std::string>{"config", "check-config", "help", "version"};
  return *kOnly;
}

absl::Status ApplyConfigFile(const std::string& path, Options& o) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(path, e.source()), ": ", std::string(e.description())));
  }
  for (const auto& [section_key, section] : root) {
    const std::string name(section_key.str());
    if (name == "port") {
      if (absl::Status s = ApplyPorts(path, section, o); !s.ok()) return s;
      continue;
    }
    const std::string known = KnownKeys(name);
    if (known.empty()) {
      return KeyError(path, section_key.source(), name,
                      "unknown section (known: input, port, cpu, eal, output, "
                      "rules, thresholds, telemetry)");
    }
    const toml::table* t = section.as_table();
    if (t == nullptr) {
      return KeyError(path, section.source(), name,
                      absl::StrCat("expected a section [", name, "]"));
    }
    for (const auto& [k, v] : *t) {
      const KeySpec* spec = nullptr;
      for (const KeySpec& s : Table()) {
        if (name == s.section && k.str() == s.key) spec = &s;
      }
      if (spec == nullptr) {
        return KeyError(
            path, k.source(), absl::StrCat(name, ".", std::string(k.str())),
            absl::StrCat("unknown key (known in [", name, "]: ", known, ")"));
      }
      if (absl::Status s = ApplyKey(path, *spec, v, o); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status SetOption(Options& o, const std::string& name,
                       const std::string& value) {
  auto it = Specs().find(name);
  if (it == Specs().end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown option '--", name, "'"));
  }
  return it->second.set(o, value);
}

std::vector<std::string> OptionNames() {
  std::vector<std::string> names;
  for (const auto& [name, spec] : Specs()) names.push_back(name);
  return names;
}

absl::StatusOr<Options> ParseCommandLine(int argc, char** argv) {
  Options o;
  int first = 1;
  o.eal_args.push_back(argc > 0 ? argv[0] : "edgecap");
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      for (int j = 1; j < i; ++j) o.eal_args.push_back(argv[j]);
      first = i + 1;
      break;
    }
  }
  const bool dpdk_convention = first > 1;
  // Two passes: the config file first, so the command line overrides it.
  std::vector<std::pair<const Spec*, std::string>> parsed;
  std::vector<std::string> names;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "'",
                       dpdk_convention ? "" : " (EAL options go before '--')"));
    }
    std::string name = arg.substr(2), value;
    const size_t eq = name.find('=');
    const bool has_eq = eq != std::string::npos;
    if (has_eq) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto it = Specs().find(name);
    if (it == Specs().end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option '--", name, "' (try --help)"));
    }
    if (it->second.takes_value && !has_eq) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(
            absl::StrCat("option --", name, " needs a value"));
      }
      value = argv[++i];
    } else if (!it->second.takes_value && has_eq) {
      return absl::InvalidArgumentError(
          absl::StrCat("option --", name, " takes no value"));
    }
    if (name == "config" || name == "check-config") o.config_path = value;
    parsed.emplace_back(&it->second, value);
    names.push_back(name);
  }
  if (!o.config_path.empty()) {
    if (absl::Status s = ApplyConfigFile(o.config_path, o); !s.ok()) return s;
  }
  // A list given on the command line replaces the file's, and an input
  // (--pcap, --iface, --port) replaces the file's input whatever its kind.
  bool input_cleared = false, eal_args_cleared = false;
  for (size_t i = 0; i < parsed.size(); ++i) {
    if ((names[i] == "pcap" || names[i] == "iface" || names[i] == "port") &&
        !input_cleared) {
      o.pcap_files.clear();
      o.iface.clear();
      o.ports.clear();
      input_cleared = true;
    }
    if (names[i] == "eal-arg" && !eal_args_cleared) {
      o.extra_eal_args.clear();
      eal_args_cleared = true;
    }
    if (absl::Status s = parsed[i].first->set(o, parsed[i].second); !s.ok()) {
      return s;
    }
  }
  if (o.help || o.version) return o;
  const bool has_pcap = !o.pcap_files.empty(), has_iface = !o.iface.empty(),
             has_ports = !o.ports.empty();
  if (has_pcap + has_iface + has_ports > 1) {
    return absl::InvalidArgumentError(
        "--pcap, --iface and --port exclude each other");
  }
  o.shortcut = has_pcap || has_iface;
  if ((o.shortcut || has_ports) && dpdk_convention) {
    return absl::InvalidArgumentError(
        "--pcap/--iface/--port set up EAL themselves: give them without EAL "
        "options and '--'");
  }
  if (dpdk_convention && (!o.cpus.empty() || !o.extra_eal_args.empty())) {
    return absl::InvalidArgumentError(
        "--lcores/--eal-arg are for --pcap/--iface/--port; with EAL options "
        "give -l/--lcores and the rest before '--'");
  }
  if (!o.shortcut && !has_ports && !dpdk_convention) {
    return absl::InvalidArgumentError(
        "nothing to read: give --pcap FILE, --iface IFNAME, --port DEVICE, "
        "or EAL options and '--' (try --help)");
  }
  for (const std::string& f : o.pcap_files) {
    // net_pcap's device arguments are comma-separated key=value pairs.
    if (f.find_first_of(",=") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--pcap ", f,
                       ": DPDK cannot take a file name containing ',' or '='"));
    }
  }
  if (o.duration_seconds > 0 && o.pcap_files.size() != 1) {
    return absl::InvalidArgumentError(
        "--duration replays exactly one --pcap file");
  }
  if (has_iface && o.iface.find_first_of(",=") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--iface ", o.iface, ": not an interface name"));
  }
  return o;
}

std::string Usage() {
  std::string out =
      "usage: edgecap --pcap FILE [options]      offline analysis (net_pcap)\n"
      "       edgecap --iface IFNAME [options]   live capture (net_af_packet)\n"
      "       edgecap --port DEV[@PROFILE] [options]  NICs (vfio-pci) or "
      "vdevs\n"
      "       edgecap [EAL options] -- [options] DPDK ports\n"
      "       edgecap --config FILE.toml [options]  settings from a file\n"
      "       edgecap --check-config FILE.toml      validate it, start "
      "nothing\n"
      "options:\n";
  for (const auto& [name, spec] : Specs()) {
    absl::StrAppend(&out, "  --", name, " ", spec.help, "\n");
  }
  return out;
}

}  // namespace edgecap::app
