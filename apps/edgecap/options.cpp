#include "apps/edgecap/options.h"

#include <toml++/toml.h>

#include <algorithm>
#include <functional>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

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
       {true, Path(&Options::rules_path), "FILE      watch-list rules"}},
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
       {true, Seconds(&Thresholds::quiet_seconds, "quiet-seconds"),
        "S  no failure evidence this long closes (300)"}},
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

// A config value as the command line would spell it; false for tables,
// arrays, booleans and dates.
bool ScalarText(const toml::node& n, std::string* out) {
  if (const auto* s = n.as_string()) {
    *out = s->get();
  } else if (const auto* i = n.as_integer()) {
    *out = absl::StrCat(i->get());
  } else if (const auto* d = n.as_floating_point()) {
    *out = absl::StrFormat("%.17g", d->get());
  } else {
    return false;
  }
  return true;
}

absl::Status ApplyConfigFile(const std::string& path, Options& o) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto line = e.source().begin.line;
    return absl::InvalidArgumentError(
        line > 0
            ? absl::StrCat(path, ":", line, ": ", std::string(e.description()))
            : absl::StrCat(path, ": ", std::string(e.description())));
  }
  for (const auto& [key, node] : t) {
    const std::string k(key.str());
    // Like a compiler: FILE:LINE: problem, so an operator finds the line.
    auto fail = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", node.source().begin.line, ": ", why));
    };
    const std::string name = absl::StrReplaceAll(k, {{"_", "-"}});
    auto it = Specs().find(name);
    if (it == Specs().end() || name == "config" || name == "help" ||
        name == "version") {
      return fail(absl::StrCat("unknown setting '", k, "'"));
    }
    std::vector<std::string> values;
    if (!it->second.takes_value) {
      const auto* b = node.as_boolean();
      if (b == nullptr) {
        return fail(absl::StrCat("setting '", k, "' takes true or false"));
      }
      if (!b->get()) continue;
      values.push_back("");
    } else if (const toml::array* a = node.as_array()) {
      if (name != "pcap") {
        return fail(
            absl::StrCat("setting '", k, "' takes one value, not a list"));
      }
      for (const auto& v : *a) {
        if (!v.is_string() || !ScalarText(v, &values.emplace_back())) {
          return fail(
              absl::StrCat("setting '", k, "' needs a list of file names"));
        }
      }
    } else if (!ScalarText(node, &values.emplace_back())) {
      return fail(absl::StrCat("setting '", k, "' needs a string or a number"));
    }
    for (const std::string& v : values) {
      if (absl::Status s = it->second.set(o, v); !s.ok()) {
        return fail(absl::StrCat("setting '", k, "': ", s.message()));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

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
    if (name == "config") o.config_path = value;
    parsed.emplace_back(&it->second, value);
    names.push_back(name);
  }
  if (!o.config_path.empty()) {
    if (absl::Status s = ApplyConfigFile(o.config_path, o); !s.ok()) return s;
  }
  // A list given on the command line replaces the file's.
  bool pcaps_cleared = false;
  for (size_t i = 0; i < parsed.size(); ++i) {
    if (names[i] == "pcap" && !pcaps_cleared) {
      o.pcap_files.clear();
      pcaps_cleared = true;
    }
    if (absl::Status s = parsed[i].first->set(o, parsed[i].second); !s.ok()) {
      return s;
    }
  }
  if (o.help || o.version) return o;
  const bool has_pcap = !o.pcap_files.empty(), has_iface = !o.iface.empty();
  if (has_pcap && has_iface) {
    return absl::InvalidArgumentError("--pcap and --iface exclude each other");
  }
  o.shortcut = has_pcap || has_iface;
  if (o.shortcut && dpdk_convention) {
    return absl::InvalidArgumentError(
        "--pcap/--iface set up EAL themselves: give them without EAL options "
        "and '--'");
  }
  if (!o.shortcut && !dpdk_convention) {
    return absl::InvalidArgumentError(
        "nothing to read: give --pcap FILE, --iface IFNAME, or EAL options "
        "and '--' (try --help)");
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
      "       edgecap [EAL options] -- [options] DPDK ports\n"
      "options:\n";
  for (const auto& [name, spec] : Specs()) {
    absl::StrAppend(&out, "  --", name, " ", spec.help, "\n");
  }
  return out;
}

}  // namespace edgecap::app
