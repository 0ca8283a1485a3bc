#include "apps/edgecap-gen/watchlist.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <tuple>

#include "absl/strings/ascii.h"
#include "apps/edgecap-gen/truth.h"
#include "apps/edgecap-gen/world.h"

namespace edgecap::gen {
namespace {

using Json = nlohmann::ordered_json;

constexpr int64_t kT0 = kDay + 13 * 3600 * kSec;  // 13:00:00
constexpr int64_t kEnd = kT0 + 1200 * kSec;       // 13:20:00

struct RuleSpec {
  uint32_t id;
  const char* severity;
  const char* label;
  const char* regex;  // same meaning in Hyperscan (PCRE) and ECMAScript
  std::vector<std::string> domains;  // a .domains list when regex is null
};

const std::vector<RuleSpec>& Rules() {
  static const auto* kRules = new std::vector<RuleSpec>{
      {1001, "critical", "Test C2", R"((^|\.)evil-c2\.example$)", {}},
      {1002, "high", "DNS tunnel", R"(^[a-z0-9]{24,}\.tunnel\.example$)", {}},
      {1003, "low", "paypa1 lookalike", R"(paypa1)", {}},
      // As written in the file: a trailing dot, an IDN in punycode, capitals.
      {2000,
       "high",
       "Phishing feed",
       nullptr,
       {"phish.example", "xn--80ak6aa92e.com", "bank-login.example"}},
  };
  return *kRules;
}

// Rule IDs `qname` fires, as docs/detection.md says.
std::vector<uint32_t> Fires(const std::string& qname) {
  static const auto* kRegex = [] {
    auto* v = new std::vector<std::regex>();
    for (const RuleSpec& r : Rules()) {
      v->emplace_back(r.regex ? r.regex : "$^",
                      std::regex::ECMAScript | std::regex::icase);
    }
    return v;
  }();
  std::string name = absl::AsciiStrToLower(qname);
  if (!name.empty() && name.back() == '.') name.pop_back();
  std::vector<uint32_t> out;
  for (size_t i = 0; i < Rules().size(); ++i) {
    const RuleSpec& r = Rules()[i];
    bool hit = false;
    if (r.regex != nullptr) {
      hit = std::regex_search(name, (*kRegex)[i]);
    } else {
      for (const std::string& d : r.domains) {
        hit |= name == d || (name.size() > d.size() && name.ends_with(d) &&
                             name[name.size() - d.size() - 1] == '.');
      }
    }
    if (hit) out.push_back(r.id);
  }
  return out;
}

}  // namespace

std::string WatchlistRulesFile() {
  std::string s =
      "# edgecap-gen watchlist scenario: Hyperscan expression file\n";
  for (const RuleSpec& r : Rules()) {
    if (r.regex == nullptr) continue;
    s += "# @rule " + std::to_string(r.id) + " severity=" + r.severity +
         " label=" + r.label + "\n";
    s += std::to_string(r.id) + ":/" + r.regex + "/\n";
  }
  return s;
}

std::string WatchlistDomainsFile() {
  const RuleSpec& r = Rules().back();
  return "# @list " + std::to_string(r.id) + " severity=" + r.severity +
         " label=" + r.label +
         "\nphish.example.\nxn--80ak6aa92e.com\nBank-Login.example\n"
         "phish.example\n";
}

void Watchlist(Scene* scene, const ScenarioOptions& options, bool load) {
  Rng* rng = &scene->rng();
  const World w = MakeWorld(rng, false, 200, 2000);
  // Background: healthy lookups to the four resolvers.
  const double qps =
      load ? static_cast<double>(options.packets) / 2 / 1200 : 12.0;
  if (load) scene->Reserve(options.packets + 1000);
  for (int64_t t = kT0 + Gap(rng, qps); t < kEnd; t += Gap(rng, qps)) {
    scene->Dns(Ordinary(rng, w, w.servers[rng->Below(4)], t, 0.03));
  }
  // Planted lookups: (seconds after 13:00, client, server, name). Names in
  // mixed case as a stub resolver may send them (0x20); negatives that must
  // not fire sit next to the positives.
  struct Plant {
    int64_t ms;
    int client, server;
    std::string name;
  };
  std::vector<Plant> plants = {
      // 1001, server 0: 13:02:00-13:03:40 (closes 13:08:40).
      {120'000, 0, 0, "EVIL-C2.example"},
      {140'013, 1, 0, "www.evil-c2.example"},
      {160'027, 2, 0, "cdn.Evil-C2.Example"},
      {180'041, 0, 0, "evil-c2.example"},
      {200'055, 1, 0, "www.evil-c2.example"},
      {100'070, 3, 0, "notevil-c2.example"},   // anchored: no
      {101'070, 3, 0, "evil-c2.example.net"},  // anchored: no
      // 1001, server 0 again after 500 s of quiet: a second incident.
      {720'100, 4, 0, "evil-c2.example"},
      {730'200, 4, 0, "evil-c2.example"},
      // 1001, server 1, near the end: still open.
      {1080'300, 5, 1, "beacon.evil-c2.example"},
      // 1002: tunnelling through server 2 (long random first labels).
      {305'000, 6, 2, "short.tunnel.example"},  // too short: no
      // 1003 (unanchored substring) and 2000 (domain list).
      {400'000, 7, 3, "www.paypa1-secure.example"},
      {401'000, 7, 3, "paypal.example"},  // no
      {402'000, 8, 3, "secure.PHISH.example"},
      {403'000, 9, 3, "phish.example"},
      {404'000, 8, 3, "xn--80ak6aa92e.com"},  // IDN, punycode
      {405'000, 9, 3, "login.bank-login.example"},
      {406'000, 9, 3, "notphish.example"},         // no
      {407'000, 9, 3, "phish.example.org"},        // no
      {408'000, 8, 3, "xn--80ak6aa92e.com.evil"},  // no
      {409'000, 7, 3, "paypa1.phish.example"},     // 1003 and 2000
  };
  for (int k = 0; k < 8; ++k) {
    plants.push_back({300'000 + k * 7'001, 6, 2,
                      RandomLabel(rng, 24, 40) + ".tunnel.example"});
  }
  for (const Plant& p : plants) {
    TxnSpec s = Ordinary(rng, w, w.servers[p.server], kT0 + p.ms * kMs, 0);
    s.client = w.clients[p.client];
    s.qname = p.name;
    s.retransmits = 0;
    s.tcp = false;
    scene->Dns(s);
  }
}

std::vector<std::pair<uint32_t, uint64_t>> WatchlistHits(
    const std::vector<TxnRecord>& log) {
  std::map<uint32_t, uint64_t> hits;
  for (const TxnRecord& r : log) {
    for (uint32_t id : Fires(r.qname)) ++hits[id];
  }
  return {hits.begin(), hits.end()};
}

Json WatchlistIncidents(const std::vector<TxnRecord>& log, int64_t end_ns,
                        int64_t quiet_ns) {
  // Matching queries per (rule, server), in query-time order.
  struct Key {
    uint32_t rule;
    Ip server;
    uint16_t port;
    bool tcp;
    auto operator<=>(const Key&) const = default;
  };
  std::map<Key, std::vector<const TxnRecord*>> hits;
  for (const TxnRecord& r : log) {
    for (uint32_t id : Fires(r.qname)) {
      hits[{id, r.server, r.port, r.tcp}].push_back(&r);
    }
  }
  std::vector<
      std::pair<std::tuple<int64_t, Ip, uint16_t, bool, uint32_t>, Json>>
      out;
  for (auto& [key, recs] : hits) {
    std::stable_sort(
        recs.begin(), recs.end(),
        [](const auto* a, const auto* b) { return a->query_ns < b->query_ns; });
    // clang 14 cannot capture a structured binding: capture the id itself.
    const uint32_t rule_id = key.rule;
    const RuleSpec& rule =
        *std::find_if(Rules().begin(), Rules().end(),
                      [rule_id](const RuleSpec& r) { return r.id == rule_id; });
    size_t i = 0;
    while (i < recs.size()) {
      size_t j = i + 1;
      while (j < recs.size() &&
             recs[j]->query_ns < recs[j - 1]->query_ns + quiet_ns) {
        ++j;
      }
      std::set<Ip> clients;
      std::map<std::pair<std::string, uint16_t>, uint64_t> names;
      for (size_t k = i; k < j; ++k) {
        clients.insert(recs[k]->client);
        std::string n = absl::AsciiStrToLower(recs[k]->qname);
        ++names[{n, recs[k]->qtype}];
      }
      const int64_t first = recs[i]->query_ns, last = recs[j - 1]->query_ns;
      Json rec;
      rec["kind"] = "watchlist";
      rec["rule"] = {
          {"id", rule.id}, {"label", rule.label}, {"severity", rule.severity}};
      rec["state"] = last + quiet_ns <= end_ns ? "closed" : "open";
      rec["severity"] = rule.severity;
      rec["server"] = {{"ip", key.server.ToString()},
                       {"port", key.port},
                       {"transport", key.tcp ? "tcp" : "udp"}};
      rec["reporters"] = Json::array();
      rec["first_seen"] = Rfc3339(first);
      rec["last_seen"] = Rfc3339(last);
      rec["queries"] = j - i;
      rec["answered"] = 0;
      Json sample = Json::array();
      for (const Ip& ip : clients) {
        if (sample.size() == 10) break;
        sample.push_back(ip.ToString());
      }
      rec["clients"] = {{"count", clients.size()}, {"sample", sample}};
      std::vector<std::pair<std::pair<std::string, uint16_t>, uint64_t>> top(
          names.begin(), names.end());
      std::stable_sort(
          top.begin(), top.end(),
          [](const auto& a, const auto& b) { return a.second > b.second; });
      Json qnames = Json::array();
      for (size_t k = 0; k < top.size() && k < 10; ++k) {
        qnames.push_back({{"name", top[k].first.first},
                          {"qtype", QtypeName(top[k].first.second)},
                          {"count", top[k].second}});
      }
      rec["qnames"] = qnames;
      out.push_back(
          {{first, key.server, key.port, key.tcp, key.rule}, std::move(rec)});
      i = j;
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.first < b.first;
  });
  Json j = Json::array();
  for (auto& [k, rec] : out) j.push_back(std::move(rec));
  return j;
}

}  // namespace edgecap::gen
