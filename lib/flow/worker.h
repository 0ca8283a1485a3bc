// A flow worker: everything one lcore does with the packets steered to it.
// It owns a DNS transaction table, matches responses, ICMP/ICMPv6 errors and
// TCP RSTs to pending queries, expires queries by packet time, and counts
// every transaction, with its final outcome, in the 1-second bucket of its
// query time, per server. A bucket is published once no transaction of its
// second can still change (packet time past the second + HoldNs()); the stats
// side merges the buckets of all workers (lib/incident).
//
// The fast path (Process, Advance) does not allocate once warm: buckets are
// recycled through Recycle(), and their vectors keep their capacity.
//
//   auto w = flow::Worker::Create(flow::WorkerConfig{}, /*id=*/0);
//   for (each packet steered here) (*w)->Process(ts_ns, packet, frame);
//   (*w)->Finish(final_ts_ns);                  // end of input
//   std::unique_ptr<flow::Bucket> b;
//   while ((*w)->PopClosed(&b)) stats.Offer(0, std::move(b));
//   stats.SetWatermark(0, (*w)->watermark_second());
#ifndef EDGECAP_LIB_FLOW_WORKER_H_
#define EDGECAP_LIB_FLOW_WORKER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/flow/bucket.h"
#include "lib/flow/transaction_table.h"
#include "lib/flow/watch.h"
#include "lib/parse/dns.h"
#include "lib/parse/packet.h"

namespace edgecap::flow {

struct WorkerConfig {
  uint32_t max_transactions = 1 << 20;  // pending + recently timed out
  int64_t query_timeout_ns = 5 * kNsPerSecond;
  // A query retried for longer than this ends as a timeout anyway.
  int64_t max_transaction_ns = 15 * kNsPerSecond;
  // How long a timed-out query waits for a late ICMP error.
  int64_t late_error_ns = 60 * kNsPerSecond;
  // Every table slot is checked for expiry at least this often.
  int64_t sweep_period_ns = 2 * kNsPerSecond;
  uint32_t frame_ring_slots = 1 << 16;  // last query frames, for evidence
  uint32_t max_servers_per_bucket = 1 << 16;
  uint32_t max_failures_per_bucket = 1 << 16;
  uint32_t max_nxdomains_per_bucket = 1 << 16;
  parse::LinkType link = parse::LinkType::kEthernet;

  // A bucket is final once packet time passed its end by this much.
  int64_t HoldNs() const {
    return max_transaction_ns + sweep_period_ns + 2 * kNsPerSecond;
  }
};

// Counters of what the worker saw, written only by its lcore.
struct WorkerStats {
  uint64_t packets = 0;
  uint64_t dns_queries = 0;
  uint64_t dns_responses = 0;
  uint64_t dns_undecodable = 0;
  // UDP to/from port 53 whose IP and UDP lengths disagree (malformed, not a
  // snaplen cut): skipped, never a transaction.
  uint64_t dns_malformed_lengths = 0;
  uint64_t retries = 0;
  uint64_t unmatched_responses = 0;
  uint64_t late_responses = 0;
  uint64_t mismatched_responses = 0;
  uint64_t replaced_queries = 0;  // same key, different question
  uint64_t icmp_errors = 0;
  uint64_t icmp_ignored_codes = 0;
  uint64_t icmp_quoting_responses = 0;
  uint64_t icmp_unusable_quotes = 0;
  uint64_t icmp_matched = 0;
  uint64_t icmp_orphans = 0;
  uint64_t icmp_reclassified = 0;
  uint64_t icmp_stashed = 0;  // quote without DNS id, matched by 4-tuple
  uint64_t tcp_syns = 0;
  uint64_t tcp_refused = 0;
  uint64_t timeouts = 0;
  uint64_t evictions = 0;
  uint64_t out_of_order_packets = 0;
  uint64_t buckets_allocated = 0;
  uint64_t watch_hits = 0;  // rule hits of new queries (flow/watch.h)
  // Failures recorded without their query's frame: the ring of the last
  // frame_ring_slots frames had reused its slot. A timeout is recorded up to
  // query_timeout_ns + sweep_period_ns after its query: above
  // frame_ring_slots / that many queries a second (~9k offline by default)
  // every timeout's query frame, and with it the timeout's name, is gone by
  // then; the failure itself is still counted. (An ICMP error moving an
  // earlier timeout to its kind is not counted again.)
  uint64_t failures_without_query_frame = 0;
};

class Worker {
 public:
  static absl::StatusOr<std::unique_ptr<Worker>> Create(
      const WorkerConfig& config, int id);
  Worker(const Worker&) = delete;  // dns_ points into the object
  Worker& operator=(const Worker&) = delete;

