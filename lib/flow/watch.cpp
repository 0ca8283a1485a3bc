// Worker::Watch lives apart from worker.cpp: watch-list hits are an add-on to
// the transaction path, and keeping them here keeps worker.cpp's hot path
// readable.
#include "lib/flow/watch.h"

#include <algorithm>
#include <cstring>

#include "lib/flow/worker.h"

namespace edgecap::flow {
namespace {

// Appends `s` to the bucket's text arena; returns its offset.
uint32_t Append(Bucket* b, std::string_view s) {
  const uint32_t off = static_cast<uint32_t>(b->names.size());
  b->names.append(s);
  return off;
}

// Keeps `frame` as the first and/or latest evidence of (rule, server) in `b`.
void KeepWatchEvidence(Bucket* b, uint32_t rule_id, const ServerKey& server,
                       int64_t ts, parse::Bytes frame) {
  const uint64_t h = server.Hash() ^ (rule_id * 0x9e3779b97f4a7c15ull);
  constexpr uint32_t kMask = kWatchKeySlots - 1;
  static_assert((kWatchKeySlots & kMask) == 0);
  for (uint32_t slot = static_cast<uint32_t>(h >> 40) & kMask;;
       slot = (slot + 1) & kMask) {
    const int8_t i = b->watch_index[slot];
    if (i < 0) {
      if (b->watch_evidence.size() >= kMaxWatchKeysPerBucket) {
        ++b->dropped_watch_evidence;
        return;
      }
      // Once per bucket: recycled buckets keep the capacity.
      if (b->watch_evidence.capacity() == 0) {
        b->watch_evidence.reserve(kMaxWatchKeysPerBucket);
      }
      b->watch_index[slot] = static_cast<int8_t>(b->watch_evidence.size());
      WatchEvidence& e = b->watch_evidence.emplace_back();
      e.rule_id = rule_id;
      e.server = server;
      CopyFrame(ts, frame, &e.first);
      CopyFrame(ts, frame, &e.last);
      return;
    }
    WatchEvidence& e = b->watch_evidence[i];
    if (e.rule_id != rule_id || !(e.server == server)) continue;
    // Capture order is nearly time order: usually one compare, one copy.
    if (ts > e.last.ts_ns) {
      CopyFrame(ts, frame, &e.last);
      return;
    }
    Frame f;
    CopyFrame(ts, frame, &f);
    if (!FrameLess(f, e.last)) {
      e.last = f;
    } else if (FrameLess(f, e.first)) {
      e.first = f;
    }
    return;
  }
}

}  // namespace

void Worker::Watch(int64_t ts, const parse::Packet& p, parse::Bytes frame,
                   const ServerKey& server) {
  WatchHit hits[kMaxWatchHits];
  const int n = watcher_->Match(dns_, hits);
  if (n <= 0) return;
  parse::MaterializeQname(dns_);  // the records keep the name
  stats_.watch_hits += static_cast<uint64_t>(n);
  Bucket* b = BucketAt(ts);
  for (int i = 0; i < n; ++i) {
    if (b->watch.size() >= kMaxWatchPerBucket) {
      b->dropped_watch += static_cast<uint64_t>(n - i);
      return;
    }
    KeepWatchEvidence(b, hits[i].rule_id, server, ts, frame);
    WatchRecord& r = b->watch.emplace_back();
    r.server = server;
    r.client = p.ip.src;
    r.client_port = p.ports.src;
    r.txid = dns_->header.id;
    r.rule_id = hits[i].rule_id;
    r.qtype = dns_->qtype;
    r.query_ns = ts;
    r.qname_offset = Append(b, dns_->qname());
    r.qname_length = dns_->qname_length;
    r.label_offset = Append(b, hits[i].label);
    r.label_length = static_cast<uint32_t>(hits[i].label.size());
    r.severity_offset = Append(b, hits[i].severity);
    r.severity_length = static_cast<uint8_t>(hits[i].severity.size());
  }
}

}  // namespace edgecap::flow
