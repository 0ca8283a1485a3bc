#include "lib/telemetry/server_board.h"

#include <algorithm>
#include <cmath>

namespace edgecap::telemetry {

void ServerRow::Add(const flow::ServerCounters& c) {
  queries += c.queries;
  answered += c.answered;
  failed += c.failed;
  unresolved += c.unresolved;
  evicted += c.evicted;
  retries += c.retries;
  nxdomain += c.nxdomain;
  for (size_t i = 0; i < rcodes.size(); ++i) rcodes[i] += c.rcodes[i];
  for (size_t i = 0; i < failures.size(); ++i) failures[i] += c.failures[i];
  for (size_t i = 0; i < latency_log2_us.size(); ++i)
    latency_log2_us[i] += c.latency_log2_us[i];
}

void ServerRow::Add(const ServerRow& r) {
  queries += r.queries;
  answered += r.answered;
  failed += r.failed;
  unresolved += r.unresolved;
  evicted += r.evicted;
  retries += r.retries;
  nxdomain += r.nxdomain;
  for (size_t i = 0; i < rcodes.size(); ++i) rcodes[i] += r.rcodes[i];
  for (size_t i = 0; i < failures.size(); ++i) failures[i] += r.failures[i];
  for (size_t i = 0; i < latency_log2_us.size(); ++i)
    latency_log2_us[i] += r.latency_log2_us[i];
}

uint64_t ServerRow::LatencyQuantileUs(double q) const {
  uint64_t total = 0;
  for (uint64_t n : latency_log2_us) total += n;
  if (total == 0) return 0;
  // Rank of the quantile, 1-based, as in the nearest-rank method.
  const auto rank = static_cast<uint64_t>(
      std::max(1.0, std::ceil(q * static_cast<double>(total))));
  uint64_t seen = 0;
  for (int b = 0; b < flow::kLatencyBins; ++b) {
    seen += latency_log2_us[b];
    // Bin b holds latencies whose bit width is b: below 2^b microseconds.
    if (seen >= rank) return uint64_t{1} << b;
  }
  return uint64_t{1} << (flow::kLatencyBins - 1);
}

void ServerBoard::Add(const flow::Bucket& bucket) {
  ++buckets_;
  for (const flow::ServerCounters& c : bucket.servers) {
    ServerRow& row = rows_[c.server];
    row.server = c.server;
    row.Add(c);
    totals_.Add(c);
  }
}

std::vector<ServerRow> ServerBoard::Top(size_t n) const {
  std::vector<const ServerRow*> all;
  all.reserve(rows_.size());
  for (const auto& [key, row] : rows_) all.push_back(&row);
  n = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(n),
                    all.end(), [](const ServerRow* a, const ServerRow* b) {
                      if (a->queries != b->queries)
                        return a->queries > b->queries;
                      return a->server < b->server;
                    });
  std::vector<ServerRow> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(*all[i]);
  return out;
}

}  // namespace edgecap::telemetry
