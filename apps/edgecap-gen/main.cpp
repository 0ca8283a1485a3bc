// edgecap-gen: deterministic scenario captures with ground truth.
//
//   edgecap-gen SCENARIO -o FILE.pcap [--seed N] [--packets N] [--nanosecond]
//               [--clients N] [--servers N]   (mix: cost-growth populations)
//   edgecap-gen split FILE.pcap --queues N -o PREFIX
//   edgecap-gen --list
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "apps/edgecap-gen/pcap_writer.h"
#include "apps/edgecap-gen/scenarios.h"
#include "apps/edgecap-gen/scene.h"
#include "apps/edgecap-gen/split.h"
#include "apps/edgecap-gen/truth.h"
#include "apps/edgecap-gen/watchlist.h"

namespace edgecap::gen {
namespace {

constexpr char kUsage[] =
    "usage: edgecap-gen SCENARIO -o FILE.pcap [--seed N] [--packets N] "
    "[--nanosecond]\n"
    "       (mix only: [--clients N] [--servers N] distinct addresses)\n"
    "       edgecap-gen split FILE.pcap --queues N -o PREFIX\n"
    "       edgecap-gen --list\n"
    "Writes FILE.pcap and its ground truth FILE.truth.json.\n";

bool ParseUint(std::string_view s, uint64_t* out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::string TruthPath(const std::string& pcap) {
  const std::string_view suffix = ".pcap";
  if (pcap.size() > suffix.size() && pcap.ends_with(suffix)) {
    return pcap.substr(0, pcap.size() - suffix.size()) + ".truth.json";
  }
  return pcap + ".truth.json";
}

absl::Status Generate(const Scenario& scenario, const std::string& path,
                      const ScenarioOptions& options, bool nanoseconds) {
  const bool watchlist = scenario.name.starts_with("watchlist");
  Scene scene(options.seed, scenario.logs_transactions);
  scenario.build(&scene, options);

  nlohmann::ordered_json truth;
  truth["generator"] = "edgecap-gen";
  truth["scenario"] = scenario.name;
  truth["seed"] = options.seed;
  if (scenario.name == "mix") truth["packets"] = options.packets;
  truth["link_type"] = 1;
  truth["timestamp_precision"] = nanoseconds ? "nanosecond" : "microsecond";
  const Thresholds th;
  truth["thresholds"] = {
      {"window_seconds", th.window / kSec},
      {"min_failures", th.min_failures},
      {"min_failure_ratio", th.min_failure_ratio},
      {"recovery_seconds", th.recovery / kSec},
      {"quiet_seconds", th.quiet / kSec},
      {"query_timeout_seconds", th.query_timeout / kSec},
      {"nxdomain_storm_window_seconds", th.storm_window / kSec},
      {"nxdomain_storm_answers", th.storm_answers},
      {"nxdomain_storm_names", th.storm_names}};
  truth["last_frame_time"] = Rfc3339(scene.last_time());
  truth["counts"] = CountsJson(scene.counts(), scene.log());
  if (scenario.logs_transactions) {
    nlohmann::ordered_json incidents =
        ComputeIncidents(scene.log(), scene.last_time(), th);
    if (watchlist) {
      // edgecap's order: (first_seen, kind, server, rule); the scenario has
      // no server incident at the same time as a watch-list one.
      for (auto& i :
           WatchlistIncidents(scene.log(), scene.last_time(), th.quiet)) {
        incidents.push_back(std::move(i));
      }
      std::stable_sort(incidents.begin(), incidents.end(),
                       [](const auto& a, const auto& b) {
                         return std::make_pair(a["first_seen"], a["kind"]) <
                                std::make_pair(b["first_seen"], b["kind"]);
                       });
      nlohmann::ordered_json hits = nlohmann::ordered_json::object();
      for (const auto& [id, n] : WatchlistHits(scene.log())) {
        hits[std::to_string(id)] = n;
      }
      truth["watchlist_hits"] = hits;
    }
    if (scenario.expected_incidents >= 0 &&
        incidents.size() != static_cast<size_t>(scenario.expected_incidents)) {
      return absl::InternalError(
          "scenario " + std::string(scenario.name) + " produced " +
          std::to_string(incidents.size()) + " incidents instead of " +
          std::to_string(scenario.expected_incidents) + " (seed " +
          std::to_string(options.seed) + "): " + incidents.dump());
    }
    truth["incidents"] = std::move(incidents);
  } else {
    truth["incidents"] = nullptr;  // not computed for this scenario
  }

  absl::StatusOr<std::unique_ptr<PcapWriter>> writer =
      PcapWriter::Create(path, 1, nanoseconds);
  if (!writer.ok()) return writer.status();
  scene.WriteTo(writer->get());
  if (absl::Status s = (*writer)->Close(); !s.ok()) return s;

  if (watchlist) {
    // The scenario's watch lists, beside the capture.
    const std::string base = TruthPath(path).substr(
        0, TruthPath(path).size() - std::string_view(".truth.json").size());
    for (const auto& [suffix, text] :
         {std::pair{".rules", WatchlistRulesFile()},
          std::pair{".domains", WatchlistDomainsFile()}}) {
      std::ofstream f(base + suffix);
      f << text;
      if (!f) return absl::DataLossError(base + suffix + ": write failed");
    }
  }
  const std::string truth_path = TruthPath(path);
  std::ofstream out(truth_path);
  out << truth.dump(2) << "\n";
  out.close();
  if (!out) {
    return absl::DataLossError(absl::StrCat(truth_path, ": write failed"));
  }
  return absl::OkStatus();
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "edgecap-gen: %s\n",
               std::string(status.message()).c_str());
  return 1;
}

int Usage(const std::string& why) {
  std::fprintf(stderr, "edgecap-gen: %s\n%s", why.c_str(), kUsage);
  return 2;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--list") {
    for (const Scenario& s : AllScenarios()) {
      std::printf("%-20s %s\n", std::string(s.name).c_str(),
                  std::string(s.description).c_str());
    }
    return 0;
  }
  std::string output, input;
  ScenarioOptions options;
  uint64_t queues = 0;
  bool nanoseconds = false;
  const bool split = args[0] == "split";
  size_t i = 1;
  if (split) {
    if (args.size() < 2) return Usage("split needs an input capture");
    input = args[1];
    i = 2;
  }
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "-o" && has_value) {
      output = args[++i];
    } else if (a == "--seed" && has_value) {
      if (!ParseUint(args[++i], &options.seed)) return Usage("bad --seed");
    } else if (a == "--packets" && has_value) {
      if (!ParseUint(args[++i], &options.packets) || options.packets == 0) {
        return Usage("bad --packets");
      }
    } else if (a == "--clients" && has_value && !split) {
      if (!ParseUint(args[++i], &options.clients) || options.clients == 0 ||
          options.clients > (1u << 24)) {
        return Usage("bad --clients (1..16777216)");
      }
    } else if (a == "--servers" && has_value && !split) {
      if (!ParseUint(args[++i], &options.servers) || options.servers == 0 ||
          options.servers > (1u << 24)) {
        return Usage("bad --servers (1..16777216)");
      }
    } else if (a == "--queues" && has_value && split) {
      if (!ParseUint(args[++i], &queues)) return Usage("bad --queues");
    } else if (a == "--nanosecond" && !split) {
      nanoseconds = true;
    } else {
      return Usage(absl::StrCat("unexpected argument '", a, "'"));
    }
  }
  if (output.empty()) return Usage("-o is required");
  if (split) {
    const absl::Status s = SplitCapture(
        input, static_cast<int>(std::min<uint64_t>(queues, 1000)), output);
    return s.ok() ? 0 : Fail(s);
  }
  const Scenario* scenario = FindScenario(args[0]);
  if (scenario == nullptr) {
    return Usage(absl::StrCat("unknown scenario '", args[0],
                              "' (see edgecap-gen --list)"));
  }
  const absl::Status s = Generate(*scenario, output, options, nanoseconds);
  return s.ok() ? 0 : Fail(s);
}

}  // namespace
}  // namespace edgecap::gen

int main(int argc, char** argv) { return edgecap::gen::Main(argc, argv); }
