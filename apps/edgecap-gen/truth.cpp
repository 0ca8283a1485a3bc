#include "apps/edgecap-gen/truth.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_format.h"
#include "lib/parse/attacked_domain.h"

namespace edgecap::gen {
namespace {

using Json = nlohmann::ordered_json;

struct ServerKey {
  Ip ip;
  uint16_t port;
  bool tcp;
  auto operator<=>(const ServerKey&) const = default;
};

struct Window {
  int64_t first_seen = 0;
  int64_t close_ns = 0;  // end of the counted span (inclusive)
  bool closed = false;
};

const char* kFailureNames[] = {"icmp_port_unreachable",
                               "icmp_host_unreachable",
                               "icmp_net_unreachable",
                               "icmp_admin_prohibited",
                               "tcp_refused",
                               "servfail",
                               "refused",
                               "timeouts"};

int FailureIndex(Outcome o) {
  switch (o) {
    case Outcome::kIcmpPort:
      return 0;
    case Outcome::kIcmpHost:
      return 1;
    case Outcome::kIcmpNet:
      return 2;
    case Outcome::kIcmpAdmin:
      return 3;
    case Outcome::kTcpRefused:
      return 4;
    case Outcome::kServfail:
      return 5;
    case Outcome::kRefused:
      return 6;
    case Outcome::kTimeout:
      return 7;
    case Outcome::kAnswered:
      break;
  }
  return -1;
}

// Fields shared by server incidents and NXDOMAIN storms, filled from the
// transactions counted in the incident; `failed` picks the ones whose
// clients and names describe it.
struct Tally {
  uint64_t queries = 0, answered = 0, nxdomain = 0, failures = 0;
  uint64_t by_kind[8] = {};
  int64_t last_seen = 0;
  std::set<Ip> clients, reporters;
  std::map<std::pair<std::string, uint16_t>, uint64_t> names;