  // One decoded packet (DecodeFrame result) and its raw frame. Packet times
  // should not go backwards much; a packet older than an already published
  // second is counted in the oldest open one.
  void Process(int64_t ts_ns, const parse::Packet& packet, parse::Bytes frame);
  // Optional: starts loading the table slot `packet` will use, a few packets
  // ahead of its Process() within a burst (UDP DNS only; cheap otherwise).
  void Prefetch(const parse::Packet& packet) const;
  // The same as Process() on each packet in order, with the table slots of
  // the packets a few ahead prefetched and each UDP DNS key hashed once: at
  // 1M table slots every lookup otherwise waits for 2-3 cache misses.
  void ProcessBurst(const int64_t* ts_ns, const parse::Packet* packets,
                    const parse::Bytes* frames, size_t n);
  // Packet time moved on without a packet for this worker (dispatcher tick,
  // or the clock in live mode): expires queries and publishes buckets.
  // Only a new sweep tick has work to do; within one it is a compare.
  void Advance(int64_t ts_ns) {
    if (ts_ns >= next_tick_ns_) AdvanceTick(ts_ns);
  }
  // End of input at `final_ns` (the last packet time of the whole input, the
  // same for every worker): queries past their timeout fail, the others stay
  // unresolved, and every bucket is published.
  void Finish(int64_t final_ns);

  // Optional: every new query's name goes to `watcher` (not owned; null,
  // the default: none). Set it before the first packet.
  void SetWatcher(QueryWatcher* watcher) { watcher_ = watcher; }
  QueryWatcher* watcher() const { return watcher_; }

  // Oldest published bucket first.
  bool PopClosed(std::unique_ptr<Bucket>* out);
  // Every bucket of a second below this has been published.
  int64_t watermark_second() const { return published_below_; }
  // Buckets not yet published (null: an empty second), oldest first; for
  // ProvisionalTracker (lib/flow/provisional.h), on this worker's lcore.
  const std::deque<std::unique_ptr<Bucket>>& held() const { return open_; }
  // Returns a processed bucket for reuse (keeps its vectors' capacity).
  void Recycle(std::unique_ptr<Bucket> bucket);

  const WorkerStats& stats() const { return stats_; }
  const TransactionTable& table() const { return *table_; }
  int id() const { return id_; }
  const WorkerConfig& config() const { return config_; }

 private:
  // Line-aligned: StoreFrame writes whole lines with streaming stores.
  struct alignas(64) FrameSlot {
    uint32_t seq;
    Frame frame;
  };

  Worker(const WorkerConfig& config, int id,
         std::unique_ptr<TransactionTable> table);

  // Process() itself, inlined into ProcessBurst's loop: a call and a
  // prologue less a packet (+1% in 8 alternating replay rounds).
  [[gnu::always_inline]] void ProcessOne(int64_t ts, const parse::Packet& p,
                                         parse::Bytes frame);
  void OnDns(int64_t ts, const parse::Packet& p, parse::Bytes frame, bool tcp);
  void OnQuery(int64_t ts, const parse::Packet& p, parse::Bytes frame,
               bool tcp);
  void OnResponse(int64_t ts, const parse::Packet& p, parse::Bytes frame,
                  bool tcp);
  void OnSyn(int64_t ts, const parse::Packet& p, parse::Bytes frame);
  void OnSynAnswer(int64_t ts, const parse::Packet& p, parse::Bytes frame,
                   bool rst);
  void OnIcmpError(int64_t ts, const parse::Packet& p, parse::Bytes frame);
  // watch.cpp: records the watcher's hits for a new query.
  void Watch(int64_t ts, const parse::Packet& p, parse::Bytes frame,
             const ServerKey& server);

