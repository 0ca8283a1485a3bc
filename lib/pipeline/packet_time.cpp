#include "lib/pipeline/packet_time.h"

#include <rte_cycles.h>
#include <rte_errno.h>

#include <cstdint>
#include <ctime>

#include "absl/strings/str_cat.h"

namespace edgecap::pipeline {

int PacketClock::time_offset_ = -1;

namespace {

// 200 ms of calibration: a few ppm, well under a millisecond per minute.
constexpr int64_t kCalibrationNs = 200 * 1000 * 1000;

struct Anchor {
  uint64_t tsc = 0;
  int64_t wall_ns = 0;  // CLOCK_REALTIME
  int64_t mono_ns = 0;  // CLOCK_MONOTONIC_RAW: not slewed while we measure
};

int64_t Ns(const timespec& t) {
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// The TSC at the middle of the clock reads, from the tightest of a few
// tries (a preemption between the reads only makes one try loose).
Anchor TakeAnchor() {
  Anchor best;
  uint64_t best_width = UINT64_MAX;
  for (int i = 0; i < 5; ++i) {
    timespec wall{}, mono{};
    const uint64_t before = rte_rdtsc();
    clock_gettime(CLOCK_MONOTONIC_RAW, &mono);
    clock_gettime(CLOCK_REALTIME, &wall);
    const uint64_t after = rte_rdtsc();
    if (after - before < best_width) {
      best_width = after - before;
      best = {.tsc = before + (after - before) / 2,
              .wall_ns = Ns(wall),
              .mono_ns = Ns(mono)};
    }
  }
  return best;
}

}  // namespace

absl::StatusOr<PacketClock> PacketClock::Create(TimeSource source) {
  if (time_offset_ < 0) {
    static const rte_mbuf_dynfield kField = {
        .name = "edgecap_packet_time_ns",
        .size = sizeof(int64_t),
        .align = alignof(int64_t),
        .flags = 0,
    };
    const int offset = rte_mbuf_dynfield_register(&kField);
    if (offset < 0) {
      return absl::InternalError(
          absl::StrCat("cannot register the packet time mbuf field: ",
                       rte_strerror(rte_errno)));
    }
    time_offset_ = offset;
  }
  PacketClock clock;
  clock.source_ = source;
  if (source == TimeSource::kDynfieldMicros) {
    // The driver registers the field at probe; registering again returns the
    // same offset, and makes this work for a driver that did not.
    if (rte_mbuf_dyn_rx_timestamp_register(&clock.rx_timestamp_offset_,
                                           &clock.rx_timestamp_flag_) != 0) {
      return absl::InternalError(
          absl::StrCat("cannot find the RX timestamp mbuf field: ",
                       rte_strerror(rte_errno)));
    }
  }
  // rte_get_tsc_hz() may be rounded to 10 MHz (DPDK 22.11 on Linux rounds
  // its own measurement when the CPU does not report the TSC rate, as on
  // AMD): 2600 MHz for a 2596.1 MHz TSC is 1.5 ms of packet-time drift per
  // second, so live first_seen was 0.1 s off after a minute. Measure the
  // rate against the system clock instead.
  const Anchor start = TakeAnchor();
  clock.tsc_base_ = start.tsc;
  clock.wall_base_ns_ = start.wall_ns;
  clock.tsc_hz_ = rte_get_tsc_hz();
  if (source == TimeSource::kTsc) {
    Anchor end;
    do {
      rte_delay_us_sleep(1000);
      end = TakeAnchor();
    } while (end.mono_ns - start.mono_ns < kCalibrationNs);
    clock.tsc_hz_ =
        static_cast<uint64_t>(static_cast<double>(end.tsc - start.tsc) * 1e9 /
                              static_cast<double>(end.mono_ns - start.mono_ns));
  }
  if (clock.tsc_hz_ == 0) clock.tsc_hz_ = 1;
  return clock;
}

}  // namespace edgecap::pipeline
