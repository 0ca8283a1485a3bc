#include "lib/pipeline/packet_time.h"

#include <rte_errno.h>

#include <ctime>

#include "absl/strings/str_cat.h"

namespace edgecap::pipeline {

int PacketClock::time_offset_ = -1;

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
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  clock.tsc_base_ = rte_rdtsc();
  clock.tsc_hz_ = rte_get_tsc_hz();
  if (clock.tsc_hz_ == 0) clock.tsc_hz_ = 1;
  clock.wall_base_ns_ =
      static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  return clock;
}

}  // namespace edgecap::pipeline
