#include "lib/incident/watchlist.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "lib/incident/affected.h"
#include "lib/parse/evidence.h"

namespace edgecap::incident {

struct WatchlistTracker::Open {
  explicit Open(const DetectorConfig& config) : affected(config) {}

  std::string label, severity;
  int64_t first_seen = 0, last_seen = 0;
  uint64_t queries = 0;
  AffectedTally affected;
  // The earliest and the latest matching query (flow::FrameLess) whose
  // frame a worker kept.
  bool has_frames = false;
  flow::Frame first_frame, last_frame;
  Example example;  // the first matching query
};

namespace {

struct Hit {
  const flow::Bucket* bucket;
  const flow::WatchRecord* record;
};

bool HitLess(const Hit& x, const Hit& y) {
  const flow::WatchRecord& a = *x.record;
  const flow::WatchRecord& b = *y.record;
  if (a.query_ns != b.query_ns) return a.query_ns < b.query_ns;
  if (a.rule_id != b.rule_id) return a.rule_id < b.rule_id;
  if (a.server != b.server) return a.server < b.server;
  if (auto c = flow::CompareIp(a.client, b.client); c != 0) return c < 0;
  return std::tie(a.client_port, a.txid) < std::tie(b.client_port, b.txid);
}

}  // namespace

WatchlistTracker::WatchlistTracker(const DetectorConfig& config)
    : config_(config) {}
WatchlistTracker::~WatchlistTracker() = default;

void WatchlistTracker::AddSecond(std::span<const flow::Bucket* const> buckets,
                                 std::vector<Incident>* out) {
  std::vector<Hit> hits;
  for (const flow::Bucket* b : buckets) {
    dropped_ += b->dropped_watch;
    for (const flow::WatchRecord& r : b->watch) hits.push_back({b, &r});
  }
  if (hits.empty()) return;
  std::sort(hits.begin(), hits.end(), HitLess);
  for (const Hit& h : hits) {
    const flow::WatchRecord& r = *h.record;
    const flow::Bucket& b = *h.bucket;
    const Key key{r.rule_id, r.server};
    auto it = open_.find(key);
    if (it != open_.end() &&
        r.query_ns >= it->second->last_seen + config_.quiet_ns) {
      Emit(key, *it->second, false, out);
      open_.erase(it);
      it = open_.end();
    }
    if (it == open_.end()) {
      auto o = std::make_unique<Open>(config_);
      o->label = std::string(b.Name(r.label_offset, r.label_length));
      o->severity = std::string(b.Name(r.severity_offset, r.severity_length));
      o->first_seen = r.query_ns;
      o->example.valid = true;
      o->example.client = r.client;
      o->example.client_port = r.client_port;
      o->example.txid = r.txid;
      o->example.qtype = r.qtype;
      o->example.qname = std::string(b.Name(r.qname_offset, r.qname_length));
      o->example.query_ns = o->example.evidence_ns = r.query_ns;
      it = open_.emplace(key, std::move(o)).first;
      ++opened_;
    }
    Open& o = *it->second;
    o.last_seen = std::max(o.last_seen, r.query_ns);
    ++o.queries;
    o.affected.Add(r.client, b.Name(r.qname_offset, r.qname_length), r.qtype);
  }
  // After the records: the open incident of each key is the one these frames
  // belong to (those before its first_seen were an earlier incident's).
  for (const flow::Bucket* b : buckets) {
    dropped_evidence_ += b->dropped_watch_evidence;
    for (const flow::WatchEvidence& e : b->watch_evidence) {
      auto it = open_.find(Key{e.rule_id, e.server});
      if (it == open_.end()) continue;
      Open& o = *it->second;
      if (e.last.ts_ns < o.first_seen) continue;
      const flow::Frame& first =
          e.first.ts_ns >= o.first_seen ? e.first : e.last;
      if (!o.has_frames) {
        o.has_frames = true;
        o.first_frame = first;
        o.last_frame = e.last;
        continue;
      }
      if (flow::FrameLess(first, o.first_frame)) o.first_frame = first;
      if (flow::FrameLess(o.last_frame, e.last)) o.last_frame = e.last;
    }
  }
}

void WatchlistTracker::CloseQuiet(int64_t now_ns, std::vector<Incident>* out) {
  for (auto it = open_.begin(); it != open_.end();) {
    if (it->second->last_seen + config_.quiet_ns <= now_ns) {
      Emit(it->first, *it->second, false, out);
      it = open_.erase(it);
    } else {
      ++it;
    }
  }
}

void WatchlistTracker::Finish(int64_t final_ns, std::vector<Incident>* out) {
  CloseQuiet(final_ns, out);
  for (auto& [key, o] : open_) Emit(key, *o, true, out);
  open_.clear();
}

void WatchlistTracker::Emit(const Key& key, Open& o, bool open,
                            std::vector<Incident>* out) {
  Incident inc;
  inc.kind = Kind::kWatchlist;
  inc.open = open;
  inc.severity = o.severity;
  inc.rule.id = key.rule_id;
  inc.rule.label = o.label;
  inc.server = key.server;
  inc.first_seen_ns = o.first_seen;
  inc.last_seen_ns = o.last_seen;
  inc.queries = o.queries;
  o.affected.FillRecord(config_, &inc);
  if (o.has_frames) {
    for (const flow::Frame* f : {&o.first_frame, &o.last_frame}) {
      if (f == &o.last_frame && flow::FrameEqual(o.first_frame, o.last_frame)) {
        break;  // one hit: one line
      }
      if (f->length == 0) continue;
      inc.evidence.push_back(parse::FormatEvidence(
          f->ts_ns, config_.link, {f->bytes.data(), f->length}));
    }
  }
  inc.example = o.example;
  const std::string rule =
      o.label.empty() ? absl::StrCat("rule ", key.rule_id)
                      : absl::StrCat("rule ", key.rule_id, " (", o.label, ")");
  inc.summary = absl::StrCat(
      "Watch-list ", rule, " matched ", inc.queries,
      inc.queries == 1 ? " query" : " queries", " to ",
      flow::IpToString(key.server.ip), " port ", key.server.port, " from ",
      TimeOfDay(inc.first_seen_ns), " to ", TimeOfDay(inc.last_seen_ns), " by ",
      inc.client_count, inc.client_count == 1 ? " client" : " clients",
      inc.qnames.empty() ? "" : "; most asked: ",
      inc.qnames.empty() ? "" : inc.qnames[0].name, ".");
  out->push_back(std::move(inc));
}

}  // namespace edgecap::incident
