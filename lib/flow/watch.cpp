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

}  // namespace

void Worker::Watch(int64_t ts, const parse::Packet& p, parse::Bytes frame,
                   const ServerKey& server) {
  parse::MaterializeQname(&dns_);
  WatchHit hits[kMaxWatchHits];
  const int n = watcher_->Match(dns_.qname(), hits);
  if (n <= 0) return;
  stats_.watch_hits += static_cast<uint64_t>(n);
  Bucket* b = BucketAt(ts);
  int32_t frame_index = -1;
  for (int i = 0; i < n; ++i) {
    if (b->watch.size() >= kMaxWatchPerBucket) {
      b->dropped_watch += static_cast<uint64_t>(n - i);
      return;
    }
    if (frame_index < 0 && b->watch_frames.size() < kMaxWatchFramesPerBucket) {
      frame_index = static_cast<int32_t>(b->watch_frames.size());
      Frame& f = b->watch_frames.emplace_back();
      f.ts_ns = ts;
      f.length = static_cast<uint16_t>(
          std::min<size_t>(frame.size(), kMaxEvidenceFrame));
      std::memcpy(f.bytes.data(), frame.data(), f.length);
    }
    WatchRecord& r = b->watch.emplace_back();
    r.server = server;
    r.client = p.ip.src;
    r.client_port = p.ports.src;
    r.txid = dns_.header.id;
    r.rule_id = hits[i].rule_id;
    r.qtype = dns_.qtype;
    r.query_ns = ts;
    r.frame = frame_index;
    r.qname_offset = Append(b, dns_.qname());
    r.qname_length = dns_.qname_length;
    r.label_offset = Append(b, hits[i].label);
    r.label_length = static_cast<uint32_t>(hits[i].label.size());
    r.severity_offset = Append(b, hits[i].severity);
    r.severity_length = static_cast<uint8_t>(hits[i].severity.size());
  }
}

}  // namespace edgecap::flow
