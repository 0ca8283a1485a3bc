#include "apps/edgecap-gen/scene.h"

#include <algorithm>
#include <cstring>

namespace edgecap::gen {
namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08,
                  kAck = 0x10;

uint32_t NameSeed(std::string_view name) {
  uint32_t h = 2166136261u;  // FNV-1a: stable answers per name
  for (char c : name) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  return h;
}

// The datagram as a router forwarding it saw it: one hop less.
void DecrementTtl(std::span<uint8_t> datagram) {
  if ((datagram[0] >> 4) == 4) {
    datagram[8] -= 1;
    datagram[10] = datagram[11] = 0;
    const uint16_t sum = ChecksumFold(ChecksumAdd(0, datagram.data(), 20));
    datagram[10] = sum >> 8;
    datagram[11] = sum & 0xff;
  } else {
    datagram[7] -= 1;
  }
}

}  // namespace

bool IsFailure(Outcome o) { return o != Outcome::kAnswered; }

bool IsIcmp(Outcome o) {
  return o == Outcome::kIcmpPort || o == Outcome::kIcmpHost ||
         o == Outcome::kIcmpNet || o == Outcome::kIcmpAdmin;
}

Outcome IcmpOutcome(uint8_t ip_version, uint8_t code) {
  if (ip_version == 6) {
    switch (code) {
      case 0:
        return Outcome::kIcmpNet;
      case 3:
        return Outcome::kIcmpHost;
      case 4:
        return Outcome::kIcmpPort;
      case 1:
      case 5:
      case 6:
        return Outcome::kIcmpAdmin;
      default:
        return Outcome::kTimeout;
    }
  }
  switch (code) {
    case 0:
    case 6:
    case 11:
      return Outcome::kIcmpNet;
    case 1:
    case 5:
    case 7:
    case 8:
    case 12:
      return Outcome::kIcmpHost;
    case 2:
    case 3:
      return Outcome::kIcmpPort;
    case 9:
    case 10:
    case 13:
      return Outcome::kIcmpAdmin;
    default:
      return Outcome::kTimeout;
  }
}

Scene::Scene(uint64_t seed, bool log_transactions)
    : rng_(seed), log_enabled_(log_transactions) {}

void Scene::Reserve(size_t frames) {
  arena_.reserve(frames * 128);
  index_.reserve(frames);
}

L2 Scene::ClientL2(const Ip& client) const {
  L2 l2{kMacClientSide, kMacServerSide};
  if (!vlan_) return l2;
  const uint8_t h = client.b[client.size() - 1];
  if (h % 2 == 0) {
    l2.tags = 1;
    l2.outer_vid = 100 + h % 4;
  } else {
    l2.tags = 2;
    l2.outer_vid = 10 + h % 3;
    l2.inner_vid = 200 + h % 8;
  }
  return l2;
}

void Scene::Add(int64_t t, const uint8_t* frame, size_t len,
                const FrameMeta& meta) {
  index_.push_back(Entry{t, arena_.size(), static_cast<uint32_t>(len),
                         static_cast<uint32_t>(index_.size())});
  arena_.insert(arena_.end(), frame, frame + len);
  last_time_ = std::max(last_time_, t);
  Counts& c = counts_;
  ++c.frames;
  c.bytes += len;
  if (meta.ip_version == 4) ++c.ipv4_frames;
  if (meta.ip_version == 6) ++c.ipv6_frames;
  if (meta.vlan) ++c.vlan_frames;
  if (meta.tcp) ++c.tcp_segments;
  if (meta.dns == 0) ++c.dns_queries;
  if (meta.dns == 1) {
    ++c.dns_responses;
    ++c.dns_rcodes[meta.rcode];
  }
  if (meta.quoted_dns == 0) ++c.dns_quoted_queries;
  if (meta.quoted_dns == 1) ++c.dns_quoted_responses;
  if (meta.icmp4_code >= 0) ++c.icmp4_unreach_by_code[meta.icmp4_code];
  if (meta.icmp6_code >= 0) ++c.icmp6_unreach_by_code[meta.icmp6_code];
  if (meta.malformed) ++c.malformed_frames;
}

