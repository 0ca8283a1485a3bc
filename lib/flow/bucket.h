// What a flow worker publishes once per second of packet time: a Bucket holds
// every transaction whose *query time* fell in that second, each with its
// final outcome, aggregated per server, plus the details the detector needs
// for incident records (failed transactions, NXDOMAIN answers, evidence
// frames). A Bucket is a movable heap object created (or recycled) once per
// second, never per packet; in the appliance it travels to the stats lcore as
// a pointer over an SPSC ring.
//
//   std::unique_ptr<flow::Bucket> b;
//   while (worker.PopClosed(&b)) detector.Offer(worker_id, std::move(b));
//   detector.SetWatermark(worker_id, worker.watermark_second());
#ifndef EDGECAP_LIB_FLOW_BUCKET_H_
#define EDGECAP_LIB_FLOW_BUCKET_H_

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "lib/parse/packet.h"

namespace edgecap::flow {

inline constexpr int64_t kNsPerSecond = 1'000'000'000;
inline int64_t SecondOf(int64_t ns) {
  return ns >= 0 ? ns / kNsPerSecond
                 : -((-ns + kNsPerSecond - 1) / kNsPerSecond);
}

// Failure kinds, strongest first within each group (see docs/detection.md).
enum class Fail : uint8_t {
  kIcmpPort,
  kIcmpAdmin,
  kIcmpHost,
  kIcmpNet,
  kTcpRefused,
  kServfail,
  kRefused,
  kTimeout,
  kCount,
};
inline constexpr int kFailCount = static_cast<int>(Fail::kCount);
inline bool IsIcmpFail(Fail f) { return f <= Fail::kIcmpNet; }
// JSON field names of DESIGN.md's `failures` object.
std::string_view FailName(Fail f);

// Maps an ICMPv4 type 3 / ICMPv6 type 1 code to a failure kind; false for
// codes that are counted but are not failures.
bool IcmpCodeToFail(bool v6, uint8_t code, Fail* out);

struct ServerKey {
  parse::IpAddress ip;
  uint16_t port = 0;
  parse::Transport transport = parse::Transport::kUdp;

