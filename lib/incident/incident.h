// The incident record of DESIGN.md as a plain struct, the detector's
// thresholds, and the names used in JSON and reports. Field meanings are in
// docs/detection.md.
//
//   incident::Incident inc = ...;          // from incident::Detector
//   std::string line = incident::ToJsonLine(inc);   // json_writer.h
#ifndef EDGECAP_LIB_INCIDENT_INCIDENT_H_
#define EDGECAP_LIB_INCIDENT_INCIDENT_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/flow/bucket.h"
#include "lib/parse/packet.h"

namespace edgecap::incident {

enum class Kind : uint8_t {
  kPortUnreachable,
  kAdminProhibited,
  kHostUnreachable,
  kNetUnreachable,
  kTcpRefused,
  kServfail,
  kRefused,
  kTimeout,
  kNxdomainStorm,
  kWatchlist,  // lib/rules hits (`rule` field), see watchlist.h
};
std::string_view KindName(Kind kind);  // "dns-port-unreachable", ...

struct DetectorConfig {
  // Per-server incidents.
  int64_t window_ns = 300 * flow::kNsPerSecond;
  uint64_t min_failures = 3;
  double min_failure_ratio = 0.5;
  int64_t recovery_ns = 10 * flow::kNsPerSecond;
  int64_t quiet_ns = 300 * flow::kNsPerSecond;
  // NXDOMAIN storms.
  int64_t storm_window_ns = 60 * flow::kNsPerSecond;
  uint64_t storm_min_answers = 200;
  uint64_t storm_min_names = 100;
  int64_t storm_close_ns = 60 * flow::kNsPerSecond;
  // Record contents.
  size_t max_exact_clients = 65536;
  size_t max_tracked_qnames = 65536;
  int client_sample = 10;
  int top_qnames = 10;
  // Link type of the frames kept as evidence.
  parse::LinkType link = parse::LinkType::kEthernet;
};

struct QnameCount {
  std::string name;
  uint16_t qtype = 0;
  uint64_t count = 0;
};

// One failed transaction, as an example for summaries and reports.
struct Example {
  bool valid = false;
  flow::Fail kind = flow::Fail::kTimeout;
  parse::IpAddress client, reporter;
  uint16_t client_port = 0, txid = 0, qtype = 0;
  std::string qname;
  int64_t query_ns = 0, evidence_ns = 0;
};

struct Incident {
  std::string id;  // "edgecap-<n>", set by the writer
  Kind kind = Kind::kTimeout;
  bool open = false;
  std::string severity;
  flow::ServerKey server;
  std::vector<parse::IpAddress> reporters;
  int64_t first_seen_ns = 0, last_seen_ns = 0;
  uint64_t queries = 0, answered = 0, nxdomain = 0;
  std::array<uint64_t, flow::kFailCount> failures{};
  uint64_t client_count = 0;
  std::vector<parse::IpAddress> client_sample;
  std::vector<QnameCount> qnames;
  std::vector<std::string> evidence;  // tcpdump -n lines
  std::string summary;
  std::string domain;  // nxdomain-storm
  struct RuleRef {     // watchlist: the rule that fired (lib/rules)
    uint32_t id = 0;
    std::string label;
  } rule;
  Example example;  // earliest failure (not in JSON; for reports)

  uint64_t failed() const {
    uint64_t n = 0;
    for (uint64_t f : failures) n += f;
    return n;
  }
};

// Output order of docs/detection.md: (first_seen, kind, server), then the
// storm's domain or the watch-list rule.
bool IncidentLess(const Incident& a, const Incident& b);

std::string QtypeName(uint16_t qtype);
// RFC 3339 UTC with microseconds: "2024-03-14T13:24:32.192571Z".
std::string Rfc3339(int64_t ns);
// "13:24:32" (UTC time of day).
std::string TimeOfDay(int64_t ns);
// "1 client", "3 clients": `n` and the word that fits it.
std::string Plural(uint64_t n, std::string_view one, std::string_view many);
// "udp port 53 unreachable" and the like: what the ICMP errors say.
std::string FailurePhrase(flow::Fail kind, const flow::ServerKey& server);
std::string TransportName(parse::Transport t);  // "udp" / "tcp"

}  // namespace edgecap::incident

#endif  // EDGECAP_LIB_INCIDENT_INCIDENT_H_
