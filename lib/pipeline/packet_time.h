// Packet time for the pipeline: every mbuf gets its packet time, in
// nanoseconds since the Unix epoch, stamped into an edgecap-owned mbuf dynamic
// field at the RX point, whatever the source. Offline the source is the pcap
// record time that net_pcap puts in DPDK's RX timestamp dynfield (in DPDK 22.11
// net_pcap stores tv_sec * 1e6 + tv_usec there: microseconds, see
// drivers/net/pcap/pcap_ethdev.c eth_pcap_rx); live it is the TSC at RX,
// converted to wall-clock time with one offset taken at start-up.
//
//   absl::StatusOr<PacketClock> clock = PacketClock::Create(TimeSource::kTsc);
//   uint16_t n = rte_eth_rx_burst(port, queue, bufs, 32);
//   clock->Stamp(bufs, n);
//   int64_t ts = PacketClock::Time(bufs[0]);
#ifndef EDGECAP_LIB_PIPELINE_PACKET_TIME_H_
#define EDGECAP_LIB_PIPELINE_PACKET_TIME_H_

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstdint>

#include "absl/status/statusor.h"

namespace edgecap::pipeline {

enum class TimeSource : uint8_t {
  kDynfieldMicros,  // DPDK RX timestamp dynfield in µs since the epoch
  kTsc,             // TSC at RX, for ports without a wall-clock timestamp
};

class PacketClock {
 public:
  // Registers edgecap's dynfield, and for kDynfieldMicros looks up DPDK's
  // timestamp dynfield (registered by the driver at probe, so call this after
  // the ports exist). Call after rte_eal_init().
  static absl::StatusOr<PacketClock> Create(TimeSource source);

  // Writes every mbuf's packet time into edgecap's dynfield. A dynfield
  // mbuf whose driver did not set the RX timestamp flag gets the TSC time, so
  // time never goes to zero.
  void Stamp(rte_mbuf** bufs, uint16_t n) const {
    if (source_ == TimeSource::kDynfieldMicros) {
      for (uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = bufs[i];
        const int64_t ns =
            (m->ol_flags & rx_timestamp_flag_) != 0
                ? static_cast<int64_t>(*RTE_MBUF_DYNFIELD(
                      m, rx_timestamp_offset_, const rte_mbuf_timestamp_t*)) *
                      1000
                : Now();
        *RTE_MBUF_DYNFIELD(m, time_offset_, int64_t*) = ns;
      }
    } else {
      const int64_t ns = Now();
      for (uint16_t i = 0; i < n; ++i) {
        *RTE_MBUF_DYNFIELD(bufs[i], time_offset_, int64_t*) = ns;
      }
    }
  }

  // Packet time of a stamped mbuf.
  static int64_t Time(const rte_mbuf* m) {
    return *RTE_MBUF_DYNFIELD(m, time_offset_, const int64_t*);
  }

  // Wall-clock time from the TSC: cheap enough for the fast path.
  int64_t Now() const {
    const uint64_t delta = rte_rdtsc() - tsc_base_;
    // Split the multiplication so an uptime of years cannot overflow.
    const uint64_t secs = delta / tsc_hz_;
    const uint64_t rest = delta % tsc_hz_;
    return wall_base_ns_ + static_cast<int64_t>(secs * 1000000000ULL) +
           static_cast<int64_t>(rest * 1000000000ULL / tsc_hz_);
  }

  TimeSource source() const { return source_; }

 private:
  PacketClock() = default;

  static int time_offset_;  // edgecap's dynfield, process-wide
  TimeSource source_ = TimeSource::kTsc;
  int rx_timestamp_offset_ = -1;
  uint64_t rx_timestamp_flag_ = 0;
  uint64_t tsc_base_ = 0;
  uint64_t tsc_hz_ = 1;
  int64_t wall_base_ns_ = 0;
};

}  // namespace edgecap::pipeline

#endif  // EDGECAP_LIB_PIPELINE_PACKET_TIME_H_