  void Add(const TxnRecord& r, bool describes) {
    ++queries;
    if (r.outcome == Outcome::kAnswered) {
      ++answered;
      if (r.rcode == kRcodeNxDomain) ++nxdomain;
    } else {
      ++failures;
      ++by_kind[FailureIndex(r.outcome)];
      if (IsIcmp(r.outcome)) reporters.insert(r.reporter);
    }
    if (describes) {
      last_seen = std::max(last_seen, r.event_ns);
      clients.insert(r.client);
      ++names[{r.qname, r.qtype}];
    }
  }
};

std::string Severity(double ratio) {
  return ratio >= 0.9 ? "critical" : ratio >= 0.5 ? "major" : "minor";
}

std::string Kind(const Tally& t) {
  // ICMP kinds by count, ties in the order port > admin > host > net.
  static constexpr std::pair<int, const char*> kIcmp[] = {
      {0, "dns-port-unreachable"},
      {3, "dns-admin-prohibited"},
      {1, "dns-host-unreachable"},
      {2, "dns-net-unreachable"}};
  const char* best = nullptr;
  uint64_t best_count = 0;
  for (const auto& [index, name] : kIcmp) {
    if (t.by_kind[index] > best_count) {
      best = name;
      best_count = t.by_kind[index];
    }
  }
  if (best != nullptr) return best;
  if (t.by_kind[4] > 0) return "dns-tcp-refused";
  if (t.by_kind[5] + t.by_kind[6] > 0) {
    return t.by_kind[6] > t.by_kind[5] ? "dns-refused" : "dns-servfail";
  }
  return "dns-timeout";
}

Json Record(const std::string& kind, const std::string* domain,
            const ServerKey& server, const Window& w, const Tally& t,
            double ratio) {
  Json j;
  j["kind"] = kind;
  if (domain != nullptr) j["domain"] = *domain;
  j["state"] = w.closed ? "closed" : "open";
  j["severity"] = Severity(ratio);
  j["server"] = {{"ip", server.ip.ToString()},
                 {"port", server.port},
                 {"transport", server.tcp ? "tcp" : "udp"}};
  Json reporters = Json::array();
  for (const Ip& ip : t.reporters) reporters.push_back(ip.ToString());
  j["reporters"] = reporters;
  j["first_seen"] = Rfc3339(w.first_seen);
  j["last_seen"] = Rfc3339(t.last_seen);
  j["queries"] = t.queries;
  j["answered"] = t.answered;
  Json failures;
  for (int i = 0; i < 8; ++i) failures[kFailureNames[i]] = t.by_kind[i];
  failures["nxdomain"] = t.nxdomain;
  j["failures"] = failures;
  Json sample = Json::array();
  for (const Ip& ip : t.clients) {
    if (sample.size() == 10) break;
    sample.push_back(ip.ToString());
  }
  j["clients"] = {{"count", t.clients.size()}, {"sample", sample}};
  std::vector<std::pair<std::pair<std::string, uint16_t>, uint64_t>> names(
      t.names.begin(), t.names.end());
  std::stable_sort(
      names.begin(), names.end(),
      [](const auto& a, const auto& b) { return a.second > b.second; });
  Json qnames = Json::array();
  for (size_t i = 0; i < names.size() && i < 10; ++i) {
    qnames.push_back({{"name", names[i].first.first},
                      {"qtype", QtypeName(names[i].first.second)},
                      {"count", names[i].second}});
  }
  j["qnames"] = qnames;
  return j;
}

// Runs the open/close rules over one server's transactions, ordered by the
// time their outcome is known.
std::vector<Window> ServerWindows(std::vector<const TxnRecord*> txns,
                                  int64_t end_ns, const Thresholds& th) {
  std::sort(txns.begin(), txns.end(), [](const auto* a, const auto* b) {
    return std::tie(a->event_ns, a->query_ns) <
           std::tie(b->event_ns, b->query_ns);
  });
  std::vector<Window> out;
  bool open = false;
  Window cur;
  int64_t last_fail = 0, answered_after = -1;
  size_t lo = 0;  // first event still inside the trailing window
  auto close_time = [&]() {
    const int64_t quiet = last_fail + th.quiet;
    if (answered_after < 0) return quiet;
    return std::min(quiet, std::max(last_fail + th.recovery, answered_after));
  };
  for (size_t i = 0; i < txns.size(); ++i) {
    const TxnRecord& e = *txns[i];
    if (open && close_time() <= e.event_ns) {
      cur.close_ns = close_time();
      cur.closed = true;
      out.push_back(cur);
      open = false;
      // A new incident needs new failures after the close.
      while (lo < i && txns[lo]->event_ns <= cur.close_ns) ++lo;
    }
    if (!IsFailure(e.outcome)) {
      if (open && answered_after < 0) answered_after = e.event_ns;
      continue;
    }
    if (open) {
      last_fail = std::max(last_fail, e.event_ns);
      answered_after = -1;
      continue;
    }
    while (txns[lo]->event_ns <= e.event_ns - th.window) ++lo;
    uint64_t failures = 0, answered = 0;
    int64_t first = e.query_ns;
    for (size_t k = lo; k <= i; ++k) {
      if (IsFailure(txns[k]->outcome)) {
        ++failures;
        first = std::min(first, txns[k]->query_ns);
      } else {
        ++answered;
      }
    }
    if (failures >= th.min_failures &&
        static_cast<double>(failures) >=
            th.min_failure_ratio * static_cast<double>(failures + answered)) {
      open = true;
      cur = Window{first, 0, false};
      last_fail = e.event_ns;
      answered_after = -1;
    }
  }
  if (open) {
    cur.closed = close_time() <= end_ns;
    cur.close_ns = cur.closed ? close_time() : end_ns;
    out.push_back(cur);
  }
  return out;
}

void AddStorms(
    const std::vector<TxnRecord>& log, int64_t end_ns, const Thresholds& th,
    std::vector<std::pair<std::tuple<int64_t, std::string, ServerKey>, Json>>*
        out) {
  std::map<std::string, std::vector<const TxnRecord*>> by_domain;
  for (const TxnRecord& r : log) {
    if (r.outcome == Outcome::kAnswered && r.rcode == kRcodeNxDomain) {
      const std::string d(parse::AttackedDomain(r.qname));
      if (!d.empty()) by_domain[d].push_back(&r);
    }
  }
  for (auto& [domain, ev] : by_domain) {
    std::sort(ev.begin(), ev.end(), [](const auto* a, const auto* b) {
      return a->event_ns < b->event_ns;
    });
    size_t lo = 0;
    std::map<std::string, int> names;
    size_t open_at = ev.size();
    for (size_t i = 0; i < ev.size(); ++i) {
      ++names[ev[i]->qname];
      while (ev[lo]->event_ns <= ev[i]->event_ns - th.storm_window) {
        if (--names[ev[lo]->qname] == 0) names.erase(ev[lo]->qname);
        ++lo;
      }
      if (i + 1 - lo >= th.storm_answers && names.size() >= th.storm_names) {
        open_at = i;
        break;
      }
    }
    if (open_at == ev.size()) continue;
    Window w;
    w.first_seen = ev[lo]->query_ns;
    for (size_t k = lo; k <= open_at; ++k) {
      w.first_seen = std::min(w.first_seen, ev[k]->query_ns);
    }
    // The storm scenarios end their flood abruptly, so the window falls
    // below the thresholds once the tail leaves it: by count when the
    // 200th-last answer leaves, by names when the 100th-last name does.
    const size_t n = ev.size();
    int64_t below = ev[n - th.storm_answers]->event_ns + th.storm_window;
    std::map<std::string, int64_t> last_of;
    for (const auto* r : ev) last_of[r->qname] = r->event_ns;
    std::vector<int64_t> lasts;
    for (const auto& [name, t] : last_of) lasts.push_back(t);
    std::sort(lasts.rbegin(), lasts.rend());
    below = std::min(below, lasts[th.storm_names - 1] + th.storm_window);
    w.close_ns = below + th.storm_window;
    w.closed = w.close_ns <= end_ns;
    if (!w.closed) w.close_ns = end_ns;

    Tally t;
    std::map<ServerKey, uint64_t> responders;
    const std::string suffix = "." + domain;
    for (const TxnRecord& r : log) {
      if (r.query_ns < w.first_seen || r.query_ns > w.close_ns) continue;
      if (r.qname.size() <= suffix.size() || !r.qname.ends_with(suffix)) {
        continue;
      }
      const bool nx =
          r.outcome == Outcome::kAnswered && r.rcode == kRcodeNxDomain;
      t.Add(r, nx);
      if (nx) ++responders[{r.server, r.port, r.tcp}];
    }
    ServerKey server = responders.begin()->first;
    uint64_t most = 0;
    for (const auto& [key, count] : responders) {
      if (count > most) server = key, most = count;
    }
    // Severity of a storm: the share of NXDOMAIN among its answers.
    const double ratio =
        t.answered == 0 ? 0.0 : static_cast<double>(t.nxdomain) / t.answered;
    out->push_back({{w.first_seen, "nxdomain-storm", server},
                    Record("nxdomain-storm", &domain, server, w, t, ratio)});
  }
}

}  // namespace

std::string Rfc3339(int64_t ns) {
  const std::time_t secs = static_cast<std::time_t>(ns / kSec);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                         tm.tm_hour, tm.tm_min, tm.tm_sec,
                         static_cast<int>((ns % kSec) / kUs));
}

