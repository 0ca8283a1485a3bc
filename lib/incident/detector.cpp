#include "lib/incident/detector.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/incident/affected.h"
#include "lib/incident/classify.h"
#include "lib/incident/early.h"
#include "lib/incident/storm.h"
#include "lib/parse/evidence.h"

namespace edgecap::incident {
namespace {

using flow::Fail;
using flow::kFailCount;
using flow::kNsPerSecond;
using flow::SecondOf;

// A failed transaction as the detector keeps it: what a record's example
// holds (`valid` unused), and whether the worker kept the name at all.
struct FailDetail : Example {
  bool has_qname = false;
};

bool DetailLess(const FailDetail& a, const FailDetail& b) {
  if (a.query_ns != b.query_ns) return a.query_ns < b.query_ns;
  if (a.evidence_ns != b.evidence_ns) return a.evidence_ns < b.evidence_ns;
  if (auto c = flow::CompareIp(a.client, b.client); c != 0) return c < 0;
  if (a.client_port != b.client_port) return a.client_port < b.client_port;
  if (a.txid != b.txid) return a.txid < b.txid;
  if (a.kind != b.kind) return a.kind < b.kind;
  if (auto c = flow::CompareIp(a.reporter, b.reporter); c != 0) return c < 0;
  return std::tie(a.qname, a.qtype) < std::tie(b.qname, b.qtype);
}

FailDetail ToDetail(const flow::Bucket& b, const flow::FailureRecord& r) {
  FailDetail d;
  d.kind = r.kind;
  d.client = r.client;
  d.reporter = r.reporter;
  d.client_port = r.client_port;
  d.txid = r.txid;
  d.qtype = r.qtype;
  d.has_qname = r.has_qname;
  d.query_ns = r.query_ns;
  d.evidence_ns = r.evidence_ns;
  if (r.has_qname)
    d.qname = std::string(b.Name(r.qname_offset, r.qname_length));
  return d;
}

void MergeEvidence(const flow::ServerEvidence& in, bool* has,
                   flow::ServerEvidence* out) {
  if (!*has) {
    *out = in;
    *has = true;
    return;
  }
  if (in.first.order < out->first.order) out->first = in.first;
  if (in.last.order > out->last.order) out->last = in.last;
}

}  // namespace

// What an open incident has counted so far.
struct Detector::Accum {
  explicit Accum(const DetectorConfig& config) : affected(config) {}

  uint64_t queries = 0, answered = 0, nxdomain = 0;
  std::array<uint64_t, kFailCount> failures{};
  int64_t first_seen = 0;
  int64_t last_seen = INT64_MIN;
  int64_t max_answered_ns = INT64_MIN;
  AffectedTally affected;
  absl::flat_hash_set<parse::IpAddress> reporters;
  bool has_evidence = false;
  flow::ServerEvidence evidence;
  Example example;

  // The counts every record of this incident carries, open or closed.
  void FillCounts(bool open, Incident* inc) const {
    inc->open = open;
    inc->first_seen_ns = first_seen;
    inc->last_seen_ns = last_seen;
    inc->queries = queries;
    inc->answered = answered;
    inc->nxdomain = nxdomain;
  }

  // A server incident's kind, failures, severity and reporters (in address
  // order, not hash order).
  void FillServerVerdict(Incident* inc) const {
    inc->kind = KindOfFailures(failures);
    inc->failures = failures;
    inc->severity = FailureSeverity(inc->failed(), answered);
    inc->reporters.assign(reporters.begin(), reporters.end());
    std::sort(
        inc->reporters.begin(), inc->reporters.end(),
        [](const auto& x, const auto& y) { return flow::CompareIp(x, y) < 0; });
  }