void Scene::Dns(const TxnSpec& spec) {
  const L2 up = ClientL2(spec.client);
  const L2 down = up.Reversed();
  const uint8_t version = spec.client.version;
  FrameMeta base;
  base.ip_version = version;
  base.vlan = up.tags != 0;

  TxnRecord rec;
  rec.server = spec.server;
  rec.port = spec.server_port;
  rec.tcp = spec.tcp;
  rec.client = spec.client;
  rec.query_ns = spec.t;
  rec.qtype = spec.qtype;
  if (log_enabled_) rec.qname = std::string(spec.qname);

  if (spec.tcp) {
    DnsTcp(spec, up, &rec);
    if (log_enabled_) log_.push_back(std::move(rec));
    return;
  }

  uint8_t frame[kMaxFrame];
  uint8_t msg[kMaxDnsMessage];
  uint8_t quote[kMaxFrame];
  size_t quote_len = 0;

  const size_t qlen =
      BuildDnsQuery(msg, spec.txid, spec.qname, spec.qtype, spec.edns);
  const int64_t last_tx = spec.t + spec.retransmits * spec.retransmit_gap;
  for (int i = 0; i <= spec.retransmits; ++i) {
    const Built b = BuildUdp(frame, up, spec.client, spec.server,
                             spec.client_port, spec.server_port, {msg, qlen},
                             IpOptions{64, NextIpId(), false});
    FrameMeta m = base;
    m.dns = 0;
    Add(spec.t + i * spec.retransmit_gap, frame, b.len, m);
    quote_len = b.len - b.l3_offset;
    std::memcpy(quote, frame + b.l3_offset, quote_len);
  }

  switch (spec.reply) {
    case Reply::kAnswer: {
      const int64_t rt = last_tx + spec.delay;
      const size_t rlen =
          BuildDnsResponse(msg, spec.txid, spec.qname, spec.qtype, spec.rcode,
                           spec.edns, NameSeed(spec.qname));
      const Built b = BuildUdp(frame, down, spec.server, spec.client,
                               spec.server_port, spec.client_port, {msg, rlen},
                               IpOptions{64, NextIpId(), false});
      FrameMeta m = base;
      m.dns = 1;
      m.rcode = spec.rcode;
      Add(rt, frame, b.len, m);
      if (spec.client_rejects_answer) {
        quote_len = b.len - b.l3_offset;
        std::memcpy(quote, frame + b.l3_offset, quote_len);
        const uint8_t code = version == 4 ? 3 : 4;
        const Built e =
            BuildUnreachable(frame, up, spec.client, spec.server, code,
                             {quote, quote_len}, IpOptions{64, NextIpId()});
        FrameMeta em = base;
        (version == 4 ? em.icmp4_code : em.icmp6_code) = code;
        em.quoted_dns = 1;
        Add(rt + 60 * kUs, frame, e.len, em);
      }
      if (spec.delay > kQueryTimeout) {
        rec.outcome = Outcome::kTimeout;
        rec.event_ns = last_tx;
      } else {
        rec.event_ns = rt;
        rec.rcode = spec.rcode;
        rec.outcome = spec.rcode == kRcodeServFail  ? Outcome::kServfail
                      : spec.rcode == kRcodeRefused ? Outcome::kRefused
                                                    : Outcome::kAnswered;
      }
      break;
    }
    case Reply::kIcmp: {
      const Ip reporter = spec.has_reporter ? spec.reporter : spec.server;
      if (spec.reporter_is_router) DecrementTtl({quote, quote_len});
      const int64_t it = last_tx + spec.delay;
      const Built e = BuildUnreachable(
          frame, down, reporter, spec.client, spec.icmp_code,
          {quote, quote_len},
          IpOptions{static_cast<uint8_t>(spec.reporter_is_router ? 254 : 64),
                    NextIpId()});
      FrameMeta m = base;
      (version == 4 ? m.icmp4_code : m.icmp6_code) = spec.icmp_code;
      m.quoted_dns = 0;
      Add(it, frame, e.len, m);
      rec.outcome = IcmpOutcome(version, spec.icmp_code);
      rec.event_ns = rec.outcome == Outcome::kTimeout ? last_tx : it;
      rec.reporter = reporter;
      break;
    }
    case Reply::kSilent:
    case Reply::kTcpRst:
      rec.outcome = Outcome::kTimeout;
      rec.event_ns = last_tx;
      break;
  }
  if (log_enabled_) log_.push_back(std::move(rec));
}

