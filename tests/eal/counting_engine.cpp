#include "tests/eal/counting_engine.h"

namespace edgecap::pipeline {
namespace {

uint64_t Digest(int64_t ts, parse::Bytes frame) {
  uint64_t h = 1469598103934665603ULL ^ static_cast<uint64_t>(ts);
  for (uint8_t b : frame) h = (h ^ b) * 1099511628211ULL;
  return h;
}

}  // namespace

void CountingEngine::OnPacket(int64_t ts_ns, const parse::Packet& p,
                              parse::Bytes frame) {
  ++totals_.packets;
  totals_.digest += Digest(ts_ns, frame);
  if (ts_ns < last_ts_) ++totals_.out_of_order;
  if (ts_ns < watermark_) ++totals_.below_watermark;
  last_ts_ = ts_ns > last_ts_ ? ts_ns : last_ts_;
  if (p.transport == parse::Transport::kUdp) {
    if (p.ports.dst == 53) ++totals_.dns_queries;
    if (p.ports.src == 53) ++totals_.dns_responses;
  }
  if (p.is_icmp_error) {
    ++totals_.icmp_errors;
    if (OwnerOf(p, workers_) != self_) ++totals_.misplaced_icmp;
  }
}

void CountingEngine::AdvanceTime(int64_t ts_ns) {
  ++totals_.advances;
  if (ts_ns > watermark_) watermark_ = ts_ns;
}

void CountingEngine::Finish(int64_t) { ++totals_.finishes; }

CountingEngine::Totals CountingEngine::Sum(
    const std::vector<CountingEngine>& engines) {
  Totals t;
  for (const CountingEngine& e : engines) {
    const Totals& x = e.totals();
    t.packets += x.packets;
    t.dns_queries += x.dns_queries;
    t.dns_responses += x.dns_responses;
    t.icmp_errors += x.icmp_errors;
    t.digest += x.digest;
    t.out_of_order += x.out_of_order;
    t.below_watermark += x.below_watermark;
    t.misplaced_icmp += x.misplaced_icmp;
    t.advances += x.advances;
    t.finishes += x.finishes;
  }
  return t;
}

}  // namespace edgecap::pipeline