  void AdvanceTick(int64_t ts_ns);
  // Start of sweep tick t + 1 (saturated).
  static int64_t TickEnd(int64_t t, int64_t tick);
  // Expiry by packet time; returns true if `e` (pending) timed out at `now`.
  bool Expired(const TxEntry& e, int64_t now) const;
  void TimeOut(TxEntry& e);
  void SweepTo(int64_t now, uint64_t slots);
  void PublishUpTo(int64_t watermark_ns);

  Bucket* BucketFor(int64_t second);
  // BucketFor(SecondOf(ns)); the last second's bucket is remembered (most
  // packets of a burst fall in it), which saves a division and a deque walk.
  Bucket* BucketAt(int64_t ns) {
    if (ns >= cached_lo_ns_ && ns < cached_hi_ns_) return cached_;
    return BucketAtSlow(ns);
  }
  Bucket* BucketAtSlow(int64_t ns);
  // Before a bucket leaves open_ (published or finished).
  void ForgetCachedBucket() {
    cached_ = nullptr;
    cached_lo_ns_ = INT64_MAX;
    cached_hi_ns_ = INT64_MIN;
  }
  ServerCounters* CountersFor(Bucket* b, const ServerKey& server);
  // Doubles a bucket's server index (it stays at most half full).
  static void GrowServerIndex(Bucket* b);
  static constexpr size_t kInitialServerIndex = 256;
  ServerKey ServerOf(const TxEntry& e) const;
  parse::IpAddress ClientOf(const TxEntry& e) const;
  TxEntry* InsertPending(const TxKey& k, uint64_t h, int64_t ts);
  uint32_t StoreFrame(int64_t ts, parse::Bytes frame);
  const Frame* FrameAt(uint32_t seq) const;
  // FrameAt(e.frame_seq) for the evidence of e's failure, counting a frame
  // the ring no longer holds.
  const Frame* QueryFrameOf(const TxEntry& e);
  // Whether frame `seq` can still be in the ring, known without reading its
  // slot (a miss to memory: the ring is written with streaming stores). The
  // ring holds the last frames_.size() frames; one further behind
  // frame_seq_ (the next number) is written over. At replay rates the ring
  // holds ~20 ms: every timeout's query frame is gone, and reading its slot
  // to find that out cost ~1.7% of the replay's rate. Numbers repeat only
  // after 2^32 - 1 frames (0 is skipped), far longer than any entry or
  // stashed error lives; just after a wrap the skipped 0 makes one frame
  // look gone a number early.
  bool FrameKept(uint32_t seq) const {
    return seq != 0 && frame_seq_ - seq <= frames_.size();
  }
  uint32_t QuestionHash(const parse::DnsMessage& m) const;

  struct FailInfo {
    Fail kind;
    int64_t evidence_ns;
    parse::IpAddress reporter;
    const parse::DnsMessage* question = nullptr;  // else from the query frame
    int64_t error_ts = 0;
    parse::Bytes error_frame;
  };
  // Records a failed transaction in the bucket of its query time.
  void RecordFailure(const TxEntry& e, const FailInfo& f);
  void RecordFailureIn(Bucket* b, ServerCounters* c, const ServerKey& server,
                       const parse::IpAddress& client, uint16_t cport,
                       uint16_t txid, int64_t query_ns, const Frame* query,
                       const FailInfo& f, std::vector<FailureRecord>* out);
  void KeepEvidence(Bucket* b, ServerCounters* c, const FailureOrder& order,
                    const Frame* query, const FailInfo& f);
  bool QuestionFromFrame(const Frame* f, parse::DnsMessage* m);

