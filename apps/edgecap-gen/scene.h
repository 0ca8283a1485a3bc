// A scene collects the frames of one scenario in any time order, counts what
// it wrote (the numbers tshark must find again) and logs every DNS
// transaction with its outcome as docs/detection.md defines it, which is what
// the ground truth is computed from. Frames are sorted by time on output.
//
//   gen::Scene scene(/*seed=*/1, /*log=*/true);
//   gen::TxnSpec q;  q.t = t0; q.client = c; q.server = s; ...
//   q.reply = gen::Reply::kIcmp; q.icmp_code = 3; q.delay = 2 * gen::kMs;
//   scene.Dns(q);
//   scene.WriteTo(writer.get());
#ifndef EDGECAP_APPS_EDGECAP_GEN_SCENE_H_
#define EDGECAP_APPS_EDGECAP_GEN_SCENE_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "apps/edgecap-gen/dns_builder.h"
#include "apps/edgecap-gen/packet_builder.h"
#include "apps/edgecap-gen/pcap_writer.h"
#include "apps/edgecap-gen/rng.h"

namespace edgecap::gen {

inline constexpr int64_t kUs = 1000, kMs = 1000 * kUs, kSec = 1000 * kMs;
// The detector's default query timeout (docs/detection.md).
inline constexpr int64_t kQueryTimeout = 5 * kSec;

// A transaction's one outcome, its strongest evidence (docs/detection.md).
enum class Outcome : uint8_t {
  kAnswered,
  kIcmpPort,
  kIcmpHost,
  kIcmpNet,
  kIcmpAdmin,
  kTcpRefused,
  kServfail,
  kRefused,
  kTimeout,
};
bool IsFailure(Outcome o);
bool IsIcmp(Outcome o);
// The failure kind of an ICMP (v4 type 3) / ICMPv6 (type 1) code; kTimeout
// for the codes detection.md ignores.
Outcome IcmpOutcome(uint8_t ip_version, uint8_t code);

struct TxnRecord {
  Ip server;
  uint16_t port = 53;
  bool tcp = false;
  Ip client;
  int64_t query_ns = 0;  // first transmission
  int64_t event_ns = 0;  // answer time, or failure evidence time
  Outcome outcome = Outcome::kAnswered;
  uint8_t rcode = 0;  // of the answer, when answered
  Ip reporter;        // ICMP source, for ICMP outcomes
  std::string qname;
  uint16_t qtype = 0;
};

enum class Reply : uint8_t {
  kAnswer,  // DNS response `delay` after the last transmission
  kIcmp,    // ICMP/ICMPv6 unreachable `delay` after the query
  kSilent,  // nothing
  kTcpRst,  // TCP only: the SYN is answered by RST
};

struct TxnSpec {
  int64_t t = 0;  // first transmission
  Ip client, server;
  uint16_t client_port = 0, server_port = 53;
  uint16_t txid = 0;
  std::string_view qname;
  uint16_t qtype = kTypeA;
  bool edns = false;
  bool tcp = false;
  int retransmits = 0;  // UDP: same key and question again, every gap
  int64_t retransmit_gap = kSec;
  Reply reply = Reply::kAnswer;
  uint8_t rcode = kRcodeNoError;
  int64_t delay = kMs;
  uint8_t icmp_code = 3;
  Ip reporter;  // ICMP source; the server when unset (version 0 not used)
  bool reporter_is_router = false;  // quote shows the TTL the router saw
  bool has_reporter = false;
  // The client's socket is gone when the answer arrives: it sends ICMP port
  // unreachable quoting the response. Not a server failure.
  bool client_rejects_answer = false;
};

// Frame-level facts, for the counts tshark is compared with.
struct FrameMeta {
  int8_t dns = -1;  // outer DNS message: 0 query, 1 response
  uint8_t rcode = 0;
  int16_t icmp4_code = -1;  // outer ICMPv4 type 3 code
  int16_t icmp6_code = -1;  // outer ICMPv6 type 1 code
  int8_t quoted_dns = -1;   // DNS message inside an ICMP quote: 0 / 1 (QR)
  bool tcp = false;
  bool malformed = false;
  uint8_t ip_version = 0;
  bool vlan = false;
};

struct Counts {
  uint64_t frames = 0, bytes = 0, ipv4_frames = 0, ipv6_frames = 0,
           vlan_frames = 0, tcp_segments = 0, dns_queries = 0,
           dns_responses = 0, dns_quoted_queries = 0, dns_quoted_responses = 0,
           malformed_frames = 0;
  std::map<int, uint64_t> dns_rcodes, icmp4_unreach_by_code,
      icmp6_unreach_by_code;
  std::map<std::string, uint64_t> malformed_by_kind;
};

class Scene {
 public:
  Scene(uint64_t seed, bool log_transactions);

  Rng& rng() { return rng_; }
  // 802.1Q / QinQ tagging of every frame, chosen per client address (so it
  // draws nothing from the random stream and leaves the traffic unchanged).
  void set_vlan(bool on) { vlan_ = on; }
  void Reserve(size_t frames);
  L2 ClientL2(const Ip& client) const;

  void Dns(const TxnSpec& spec);
  // Adds one frame; `meta.ip_version` and `meta.vlan` are filled by callers
  // that know them (Dns does).
  void Add(int64_t t, const uint8_t* frame, size_t len, const FrameMeta& meta);
  void CountMalformed(const std::string& kind) {
    ++counts_.malformed_by_kind[kind];
  }

  const std::vector<TxnRecord>& log() const { return log_; }
  const Counts& counts() const { return counts_; }
  size_t frame_count() const { return index_.size(); }
  int64_t last_time() const { return last_time_; }

  // Sorts by time (ties in insertion order) and writes every frame.
  void WriteTo(PcapWriter* writer);

 private:
  struct Entry {
    int64_t t;
    uint64_t offset;
    uint32_t len;
    uint32_t seq;
  };
  void DnsTcp(const TxnSpec& spec, const L2& up, TxnRecord* rec);
  uint16_t NextIpId() { return static_cast<uint16_t>(rng_.Next()); }

  Rng rng_;
  bool log_enabled_;
  bool vlan_ = false;
  std::vector<uint8_t> arena_;
  std::vector<Entry> index_;
  std::vector<TxnRecord> log_;
  Counts counts_;
  int64_t last_time_ = 0;
};

}  // namespace edgecap::gen

#endif  // EDGECAP_APPS_EDGECAP_GEN_SCENE_H_