  // Word compares: the defaulted == calls memcmp for the address bytes, which
  // dominated a worker's time with 100k servers per bucket (bench/e2e).
  friend bool operator==(const ServerKey& a, const ServerKey& b) {
    uint64_t x[2], y[2];
    std::memcpy(x, a.ip.bytes.data(), 16);
    std::memcpy(y, b.ip.bytes.data(), 16);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0 && a.port == b.port &&
           a.ip.version == b.ip.version && a.transport == b.transport;
  }
  // Numeric order, IPv4 before IPv6, then port, then transport.
  friend std::strong_ordering operator<=>(const ServerKey& a,
                                          const ServerKey& b) {
    if (auto c = a.ip.version <=> b.ip.version; c != 0) return c;
    if (auto c = a.ip.bytes <=> b.ip.bytes; c != 0) return c;
    if (auto c = a.port <=> b.port; c != 0) return c;
    return a.transport <=> b.transport;
  }
  template <typename H>
  friend H AbslHashValue(H h, const ServerKey& k) {
    return H::combine(std::move(h), k.ip, k.port, k.transport);
  }
  // Inline: every query and response looks its server up by it.
  uint64_t Hash() const {
    uint64_t a, b;
    std::memcpy(&a, ip.bytes.data(), 8);
    std::memcpy(&b, ip.bytes.data() + 8, 8);
    const uint64_t c = static_cast<uint64_t>(port) << 16 |
                       static_cast<uint64_t>(transport) << 8 | ip.version;
    const unsigned __int128 m =
        static_cast<unsigned __int128>(a ^ 0x9e3779b97f4a7c15ull) *
        (b ^ c ^ 0xc2b2ae3d27d4eb4full);
    const uint64_t h =
        static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
    return h * 0x94d049bb133111ebull;
  }
};

// Numeric address order with IPv4 first.
inline std::strong_ordering CompareIp(const parse::IpAddress& a,
                                      const parse::IpAddress& b) {
  if (auto c = a.version <=> b.version; c != 0) return c;
  return a.bytes <=> b.bytes;
}
std::string IpToString(const parse::IpAddress& ip);

inline constexpr int kLatencyBins = 16;  // log2 of microseconds, clamped
inline constexpr int kClientSketchWords = 4;

// Per-server counters for one second of query time, from one worker.
struct ServerCounters {
  ServerKey server;
  uint32_t queries = 0;   // transactions (each counted once)
  uint32_t answered = 0;  // outcome "answered" (any rcode but SERVFAIL/REFUSED)
  uint32_t failed = 0;    // sum of failures[]
  uint32_t unresolved = 0;  // still pending at end of input
  uint32_t evicted = 0;     // pushed out of a full table
  uint32_t retries = 0;
  uint32_t nxdomain = 0;
  uint32_t mismatched_responses = 0;
  std::array<uint32_t, 16> rcodes{};
  std::array<uint32_t, kFailCount> failures{};
  std::array<uint32_t, kLatencyBins> latency_log2_us{};
  // Linear-counting sketch of distinct clients (bounded memory).
  std::array<uint64_t, kClientSketchWords> client_sketch{};
  int64_t max_answered_ns = INT64_MIN;  // latest answer's packet time
  int32_t evidence = -1;                // index into Bucket::evidence
  uint32_t EstimatedClients() const;
};

inline constexpr int kMaxEvidenceFrame = 256;
struct Frame {
  int64_t ts_ns = 0;
  uint16_t length = 0;  // 0: none
  std::array<uint8_t, kMaxEvidenceFrame> bytes;
};

// Orders failures for "first"/"last" choices independent of worker split.
struct FailureOrder {
  int64_t evidence_ns = 0;
  int64_t query_ns = 0;
  parse::IpAddress client;
  uint16_t client_port = 0;
  uint16_t txid = 0;
  friend std::strong_ordering operator<=>(const FailureOrder& a,
                                          const FailureOrder& b) {
    if (auto c = a.evidence_ns <=> b.evidence_ns; c != 0) return c;
    if (auto c = a.query_ns <=> b.query_ns; c != 0) return c;
    if (auto c = CompareIp(a.client, b.client); c != 0) return c;
    if (auto c = a.client_port <=> b.client_port; c != 0) return c;
    return a.txid <=> b.txid;
  }
  friend bool operator==(const FailureOrder&, const FailureOrder&) = default;
};

// Raw frames of one failed transaction: the query and what failed it (ICMP
// error, RST, SERVFAIL/REFUSED response; none for a timeout).
struct EvidencePair {
  FailureOrder order;
  Frame query;
  Frame error;
};
// First and last failure (by FailureOrder) of one server in one bucket.
struct ServerEvidence {
  EvidencePair first, last;
};

struct FailureRecord {
  ServerKey server;
  parse::IpAddress client;
  parse::IpAddress reporter;  // ICMP source; version 0 when not ICMP
  uint16_t client_port = 0;
  uint16_t txid = 0;
  uint16_t qtype = 0;
  Fail kind = Fail::kTimeout;
  bool has_qname = false;
  int64_t query_ns = 0;
  int64_t evidence_ns = 0;
  uint32_t qname_offset = 0, qname_length = 0;  // into Bucket::names
};

struct NxRecord {
  ServerKey server;
  parse::IpAddress client;
  uint16_t qtype = 0;
  int64_t query_ns = 0;
  int64_t answer_ns = 0;
  uint32_t qname_offset = 0, qname_length = 0;
};

// A new query whose name fired a watch-list rule (flow/watch.h). The qname,
// label and severity texts live in Bucket::names.
struct WatchRecord {
  ServerKey server;
  parse::IpAddress client;
  uint16_t client_port = 0;
  uint16_t txid = 0;
  uint16_t qtype = 0;
  uint8_t severity_length = 0;
  uint32_t rule_id = 0;
  int64_t query_ns = 0;
  uint32_t qname_offset = 0, qname_length = 0;
  uint32_t label_offset = 0, label_length = 0;
  uint32_t severity_offset = 0;
};

// Total order on frames (time, then bytes): picks "first" and "last" evidence
// among hits of the same nanosecond the same way whatever the worker split.
bool FrameLess(const Frame& a, const Frame& b);
bool FrameEqual(const Frame& a, const Frame& b);
// Keeps `bytes` (cut at kMaxEvidenceFrame) seen at `ts` in `out`. Inline:
// the worker copies query frames with it.
inline void CopyFrame(int64_t ts, parse::Bytes bytes, Frame* out) {
  out->ts_ns = ts;
  out->length = static_cast<uint16_t>(
      bytes.size() < kMaxEvidenceFrame ? bytes.size() : kMaxEvidenceFrame);
  std::memcpy(out->bytes.data(), bytes.data(), out->length);
}

// Query frames of the earliest and the latest (FrameLess) hit of one watch
// rule on one server in one bucket: a watchlist incident's evidence lines.
// Kept per key rather than per hit so that the latest hit of a busy second
// still has its frame, with any number of workers, as long as no worker sees
// more than kMaxWatchKeysPerBucket keys in one second: beyond that, which
// keys lose that second's frames depends on the split between workers.
struct WatchEvidence {
  uint32_t rule_id = 0;
  ServerKey server;
  Frame first, last;
};
// Keys with evidence per bucket; hits of further keys count as
// dropped_watch_evidence. The index has twice the slots to keep probes short.
inline constexpr uint32_t kMaxWatchKeysPerBucket = 64;
inline constexpr uint32_t kWatchKeySlots = 2 * kMaxWatchKeysPerBucket;

struct Bucket {
  int64_t second = 0;  // query-time second
  int worker = 0;
  std::vector<ServerCounters> servers;
  std::vector<FailureRecord> failures;
  // ICMP errors for transactions that had already timed out: they move a
  // failure of an earlier second from timeout to the ICMP kind. Stored in the
  // bucket of the ICMP packet's second; `query_ns` is the original one.
  std::vector<FailureRecord> reclassified;
  std::vector<NxRecord> nxdomains;
  std::vector<ServerEvidence> evidence;
  std::string names;  // qname text arena
  // Watch-list hits (lib/rules via flow/watch.h); incident::Detector turns
  // them into `watchlist` incidents.
  std::vector<WatchRecord> watch;
  std::vector<WatchEvidence> watch_evidence;
  // Open-addressing index of watch_evidence by (rule, server), -1: empty
  // (worker side only).
  std::array<int8_t, kWatchKeySlots> watch_index;
  uint64_t dropped_failures = 0, dropped_nxdomains = 0, dropped_servers = 0;
  uint64_t dropped_watch = 0, dropped_watch_evidence = 0;

  // Open-addressing index of `servers` by key (worker side only).
  std::vector<int32_t> index;

  std::string_view Name(uint32_t off, uint32_t len) const {
    return std::string_view(names).substr(off, len);
  }
  Bucket() { watch_index.fill(-1); }
  void Clear();
};

}  // namespace edgecap::flow

#endif  // EDGECAP_LIB_FLOW_BUCKET_H_