  // An ICMP error whose quote stops before the DNS id (IP header + 8 bytes,
  // as routers may send) cannot be looked up by key: it waits here, indexed
  // by the quoted 4-tuple, for a pending query of that tuple sent before it
  // to end (it then fails that query), or becomes a failure of its own.
  struct Stashed {
    bool valid = false;
    TxKey key;  // txid 0
    int64_t ts = 0;
    Fail kind = Fail::kIcmpPort;
    parse::IpAddress reporter;
    uint32_t frame_seq = 0;
  };
  static constexpr size_t kStashSlots = 4096;
  Stashed& StashSlot(const TxKey& tuple);
  bool ClaimStash(TxEntry& e);
  void FinalizeStash(Stashed& s);
  void AgeStash(int64_t now);
  std::vector<Stashed> stash_;
  uint32_t stash_used_ = 0;

  WorkerConfig config_;
  int id_;
  std::unique_ptr<TransactionTable> table_;
  std::vector<FrameSlot> frames_;
  uint32_t frame_seq_ = 1;

  int64_t now_ns_ = INT64_MIN;
  int64_t now_second_ = INT64_MIN;
  int64_t now_tick_ = INT64_MIN;  // sweep ticks: min(1 s, sweep period / 2)
  // Packet times below this fall in now_tick_ (or earlier): nothing to do.
  int64_t next_tick_ns_ = INT64_MIN;
  int64_t published_below_ = INT64_MIN;  // watermark_second()
  // open_[i] is the bucket of second open_base_ + i (null when empty).
  std::deque<std::unique_ptr<Bucket>> open_;
  int64_t open_base_ = INT64_MIN;
  std::deque<std::unique_ptr<Bucket>> closed_;
  // BucketAt(): packet times in [lo, hi) belong to cached_ (in open_).
  Bucket* cached_ = nullptr;
  int64_t cached_lo_ns_ = INT64_MAX;
  int64_t cached_hi_ns_ = INT64_MIN;
  std::vector<std::unique_ptr<Bucket>> free_;

  // The packet's message: one of `decoded_`. ProcessBurst decodes the DNS
  // question of a UDP packet kDecodeAhead packets before processing it (as
  // far ahead as it prefetches table entries), so that the watch list's
  // verdict-cache line loads meanwhile; in between the message waits in its
  // slot (packet index % kDecodeSlots).
  static constexpr size_t kDecodeAhead = 4;
  static constexpr size_t kDecodeSlots = 8;
  static_assert(kDecodeAhead < kDecodeSlots);
  parse::DnsMessage decoded_[kDecodeSlots];
  parse::DnsMessage* dns_ = &decoded_[0];
  bool predecoded_ = false;  // *dns_ holds the current packet's question
  void Predecode(const parse::Packet& p, parse::DnsMessage* m) const;
  // What ProcessBurst looks up ahead for a packet: the transaction of a
  // UDP DNS message, or of the query an ICMP error quotes.
  enum class Lookahead : uint8_t { kNone, kDns, kQuote };
  // The failure evidence of a SERVFAIL or REFUSED answer or an ICMP error
  // copies its query's frame from the ring, written with streaming stores
  // before: a miss to memory on every such packet (a quarter of OnDns's
  // time on the mix; RecordFailure's, for ICMP errors). ProcessBurst starts
  // loading it kFrameAhead packets ahead, once the packet is decoded and
  // its table entry prefetched.
  static constexpr size_t kFrameAhead = 2;
  static_assert(kFrameAhead < kDecodeAhead);
  void PrefetchQueryFrame(const parse::Packet& p, Lookahead kind,
                          const parse::DnsMessage& m, uint64_t hash);
  parse::DnsMessage scratch_;  // a stored query re-decoded for a failure
  WorkerStats stats_;
  // ProcessBurst: the UDP DNS key hash of the packet being processed, from
  // its prefetch (same key: both read the id and QR bit of the payload).
  uint64_t hint_hash_ = 0;
  bool hint_valid_ = false;
  uint64_t PrefetchHash(const parse::Packet& packet, Lookahead* kind) const;
  // PrefetchHash for an ICMP error's quoted query. Out of line: a version
  // that built either key in one place slowed the DNS path by 3%.
  [[gnu::noinline]] uint64_t PrefetchQuoteHash(const parse::Packet& packet,
                                               Lookahead* kind) const;
  QueryWatcher* watcher_ = nullptr;
};

}  // namespace edgecap::flow

#endif  // EDGECAP_LIB_FLOW_WORKER_H_
