#include "lib/incident/storm.h"

#include <algorithm>
#include <deque>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/incident/affected.h"
#include "lib/incident/classify.h"
#include "lib/parse/attacked_domain.h"

namespace edgecap::incident {
// One NXDOMAIN answer.
struct StormTracker::Answer {
  int64_t second;
  int64_t query_ns, answer_ns;
  parse::IpAddress client;
  flow::ServerKey server;
  uint16_t qtype;
  std::string qname;
  size_t domain_at;  // where its attacked domain starts in qname
};

// What an open storm has counted so far.
struct StormTracker::Open {
  explicit Open(const DetectorConfig& config) : affected(config) {}

  void Add(const Answer& a) {
    ++answers;
    ++responders[a.server];
    last_seen = std::max(last_seen, a.answer_ns);
    affected.Add(a.client, a.qname, a.qtype);
  }

  // The counts of the record, open or closed.
  void FillCounts(const std::string& domain, bool still_open,
                  Incident* inc) const {
    inc->kind = Kind::kNxdomainStorm;
    inc->domain = domain;
    inc->open = still_open;
    inc->first_seen_ns = first_seen;
    inc->last_seen_ns = last_seen;
    inc->queries = inc->answered = inc->nxdomain = answers;
  }

  // Every answer counted is an NXDOMAIN answer to one query.
  uint64_t answers = 0;
  int64_t first_seen = INT64_MAX;
  int64_t last_seen = INT64_MIN;
  absl::flat_hash_map<flow::ServerKey, uint64_t> responders;
  AffectedTally affected;
};

struct StormTracker::Domain {
  std::deque<Answer> window;
  absl::flat_hash_map<std::string, uint32_t> names;  // in the window
  std::unique_ptr<Open> open;
  int64_t last_true = INT64_MIN;
  bool done = false;  // one storm per domain and quiet period
};

StormTracker::StormTracker(const DetectorConfig& config) : config_(config) {}
StormTracker::~StormTracker() = default;

void StormTracker::AddSecond(int64_t s,
                             std::span<const flow::Bucket* const> buckets) {
  std::vector<Answer> nx;
  for (const flow::Bucket* b : buckets) {
    for (const auto& r : b->nxdomains) {
      // Answers under no attackable domain (a public suffix's own names:
      // most of a resolver's NXDOMAINs) are neither copied nor sorted.
      const std::string_view qname = b->Name(r.qname_offset, r.qname_length);
      const std::string_view domain = parse::AttackedDomain(qname);
      if (domain.empty()) continue;
      nx.push_back(Answer{s, r.query_ns, r.answer_ns, r.client, r.server,
                          r.qtype, std::string(qname),
                          qname.size() - domain.size()});
    }
  }
  // An order independent of the split, for the capped tallies.
  std::sort(nx.begin(), nx.end(), [](const auto& x, const auto& y) {
    if (x.qname != y.qname) return x.qname < y.qname;
    if (x.query_ns != y.query_ns) return x.query_ns < y.query_ns;
    if (auto c = flow::CompareIp(x.client, y.client); c != 0) return c < 0;
    return std::tie(x.answer_ns, x.server, x.qtype) <
           std::tie(y.answer_ns, y.server, y.qtype);
  });
  for (Answer& r : nx) {
    const std::string domain = r.qname.substr(r.domain_at);
    auto& p = domains_[domain];
    if (!p) p = std::make_unique<Domain>();
    Domain& d = *p;
    if (d.open) d.open->Add(r);
    ++d.names[r.qname];
    d.window.push_back(std::move(r));
    active_.insert(domain);
  }
}

void StormTracker::Evaluate(int64_t s, std::vector<Incident>* out) {
  const int64_t window_s = config_.storm_window_ns / flow::kNsPerSecond;
  const int64_t close_s = config_.storm_close_ns / flow::kNsPerSecond;
  std::vector<std::string> names(active_.begin(), active_.end());
  std::sort(names.begin(), names.end());
  for (const std::string& domain : names) {
    auto it = domains_.find(domain);
    Domain& d = *it->second;
    while (!d.window.empty() && d.window.front().second <= s - window_s) {
      auto n = d.names.find(d.window.front().qname);
      if (--n->second == 0) d.names.erase(n);
      d.window.pop_front();
    }
    const bool storming = d.window.size() >= config_.storm_min_answers &&
                          d.names.size() >= config_.storm_min_names;
    if (!d.open && storming && !d.done) {
      auto o = std::make_unique<Open>(config_);
      for (const Answer& r : d.window) {
        o->first_seen = std::min(o->first_seen, r.query_ns);
        o->Add(r);
      }
      d.open = std::move(o);
      ++opened_;
    }
    if (d.open && storming) d.last_true = s;
    if (d.open && s - d.last_true >= close_s) {
      Emit(domain, *d.open, false, out);
      d.open.reset();
      d.done = true;
    }
    if (d.done && d.window.empty()) d.done = false;
    if (!d.open && d.window.empty()) {
      active_.erase(domain);
      domains_.erase(it);
    }
  }
}

void StormTracker::Finish(std::vector<Incident>* out) {
  std::vector<std::string> open_domains(active_.begin(), active_.end());
  std::sort(open_domains.begin(), open_domains.end());
  for (const auto& domain : open_domains) {
    auto it = domains_.find(domain);
    if (it != domains_.end() && it->second->open) {
      Emit(domain, *it->second->open, true, out);
      it->second->open.reset();
    }
  }
}

// The server that answered most of a storm's NXDOMAINs; ties to the lowest.
flow::ServerKey StormTracker::MostResponder(const Open& o) {
  std::vector<std::pair<flow::ServerKey, uint64_t>> resp(o.responders.begin(),
                                                         o.responders.end());
  std::sort(resp.begin(), resp.end());
  flow::ServerKey server{};
  uint64_t most = 0;
  for (const auto& [k, n] : resp) {
    if (n > most) server = k, most = n;
  }
  return server;
}

void StormTracker::AppendOpen(std::vector<Incident>* out) const {
  for (const auto& [domain, d] : domains_) {
    if (!d->open) continue;
    Incident inc;
    d->open->FillCounts(domain, true, &inc);
    inc.server = MostResponder(*d->open);
    inc.client_count = d->open->affected.client_count();
    out->push_back(std::move(inc));
  }
}

void StormTracker::Emit(const std::string& domain, const Open& o,
                        bool still_open, std::vector<Incident>* out) const {
  Incident inc;
  o.FillCounts(domain, still_open, &inc);
  inc.server = MostResponder(o);
  // The share of answers that were NXDOMAIN: all of them, when there are any.
  inc.severity = Severity(o.answers == 0 ? 0.0 : 1.0);
  o.affected.FillRecord(config_, &inc);
  inc.summary = absl::StrCat(
      "Random-subdomain flood against ", domain, " from ",
      TimeOfDay(inc.first_seen_ns), " to ", TimeOfDay(inc.last_seen_ns), ": ",
      o.answers, " NXDOMAIN answers for ", o.affected.distinct_qnames(),
      " distinct names, mostly from ", flow::IpToString(inc.server.ip),
      " port ", inc.server.port, "; ",
      Plural(inc.client_count, "client", "clients"), " asking.");
  out->push_back(std::move(inc));
}

}  // namespace edgecap::incident
