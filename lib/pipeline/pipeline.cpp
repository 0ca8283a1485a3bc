#include "lib/pipeline/pipeline.h"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/pipeline/steering.h"

namespace edgecap::pipeline {
namespace {

// A queue that stops short of its record count for this long is given up on
// (a cut or corrupt file, or records lost to rx_nombuf) and reported.
constexpr double kStallSeconds = 1.0;

struct LaunchArg {
  Pipeline* pipeline;
  uint16_t worker;
};

// A worker's own packets of one burst, decoded, for WorkerEngine::OnBurst.
struct Batch {
  uint16_t n = 0;
  int64_t ts[kMaxBurst];
  parse::Packet packets[kMaxBurst];
  parse::Bytes frames[kMaxBurst];
  rte_mbuf* mbufs[kMaxBurst];
};

parse::Bytes FrameOf(const rte_mbuf* m) {
  // net_pcap chains mbufs only for frames over the mbuf's room (jumbo); the
  // first segment holds every header edgecap decodes.
  return {rte_pktmbuf_mtod(m, const uint8_t*), m->data_len};
}

}  // namespace

Pipeline::Pipeline(PipelineConfig config, rte_mempool* pool, PacketClock clock,
                   std::vector<WorkerEngine*> engines, StatsEngine* stats,
                   const std::atomic<bool>* stop)
    : config_(std::move(config)),
      pool_(pool),
      clock_(clock),
      engines_(std::move(engines)),
      stats_(stats),
      stop_(stop) {}

Pipeline::~Pipeline() {
  for (rte_ring* r : rings_) rte_ring_free(r);
}

absl::Status Pipeline::Init() {
  const uint16_t n = config_.workers;
  if (n == 0 || engines_.size() != n || config_.worker_lcores.size() != n) {
    return absl::InvalidArgumentError(
        "pipeline: need one engine and one lcore per worker");
  }
  if (config_.burst == 0 || config_.burst > kMaxBurst) {
    return absl::InvalidArgumentError(
        absl::StrCat("pipeline: burst must be 1..", kMaxBurst));
  }
  ring_prefix_ = absl::StrCat("ecw", getpid() % 100000, "_");
  for (uint16_t w = 0; w < n; ++w) {
    workers_.push_back(std::make_unique<WorkerCounters>());
    heads_.push_back(std::make_unique<Head>());
    local_.push_back(std::make_unique<Local>());
    // Software dispatch: one producer (the dispatcher). Hardware: any worker
    // may re-steer to any other.
    const unsigned flags =
        RING_F_SC_DEQ | (config_.hardware_dispatch ? 0 : RING_F_SP_ENQ);
    rte_ring* ring = rte_ring_create(absl::StrCat(ring_prefix_, w).c_str(),
                                     config_.ring_size, rte_socket_id(), flags);
    if (ring == nullptr) {
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot create worker ring of ", config_.ring_size,
                       " entries: ", rte_strerror(rte_errno)));
    }
    rings_.push_back(ring);
  }
  worker_short_reads_.resize(n + 1);
  for (size_t p = 0; p < config_.ports.size(); ++p) {
    auto expected = [&](uint16_t q) -> uint64_t {
      if (!config_.offline) return 0;
      if (p >= config_.expected_records.size() ||
          q >= config_.expected_records[p].size()) {
        return 0;
      }
      return config_.expected_records[p][q];
    };
    if (config_.hardware_dispatch) {
      for (uint16_t w = 0; w < n; ++w) {
        local_[w]->queues.push_back(
            {.port = config_.ports[p], .queue = w, .expected = expected(w)});
      }
    } else {
      dispatcher_queues_.push_back(
          {.port = config_.ports[p], .queue = 0, .expected = expected(0)});
    }
  }
  return absl::OkStatus();
}

uint64_t Pipeline::received() const {
  uint64_t total = dispatcher_received_.load(std::memory_order_relaxed);
  for (const auto& l : local_)
    total += l->received.load(std::memory_order_relaxed);
  return total;
}

