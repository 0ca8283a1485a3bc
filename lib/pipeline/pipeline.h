// The appliance's lcore roles: worker lcores that decode and feed their
// WorkerEngine, an optional software dispatcher lcore, and the main lcore as
// the stats lcore running the StatsEngine.
//
// Hardware dispatch: worker i polls RX queue i of every port (symmetric RSS
// put both directions of a flow there). An ICMP error whose quoted flow
// another worker owns is passed, mbuf and all, over that worker's ring. To
// give every engine its packets in packet-time order, as a single worker
// would see them, workers advance conservatively: each publishes the time of
// its next unprocessed packet (its "head") and processes its own packets only
// up to the smallest head of the others, after draining its ring (a message
// from worker s carries a time <= s's head, which is <= ours by then).
//
// Software dispatch: one lcore polls queue 0 of every port, decodes, and
// enqueues each packet on its owner's ring (ICMP errors go straight to the
// owner of the quoted flow); it publishes its latest packet time, which is
// every idle worker's watermark.
//
// Offline (pcap) input never drops: a full ring makes the producer wait, and
// the mempool is sized so RX cannot run out of mbufs. Live input never waits:
// ring-full drops are counted. Input is drained when every queue delivered the
// record count of its file.
//
//   Pipeline pipeline(config, pool, clock, engines, &stats, &stop_flag);
//   absl::Status s = pipeline.Run(progress_callback);   // on the main lcore
#ifndef EDGECAP_LIB_PIPELINE_PIPELINE_H_
#define EDGECAP_LIB_PIPELINE_PIPELINE_H_

#include <rte_mempool.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "lib/parse/anomaly.h"
#include "lib/parse/packet.h"
#include "lib/pipeline/engine.h"
#include "lib/pipeline/packet_time.h"

namespace edgecap::pipeline {

inline constexpr int64_t kEndOfTime = std::numeric_limits<int64_t>::max();
inline constexpr uint16_t kMaxBurst = 64;

struct PipelineConfig {
  std::vector<uint16_t> ports;  // configured and started
  uint16_t workers = 1;
  bool hardware_dispatch = false;  // else a dispatcher lcore feeds rings
  parse::LinkType link = parse::LinkType::kEthernet;
  bool offline = false;
  // Offline: records per [port index][queue]; a queue is drained when it
  // delivered that many.
  std::vector<std::vector<uint64_t>> expected_records;
  uint32_t ring_size = 1024;  // power of two
  // Packets per rx_burst. 64 rather than DPDK's usual 32: a worker's burst
  // prefetches table slots and decodes questions a few packets ahead, and
  // every burst starts with those stages waiting (replay, mix, 3 rounds:
  // 7.04 vs 6.63 M packets per worker CPU-second; testpmd gains nothing
  // from 64 on the same vdev).
  uint16_t burst = 64;
  bool yield_when_idle = false;         // more lcores than cores: be polite
  std::vector<unsigned> worker_lcores;  // one per worker
  unsigned dispatcher_lcore = 0;        // software dispatch only
};

// Published by one lcore each (relaxed stores), read by the stats lcore.
struct alignas(64) WorkerCounters {
  std::atomic<uint64_t> packets{0};  // decoded and given to the engine
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> resteered_out{0};  // ICMP errors passed to the owner
  std::atomic<uint64_t> resteered_in{0};
  std::atomic<uint64_t> ring_full{0};   // live: re-steer drops
  std::atomic<uint64_t> bursts{0};      // polls that returned packets
  std::atomic<uint64_t> polls{0};       // loop iterations
  std::atomic<uint64_t> idle_polls{0};  // iterations with nothing to do
  std::atomic<int64_t> watermark{std::numeric_limits<int64_t>::min()};
  std::atomic<bool> finished{false};
};

struct alignas(64) DispatcherCounters {
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> ring_full{0};   // live: dropped, ring full
  std::atomic<uint64_t> ring_waits{0};  // offline: waited for a full ring
  std::atomic<int64_t> time{std::numeric_limits<int64_t>::min()};
  std::atomic<bool> done{false};
};

struct Progress {
  uint64_t received = 0;  // packets read from the ports so far
  uint64_t expected = 0;  // offline: records in the input; 0 live
  double elapsed_seconds = 0;
  int64_t packet_time_ns = 0;
};

struct ShortRead {  // offline queue that stopped before its record count
  uint16_t port = 0, queue = 0;
  uint64_t received = 0, expected = 0;
};

class Pipeline {
 public:
  // `engines` has one WorkerEngine per worker. `stop` is set by the signal
  // handler. `pool` feeds the ports' RX queues.
  Pipeline(PipelineConfig config, rte_mempool* pool, PacketClock clock,
           std::vector<WorkerEngine*> engines, StatsEngine* stats,
           const std::atomic<bool>* stop);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Creates the rings. Separate from the constructor so errors are a Status.
  absl::Status Init();

