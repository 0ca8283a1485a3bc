// The seam between the DPDK pipeline and the analysis libraries (lib/flow,
// lib/incident): the pipeline owns ports, lcores, rings, packet time and
// dispatch; an engine owns what is done with a decoded packet. One
// WorkerEngine per worker lcore, touched only by that lcore; one StatsEngine
// on the main (stats) lcore. Engines pass their own messages from workers to
// the stats side (lib/flow's closed buckets), so the pipeline does not need
// to know their shape.
//
//   class MyWorker : public pipeline::WorkerEngine { ... };
//   Pipeline::Create(config, pool, {&w0, &w1}, &stats);
#ifndef EDGECAP_LIB_PIPELINE_ENGINE_H_
#define EDGECAP_LIB_PIPELINE_ENGINE_H_

#include <cstdint>

#include "lib/parse/packet.h"

namespace edgecap::pipeline {

class WorkerEngine {
 public:
  virtual ~WorkerEngine() = default;

  // A packet this worker owns, in packet-time order. `frame` (and `packet`'s
  // spans) are valid only during the call. Never allocates, throws or logs.
  virtual void OnPacket(int64_t ts_ns, const parse::Packet& packet,
                        parse::Bytes frame) = 0;

  // A burst of packets this worker owns, in order: the same as OnPacket() on
  // each. Engines override it to overlap memory latency across packets.
  virtual void OnBurst(const int64_t* ts_ns, const parse::Packet* packets,
                       const parse::Bytes* frames, uint16_t n) {
    for (uint16_t i = 0; i < n; ++i) OnPacket(ts_ns[i], packets[i], frames[i]);
  }

  // Watermark: no packet older than `ts_ns` will reach this worker any more.
  // Called with non-decreasing times, also when the worker has seen nothing
  // (its watermark follows the dispatcher's time or the other queues').
  virtual void AdvanceTime(int64_t ts_ns) = 0;

  // Once per pass of the worker's poll loop (every burst, empty ones too),
  // between packets: a quiescent point for read-mostly shared state such as
  // the watch lists (lib/rules). Cheap; never blocks.
  virtual void Quiescent() {}

  // End of input (end of file, or stop requested): publish everything.
  // `last_ts_ns` is the last packet time the whole pipeline has seen.
  virtual void Finish(int64_t last_ts_ns) = 0;
};

class StatsEngine {
 public:
  virtual ~StatsEngine() = default;

  // Called in a loop on the stats lcore while workers run: merge what workers
  // published, run the detector, write incidents.
  virtual void Poll() = 0;

  // After every worker has returned from Finish(): drain, flush every open
  // incident.
  virtual void Finish(int64_t last_ts_ns) = 0;
};

}  // namespace edgecap::pipeline

#endif  // EDGECAP_LIB_PIPELINE_ENGINE_H_
