#include "lib/flow/worker.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>

#if defined(__AVX512BW__)
#include <immintrin.h>
#endif

#include "absl/status/status.h"
#include "lib/flow/datagram.h"

namespace edgecap::flow {
namespace {

uint64_t Fold(const std::array<uint8_t, 16>& b) {
  uint64_t x, y;
  std::memcpy(&x, b.data(), 8);
  std::memcpy(&y, b.data() + 8, 8);
  unsigned __int128 m =
      static_cast<unsigned __int128>(x ^ 0x9e3779b97f4a7c15ull) *
      (y ^ 0xbf58476d1ce4e5b9ull);
  return static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Worker>> Worker::Create(
    const WorkerConfig& config, int id) {
  if (config.query_timeout_ns <= 0 || config.sweep_period_ns <= 0 ||
      config.max_transaction_ns < config.query_timeout_ns) {
    return absl::InvalidArgumentError(
        "worker: timeouts must be positive and max_transaction >= timeout");
  }
  if (config.frame_ring_slots == 0 ||
      !std::has_single_bit(config.frame_ring_slots)) {
    return absl::InvalidArgumentError(
        "worker: frame_ring_slots must be a power of two");
  }
  if (config.max_servers_per_bucket == 0 ||
      config.max_servers_per_bucket > (1u << 24)) {
    return absl::InvalidArgumentError(
        "worker: max_servers_per_bucket must be 1..2^24");
  }
  auto table = TransactionTable::Create(config.max_transactions);
  if (!table.ok()) return table.status();
  return std::unique_ptr<Worker>(new Worker(config, id, std::move(*table)));
}

Worker::Worker(const WorkerConfig& config, int id,
               std::unique_ptr<TransactionTable> table)
    : config_(config),
      id_(id),
      table_(std::move(table)),
      frames_(config.frame_ring_slots) {
  stash_.resize(kStashSlots);
  for (auto& s : frames_) s.seq = 0;
}

// ---------------------------------------------------------------- buckets

Bucket* Worker::BucketFor(int64_t second) {
  if (second < open_base_) {
    ++stats_.out_of_order_packets;
    second = open_base_;
  }
  const uint64_t idx = static_cast<uint64_t>(second - open_base_);
  while (open_.size() <= idx) open_.emplace_back();
  std::unique_ptr<Bucket>& slot = open_[idx];
  if (!slot) {
    if (!free_.empty()) {
      slot = std::move(free_.back());
      free_.pop_back();
    } else {
      slot = std::make_unique<Bucket>();
      ++stats_.buckets_allocated;
    }
    // The index starts small and doubles with the servers (CountersFor): at
    // its full size (2 slots per possible server, 512 KB by default) every
    // lookup of a few dozen servers touched its own line, missing L1.
    if (slot->index.empty()) slot->index.assign(kInitialServerIndex, -1);
    slot->second = second;
    slot->worker = id_;
  }
  return slot.get();
}

ServerCounters* Worker::CountersFor(Bucket* b, const ServerKey& server) {
  const size_t mask = b->index.size() - 1;
  for (size_t i = server.Hash() & mask;; i = (i + 1) & mask) {
    const int32_t v = b->index[i];
    if (v < 0) {
      if (b->servers.size() >= config_.max_servers_per_bucket) {
        ++b->dropped_servers;
        return nullptr;
      }
      const int32_t n = static_cast<int32_t>(b->servers.size());
      b->servers.emplace_back();
      b->servers.back().server = server;
      if (2 * b->servers.size() > b->index.size()) {
        GrowServerIndex(b);  // at most half full: probes stay short
      } else {
        b->index[i] = n;
      }
      return &b->servers.back();
    }
    if (b->servers[v].server == server) return &b->servers[v];
  }
}

void Worker::GrowServerIndex(Bucket* b) {
  // Rebuilt from `servers`, whose order (the merge's) does not change.
  b->index.assign(2 * b->index.size(), -1);
  const size_t mask = b->index.size() - 1;
  for (size_t v = 0; v < b->servers.size(); ++v) {
    size_t i = b->servers[v].server.Hash() & mask;
    while (b->index[i] >= 0) i = (i + 1) & mask;
    b->index[i] = static_cast<int32_t>(v);
  }
}

Bucket* Worker::BucketAtSlow(int64_t ns) {
  const int64_t second = SecondOf(ns);
  Bucket* b = BucketFor(second);
  if (b->second == second && second > INT64_MIN / kNsPerSecond &&
      second < INT64_MAX / kNsPerSecond - 1) {
    cached_ = b;
    cached_lo_ns_ = second * kNsPerSecond;
    cached_hi_ns_ = cached_lo_ns_ + kNsPerSecond;
  }
  return b;
}

void Worker::PublishUpTo(int64_t watermark_ns) {
  ForgetCachedBucket();
  // Second s is final once (s + 1) s + hold <= watermark.
  const int64_t below = SecondOf(watermark_ns - config_.HoldNs());
  while (open_base_ < below && !open_.empty()) {
    if (open_.front()) closed_.push_back(std::move(open_.front()));
    open_.pop_front();
    ++open_base_;
  }
  if (open_.empty() && open_base_ < below) open_base_ = below;
  published_below_ = std::max(published_below_, open_base_);
}

bool Worker::PopClosed(std::unique_ptr<Bucket>* out) {
  if (closed_.empty()) return false;
  *out = std::move(closed_.front());
  closed_.pop_front();
  return true;
}

void Worker::Recycle(std::unique_ptr<Bucket> bucket) {
  bucket->Clear();
  free_.push_back(std::move(bucket));
}

// ---------------------------------------------------------------- time

void Worker::AdvanceTick(int64_t ts) {
  // Sweep ticks are seconds by default (sweep period 2 s); live runs use a
  // shorter period so that timeouts are seen soon after they happen.
  const int64_t tick =
      std::max<int64_t>(1, std::min(kNsPerSecond, config_.sweep_period_ns / 2));
  const int64_t t = ts >= 0 ? ts / tick : -((-ts + tick - 1) / tick);
  if (now_ns_ == INT64_MIN) {
    now_ns_ = ts;
    now_second_ = SecondOf(ts);
    now_tick_ = t;
    open_base_ = now_second_;
    published_below_ = open_base_;
    next_tick_ns_ = TickEnd(t, tick);
    return;
  }
  if (ts <= now_ns_) return;
  now_ns_ = ts;
  if (t == now_tick_) return;
  // Spread the expiry sweep so that every slot is seen once per period.
  const unsigned __int128 want =
      static_cast<unsigned __int128>(table_->slots()) *
          static_cast<uint64_t>(t - now_tick_) * static_cast<uint64_t>(tick) /
          static_cast<uint64_t>(config_.sweep_period_ns) +
      1;
  SweepTo(ts, want > table_->slots() ? table_->slots()
                                     : static_cast<uint64_t>(want));
  AgeStash(ts);
  now_tick_ = t;
  now_second_ = SecondOf(ts);
  next_tick_ns_ = TickEnd(t, tick);
  PublishUpTo(ts);
}

int64_t Worker::TickEnd(int64_t t, int64_t tick) {
  return t >= INT64_MAX / tick - 1 ? INT64_MAX : (t + 1) * tick;
}

bool Worker::Expired(const TxEntry& e, int64_t now) const {
  return now > e.last_ns + config_.query_timeout_ns ||
         now > e.first_ns + config_.max_transaction_ns;
}

void Worker::SweepTo(int64_t now, uint64_t slots) {
  table_->Sweep(slots, [&](TxEntry& e) {
    if (e.state == TxState::kPending) {
      if (Expired(e, now)) TimeOut(e);
      return true;
    }
    return now <= e.last_ns + config_.query_timeout_ns + config_.late_error_ns;
  });
}

void Worker::Finish(int64_t final_ns) {
  // An input without a single packet (a header-only capture) has no packet
  // time at all: there is nothing to close.
  if (final_ns == INT64_MIN) return;
  Advance(final_ns);
  if (open_base_ == INT64_MIN) {
    open_base_ = SecondOf(final_ns);
  }
  table_->Sweep(table_->slots(), [&](TxEntry& e) {
    if (e.state == TxState::kPending) {
      if (Expired(e, final_ns)) {
        TimeOut(e);
      } else if (ClaimStash(e)) {
        // failed by a stashed ICMP error
      } else if (!(e.flags & kTxSyn)) {
        if (ServerCounters* c =
                CountersFor(BucketAt(e.first_ns), ServerOf(e))) {
          ++c->unresolved;
        }
      }
    }
    return false;
  });
  AgeStash(INT64_MAX);
  ForgetCachedBucket();
  for (auto& b : open_) {
    if (b) closed_.push_back(std::move(b));
  }
  open_base_ += static_cast<int64_t>(open_.size());
  open_.clear();
  published_below_ = INT64_MAX;
}

void Worker::TimeOut(TxEntry& e) {
  if (ClaimStash(e)) {
    e.state = TxState::kTimedOut;
    return;
  }
  ++stats_.timeouts;
  FailInfo f{Fail::kTimeout, e.last_ns, {}, nullptr, 0, {}};
  RecordFailure(e, f);
  e.state = TxState::kTimedOut;
}

// ---------------------------------------------------------------- stash

Worker::Stashed& Worker::StashSlot(const TxKey& tuple) {
  return stash_[tuple.Hash() & (kStashSlots - 1)];
}

bool Worker::ClaimStash(TxEntry& e) {
  if (stash_used_ == 0 || (e.flags & kTxSyn)) return false;
  TxKey k;
  k.client = e.client;
  k.server = e.server;
  k.client_port = e.client_port;
  k.server_port = e.server_port;
  k.flags = e.flags;
  Stashed& s = StashSlot(k);
  if (!s.valid || s.ts < e.first_ns || s.key.client != k.client ||
      s.key.server != k.server || s.key.client_port != k.client_port ||
      s.key.server_port != k.server_port || s.key.flags != k.flags) {
    return false;
  }
  const Frame* f = FrameAt(s.frame_seq);
  FailInfo info{s.kind,
                s.ts,
                s.reporter,
                nullptr,
                s.ts,
                f ? parse::Bytes(f->bytes.data(), f->length) : parse::Bytes()};
  s.valid = false;
  --stash_used_;
  ++stats_.icmp_matched;
  RecordFailure(e, info);
  return true;
}

void Worker::FinalizeStash(Stashed& s) {
  s.valid = false;
  --stash_used_;
  ++stats_.icmp_orphans;
  Bucket* b = BucketAt(s.ts);
  ServerKey server;
  server.ip.bytes = s.key.server;
  server.ip.version = (s.key.flags & kTxV6) ? 6 : 4;
  server.port = s.key.server_port;
  server.transport =
      (s.key.flags & kTxTcp) ? parse::Transport::kTcp : parse::Transport::kUdp;
  parse::IpAddress client;
  client.bytes = s.key.client;
  client.version = server.ip.version;
  ServerCounters* c = CountersFor(b, server);
  if (c != nullptr) ++c->queries;
  const Frame* f = FrameAt(s.frame_seq);
  FailInfo info{s.kind,
                s.ts,
                s.reporter,
                nullptr,
                s.ts,
                f ? parse::Bytes(f->bytes.data(), f->length) : parse::Bytes()};
  RecordFailureIn(b, c, server, client, s.key.client_port, 0, s.ts, nullptr,
                  info, &b->failures);
}

void Worker::AgeStash(int64_t now) {
  if (stash_used_ == 0) return;
  // Past this age no query sent before the error can still be pending, and
  // the error's own second is not yet published.
  const int64_t ttl = config_.HoldNs() - kNsPerSecond;
  for (Stashed& s : stash_) {
    if (s.valid && (now == INT64_MAX || now > s.ts + ttl)) FinalizeStash(s);
  }
}

// ---------------------------------------------------------------- helpers

ServerKey Worker::ServerOf(const TxEntry& e) const {
  ServerKey k;
  k.ip.bytes = e.server;
  k.ip.version = (e.flags & kTxV6) ? 6 : 4;
  k.port = e.server_port;
  k.transport =
      (e.flags & kTxTcp) ? parse::Transport::kTcp : parse::Transport::kUdp;
  return k;
}

parse::IpAddress Worker::ClientOf(const TxEntry& e) const {
  parse::IpAddress a;
  a.bytes = e.client;
  a.version = (e.flags & kTxV6) ? 6 : 4;
  return a;
}

uint32_t Worker::StoreFrame(int64_t ts, parse::Bytes frame) {
  uint32_t seq = frame_seq_++;
  if (seq == 0) seq = frame_seq_++;
  FrameSlot& s = frames_[seq & (frames_.size() - 1)];
#if defined(__AVX512BW__)
  // Every query's frame goes here (17 MB by default), and few are ever read
  // again (failures only): normal stores first read each line from memory
  // and push hotter data out of the caches, ~5-9% of a worker on the mix
  // replay. Streaming stores write whole lines without either. Only this
  // worker reads the ring, and a core's own loads see its streaming stores.
  static_assert(offsetof(FrameSlot, frame) == 8 &&
                offsetof(Frame, length) == 8 && offsetof(Frame, bytes) == 10);
  constexpr size_t kHead = 18;  // seq, padding, ts_ns, length
  const size_t len = std::min<size_t>(frame.size(), kMaxEvidenceFrame);
  const uint8_t* src = frame.data();
  auto tail = [](size_t n) -> __mmask64 {
    return n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1;
  };
  // Line 0: the header, then the frame's first 46 bytes. The masked load
  // starts kHead bytes before the frame; masked-off bytes are never read.
  const size_t first = std::min(len, 64 - kHead);
  __m512i v = _mm512_maskz_loadu_epi8(
      tail(kHead + first) & ~tail(kHead),
      reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(src) - kHead));
  const __m512i head =
      _mm512_set_epi64(0, 0, 0, 0, 0, static_cast<int64_t>(len), ts, seq);
  v = _mm512_mask_blend_epi8(tail(kHead), v, head);
  auto* line = reinterpret_cast<__m512i*>(&s);
  _mm512_stream_si512(line, v);
  for (size_t off = first; off < len; off += 64) {
    _mm512_stream_si512(++line,
                        _mm512_maskz_loadu_epi8(tail(len - off), src + off));
  }
#else
  s.seq = seq;
  CopyFrame(ts, frame, &s.frame);
#endif
  return seq;
}

const Frame* Worker::FrameAt(uint32_t seq) const {
  if (!FrameKept(seq)) return nullptr;
  const FrameSlot& s = frames_[seq & (frames_.size() - 1)];
  return s.seq == seq ? &s.frame : nullptr;
}

const Frame* Worker::QueryFrameOf(const TxEntry& e) {
  const Frame* f = FrameAt(e.frame_seq);
  if (f == nullptr && e.frame_seq != 0) ++stats_.failures_without_query_frame;
  return f;
}

uint32_t Worker::QuestionHash(const parse::DnsMessage& m) const {
  // From the wire labels, case-folded, as the decoder read them (the text
  // of the name is written only where it is needed); only ever compared
  // with another QuestionHash, never stored outside the table.
  return static_cast<uint32_t>(m.question_hash ^ (m.question_hash >> 32));
}

bool Worker::QuestionFromFrame(const Frame* f, parse::DnsMessage* m) {
  if (f == nullptr || f->length == 0) return false;
  parse::Packet p;
  parse::DecodeFrame(config_.link, {f->bytes.data(), f->length}, &p);
  if (p.transport == parse::Transport::kUdp) {
    parse::DecodeDns(p.payload, parse::DnsDepth::kQuestion, m);
  } else if (p.transport == parse::Transport::kTcp && !p.payload.empty()) {
    parse::DecodeDnsTcp(p.payload, parse::DnsDepth::kQuestion, m);
  } else {
    return false;
  }
  return m->has_question;
}

// ---------------------------------------------------------------- failures

void Worker::RecordFailure(const TxEntry& e, const FailInfo& f) {
  Bucket* b = BucketAt(e.first_ns);
  const ServerKey server = ServerOf(e);
  ServerCounters* c = CountersFor(b, server);
  if (c != nullptr && (e.flags & kTxSyn)) ++c->queries;  // counted at outcome
  RecordFailureIn(b, c, server, ClientOf(e), e.client_port, e.txid, e.first_ns,
                  QueryFrameOf(e), f, &b->failures);
}

void Worker::RecordFailureIn(Bucket* b, ServerCounters* c,
                             const ServerKey& server,
                             const parse::IpAddress& client, uint16_t cport,
                             uint16_t txid, int64_t query_ns,
                             const Frame* query, const FailInfo& f,
                             std::vector<FailureRecord>* out) {
  if (c != nullptr) {
    ++c->failed;
    ++c->failures[static_cast<int>(f.kind)];
  }
  const FailureOrder order{f.evidence_ns, query_ns, client, cport, txid};
  if (c != nullptr) KeepEvidence(b, c, order, query, f);
  if (out->size() >= config_.max_failures_per_bucket) {
    ++b->dropped_failures;
    return;
  }
  FailureRecord r;
  r.server = server;
  r.client = client;
  r.reporter = f.reporter;
  r.client_port = cport;
  r.txid = txid;
  r.kind = f.kind;
  r.query_ns = query_ns;
  r.evidence_ns = f.evidence_ns;
  const parse::DnsMessage* q = f.question;
  if (q == nullptr && QuestionFromFrame(query, &scratch_)) q = &scratch_;
  if (q != nullptr && q->has_question) {
    r.has_qname = true;
    r.qtype = q->qtype;
    r.qname_offset = static_cast<uint32_t>(b->names.size());
    r.qname_length = q->qname_length;
    b->names.append(q->qname_text, q->qname_length);
  }
  out->push_back(r);
}

void Worker::KeepEvidence(Bucket* b, ServerCounters* c,
                          const FailureOrder& order, const Frame* query,
                          const FailInfo& f) {
  auto fill = [&](EvidencePair* p) {
    p->order = order;
    if (query != nullptr) {
      // Its bytes only: a whole Frame is five lines of the frame ring, which
      // are rarely still in cache.
      CopyFrame(query->ts_ns, {query->bytes.data(), query->length}, &p->query);
    } else {
      p->query.length = 0;
    }
    if (!f.error_frame.empty()) {
      CopyFrame(f.error_ts, f.error_frame, &p->error);
    } else {
      p->error.length = 0;
    }
  };
  if (c->evidence < 0) {
    c->evidence = static_cast<int32_t>(b->evidence.size());
    b->evidence.emplace_back();
    fill(&b->evidence.back().first);
    fill(&b->evidence.back().last);
    return;
  }
  ServerEvidence& ev = b->evidence[c->evidence];
  if (order < ev.first.order) fill(&ev.first);
  if (order > ev.last.order) fill(&ev.last);
}

// ---------------------------------------------------------------- packets

inline void Worker::ProcessOne(int64_t ts, const parse::Packet& p,
                               parse::Bytes frame) {
  ++stats_.packets;
  if (ts >= next_tick_ns_) AdvanceTick(ts);
  switch (p.transport) {
    case parse::Transport::kUdp:
      if (p.ports.src == 53 || p.ports.dst == 53) {
        if (UdpLengthsAgree(p, frame.size())) {
          OnDns(ts, p, frame, false);
        } else {
          ++stats_.dns_malformed_lengths;
        }
      }
      break;
    case parse::Transport::kTcp: {
      const uint8_t fl = p.tcp_flags;
      if (p.ports.dst == 53 && (fl & parse::kTcpSyn) &&
          !(fl & parse::kTcpAck)) {
        OnSyn(ts, p, frame);
      } else if (p.ports.src == 53 && (fl & parse::kTcpRst)) {
        OnSynAnswer(ts, p, frame, true);
      } else if (p.ports.src == 53 && (fl & parse::kTcpSyn) &&
                 (fl & parse::kTcpAck)) {
        OnSynAnswer(ts, p, frame, false);
      } else if ((p.ports.src == 53 || p.ports.dst == 53) &&
                 !p.payload.empty()) {
        OnDns(ts, p, frame, true);
      }
      break;
    }
    case parse::Transport::kIcmp:
    case parse::Transport::kIcmp6:
      if (p.is_icmp_error && p.icmp.unreachable) OnIcmpError(ts, p, frame);
      break;
    default:
      break;
  }
}

void Worker::Process(int64_t ts, const parse::Packet& p, parse::Bytes frame) {
  ProcessOne(ts, p, frame);
}

void Worker::OnDns(int64_t ts, const parse::Packet& p, parse::Bytes frame,
                   bool tcp) {
  // The name's text is written only for what keeps it (NXDOMAIN, failure
  // and watch-list records, and names the watch list has not seen before):
  // MaterializeQname() there.
  if (tcp) {
    parse::DecodeDnsTcpQuestion(p.payload, dns_);
  } else if (!predecoded_) {
    parse::DecodeDnsQuestion(p.payload, dns_);
    if (watcher_ != nullptr && !dns_->header.qr()) {
      watcher_->Prefetch(dns_->name_hash);
    }
  }
  if (!dns_->has_question || dns_->header.opcode() != 0) {
    ++stats_.dns_undecodable;
    return;
  }
  if (dns_->header.qr()) {
    OnResponse(ts, p, frame, tcp);
  } else {
    OnQuery(ts, p, frame, tcp);
  }
}

namespace {
TxKey MakeKey(const parse::IpAddress& client, const parse::IpAddress& server,
              uint16_t cport, uint16_t sport, uint16_t txid, bool tcp) {
  TxKey k;
  k.client = client.bytes;
  k.server = server.bytes;
  k.client_port = cport;
  k.server_port = sport;
  k.txid = txid;
  k.flags = static_cast<uint8_t>((tcp ? kTxTcp : 0) |
                                 (client.version == 6 ? kTxV6 : 0));
  return k;
}

// The key of the query an ICMP error quotes, as OnIcmpError makes it, when
// the quote holds a UDP query's DNS header; false otherwise.
bool QuotedQueryKey(const parse::Packet& p, TxKey* k) {
  const parse::IcmpError& q = p.icmp;
  if (!p.is_icmp_error || !q.unreachable ||
      q.inner_transport != parse::Transport::kUdp || !q.has_inner_ports ||
      q.inner_payload.size() < 12 || (q.inner_payload[2] & 0x80)) {
    return false;
  }
  const uint16_t txid =
      static_cast<uint16_t>(q.inner_payload[0] << 8 | q.inner_payload[1]);
  *k = MakeKey(q.inner.src, q.inner.dst, q.inner_ports.src, q.inner_ports.dst,
               txid, false);
  return true;
}
}  // namespace

uint64_t Worker::PrefetchHash(const parse::Packet& p, Lookahead* kind) const {
  if (p.transport == parse::Transport::kUdp && p.payload.size() >= 12 &&
      (p.ports.src == 53 || p.ports.dst == 53)) {
    const uint16_t txid =
        static_cast<uint16_t>(p.payload[0] << 8 | p.payload[1]);
    const bool response = p.payload[2] & 0x80;
    const TxKey k = response ? MakeKey(p.ip.dst, p.ip.src, p.ports.dst,
                                       p.ports.src, txid, false)
                             : MakeKey(p.ip.src, p.ip.dst, p.ports.src,
                                       p.ports.dst, txid, false);
    const uint64_t h = k.Hash();
    table_->Prefetch(h);
    *kind = Lookahead::kDns;
    return h;
  }
  *kind = Lookahead::kNone;
  return p.is_icmp_error ? PrefetchQuoteHash(p, kind) : 0;
}

uint64_t Worker::PrefetchQuoteHash(const parse::Packet& p,
                                   Lookahead* kind) const {
  TxKey k;
  if (!QuotedQueryKey(p, &k)) return 0;
  const uint64_t h = k.Hash();
  table_->Prefetch(h);
  *kind = Lookahead::kQuote;
  return h;
}

void Worker::Predecode(const parse::Packet& p, parse::DnsMessage* m) const {
  parse::DecodeDnsQuestion(p.payload, m);
  if (watcher_ != nullptr && m->has_question && !m->header.qr()) {
    watcher_->Prefetch(m->name_hash);
  }
}

void Worker::PrefetchQueryFrame(const parse::Packet& p, Lookahead kind,
                                const parse::DnsMessage& m, uint64_t hash) {
  TxKey k;
  if (kind == Lookahead::kQuote) {
    QuotedQueryKey(p, &k);  // true: PrefetchHash made this a kQuote
  } else {
    const uint8_t rcode = m.header.rcode();
    if (!m.has_question || !m.header.qr() ||
        (rcode != parse::kRcodeServFail && rcode != parse::kRcodeRefused)) {
      return;
    }
    k = MakeKey(p.ip.dst, p.ip.src, p.ports.dst, p.ports.src, m.header.id,
                false);
  }
  // A Find ahead of the packets in between costs them nothing: an Erase of
  // an entry other than the last one found looks its slot up again.
  if (const TxEntry* e = table_->Find(k, hash);
      e != nullptr && FrameKept(e->frame_seq)) {
    const auto* slot = reinterpret_cast<const char*>(
        &frames_[e->frame_seq & (frames_.size() - 1)]);
    __builtin_prefetch(slot);
    __builtin_prefetch(slot + 64);
  }
}

void Worker::Prefetch(const parse::Packet& p) const {
  Lookahead kind;
  PrefetchHash(p, &kind);
}

void Worker::ProcessBurst(const int64_t* ts, const parse::Packet* packets,
                          const parse::Bytes* frames, size_t n) {
  // Two prefetch stages: first the index line of every packet of the burst
  // (chunks of kChunk), then, kAhead packets before each is processed, the
  // entry its tag points to (reading the index line, in by then). A Find
  // otherwise waits for the entry's miss (~60% of its time); a stage 2
  // right after stage 1 waits for the index line instead.
  constexpr size_t kChunk = 64;
  constexpr size_t kAhead = kDecodeAhead;
  uint64_t hashes[kChunk];
  Lookahead kinds[kChunk];
  for (size_t base = 0; base < n; base += kChunk) {
    const size_t m = std::min(kChunk, n - base);
    const parse::Packet* p = packets + base;
    for (size_t i = 0; i < m; ++i) {
      hashes[i] = PrefetchHash(p[i], &kinds[i]);
      // A question starts 54 (IPv4) or 74 (IPv6) bytes into the frame: its
      // name is mostly on the frame's second line, which the decoder's
      // label walk otherwise waits for.
      if (kinds[i] == Lookahead::kDns && frames[base + i].size() > 64) {
        __builtin_prefetch(frames[base + i].data() + 64);
      }
    }
    for (size_t i = 0; i < std::min(m, kAhead); ++i) {
      if (kinds[i] != Lookahead::kNone) table_->PrefetchEntry(hashes[i]);
      if (kinds[i] == Lookahead::kDns) {
        Predecode(p[i], &decoded_[i % kDecodeSlots]);
      }
    }
    for (size_t i = 0; i < m; ++i) {
      if (const size_t j = i + kAhead; j < m) {
        if (kinds[j] != Lookahead::kNone) table_->PrefetchEntry(hashes[j]);
        if (kinds[j] == Lookahead::kDns) {
          Predecode(p[j], &decoded_[j % kDecodeSlots]);
        }
      }
      if (const size_t j = i + kFrameAhead;
          j < m && kinds[j] != Lookahead::kNone) {
        PrefetchQueryFrame(p[j], kinds[j], decoded_[j % kDecodeSlots],
                           hashes[j]);
      }
      const bool dns = kinds[i] == Lookahead::kDns;
      hint_hash_ = hashes[i];
      hint_valid_ = dns;
      dns_ = &decoded_[i % kDecodeSlots];
      predecoded_ = dns;
      ProcessOne(ts[base + i], p[i], frames[base + i]);
    }
  }
  hint_valid_ = false;
  predecoded_ = false;
}

// A full table evicts its oldest entry: counted, and against its server
// when it was a query still waiting for an answer.
TxEntry* Worker::InsertPending(const TxKey& k, uint64_t h, int64_t ts) {
  TxEntry evicted;
  bool was_evicted;
  TxEntry* e = table_->Insert(k, h, &evicted, &was_evicted);
  if (was_evicted) {
    ++stats_.evictions;
    if (evicted.state == TxState::kPending && !(evicted.flags & kTxSyn)) {
      if (ServerCounters* c =
              CountersFor(BucketAt(evicted.first_ns), ServerOf(evicted))) {
        ++c->evicted;
      }
    }
  }
  e->state = TxState::kPending;
  e->first_ns = e->last_ns = ts;
  return e;
}

void Worker::OnQuery(int64_t ts, const parse::Packet& p, parse::Bytes frame,
                     bool tcp) {
  ++stats_.dns_queries;
  const TxKey k = MakeKey(p.ip.src, p.ip.dst, p.ports.src, p.ports.dst,
                          dns_->header.id, tcp);
  const uint64_t h = hint_valid_ && !tcp ? hint_hash_ : k.Hash();
  const uint32_t qh = QuestionHash(*dns_);
  if (TxEntry* e = table_->Find(k, h)) {
    if (e->state == TxState::kPending && Expired(*e, ts)) TimeOut(*e);
    if (e->state == TxState::kPending) {
      if (e->qhash == qh) {
        e->last_ns = ts;
        e->frame_seq = StoreFrame(ts, frame);
        ++stats_.retries;
        if (ServerCounters* c =
                CountersFor(BucketAt(e->first_ns), ServerOf(*e))) {
          ++c->retries;
        }
        return;
      }
      ++stats_.replaced_queries;
      if (ServerCounters* c =
              CountersFor(BucketAt(e->first_ns), ServerOf(*e))) {
        ++c->unresolved;
      }
    }
    table_->Erase(e);
  }
  TxEntry* e = InsertPending(k, h, ts);
  e->qhash = qh;
  e->frame_seq = StoreFrame(ts, frame);
  ServerKey server{p.ip.dst, p.ports.dst,
                   tcp ? parse::Transport::kTcp : parse::Transport::kUdp};
  if (ServerCounters* c = CountersFor(BucketAt(ts), server)) {
    ++c->queries;
    const uint64_t ch = Fold(p.ip.src.bytes) ^ p.ip.src.version;
    const unsigned bit = ch % (64 * kClientSketchWords);
    c->client_sketch[bit / 64] |= uint64_t{1} << (bit % 64);
  }
  if (watcher_ != nullptr) Watch(ts, p, frame, server);
}

void Worker::OnResponse(int64_t ts, const parse::Packet& p, parse::Bytes frame,
                        bool tcp) {
  ++stats_.dns_responses;
  const TxKey k = MakeKey(p.ip.dst, p.ip.src, p.ports.dst, p.ports.src,
                          dns_->header.id, tcp);
  TxEntry* e = table_->Find(k, hint_valid_ && !tcp ? hint_hash_ : k.Hash());
  if (e == nullptr) {
    ++stats_.unmatched_responses;
    return;
  }
  if (e->state == TxState::kPending && Expired(*e, ts)) TimeOut(*e);
  if (e->state != TxState::kPending) {
    ++stats_.late_responses;
    return;
  }
  Bucket* b = BucketAt(e->first_ns);
  const ServerKey server = ServerOf(*e);
  ServerCounters* c = CountersFor(b, server);
  if (e->qhash != QuestionHash(*dns_)) {
    ++stats_.mismatched_responses;
    if (c != nullptr) ++c->mismatched_responses;
    return;
  }
  const uint8_t rcode = dns_->header.rcode();
  if (c != nullptr) ++c->rcodes[rcode];
  if (rcode == parse::kRcodeServFail || rcode == parse::kRcodeRefused) {
    parse::MaterializeQname(dns_);
    FailInfo f{
        rcode == parse::kRcodeServFail ? Fail::kServfail : Fail::kRefused,
        ts,
        {},
        dns_,
        ts,
        frame};
    RecordFailureIn(b, c, server, ClientOf(*e), e->client_port, e->txid,
                    e->first_ns, QueryFrameOf(*e), f, &b->failures);
  } else if (c != nullptr) {
    ++c->answered;
    const uint64_t us = static_cast<uint64_t>(ts - e->first_ns) / 1000;
    const int bin = std::min<int>(kLatencyBins - 1, std::bit_width(us));
    ++c->latency_log2_us[bin];
    c->max_answered_ns = std::max(c->max_answered_ns, ts);
    if (rcode == parse::kRcodeNxDomain) {
      ++c->nxdomain;
      if (b->nxdomains.size() < config_.max_nxdomains_per_bucket) {
        parse::MaterializeQname(dns_);
        NxRecord r;
        r.server = server;
        r.client = ClientOf(*e);
        r.qtype = dns_->qtype;
        r.query_ns = e->first_ns;
        r.answer_ns = ts;
        r.qname_offset = static_cast<uint32_t>(b->names.size());
        r.qname_length = dns_->qname_length;
        b->names.append(dns_->qname_text, dns_->qname_length);
        b->nxdomains.push_back(r);
      } else {
        ++b->dropped_nxdomains;
      }
    }
  }
  table_->Erase(e);
}

void Worker::OnSyn(int64_t ts, const parse::Packet& p, parse::Bytes frame) {
  ++stats_.tcp_syns;
  TxKey k = MakeKey(p.ip.src, p.ip.dst, p.ports.src, p.ports.dst, 0, true);
  k.flags |= kTxSyn;
  const uint64_t h = k.Hash();
  if (TxEntry* e = table_->Find(k, h)) {
    if (e->state == TxState::kPending && Expired(*e, ts)) TimeOut(*e);
    if (e->state == TxState::kPending) {
      e->last_ns = ts;
      e->frame_seq = StoreFrame(ts, frame);
      ++stats_.retries;
      return;
    }
    table_->Erase(e);
  }
  TxEntry* e = InsertPending(k, h, ts);
  e->qhash = 0;
  e->frame_seq = StoreFrame(ts, frame);
}

void Worker::OnSynAnswer(int64_t ts, const parse::Packet& p, parse::Bytes frame,
                         bool rst) {
  TxKey k = MakeKey(p.ip.dst, p.ip.src, p.ports.dst, p.ports.src, 0, true);
  k.flags |= kTxSyn;
  TxEntry* e = table_->Find(k, k.Hash());
  if (e == nullptr) return;
  if (e->state == TxState::kPending && Expired(*e, ts)) TimeOut(*e);
  if (e->state != TxState::kPending) return;
  if (rst) {
    ++stats_.tcp_refused;
    FailInfo f{Fail::kTcpRefused, ts, {}, nullptr, ts, frame};
    RecordFailure(*e, f);
  }
  table_->Erase(e);
}

void Worker::OnIcmpError(int64_t ts, const parse::Packet& p,
                         parse::Bytes frame) {
  ++stats_.icmp_errors;
  const parse::IcmpError& q = p.icmp;
  Fail kind;
  if (!IcmpCodeToFail(p.transport == parse::Transport::kIcmp6, q.code, &kind)) {
    ++stats_.icmp_ignored_codes;
    return;
  }
  const bool tcp = q.inner_transport == parse::Transport::kTcp;
  if (!q.has_inner_ports ||
      (!tcp && q.inner_transport != parse::Transport::kUdp)) {
    ++stats_.icmp_unusable_quotes;
    return;
  }
  if (q.inner_ports.src == 53 && q.inner_ports.dst != 53) {
    ++stats_.icmp_quoting_responses;
    return;
  }
  TxKey k = MakeKey(q.inner.src, q.inner.dst, q.inner_ports.src,
                    q.inner_ports.dst, 0, tcp);
  const parse::DnsMessage* question = nullptr;
  bool have_key = tcp;
  if (tcp) {
    k.flags |= kTxSyn;
  } else if (q.inner_payload.size() >= 12) {
    parse::DecodeDns(q.inner_payload, parse::DnsDepth::kQuestion, dns_);
    if (dns_->header.qr()) {
      ++stats_.icmp_quoting_responses;
      return;
    }
    k.txid = dns_->header.id;
    have_key = true;
    if (dns_->has_question) question = dns_;
  }
  if (!have_key) {
    Stashed& s = StashSlot(k);
    if (s.valid) FinalizeStash(s);  // a colliding older one
    s.valid = true;
    s.key = k;
    s.ts = ts;
    s.kind = kind;
    s.reporter = p.ip.src;
    s.frame_seq = StoreFrame(ts, frame);
    ++stash_used_;
    ++stats_.icmp_stashed;
    return;
  }
  FailInfo f{kind, ts, p.ip.src, question, ts, frame};
  TxEntry* e = table_->Find(k, k.Hash());
  if (e != nullptr) {
    if (e->state == TxState::kPending && Expired(*e, ts)) TimeOut(*e);
    if (e->state == TxState::kPending) {
      ++stats_.icmp_matched;
      RecordFailure(*e, f);
    } else {
      // Already counted as a timeout in its own second: move it.
      ++stats_.icmp_reclassified;
      Bucket* b = BucketAt(ts);
      RecordFailureIn(b, nullptr, ServerOf(*e), ClientOf(*e), e->client_port,
                      e->txid, e->first_ns, FrameAt(e->frame_seq), f,
                      &b->reclassified);
      // Its frames are still the best evidence of the failure (no counts).
      if (ServerCounters* c = CountersFor(b, ServerOf(*e))) {
        KeepEvidence(b, c,
                     FailureOrder{ts, e->first_ns, ClientOf(*e), e->client_port,
                                  e->txid},
                     FrameAt(e->frame_seq), f);
      }
    }
    table_->Erase(e);
    return;
  }
  // No transaction (never seen, or long gone): a failure of its own.
  ++stats_.icmp_orphans;
  Bucket* b = BucketAt(ts);
  const ServerKey server{q.inner.dst, q.inner_ports.dst,
                         tcp ? parse::Transport::kTcp : parse::Transport::kUdp};
  ServerCounters* c = CountersFor(b, server);
  if (c != nullptr) ++c->queries;
  RecordFailureIn(b, c, server, q.inner.src, q.inner_ports.src, k.txid, ts,
                  nullptr, f, &b->failures);
}

}  // namespace edgecap::flow
