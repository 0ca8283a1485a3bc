// Running per-server totals for /edgecap/servers and the outcome counters of
// /edgecap/stats, summed on the stats lcore from the buckets the flow workers
// publish (each transaction is in exactly one bucket, with its final
// outcome, so the totals are exact once a second is closed and do not depend
// on the number of workers). Plain data: no DPDK, unit-testable.
//
//   ServerBoard board;
//   board.Add(bucket);                       // before the detector takes it
//   std::vector<ServerRow> top = board.Top(10);
//   const ServerRow& all = board.totals();
#ifndef EDGECAP_LIB_TELEMETRY_SERVER_BOARD_H_
#define EDGECAP_LIB_TELEMETRY_SERVER_BOARD_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/flow/bucket.h"

namespace edgecap::telemetry {

struct ServerRow {
  flow::ServerKey server;
  uint64_t queries = 0, answered = 0, failed = 0, unresolved = 0, evicted = 0,
           retries = 0, nxdomain = 0;
  std::array<uint64_t, 16> rcodes{};
  std::array<uint64_t, flow::kFailCount> failures{};
  std::array<uint64_t, flow::kLatencyBins> latency_log2_us{};

  void Add(const flow::ServerCounters& c);
  void Add(const ServerRow& r);
  // Upper bound, in microseconds, of the log2 bin holding the q-quantile of
  // answered transactions' latency (q in (0, 1]); 0 when none was answered.
  uint64_t LatencyQuantileUs(double q) const;
};

class ServerBoard {
 public:
  void Add(const flow::Bucket& bucket);

  // The `n` servers with most queries (ties: address order).
  std::vector<ServerRow> Top(size_t n) const;
  const ServerRow& totals() const { return totals_; }
  size_t size() const { return rows_.size(); }
  uint64_t buckets() const { return buckets_; }

 private:
  absl::flat_hash_map<flow::ServerKey, ServerRow> rows_;
  ServerRow totals_;
  uint64_t buckets_ = 0;
};

}  // namespace edgecap::telemetry

#endif  // EDGECAP_LIB_TELEMETRY_SERVER_BOARD_H_