void Scene::DnsTcp(const TxnSpec& spec, const L2& up, TxnRecord* rec) {
  const L2 down = up.Reversed();
  const Ip& c = spec.client;
  const Ip& s = spec.server;
  const uint16_t cp = spec.client_port, sp = spec.server_port;
  FrameMeta seg;
  seg.ip_version = c.version;
  seg.vlan = up.tags != 0;
  seg.tcp = true;
  uint8_t frame[kMaxFrame];
  uint8_t msg[2 + kMaxDnsMessage];
  const uint32_t cseq = static_cast<uint32_t>(rng_.Next());
  const uint32_t sseq = static_cast<uint32_t>(rng_.Next());
  auto send = [&](int64_t t, bool from_client, uint8_t flags, uint32_t seq,
                  uint32_t ack, std::span<const uint8_t> payload,
                  const FrameMeta& meta) {
    TcpFields f{seq, ack, flags, 64240, (flags & kSyn) != 0};
    const Built b = from_client
                        ? BuildTcp(frame, up, c, s, cp, sp, f, payload,
                                   IpOptions{64, NextIpId(), true})
                        : BuildTcp(frame, down, s, c, sp, cp, f, payload,
                                   IpOptions{64, NextIpId(), true});
    Add(t, frame, b.len, meta);
  };

  int64_t t = spec.t;
  send(t, true, kSyn, cseq, 0, {}, seg);
  if (spec.reply == Reply::kTcpRst) {
    const int64_t rt = t + spec.delay;
    send(rt, false, kRst | kAck, 0, cseq + 1, {}, seg);
    rec->outcome = Outcome::kTcpRefused;
    rec->event_ns = rt;
    return;
  }
  const int64_t rtt = 400 * kUs;
  send(t + rtt / 2, false, kSyn | kAck, sseq, cseq + 1, {}, seg);
  t += rtt;
  send(t, true, kAck, cseq + 1, sseq + 1, {}, seg);
  const size_t qlen =
      BuildDnsQuery(msg + 2, spec.txid, spec.qname, spec.qtype, spec.edns);
  msg[0] = static_cast<uint8_t>(qlen >> 8);
  msg[1] = static_cast<uint8_t>(qlen);
  t += 20 * kUs;
  rec->query_ns = t;  // the DNS query travels after the handshake
  FrameMeta q = seg;
  q.dns = 0;
  send(t, true, kPsh | kAck, cseq + 1, sseq + 1, {msg, qlen + 2}, q);
  const uint32_t cend = cseq + 1 + static_cast<uint32_t>(qlen + 2);
  const int64_t rt = t + spec.delay;
  const size_t rlen =
      BuildDnsResponse(msg + 2, spec.txid, spec.qname, spec.qtype, spec.rcode,
                       spec.edns, NameSeed(spec.qname));
  msg[0] = static_cast<uint8_t>(rlen >> 8);
  msg[1] = static_cast<uint8_t>(rlen);
  FrameMeta r = seg;
  r.dns = 1;
  r.rcode = spec.rcode;
  send(rt, false, kPsh | kAck, sseq + 1, cend, {msg, rlen + 2}, r);
  const uint32_t send_end = sseq + 1 + static_cast<uint32_t>(rlen + 2);
  send(rt + 150 * kUs, true, kFin | kAck, cend, send_end, {}, seg);
  send(rt + 150 * kUs + rtt / 2, false, kFin | kAck, send_end, cend + 1, {},
       seg);
  send(rt + 150 * kUs + rtt, true, kAck, cend + 1, send_end + 1, {}, seg);

  rec->event_ns = rt;
  rec->rcode = spec.rcode;
  rec->outcome = spec.rcode == kRcodeServFail  ? Outcome::kServfail
                 : spec.rcode == kRcodeRefused ? Outcome::kRefused
                                               : Outcome::kAnswered;
  if (spec.delay > kQueryTimeout) {
    rec->outcome = Outcome::kTimeout;
    rec->event_ns = rec->query_ns;
  }
}

void Scene::WriteTo(PcapWriter* writer) {
  std::sort(index_.begin(), index_.end(), [](const Entry& a, const Entry& b) {
    return a.t != b.t ? a.t < b.t : a.seq < b.seq;
  });
  for (const Entry& e : index_) {
    writer->Write(e.t, {arena_.data() + e.offset, e.len});
  }
}

}  // namespace edgecap::gen