void Pipeline::Idle() const {
  if (config_.yield_when_idle) {
    sched_yield();
  } else {
    rte_pause();
  }
}

bool Pipeline::Drained(const std::vector<QueueState>& queues) const {
  for (const QueueState& q : queues) {
    if (!q.drained) return false;
  }
  return true;
}

uint16_t Pipeline::Receive(std::vector<QueueState>& queues, size_t* next,
                           rte_mbuf** bufs, std::atomic<uint64_t>* received,
                           std::vector<ShortRead>* short_reads) {
  const size_t count = queues.size();
  for (size_t i = 0; i < count; ++i) {
    QueueState& q = queues[(*next + i) % count];
    if (q.drained) continue;
    if (config_.offline && q.received >= q.expected) {
      q.drained = true;
      continue;
    }
    const uint16_t n = rte_eth_rx_burst(q.port, q.queue, bufs, config_.burst);
    if (n > 0) {
      q.received += n;
      q.idle_since_tsc = 0;
      received->store(received->load(std::memory_order_relaxed) + n,
                      std::memory_order_relaxed);
      clock_.Stamp(bufs, n);
      *next = (*next + i + 1) % count;
      return n;
    }
    if (config_.offline) {
      const uint64_t now = rte_get_tsc_cycles();
      if (q.idle_since_tsc == 0) {
        q.idle_since_tsc = now;
      } else if (static_cast<double>(now - q.idle_since_tsc) >
                 kStallSeconds * static_cast<double>(rte_get_tsc_hz())) {
        q.drained = true;
        short_reads->push_back({.port = q.port,
                                .queue = q.queue,
                                .received = q.received,
                                .expected = q.expected});
      }
    }
  }
  return 0;
}

void Pipeline::Deliver(uint16_t w, rte_mbuf* m, const parse::Packet& p) {
  engines_[w]->OnPacket(PacketClock::Time(m), p, FrameOf(m));
}

int Pipeline::LaunchWorker(void* arg) {
  auto* a = static_cast<LaunchArg*>(arg);
  if (a->pipeline->config_.hardware_dispatch) {
    a->pipeline->HardwareWorker(a->worker);
  } else {
    a->pipeline->SoftwareWorker(a->worker);
  }
  return 0;
}

int Pipeline::LaunchDispatcher(void* arg) {
  static_cast<Pipeline*>(arg)->Dispatcher();
  return 0;
}