  void AddFailure(const FailDetail& d) {
    last_seen = std::max(last_seen, d.evidence_ns);
    if (d.reporter.version != 0 && flow::IsIcmpFail(d.kind)) {
      reporters.insert(d.reporter);
    }
    affected.AddClient(d.client);
    if (d.has_qname) affected.AddQname(d.qname, d.qtype);
    if (!example.valid || d.query_ns < example.query_ns ||
        (d.query_ns == example.query_ns &&
         d.evidence_ns < example.evidence_ns)) {
      example = d;  // its Example part
      example.valid = true;
    }
  }
};

struct Detector::ServerState {
  flow::ServerKey key;
  // Answers per coarse step over the window, for the failure ratio.
  static constexpr int kCoarse = 32;
  std::array<uint32_t, kCoarse> coarse{};
  int64_t coarse_last = INT64_MIN;  // newest step written
  // From the earliest failure in the window on (only while suspect).
  struct Slot {
    int64_t second;
    uint64_t queries, answered, failed, nxdomain;
    std::array<uint64_t, kFailCount> failures;
    int64_t max_answered_ns;
  };
  std::vector<Slot> exact;
  std::vector<FailDetail> fails;
  std::vector<std::pair<int64_t, flow::ServerEvidence>> evidence;
  std::unique_ptr<Accum> open;
  int64_t after_second = INT64_MIN;
  bool failed_now = false;

  // Seconds per coarse step: kCoarse steps cover the window with two to
  // spare, so that a window starting mid-step is still covered.
  static int64_t CoarseStep(int64_t window_s) {
    return std::max<int64_t>(1, window_s / (kCoarse - 2));
  }
  // The ring position of a step. Steps before the first written one can be
  // negative (packet times in the first window after 1970: a device without
  // a clock), and C++'s % keeps the sign.
  static size_t Ring(int64_t step) {
    return static_cast<size_t>((step % kCoarse + kCoarse) % kCoarse);
  }
  // Answers in the steps after lo_step up to cur_step that are still held.
  uint64_t CoarseAnswered(int64_t lo_step, int64_t cur_step) const {
    uint64_t answered = 0;
    for (int64_t i = std::max(lo_step + 1, cur_step - kCoarse + 1);
         i <= std::min(cur_step, coarse_last); ++i) {
      answered += coarse[Ring(i)];
    }
    return answered;
  }

