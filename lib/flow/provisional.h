// A provisional view of what a flow worker still holds: buckets are published
// only once no transaction of their second can change (Worker HoldNs(), ~19
// s), which is far too late to *announce* an outage. Failures are monotone (a
// failed transaction stays failed; a late ICMP error only turns a timeout
// into an ICMP kind), so the held buckets already tell, per server, how many
// transactions failed and how many were answered. The stats side adds these
// counts to the final ones to open incidents early (incident::Detector::
// OfferProvisional); the written record still comes from final buckets only.
//
// Only servers with at least one failure in a held bucket are listed (with
// every held second of theirs, answers included), so the summary stays small
// whatever the number of healthy servers. Summarize() runs on the worker's
// lcore (it reads worker-private buckets). It is incremental: each call reads
// only the failure records and server counters added since the last one, and
// keeps per held bucket the (sorted) list of its servers that fail anywhere,
// so a call costs O(new records + new servers + entries written), not
// failing servers x held seconds (with 100k servers that product, probed
// every 100 ms, was most of a worker's time). It allocates only while its
// maps and lists grow.
//
//   flow::ProvisionalTracker tracker;
//   flow::ProvisionalSummary summary;
//   tracker.Summarize(worker, now_ns, &summary);   // every ~100 ms
//   detector.OfferProvisional(summary);            // on the stats side
#ifndef EDGECAP_LIB_FLOW_PROVISIONAL_H_
#define EDGECAP_LIB_FLOW_PROVISIONAL_H_

#include <array>
#include <cstdint>
#include <deque>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/flow/bucket.h"

namespace edgecap::flow {

class Worker;

// One server in one held second (query time) of one worker.
struct ProvisionalEntry {
  ServerKey server;
  int64_t second = 0;
  uint32_t queries = 0, answered = 0, failed = 0;
  std::array<uint32_t, kFailCount> failures{};
  int64_t first_failed_query_ns = INT64_MAX;  // earliest failed query
  int64_t last_evidence_ns = INT64_MIN;       // latest failure evidence
};

struct ProvisionalSummary {
  int worker = 0;
  int64_t now_ns = INT64_MIN;  // the worker's packet time when taken
  // The entries cover seconds >= this (the worker's watermark then): every
  // earlier second was published as a final bucket.
  int64_t below_second = INT64_MIN;
  std::vector<ProvisionalEntry> entries;  // by second, then server order
  void Clear() {
    now_ns = below_second = INT64_MIN;
    entries.clear();
  }
};

class ProvisionalTracker {
 public:
  // Fills *out (its vector keeps its capacity) from `worker`'s held buckets.
  void Summarize(const Worker& worker, int64_t now_ns, ProvisionalSummary* out);

 private:
  // A server failing in at least one held bucket. `epoch` changes each time
  // it starts failing again, so that list entries from an earlier spell (or
  // of an earlier server in a reused slot) are recognised as stale.
  struct ServerState {
    uint32_t failing = 0;  // held buckets with a failure record of it
    uint32_t epoch = 0;
  };
  // A failing server's counters in one held bucket.
  struct Member {
    uint32_t counters;  // index into Bucket::servers (stable)
    uint32_t state;     // index into states_
    uint32_t epoch;
  };
  struct Held {
    int64_t second = 0;
    const Bucket* bucket = nullptr;
    size_t scanned = 0;          // failure records already looked at
    size_t scanned_servers = 0;  // server counters already looked at
    struct Span {
      int64_t first_query_ns = INT64_MAX;
      int64_t last_evidence_ns = INT64_MIN;
    };
    absl::flat_hash_map<ServerKey, Span> failing;
    std::vector<Member> members;  // by server order; may hold stale ones
    std::vector<Member> fresh;    // added since the last call, unordered
  };
  void Recycle(Held& h);
  void StartFailing(const ServerKey& server);
  bool Live(const Member& m) const {
    const ServerState& s = states_[m.state];
    return s.failing > 0 && s.epoch == m.epoch;
  }
  void Emit(Held& h, ProvisionalSummary* out);

  std::deque<Held> held_;
  std::deque<Held> kept_;
  std::vector<Held> spare_;  // recycled maps
  absl::flat_hash_map<ServerKey, uint32_t> state_of_;
  std::vector<ServerState> states_;
  std::vector<uint32_t> free_states_;
  uint32_t epoch_ = 0;
  std::vector<Member> merged_;
};

// Read-only lookup of a server's counters in a bucket (its worker-side
// index); null when the bucket has none for it.
const ServerCounters* FindCounters(const Bucket& b, const ServerKey& server);

}  // namespace edgecap::flow

#endif  // EDGECAP_LIB_FLOW_PROVISIONAL_H_
