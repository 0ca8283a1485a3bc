// The transaction table as it was before the dense-array rewrite (open
// addressing over 2^k 64-byte slots with a 2-byte tag each, backward-shift
// deletion): kept only so flow_bench can show old and new side by side in one
// run. Not used by the product.
//
//   auto t = flow::baseline::BaselineTable::Create(1 << 20);
//   (*t)->Prefetch(h); TxEntry* e = (*t)->Find(key, h);
#ifndef EDGECAP_BENCH_FLOW_BASELINE_TABLE_H_
#define EDGECAP_BENCH_FLOW_BASELINE_TABLE_H_

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "absl/status/statusor.h"
#include "lib/flow/transaction_table.h"

namespace edgecap::flow::baseline {

class BaselineTable {
 public:
  // Holds at most `max_entries`; slots are the next power of two above
  // max_entries / 0.8 (the load at which linear probing stays short).
  static absl::StatusOr<std::unique_ptr<BaselineTable>> Create(
      uint32_t max_entries);

  TxEntry* Find(const TxKey& key, uint64_t hash);
  // Inserts a fresh entry (key fields set, the rest for the caller to fill).
  // The key must not be present. When the table is full, the oldest entry
  // (smallest first_ns) among the next kEvictWindow occupied slots from the
  // key's home is evicted first and copied to *evicted.
  TxEntry* Insert(const TxKey& key, uint64_t hash, TxEntry* evicted,
                  bool* was_evicted);
  void Erase(TxEntry* entry);
  // Starts loading the cache lines a Find/Insert of `hash` will touch; a
  // worker calls it a few packets ahead within a burst.
  void Prefetch(uint64_t hash) const {
    const uint64_t i = hash & mask_;
    __builtin_prefetch(&tags_[i]);
    // The probe crosses into the next line of 32 tags only near its end;
    // fewer prefetches in flight leave miss buffers for the others.
    if ((i & 31) >= 24) __builtin_prefetch(&tags_[(i + 16) & mask_]);
    __builtin_prefetch(&entries_[i]);
  }

  // Visits up to `count` slots from an internal cursor (wrapping); `fn(entry)`
  // returns false to erase the entry.
  template <typename Fn>
  void Sweep(uint64_t count, Fn&& fn);

  uint32_t size() const { return size_; }
  uint32_t max_entries() const { return max_entries_; }
  uint64_t slots() const { return mask_ + 1; }
  uint64_t memory_bytes() const {
    return slots() * (sizeof(TxEntry) + sizeof(uint16_t));
  }

  static constexpr int kEvictWindow = 16;

 private:
  BaselineTable(uint32_t max_entries, uint64_t slots);
  uint64_t IndexOf(const TxEntry* e) const { return e - entries_; }
  void EraseAt(uint64_t i);
  // A slot's tag: fingerprint in the low byte (never 0 when used), distance
  // from the entry's home slot in the high byte, so deletion never reads
  // entries it does not move.
  static uint16_t Fingerprint(uint64_t hash) { return 0x80 | (hash >> 57); }
  static uint64_t Distance(uint16_t tag) { return tag >> 8; }
  static constexpr uint64_t kMaxDistance = 255;

  uint32_t max_entries_;
  uint64_t mask_;
  uint32_t size_ = 0;
  uint64_t cursor_ = 0;
  // Both arrays live in 2 MB-aligned memory marked for transparent huge
  // pages: random probes over 100+ MB otherwise miss the TLB every time.
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::unique_ptr<uint16_t, Free> tag_storage_;
  std::unique_ptr<TxEntry, Free> storage_;
  uint16_t* tags_;  // 0: empty
  TxEntry* entries_;
};

template <typename Fn>
void BaselineTable::Sweep(uint64_t count, Fn&& fn) {
  if (count > mask_ + 1) count = mask_ + 1;
  for (uint64_t visited = 0; visited < count;) {
    const uint64_t i = cursor_;
    if (tags_[i] != 0 && !fn(entries_[i])) {
      // Backward shift may move a later entry into slot i: look at i again
      // (without counting the slot twice).
      EraseAt(i);
      if (tags_[i] != 0) continue;
    }
    cursor_ = (cursor_ + 1) & mask_;
    ++visited;
  }
}

}  // namespace edgecap::flow::baseline

#endif  // EDGECAP_BENCH_FLOW_BASELINE_TABLE_H_