Json ComputeIncidents(const std::vector<TxnRecord>& log, int64_t end_ns,
                      const Thresholds& th) {
  std::map<ServerKey, std::vector<const TxnRecord*>> by_server;
  for (const TxnRecord& r : log)
    by_server[{r.server, r.port, r.tcp}].push_back(&r);

  std::vector<std::pair<std::tuple<int64_t, std::string, ServerKey>, Json>>
      incidents;
  for (const auto& [key, txns] : by_server) {
    for (const Window& w : ServerWindows(txns, end_ns, th)) {
      Tally t;
      for (const TxnRecord* r : txns) {
        if (r->query_ns >= w.first_seen && r->query_ns <= w.close_ns) {
          t.Add(*r, IsFailure(r->outcome));
        }
      }
      const double ratio = t.failures == 0 ? 0.0
                                           : static_cast<double>(t.failures) /
                                                 (t.failures + t.answered);
      const std::string kind = Kind(t);
      incidents.push_back(
          {{w.first_seen, kind, key}, Record(kind, nullptr, key, w, t, ratio)});
    }
  }
  AddStorms(log, end_ns, th, &incidents);
  std::stable_sort(
      incidents.begin(), incidents.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  Json out = Json::array();
  for (auto& [key, record] : incidents) out.push_back(std::move(record));
  return out;
}

Json CountsJson(const Counts& c, const std::vector<TxnRecord>& log) {
  auto by_code = [](const std::map<int, uint64_t>& m) {
    Json j = Json::object();
    for (const auto& [code, n] : m) j[std::to_string(code)] = n;
    return j;
  };
  Json j;
  j["frames"] = c.frames;
  j["bytes"] = c.bytes;
  j["ipv4_frames"] = c.ipv4_frames;
  j["ipv6_frames"] = c.ipv6_frames;
  j["vlan_frames"] = c.vlan_frames;
  j["tcp_segments"] = c.tcp_segments;
  j["dns_queries"] = c.dns_queries;
  j["dns_responses"] = c.dns_responses;
  j["dns_rcodes"] = by_code(c.dns_rcodes);
  j["dns_quoted_queries"] = c.dns_quoted_queries;
  j["dns_quoted_responses"] = c.dns_quoted_responses;
  j["icmp4_unreach_by_code"] = by_code(c.icmp4_unreach_by_code);
  j["icmp6_unreach_by_code"] = by_code(c.icmp6_unreach_by_code);
  j["malformed_frames"] = c.malformed_frames;
  Json kinds = Json::object();
  for (const auto& [kind, n] : c.malformed_by_kind) kinds[kind] = n;
  j["malformed_by_kind"] = kinds;
  if (!log.empty()) {
    Json t;
    uint64_t by_kind[8] = {}, answered = 0, nxdomain = 0;
    for (const TxnRecord& r : log) {
      if (r.outcome == Outcome::kAnswered) {
        ++answered;
        if (r.rcode == kRcodeNxDomain) ++nxdomain;
      } else {
        ++by_kind[FailureIndex(r.outcome)];
      }
    }
    t["total"] = log.size();
    t["answered"] = answered;
    t["nxdomain"] = nxdomain;
    for (int i = 0; i < 8; ++i) t[kFailureNames[i]] = by_kind[i];
    j["transactions"] = t;
  }
  return j;
}

}  // namespace edgecap::gen