void Pipeline::HardwareWorker(uint16_t w) {
  const uint16_t n = config_.workers;
  WorkerEngine& engine = *engines_[w];
  WorkerCounters& counters = *workers_[w];
  Local& local = *local_[w];
  rte_ring* inbound = rings_[w];
  rte_mbuf* bufs[kMaxBurst];
  void* msgs[kMaxBurst];
  uint16_t pos = 0, count = 0;
  size_t next_queue = 0;
  bool input_done = false;
  int64_t last_own = std::numeric_limits<int64_t>::min();
  int64_t watermark = std::numeric_limits<int64_t>::min();
  uint64_t packets = 0, bytes = 0, out = 0, in = 0, full = 0;
  uint64_t bursts = 0, polls = 0, idle_polls = 0;
  parse::Packet packet;

  auto process = [&](rte_mbuf* m) {
    const parse::Anomaly a =
        parse::DecodeFrame(config_.link, FrameOf(m), &packet);
    local.anomalies.Count(a);
    Deliver(w, m, packet);
    ++packets;
    bytes += m->pkt_len;
    rte_pktmbuf_free(m);
  };
  Batch batch;
  auto flush = [&]() {
    if (batch.n == 0) return;
    engine.OnBurst(batch.ts, batch.packets, batch.frames, batch.n);
    for (uint16_t i = 0; i < batch.n; ++i) bytes += batch.mbufs[i]->pkt_len;
    packets += batch.n;
    rte_pktmbuf_free_bulk(batch.mbufs, batch.n);
    batch.n = 0;
  };
  auto drain = [&]() {
    unsigned got;
    bool any = false;
    while ((got = rte_ring_sc_dequeue_burst(inbound, msgs, config_.burst,
                                            nullptr)) > 0) {
      for (unsigned i = 0; i < got; ++i)
        process(static_cast<rte_mbuf*>(msgs[i]));
      in += got;
      any = true;
    }
    return any;
  };

  while (true) {
    engine.Quiescent();
    bool busy = false;
    if (pos == count && !input_done) {
      pos = count = 0;
      if (stop_->load(std::memory_order_relaxed)) {
        input_done = true;
      } else {
        count = Receive(local.queues, &next_queue, bufs, &local.received,
                        &worker_short_reads_[w]);
        if (count > 0) ++bursts;
        if (count == 0 && Drained(local.queues)) input_done = true;
      }
    }
    int64_t head;
    if (pos < count) {
      head = PacketClock::Time(bufs[pos]);
    } else if (input_done) {
      head = kEndOfTime;
    } else {
      // Nothing buffered: offline, the next record is no older than the last
      // (files are in time order); live, it will be stamped after now.
      head = config_.offline ? last_own : clock_.Now();
    }
    heads_[w]->last.store(last_own, std::memory_order_relaxed);
    heads_[w]->time.store(head, std::memory_order_release);
    int64_t others = kEndOfTime;
    for (uint16_t s = 0; s < n; ++s) {
      if (s != w) {
        others =
            std::min(others, heads_[s]->time.load(std::memory_order_acquire));
      }
    }
    busy |= drain();
    while (pos < count && PacketClock::Time(bufs[pos]) <= others) {
      rte_mbuf* m = bufs[pos++];
      busy = true;
      const int64_t ts = PacketClock::Time(m);
      last_own = std::max(last_own, ts);
      parse::Packet& p = batch.packets[batch.n];
      const parse::Bytes frame = FrameOf(m);
      const parse::Anomaly a = parse::DecodeFrame(config_.link, frame, &p);
      const uint16_t owner = (n > 1 && p.is_icmp_error) ? OwnerOf(p, n) : w;
      if (owner == w) {
        local.anomalies.Count(a);
        batch.ts[batch.n] = ts;
        batch.frames[batch.n] = frame;
        batch.mbufs[batch.n++] = m;
        continue;
      }
      // Our earlier packets first: waiting on the owner's ring below drains
      // our own ring, whose packets are no older than them.
      flush();
      // The owner decodes it again; the anomaly is counted there.
      ++out;
      if (config_.offline) {
        while (rte_ring_mp_enqueue(rings_[owner], m) != 0) {
          // Keep draining our own ring so two workers re-steering to each
          // other cannot both wait on a full ring.
          drain();
          Idle();
        }
      } else if (rte_ring_mp_enqueue(rings_[owner], m) != 0) {
        ++full;
        rte_pktmbuf_free(m);
      }
    }
    flush();
    // Everything still to come is no older than our next packet and the
    // other workers' heads.
    const int64_t own_next =
        pos < count
            ? PacketClock::Time(bufs[pos])
            : (input_done ? kEndOfTime
                          : (config_.offline ? last_own : clock_.Now()));
    const int64_t wm = std::min(others, own_next);
    if (wm > watermark && wm != kEndOfTime) {
      watermark = wm;
      engine.AdvanceTime(wm);
      counters.watermark.store(wm, std::memory_order_relaxed);
    }
    counters.packets.store(packets, std::memory_order_relaxed);
    counters.bytes.store(bytes, std::memory_order_relaxed);
    counters.resteered_out.store(out, std::memory_order_relaxed);
    counters.resteered_in.store(in, std::memory_order_relaxed);
    counters.ring_full.store(full, std::memory_order_relaxed);
    ++polls;
    if (!busy) ++idle_polls;
    counters.bursts.store(bursts, std::memory_order_relaxed);
    counters.polls.store(polls, std::memory_order_relaxed);
    counters.idle_polls.store(idle_polls, std::memory_order_relaxed);
    if (input_done && pos == count && others == kEndOfTime) {
      // Every other worker has published its last message before its head
      // went to the end of time; take them.
      drain();
      break;
    }
    if (!busy) Idle();
  }
  int64_t last = last_own;
  for (uint16_t s = 0; s < n; ++s) {
    last = std::max(last, heads_[s]->last.load(std::memory_order_relaxed));
  }
  counters.packets.store(packets, std::memory_order_relaxed);
  counters.resteered_in.store(in, std::memory_order_relaxed);
  engine.Finish(last);
  counters.finished.store(true, std::memory_order_release);
}