  // Runs on the main lcore until the input is drained (offline) or stop is
  // set, then flushes. `progress` is called about every 250 ms.
  absl::Status Run(const std::function<void(const Progress&)>& progress);

  // Valid after Run().
  const WorkerCounters& worker(uint16_t w) const { return *workers_[w]; }
  const DispatcherCounters& dispatcher() const { return dispatcher_; }
  const parse::AnomalyCounters& anomalies(uint16_t w) const {
    return local_[w]->anomalies;
  }
  uint64_t received() const;
  int64_t last_packet_time() const { return last_ts_; }
  const std::vector<ShortRead>& short_reads() const { return short_reads_; }
  const PipelineConfig& config() const { return config_; }

 private:
  struct alignas(64) Head {
    std::atomic<int64_t> time{std::numeric_limits<int64_t>::min()};
    std::atomic<int64_t> last{std::numeric_limits<int64_t>::min()};
  };
  struct QueueState {  // one RX queue, touched by its polling lcore only
    uint16_t port = 0, queue = 0;
    uint64_t received = 0, expected = 0;
    bool drained = false;
    uint64_t idle_since_tsc = 0;
  };
  struct Local {  // a worker's private state
    parse::AnomalyCounters anomalies;
    std::vector<QueueState> queues;
    std::atomic<uint64_t> received{0};  // read by progress
  };

  static int LaunchWorker(void* arg);
  static int LaunchDispatcher(void* arg);
  void HardwareWorker(uint16_t w);
  void SoftwareWorker(uint16_t w);
  void Dispatcher();

  // Polls `queues` round robin; 0 when none had packets. Marks drained queues.
  uint16_t Receive(std::vector<QueueState>& queues, size_t* next,
                   rte_mbuf** bufs, std::atomic<uint64_t>* received,
                   std::vector<ShortRead>* short_reads);
  bool Drained(const std::vector<QueueState>& queues) const;
  void Deliver(uint16_t w, rte_mbuf* m, const parse::Packet& p);
  void Idle() const;

  PipelineConfig config_;
  rte_mempool* pool_;
  PacketClock clock_;
  std::vector<WorkerEngine*> engines_;
  StatsEngine* stats_;
  const std::atomic<bool>* stop_;

  std::vector<rte_ring*> rings_;  // per worker: inbound mbufs
  std::vector<std::unique_ptr<WorkerCounters>> workers_;
  std::vector<std::unique_ptr<Head>> heads_;
  std::vector<std::unique_ptr<Local>> local_;
  DispatcherCounters dispatcher_;
  std::vector<QueueState> dispatcher_queues_;
  std::atomic<uint64_t> dispatcher_received_{0};
  std::vector<std::vector<ShortRead>> worker_short_reads_;
  std::vector<ShortRead> short_reads_;
  int64_t last_ts_ = std::numeric_limits<int64_t>::min();
  std::string ring_prefix_;
};

}  // namespace edgecap::pipeline

#endif  // EDGECAP_LIB_PIPELINE_PIPELINE_H_
