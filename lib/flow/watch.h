// The flow worker's hook for watch lists (lib/rules), without depending on
// them: a QueryWatcher sees the name of every new DNS query transaction (not
// its retransmissions, not responses) and says which rules fired. The worker
// then records a WatchRecord in the bucket of the query's second, so that
// hits travel to the stats lcore with everything else and
// incident::Detector turns them into `watchlist` incidents.
//
//   class MyWatcher : public flow::QueryWatcher {
//     int Match(parse::DnsMessage* query, flow::WatchHit* hits) override;
//   };
//   MyWatcher watcher;
//   worker->SetWatcher(&watcher);     // before the first packet
//   // per burst: watcher.Quiesce();  (the pipeline calls it)
#ifndef EDGECAP_LIB_FLOW_WATCH_H_
#define EDGECAP_LIB_FLOW_WATCH_H_

#include <cstdint>
#include <string_view>

#include "lib/parse/dns.h"

namespace edgecap::flow {

inline constexpr int kMaxWatchHits = 4;
// Per bucket (one worker, one second): more hits are counted as dropped.
inline constexpr uint32_t kMaxWatchPerBucket = 1 << 16;

struct WatchHit {
  uint32_t rule_id = 0;
  std::string_view label;     // valid until the next Match() or Quiesce()
  std::string_view severity;  // "info" .. "critical"
};

class QueryWatcher {
 public:
  virtual ~QueryWatcher() = default;
  // `query` as lib/parse decodes it, its name text possibly not written yet
  // (qname_pending): a watcher that knows the answer from query->name_hash
  // (equal for equal names) skips the text; else parse::MaterializeQname
  // (query) writes it (lowercase, dotted, no trailing dot). Most queries ask
  // a name asked shortly before (87% of the bench mix's, in one pass): their
  // text need not be written.
  // Writes at most kMaxWatchHits hits and returns how many. Runs on the
  // worker lcore: must not allocate, block or log.
  virtual int Match(parse::DnsMessage* query, WatchHit* hits) = 0;
  // The worker will call Match() for this name after its table work: start
  // loading what Match() will read (its cache line).
  virtual void Prefetch(uint64_t name_hash) const { (void)name_hash; }
  // Between bursts: the worker holds nothing from earlier Match() calls.
  virtual void Quiesce() {}
  // The worker stops matching (end of input); it may sleep from here on.
  virtual void Offline() {}
};

}  // namespace edgecap::flow

#endif  // EDGECAP_LIB_FLOW_WATCH_H_