void Pipeline::SoftwareWorker(uint16_t w) {
  WorkerEngine& engine = *engines_[w];
  WorkerCounters& counters = *workers_[w];
  Local& local = *local_[w];
  rte_ring* inbound = rings_[w];
  void* msgs[kMaxBurst];
  int64_t watermark = std::numeric_limits<int64_t>::min();
  uint64_t packets = 0, bytes = 0, bursts = 0, polls = 0, idle_polls = 0;
  Batch batch;
  while (true) {
    engine.Quiescent();
    counters.polls.store(++polls, std::memory_order_relaxed);
    // Read the dispatcher's time and state before looking at the ring: what
    // it enqueued before publishing them is in the ring by then.
    const int64_t time = dispatcher_.time.load(std::memory_order_acquire);
    const bool done = dispatcher_.done.load(std::memory_order_acquire);
    const unsigned got =
        rte_ring_sc_dequeue_burst(inbound, msgs, config_.burst, nullptr);
    for (unsigned i = 0; i < got; ++i) {
      rte_mbuf* m = static_cast<rte_mbuf*>(msgs[i]);
      batch.mbufs[i] = m;
      batch.ts[i] = PacketClock::Time(m);
      batch.frames[i] = FrameOf(m);
      local.anomalies.Count(
          parse::DecodeFrame(config_.link, batch.frames[i], &batch.packets[i]));
      bytes += m->pkt_len;
    }
    if (got > 0) {
      engine.OnBurst(batch.ts, batch.packets, batch.frames,
                     static_cast<uint16_t>(got));
      packets += got;
      rte_pktmbuf_free_bulk(batch.mbufs, got);
    }
    if (got > 0) {
      counters.packets.store(packets, std::memory_order_relaxed);
      counters.bytes.store(bytes, std::memory_order_relaxed);
      counters.bursts.store(++bursts, std::memory_order_relaxed);
      continue;
    }
    counters.idle_polls.store(++idle_polls, std::memory_order_relaxed);
    if (done) break;
    if (time > watermark) {
      watermark = time;
      engine.AdvanceTime(time);
      counters.watermark.store(time, std::memory_order_relaxed);
    }
    Idle();
  }
  counters.packets.store(packets, std::memory_order_relaxed);
  counters.bytes.store(bytes, std::memory_order_relaxed);
  engine.Finish(dispatcher_.time.load(std::memory_order_acquire));
  counters.finished.store(true, std::memory_order_release);
}

