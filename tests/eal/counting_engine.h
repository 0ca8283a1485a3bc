// A WorkerEngine that only counts, and checks the pipeline's promises: every
// packet delivered once (an order-independent sum of per-packet digests that
// must not depend on the number of workers), each worker's packets in
// packet-time order, and every ICMP error on the worker that owns the flow it
// quotes. The recording engine of tests/eal's pipeline test.
//
//   std::vector<CountingEngine> engines(workers);
//   ... run the pipeline ...
//   CountingEngine::Totals t = CountingEngine::Sum(engines);
#ifndef EDGECAP_TESTS_EAL_COUNTING_ENGINE_H_
#define EDGECAP_TESTS_EAL_COUNTING_ENGINE_H_

#include <cstdint>
#include <vector>

#include "lib/pipeline/engine.h"
#include "lib/pipeline/steering.h"

namespace edgecap::pipeline {

class CountingEngine : public WorkerEngine {
 public:
  struct Totals {
    uint64_t packets = 0, dns_queries = 0, dns_responses = 0, icmp_errors = 0;
    uint64_t digest = 0;           // sum of per-packet digests
    uint64_t out_of_order = 0;     // packet older than the previous one
    uint64_t below_watermark = 0;  // packet older than a promised watermark
    uint64_t misplaced_icmp = 0;   // ICMP error on a worker not owning it
    uint64_t advances = 0, finishes = 0;
  };

  CountingEngine(uint16_t self, uint16_t workers)
      : self_(self), workers_(workers) {}

  void OnPacket(int64_t ts_ns, const parse::Packet& p,
                parse::Bytes frame) override;
  void AdvanceTime(int64_t ts_ns) override;
  void Finish(int64_t last_ts_ns) override;

  const Totals& totals() const { return totals_; }
  static Totals Sum(const std::vector<CountingEngine>& engines);

 private:
  uint16_t self_, workers_;
  int64_t last_ts_ = INT64_MIN;
  int64_t watermark_ = INT64_MIN;
  Totals totals_;
};

}  // namespace edgecap::pipeline

#endif  // EDGECAP_TESTS_EAL_COUNTING_ENGINE_H_
