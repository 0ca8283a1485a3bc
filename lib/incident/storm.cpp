#include "lib/incident/storm.h"

#include <algorithm>
#include <deque>
#include <string_view>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lib/incident/affected.h"
#include "lib/incident/classify.h"
#include "lib/parse/attacked_domain.h"

namespace edgecap::incident {
namespace {
// Looks a name up in a map keyed by std::string without building one:
// Debian's Abseil hashes its own absl::string_view, not std::string_view.
absl::string_view Key(std::string_view s) { return {s.data(), s.size()}; }
}  // namespace

// One NXDOMAIN answer.
struct StormTracker::Answer {
  int64_t second;
  int64_t query_ns, answer_ns;
  parse::IpAddress client;
  flow::ServerKey server;
  uint16_t qtype;
  std::string qname;
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
  // What the sort moves: the answer's name in its bucket's arena, and the
  // record. Answers under no attackable domain (a public suffix's own
  // names: most of a resolver's NXDOMAINs) are neither kept nor sorted.
  struct Ref {
    std::string_view qname;
    size_t domain_at;
    const flow::NxRecord* r;
  };
  std::vector<Ref> nx;
  for (const flow::Bucket* b : buckets) {
    for (const auto& r : b->nxdomains) {
      const std::string_view qname = b->Name(r.qname_offset, r.qname_length);
      const std::string_view domain = parse::ParentDomain(qname);
      if (domain.empty() || !Attackable(domain)) continue;
      nx.push_back(Ref{qname, qname.size() - domain.size(), &r});
    }
  }
  // An order independent of the split, for the capped tallies.
  std::sort(nx.begin(), nx.end(), [](const Ref& x, const Ref& y) {
    if (x.qname != y.qname) return x.qname < y.qname;
    const flow::NxRecord &a = *x.r, &b = *y.r;
    if (a.query_ns != b.query_ns) return a.query_ns < b.query_ns;
    if (auto c = flow::CompareIp(a.client, b.client); c != 0) return c < 0;
    return std::tie(a.answer_ns, a.server, a.qtype) <
           std::tie(b.answer_ns, b.server, b.qtype);
  });
  for (const Ref& x : nx) {
    const std::string_view domain = x.qname.substr(x.domain_at);
    auto it = domains_.find(Key(domain));
    if (it == domains_.end()) {
      it = domains_.emplace(std::string(domain), std::make_unique<Domain>())
               .first;
    }
    Domain& d = *it->second;
    const flow::NxRecord& r = *x.r;
    Answer a{s,        r.query_ns, r.answer_ns,         r.client,
             r.server, r.qtype,    std::string(x.qname)};
    if (d.open) d.open->Add(a);
    if (auto n = d.names.find(Key(x.qname)); n != d.names.end()) {
      ++n->second;
    } else {
      d.names.emplace(a.qname, 1);
    }
    d.window.push_back(std::move(a));
  }
}

bool StormTracker::Attackable(std::string_view parent) {
  // A domain with answers in its window was checked when it got them.
  if (domains_.contains(Key(parent))) return true;
  if (auto v = suffix_verdicts_.find(Key(parent)); v != suffix_verdicts_.end())
    return !v->second;
  const bool suffix = parse::IsPublicSuffix(parent);
  // Random parents, the list's wildcards and unknown top-level names make
  // parents without end: the memory stays bounded, verdicts are recomputed.
  if (suffix_verdicts_.size() >= kMaxVerdicts) suffix_verdicts_.clear();
  suffix_verdicts_.emplace(parent, suffix);
  return !suffix;
}

void StormTracker::Evaluate(int64_t s, std::vector<Incident>* out) {
  const int64_t window_s = config_.storm_window_ns / flow::kNsPerSecond;
  const int64_t close_s = config_.storm_close_ns / flow::kNsPerSecond;
  // In hash order: each domain's step depends on that domain alone, and the
  // Detector sorts what is emitted (IncidentLess ends with the domain).
  for (auto it = domains_.begin(); it != domains_.end();) {
    const std::string& domain = it->first;
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
      domains_.erase(it++);  // flat_hash_map: other iterators stay valid
    } else {
      ++it;
    }
  }
}

void StormTracker::Finish(std::vector<Incident>* out) {
  for (auto& [domain, d] : domains_) {
    if (d->open) {
      Emit(domain, *d->open, true, out);
      d->open.reset();
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
