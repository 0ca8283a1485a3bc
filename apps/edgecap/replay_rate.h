// --duration: a capture replayed in a loop for a fixed time, as a throughput
// measurement. The meter stops the run when the time is up and reports the
// rate between the end of the first second (tables warm) and the stop, per
// wall second, per process CPU-second and per worker CPU-second: on a shared
// machine the lcores get only part of a CPU, so the CPU rates are the
// comparable ones.
//
//   ReplayMeter meter(o.duration_seconds);
//   meter.Tick(p.elapsed_seconds, count_packets);   // stats lcore, each tick
//   meter.Report();                                 // after the run
#ifndef EDGECAP_APPS_EDGECAP_REPLAY_RATE_H_
#define EDGECAP_APPS_EDGECAP_REPLAY_RATE_H_

#include <cstdint>

#include "absl/functional/function_ref.h"

namespace edgecap::app {

class ReplayMeter {
 public:
  explicit ReplayMeter(double duration_seconds)
      : duration_seconds_(duration_seconds) {}

  // Takes the warm and stop marks; at the stop, raises StopRequest().
  void Tick(double elapsed_seconds, absl::FunctionRef<uint64_t()> packets);

  // The rate line on stderr, if the run reached its stop.
  void Report() const;

 private:
  struct Mark {
    double seconds = -1;
    uint64_t packets = 0;
    double cpu = 0;
    double worker_cpu = 0;
  };
  static Mark Take(double elapsed_seconds, uint64_t packets);

  double duration_seconds_;
  Mark warm_, stopped_;
};

}  // namespace edgecap::app

#endif  // EDGECAP_APPS_EDGECAP_REPLAY_RATE_H_