void Pipeline::Dispatcher() {
  const uint16_t n = config_.workers;
  rte_mbuf* bufs[kMaxBurst];
  rte_mbuf* batch[kMaxBurst];
  size_t next_queue = 0;
  int64_t time = std::numeric_limits<int64_t>::min();
  uint64_t packets = 0, full = 0, waits = 0;
  parse::Packet packet;
  std::vector<uint16_t> owners(kMaxBurst);
  while (!stop_->load(std::memory_order_relaxed)) {
    const uint16_t got =
        Receive(dispatcher_queues_, &next_queue, bufs, &dispatcher_received_,
                &worker_short_reads_[n]);
    if (got == 0) {
      if (Drained(dispatcher_queues_)) break;
      if (!config_.offline) {
        // Live: anything received later is stamped later than now.
        const int64_t now = clock_.Now();
        if (now > time) {
          time = now;
          dispatcher_.time.store(time, std::memory_order_release);
        }
      }
      Idle();
      continue;
    }
    for (uint16_t i = 0; i < got; ++i) {
      parse::DecodeFrame(config_.link, FrameOf(bufs[i]), &packet);
      owners[i] = OwnerOf(packet, n);
      time = std::max(time, PacketClock::Time(bufs[i]));
    }
    // One pass per owner keeps each worker's packets in arrival order.
    for (uint16_t w = 0; w < n; ++w) {
      unsigned k = 0;
      for (uint16_t i = 0; i < got; ++i) {
        if (owners[i] == w) batch[k++] = bufs[i];
      }
      if (k == 0) continue;
      unsigned sent = rte_ring_sp_enqueue_burst(
          rings_[w], reinterpret_cast<void* const*>(batch), k, nullptr);
      if (config_.offline) {
        while (sent < k) {
          ++waits;
          Idle();
          sent += rte_ring_sp_enqueue_burst(
              rings_[w], reinterpret_cast<void* const*>(batch + sent), k - sent,
              nullptr);
        }
      } else if (sent < k) {
        full += k - sent;
        rte_pktmbuf_free_bulk(batch + sent, k - sent);
      }
    }
    packets += got;
    dispatcher_.packets.store(packets, std::memory_order_relaxed);
    dispatcher_.ring_full.store(full, std::memory_order_relaxed);
    dispatcher_.ring_waits.store(waits, std::memory_order_relaxed);
    dispatcher_.time.store(time, std::memory_order_release);
  }
  dispatcher_.done.store(true, std::memory_order_release);
}

absl::Status Pipeline::Run(
    const std::function<void(const Progress&)>& progress) {
  std::vector<LaunchArg> args(config_.workers);
  for (uint16_t w = 0; w < config_.workers; ++w) {
    args[w] = {this, w};
    const int rc = rte_eal_remote_launch(&Pipeline::LaunchWorker, &args[w],
                                         config_.worker_lcores[w]);
    if (rc != 0) {
      return absl::InternalError(absl::StrCat(
          "cannot launch worker ", w, " on lcore ", config_.worker_lcores[w]));
    }
  }
  if (!config_.hardware_dispatch) {
    const int rc = rte_eal_remote_launch(&Pipeline::LaunchDispatcher, this,
                                         config_.dispatcher_lcore);
    if (rc != 0) {
      return absl::InternalError(absl::StrCat(
          "cannot launch the dispatcher on lcore ", config_.dispatcher_lcore));
    }
  }
  uint64_t expected = 0;
  for (const auto& port : config_.expected_records) {
    for (uint64_t e : port) expected += e;
  }
  const uint64_t start = rte_get_tsc_cycles();
  const double hz = static_cast<double>(rte_get_tsc_hz());
  uint64_t last_progress = start;
  while (true) {
    bool all_finished = true;
    for (const auto& c : workers_) {
      all_finished &= c->finished.load(std::memory_order_acquire);
    }
    stats_->Poll();
    const uint64_t now = rte_get_tsc_cycles();
    if (progress && static_cast<double>(now - last_progress) > 0.25 * hz) {
      last_progress = now;
      int64_t ts = dispatcher_.time.load(std::memory_order_relaxed);
      for (const auto& c : workers_) {
        ts = std::max(ts, c->watermark.load(std::memory_order_relaxed));
      }
      progress({.received = received(),
                .expected = expected,
                .elapsed_seconds = static_cast<double>(now - start) / hz,
                .packet_time_ns = ts});
    }
    if (all_finished) break;
    rte_delay_us_sleep(500);
  }
  rte_eal_mp_wait_lcore();
  for (const auto& h : heads_) {
    last_ts_ = std::max(last_ts_, h->last.load(std::memory_order_relaxed));
  }
  last_ts_ =
      std::max(last_ts_, dispatcher_.time.load(std::memory_order_relaxed));
  for (const auto& reads : worker_short_reads_) {
    short_reads_.insert(short_reads_.end(), reads.begin(), reads.end());
  }
  stats_->Poll();
  stats_->Finish(last_ts_);
  return absl::OkStatus();
}

}  // namespace edgecap::pipeline