  Slot& SlotFor(int64_t s) {
    if (exact.empty() || exact.back().second != s) {
      exact.push_back(Slot{s, 0, 0, 0, 0, {}, INT64_MIN});
    }
    return exact.back();
  }
};

Detector::Detector(const DetectorConfig& config, int n_workers, Sink sink)
    : config_(config),
      sink_(std::move(sink)),
      pending_(n_workers),
      spent_(n_workers),
      watermarks_(n_workers, INT64_MIN),
      storms_(std::make_unique<StormTracker>(config)),
      watch_(std::make_unique<WatchlistTracker>(config)) {}

Detector::~Detector() = default;

void Detector::Offer(int worker, std::unique_ptr<flow::Bucket> bucket) {
  pending_[worker].push_back(std::move(bucket));
}

void Detector::SetWatermark(int worker, int64_t below_second) {
  watermarks_[worker] = std::max(watermarks_[worker], below_second);
}

bool Detector::PopSpent(int worker, std::unique_ptr<flow::Bucket>* out) {
  if (spent_[worker].empty()) return false;
  *out = std::move(spent_[worker].front());
  spent_[worker].pop_front();
  return true;
}

void Detector::Poll() {
  int64_t below = INT64_MAX;
  for (int64_t w : watermarks_) below = std::min(below, w);
  if (below == INT64_MIN) return;
  if (below == INT64_MAX) {
    // Every worker finished: time only advances as far as Finish() says;
    // here just take what was offered.
    int64_t last = INT64_MIN;
    for (const auto& q : pending_) {
      if (!q.empty()) last = std::max(last, q.back()->second);
    }
    if (last == INT64_MIN) return;
    below = last + 1;
  }
  ProcessUpTo(below, INT64_MAX);
}

void Detector::Finish(int64_t final_ns) {
  // INT64_MIN: the input had no packet, so no second to process.
  if (final_ns != INT64_MIN) ProcessUpTo(SecondOf(final_ns) + 1, final_ns);
  // Whatever is still open now stays open (the final second's close check
  // already ran at the final packet time).
  std::vector<flow::ServerKey> open_servers(active_servers_.begin(),
                                            active_servers_.end());
  std::sort(open_servers.begin(), open_servers.end());
  for (const auto& key : open_servers) {
    auto it = servers_.find(key);
    if (it != servers_.end() && it->second->open) {
      EmitServer(*it->second, true);
      it->second->open.reset();
    }
  }
  storms_->Finish(&emitted_);
  watch_->Finish(final_ns, &emitted_);
  FlushEmitted();
  finished_ = true;
}

void Detector::ProcessUpTo(int64_t below, int64_t final_ns) {
  auto earliest_pending = [&]() {
    int64_t m = INT64_MAX;
    for (const auto& q : pending_) {
      if (!q.empty()) m = std::min(m, q.front()->second);
    }
    return m;
  };
  if (next_second_ == INT64_MIN) {
    const int64_t e = earliest_pending();
    if (e == INT64_MAX) return;
    next_second_ = e;
  }
  while (next_second_ < below) {
    int64_t s = next_second_;
    const bool time_driven =
        !active_servers_.empty() || storms_->active() || watch_->has_open();
    if (!time_driven) {
      // Nothing evolves with time alone: jump to the next bucket.
      const int64_t e = earliest_pending();
      if (e >= below) {
        next_second_ = below;
        break;
      }
      s = std::max(s, e);
    }
    const int64_t end = (s + 1) * kNsPerSecond;
    ProcessSecond(s, std::min(end, final_ns));
    next_second_ = s + 1;
  }
}

void Detector::ProcessSecond(int64_t s, int64_t now_ns) {
  ++stats_.seconds_processed;
  std::vector<std::pair<int, flow::Bucket*>> bs;
  for (size_t w = 0; w < pending_.size(); ++w) {
    auto& q = pending_[w];
    while (!q.empty() && q.front()->second <= s) {
      spent_[w].push_back(std::move(q.front()));
      q.pop_front();
      bs.emplace_back(static_cast<int>(w), spent_[w].back().get());
    }
  }
  stats_.buckets_merged += bs.size();

  std::vector<ServerState*> touched;
  auto state_of = [&](const flow::ServerKey& k) -> ServerState* {
    auto& p = servers_[k];
    if (!p) {
      p = std::make_unique<ServerState>();
      p->key = k;
    }
    return p.get();
  };
  // Pass 1: which servers had failures this second (so that their answers of
  // this second are kept exactly whatever the order of buckets).
  for (auto& [w, b] : bs) {
    stats_.dropped_details +=
        b->dropped_failures + b->dropped_nxdomains + b->dropped_servers;
    for (const flow::ServerCounters& c : b->servers) {
      if (c.failed > 0) {
        ServerState* st = state_of(c.server);
        if (!st->failed_now) {
          st->failed_now = true;
          touched.push_back(st);
        }
      }
    }
  }
  const int64_t step =
      ServerState::CoarseStep(config_.window_ns / kNsPerSecond);
  // Pass 2: counts.
  for (auto& [w, b] : bs) {
    for (const flow::ServerCounters& c : b->servers) {
      ServerState* st = state_of(c.server);
      // Coarse answers for the ratio.
      const int64_t idx = s / step;
      if (idx > st->coarse_last) {
        for (int64_t i =
                 std::max(st->coarse_last + 1, idx - ServerState::kCoarse + 1);
             i <= idx; ++i) {
          st->coarse[ServerState::Ring(i)] = 0;
        }
        st->coarse_last = idx;
      }
      st->coarse[ServerState::Ring(idx)] += c.answered;
      const flow::ServerEvidence* ev =
          c.evidence >= 0 ? &b->evidence[c.evidence] : nullptr;
      if (st->open) {
        Accum& a = *st->open;
        a.queries += c.queries;
        a.answered += c.answered;
        a.nxdomain += c.nxdomain;
        for (int k = 0; k < kFailCount; ++k) a.failures[k] += c.failures[k];
        a.max_answered_ns = std::max(a.max_answered_ns, c.max_answered_ns);
        if (ev) MergeEvidence(*ev, &a.has_evidence, &a.evidence);
      } else if (st->failed_now || !st->exact.empty()) {
        ServerState::Slot& slot = st->SlotFor(s);
        slot.queries += c.queries;
        slot.answered += c.answered;
        slot.failed += c.failed;
        slot.nxdomain += c.nxdomain;
        for (int k = 0; k < kFailCount; ++k) slot.failures[k] += c.failures[k];
        slot.max_answered_ns =
            std::max(slot.max_answered_ns, c.max_answered_ns);
        if (ev) {
          if (st->evidence.empty() || st->evidence.back().first != s) {
            st->evidence.emplace_back(s, *ev);
          } else {
            bool has = true;
            MergeEvidence(*ev, &has, &st->evidence.back().second);
          }
        }
      }
    }
  }
  // Failure details, in an order independent of the split.
  std::vector<std::pair<flow::ServerKey, FailDetail>> fails;
  std::vector<std::pair<flow::ServerKey, FailDetail>> reclass;
  for (auto& [w, b] : bs) {
    for (const auto& r : b->failures)
      fails.emplace_back(r.server, ToDetail(*b, r));
    for (const auto& r : b->reclassified) {
      reclass.emplace_back(r.server, ToDetail(*b, r));
    }
  }
  auto by_server = [](const auto& x, const auto& y) {
    if (x.first != y.first) return x.first < y.first;
    return DetailLess(x.second, y.second);
  };
  std::sort(fails.begin(), fails.end(), by_server);
  for (auto& [key, d] : fails) {
    ServerState* st = state_of(key);
    if (!st->failed_now) {
      st->failed_now = true;
      touched.push_back(st);
    }
    if (st->open) {
      st->open->AddFailure(d);
    } else {
      st->fails.push_back(std::move(d));
    }
  }
  std::sort(reclass.begin(), reclass.end(), by_server);
  for (auto& [key, d] : reclass) {
    auto it = servers_.find(key);
    if (it == servers_.end()) continue;
    ServerState& st = *it->second;
    const int k = static_cast<int>(d.kind);
    const int t = static_cast<int>(Fail::kTimeout);
    if (st.open && d.query_ns >= st.open->first_seen &&
        st.open->failures[t] > 0) {
      --st.open->failures[t];
      ++st.open->failures[k];
      st.open->last_seen = std::max(st.open->last_seen, d.evidence_ns);
      if (d.reporter.version != 0) st.open->reporters.insert(d.reporter);
      ++stats_.reclassified_applied;
    } else if (!st.open) {
      for (FailDetail& f : st.fails) {
        if (f.kind == Fail::kTimeout && f.query_ns == d.query_ns &&
            f.client == d.client && f.client_port == d.client_port &&
            f.txid == d.txid) {
          f.kind = d.kind;
          f.evidence_ns = d.evidence_ns;
          f.reporter = d.reporter;
          for (auto& slot : st.exact) {
            if (slot.second == SecondOf(d.query_ns) && slot.failures[t] > 0) {
              --slot.failures[t];
              ++slot.failures[k];
            }
          }
          ++stats_.reclassified_applied;
          break;
        }
      }
    }
  }
  std::vector<const flow::Bucket*> merged;
  merged.reserve(bs.size());
  for (auto& [w, b] : bs) merged.push_back(b);
  storms_->AddSecond(s, merged);
  watch_->AddSecond(merged, &emitted_);
  watch_->CloseQuiet(now_ns, &emitted_);
  stats_.watchlist_opened = watch_->opened();
  stats_.watchlist_dropped = watch_->dropped();
  stats_.watchlist_evidence_dropped = watch_->dropped_evidence();
  EvaluateServers(s, now_ns, touched);
  for (ServerState* st : touched) st->failed_now = false;
  const uint64_t storms_before = storms_->opened();
  storms_->Evaluate(s, &emitted_);
  stats_.storms_opened = storms_->opened();
  stats_.opens_announced += storms_->opened() - storms_before;
  FlushEmitted();

  // Forget servers with nothing left in the window, now and then.
  if (last_gc_second_ == INT64_MIN) last_gc_second_ = s;
  if (s - last_gc_second_ >= 60) {
    last_gc_second_ = s;
    const int64_t oldest_step = (s - config_.window_ns / kNsPerSecond) / step;
    const int64_t window_s = config_.window_ns / kNsPerSecond;
    for (auto it = servers_.begin(); it != servers_.end();) {
      ServerState& st = *it->second;
      if (!st.open) {
        // A suspect that never failed again keeps failures that left the
        // window (EvaluateServers prunes only servers failing now): drop
        // them, or a flood of distinct servers is never forgotten.
        std::erase_if(st.fails, [&](const FailDetail& d) {
          return SecondOf(d.query_ns) <= s - window_s;
        });
        if (st.fails.empty()) {
          st.exact.clear();
          st.evidence.clear();
        }
      }
      if (!st.open && st.exact.empty() && st.fails.empty() &&
          st.coarse_last < oldest_step) {
        servers_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  stats_.servers_tracked = servers_.size();
  stats_.domains_tracked = storms_->tracked();
  (void)touched;
}

void Detector::EvaluateServers(int64_t s, int64_t now_ns,
                               const std::vector<ServerState*>& touched) {
  const int64_t window_s = config_.window_ns / kNsPerSecond;
  const int64_t step = ServerState::CoarseStep(window_s);
  // Suspects with failures this second: may open.
  std::vector<ServerState*> candidates;
  for (ServerState* st : touched) {
    if (st->failed_now && !st->open) candidates.push_back(st);
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const ServerState* a, const ServerState* b) {
              return a->key < b->key;
            });
  for (ServerState* st : candidates) {
    const int64_t lo = std::max(s - window_s, st->after_second);  // exclusive
    std::erase_if(st->fails, [&](const FailDetail& d) {
      return SecondOf(d.query_ns) <= lo;
    });
    if (st->fails.empty()) {
      st->exact.clear();
      st->evidence.clear();
      continue;
    }
    int64_t first_second = INT64_MAX;
    int64_t first_seen = INT64_MAX;
    for (const FailDetail& d : st->fails) {
      first_second = std::min(first_second, SecondOf(d.query_ns));
      first_seen = std::min(first_seen, d.query_ns);
    }
    std::erase_if(st->exact, [&](const ServerState::Slot& x) {
      return x.second < first_second;
    });
    std::erase_if(st->evidence,
                  [&](const auto& x) { return x.first < first_second; });
    uint64_t failed = 0;
    for (const auto& x : st->exact) failed += x.failed;
    // Answers over the whole window, coarse.
    const uint64_t answered =
        st->CoarseAnswered(std::max(lo, s - window_s) / step, s / step);
    if (!MeetsOpenThresholds(config_, failed, answered)) continue;
    auto a = std::make_unique<Accum>(config_);
    a->first_seen = first_seen;
    for (const auto& x : st->exact) {
      a->queries += x.queries;
      a->answered += x.answered;
      a->nxdomain += x.nxdomain;
      for (int k = 0; k < kFailCount; ++k) a->failures[k] += x.failures[k];
      a->max_answered_ns = std::max(a->max_answered_ns, x.max_answered_ns);
    }
    for (const FailDetail& d : st->fails) a->AddFailure(d);
    for (const auto& [sec, ev] : st->evidence) {
      MergeEvidence(ev, &a->has_evidence, &a->evidence);
    }
    st->exact.clear();
    st->fails.clear();
    st->evidence.clear();
    st->open = std::move(a);
    active_servers_.insert(st->key);
    ++stats_.incidents_opened;
    if (ConfirmEarly(st->key)) {
      ++stats_.early_opens_confirmed;
    } else {
      ++stats_.opens_announced;
    }
  }
  // Open incidents: close by time.
  std::vector<flow::ServerKey> to_check(active_servers_.begin(),
                                        active_servers_.end());
  std::sort(to_check.begin(), to_check.end());
  for (const auto& key : to_check) {
    ServerState& st = *servers_[key];
    Accum& a = *st.open;
    const bool recovered = a.max_answered_ns > a.last_seen &&
                           now_ns >= a.last_seen + config_.recovery_ns;
    const bool quiet = now_ns >= a.last_seen + config_.quiet_ns;
    if (!recovered && !quiet) continue;
    EmitServer(st, false);
    st.open.reset();
    st.after_second = s;
    st.coarse.fill(0);
    active_servers_.erase(key);
    ++stats_.incidents_closed;
  }
}

namespace {

std::vector<std::string> EvidenceLines(const flow::ServerEvidence& ev,
                                       parse::LinkType link) {
  const flow::Frame* frames[] = {&ev.first.query, &ev.first.error,
                                 &ev.last.query, &ev.last.error};
  std::vector<const flow::Frame*> kept;
  for (const flow::Frame* f : frames) {
    if (f->length == 0) continue;
    bool dup = false;
    for (const flow::Frame* k : kept) {
      dup |= k->ts_ns == f->ts_ns && k->length == f->length &&
             std::equal(k->bytes.begin(), k->bytes.begin() + k->length,
                        f->bytes.begin());
    }
    if (!dup) kept.push_back(f);
  }
  std::stable_sort(kept.begin(), kept.end(), [](const auto* a, const auto* b) {
    return a->ts_ns < b->ts_ns;
  });
  std::vector<std::string> lines;
  for (const flow::Frame* f : kept) {
    lines.push_back(
        parse::FormatEvidence(f->ts_ns, link, {f->bytes.data(), f->length}));
  }
  return lines;
}

std::string ServerSummary(const Incident& i) {
  const std::string proto =
      i.server.transport == parse::Transport::kTcp ? "TCP" : "UDP";
  const std::string where =
      absl::StrCat(flow::IpToString(i.server.ip), " port ", i.server.port);
  const std::string span = absl::StrCat("from ", TimeOfDay(i.first_seen_ns),
                                        " to ", TimeOfDay(i.last_seen_ns));
  const uint64_t failed = i.failed();
  std::string what;
  switch (i.kind) {
    case Kind::kPortUnreachable:
    case Kind::kAdminProhibited:
    case Kind::kHostUnreachable:
    case Kind::kNetUnreachable: {
      flow::Fail f = i.kind == Kind::kPortUnreachable   ? Fail::kIcmpPort
                     : i.kind == Kind::kAdminProhibited ? Fail::kIcmpAdmin
                     : i.kind == Kind::kHostUnreachable ? Fail::kIcmpHost
                                                        : Fail::kIcmpNet;
      std::string from;
      for (const auto& r : i.reporters) {
        absl::StrAppend(&from, from.empty() ? "" : ", ", flow::IpToString(r));
      }
      what = absl::StrCat("DNS over ", proto, " to ", where,
                          " was unreachable ", span, ": ", failed, " of ",
                          i.queries, " queries were answered by ICMP \"",
                          FailurePhrase(f, i.server), "\"",
                          from.empty() ? "" : absl::StrCat(" from ", from));
      break;
    }
    case Kind::kTcpRefused:
      what = absl::StrCat("DNS over TCP to ", where, " refused connections ",
                          span, ": ", failed, " of ", i.queries,
                          " connection attempts were answered by RST");
      break;
    case Kind::kServfail:
    case Kind::kRefused:
      what = absl::StrCat("The DNS server ", where, " (", proto, ") answered ",
                          i.kind == Kind::kServfail ? "SERVFAIL" : "REFUSED",
                          " ", span, ": ", failed, " of ", i.queries,
                          " queries failed");
      break;
    default:
      what = absl::StrCat(
          "DNS over ", proto, " to ", where, " stopped answering ", span, ": ",
          failed, " of ", i.queries, " queries failed, ",
          i.failures[static_cast<int>(Fail::kTimeout)], " of them by timeout");
      break;
  }
  absl::StrAppend(&what, "; ", Plural(i.client_count, "client", "clients"),
                  " affected");
  if (!i.qnames.empty())
    absl::StrAppend(&what, "; most asked: ", i.qnames[0].name);
  absl::StrAppend(&what, ".");
  return what;
}

}  // namespace

void Detector::EmitServer(ServerState& st, bool open) {
  const Accum& a = *st.open;
  Incident inc;
  inc.server = st.key;
  a.FillCounts(open, &inc);
  a.FillServerVerdict(&inc);
  a.affected.FillRecord(config_, &inc);
  if (a.has_evidence) inc.evidence = EvidenceLines(a.evidence, config_.link);
  inc.example = a.example;
  inc.summary = ServerSummary(inc);
  emitted_.push_back(std::move(inc));
}

void Detector::FlushEmitted() {
  std::sort(emitted_.begin(), emitted_.end(), IncidentLess);
  for (Incident& i : emitted_) sink_(std::move(i));
  emitted_.clear();
}

// ---------------------------------------------------------------- early
// The final side of early opening (the rest is in early.cpp).

Detector::FinalWindow Detector::FinalWindowOf(const flow::ServerKey& key,
                                              int64_t now_s) const {
  const int64_t window_s = config_.window_ns / kNsPerSecond;
  FinalWindow w;
  w.lo = now_s - window_s;
  auto it = servers_.find(key);
  if (it == servers_.end()) return w;
  const ServerState& st = *it->second;
  w.open = st.open != nullptr;
  w.lo = std::max(w.lo, st.after_second);
  if (w.open || next_second_ == INT64_MIN) return w;
  for (const auto& x : st.exact) {
    if (x.second > w.lo) w.failed += x.failed;
  }
  for (const FailDetail& d : st.fails) {
    if (SecondOf(d.query_ns) > w.lo) {
      w.first_failed_ns = std::min(w.first_failed_ns, d.query_ns);
    }
  }
  // Answers as EvaluateServers counts them: coarse steps over the window.
  const int64_t step = ServerState::CoarseStep(window_s);
  w.answered = st.CoarseAnswered(w.lo / step, (next_second_ - 1) / step);
  return w;
}

void Detector::AppendFinalOpen(std::vector<OpenIncident>* out) const {
  for (const flow::ServerKey& key : active_servers_) {
    auto it = servers_.find(key);
    if (it == servers_.end() || !it->second->open) continue;
    const Accum& a = *it->second->open;
    OpenIncident o;
    o.incident.server = key;
    a.FillCounts(true, &o.incident);
    a.FillServerVerdict(&o.incident);
    o.incident.client_count = a.affected.client_count();
    out->push_back(std::move(o));
  }
  std::vector<Incident> storms;
  storms_->AppendOpen(&storms);
  for (Incident& i : storms) {
    OpenIncident o;
    o.incident = std::move(i);
    out->push_back(std::move(o));
  }
}

}  // namespace edgecap::incident
