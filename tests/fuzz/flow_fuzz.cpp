// libFuzzer target over the path after the decoders: frames with packet
// times (flow_fuzz.h) through simulated flow workers (transaction table,
// ICMP correlation, expiry, buckets) into the incident detector and the JSON
// lines writer. Besides the sanitizers it checks the promises the appliance
// relies on:
// - tables never hold more than their capacity;
// - every incident line is one JSON object with first_seen <= last_seen;
// - the output does not depend on the number of workers (DESIGN.md), checked
//   whenever packet time never goes backwards and no table or bucket limit
//   was hit (both legitimately make the split visible).
#include "tests/fuzz/flow_fuzz.h"

#include <cstddef>
#include <cstdint>
#include <string>

#include "lib/incident/simulate.h"
#include "nlohmann/json.hpp"
#include "tests/fuzz/fuzz_input.h"

namespace edgecap::fuzz {
namespace {

incident::SimulationResult Run(const uint8_t* data, size_t size,
                               parse::LinkType link, int workers, bool tiny,
                               bool* limited) {
  incident::SimulationConfig cfg;
  cfg.workers = workers;
  cfg.worker.max_transactions = tiny ? 64 : 4096;
  cfg.worker.frame_ring_slots = 2048;
  // Small per-second caps keep each input cheap (a bucket's index is sized
  // for its cap) and let the fuzzer reach them.
  cfg.worker.max_servers_per_bucket = 256;
  cfg.worker.max_failures_per_bucket = 1024;
  cfg.worker.max_nxdomains_per_bucket = 1024;
  auto sim = incident::Simulator::Create(cfg, link);
  if (!sim.ok()) __builtin_trap();
  for (FlowRecordReader r(data, size); r.Next();) {
    (*sim)->Feed(r.ts_ns(), r.frame());
  }
  for (int w = 0; w < workers; ++w) {
    if ((*sim)->worker(w).table().size() > cfg.worker.max_transactions) {
      __builtin_trap();
    }
  }
  incident::SimulationResult result = (*sim)->Finish();
  *limited = result.detector_stats.dropped_details > 0;
  for (const auto& s : result.worker_stats) *limited |= s.evictions > 0;
  return result;
}

void CheckOutput(const incident::SimulationResult& r) {
  size_t lines = 0, start = 0;
  while (start < r.jsonl.size()) {
    const size_t end = r.jsonl.find('\n', start);
    if (end == std::string::npos) __builtin_trap();  // unterminated line
    const auto j = nlohmann::json::parse(r.jsonl.substr(start, end - start),
                                         nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) __builtin_trap();
    ++lines;
    start = end + 1;
  }
  if (lines != r.incidents.size()) __builtin_trap();
  for (const auto& i : r.incidents) {
    if (i.first_seen_ns > i.last_seen_ns) __builtin_trap();
  }
}

}  // namespace
}  // namespace edgecap::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgecap::fuzz;  // NOLINT
  if (size < kFlowHeader) return 0;
  const edgecap::parse::LinkType link =
      kFuzzLinkTypes[data[0] % kFuzzLinkTypes.size()];
  const bool tiny = (data[1] & kFlowTinyTable) != 0;
  bool limited_one = false, limited_many = false;
  const auto one = Run(data, size, link, 1, tiny, &limited_one);
  CheckOutput(one);
  const int workers = (data[1] & kFlowSplitMask) != 0 ? 3 : 2;
  const auto many = Run(data, size, link, workers, tiny, &limited_many);
  CheckOutput(many);
  bool backwards = false;
  for (FlowRecordReader r(data, size); r.Next();) {
    backwards = r.went_backwards();
  }
  if (!backwards && !limited_one && !limited_many && one.jsonl != many.jsonl) {
    __builtin_trap();
  }
  return 0;
}
