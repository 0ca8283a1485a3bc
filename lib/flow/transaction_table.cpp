#include "lib/flow/transaction_table.h"

#include <sys/mman.h>

#include <bit>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace edgecap::flow {
absl::StatusOr<std::unique_ptr<TransactionTable>> TransactionTable::Create(
    uint32_t max_entries) {
  if (max_entries == 0 || max_entries > (1u << 30)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "transaction table size must be 1..2^30, not ", max_entries));
  }
  const uint32_t buckets = (max_entries + kMeanLoad - 1) / kMeanLoad;
  return std::unique_ptr<TransactionTable>(
      new TransactionTable(max_entries, buckets));
}

namespace {
void* HugeAlloc(size_t bytes) {
  constexpr size_t kHuge = 2 << 20;
  const size_t size = (bytes + kHuge - 1) / kHuge * kHuge;
  void* p = std::aligned_alloc(kHuge, size);
  if (p != nullptr) {
    madvise(p, size, MADV_HUGEPAGE);  // advisory: fine if THP is off
    std::memset(p, 0, size);
  }
  return p;
}
}  // namespace

TransactionTable::TransactionTable(uint32_t max_entries, uint32_t buckets)
    : max_entries_(max_entries),
      buckets_(buckets),
      idx_bits_(static_cast<uint32_t>(std::bit_width(max_entries))),
      idx_mask_((1u << idx_bits_) - 1),
      tag_mask_(~idx_mask_),
      index_storage_(
          static_cast<Bucket*>(HugeAlloc(size_t{buckets} * sizeof(Bucket)))),
      entry_storage_(static_cast<TxEntry*>(
          HugeAlloc(size_t{max_entries} * sizeof(TxEntry)))),
      index_(index_storage_.get()),
      entries_(entry_storage_.get()) {
  if (index_ == nullptr || entries_ == nullptr) std::abort();  // start-up only
}

TxEntry* TransactionTable::Find(const TxKey& key, uint64_t hash) {
  const uint32_t tag = static_cast<uint32_t>(hash) & tag_mask_;
  const uint32_t home = Home(hash);
  for (uint32_t b = home;; b = Next(b)) {
    const Bucket& bucket = index_[b];
    for (uint32_t m = MatchTag(bucket, tag); m != 0; m &= m - 1) {
      const uint32_t s = static_cast<uint32_t>(__builtin_ctz(m));
      const uint32_t i = bucket.slot[s] & idx_mask_;
      if (i != 0 && entries_[i - 1].Matches(key)) {
        last_entry_ = i - 1;
        last_home_ = home;
        last_bucket_ = b;
        last_slot_ = s;
        return &entries_[i - 1];
      }
    }
    if (bucket.slot[kBucketSlots] == 0) return nullptr;
  }
}

uint32_t TransactionTable::Allocate(TxEntry* evicted, bool* was_evicted) {
  *was_evicted = false;
  if (free_ != kNone) {
    const uint32_t i = free_;
    free_ = entries_[i].frame_seq;
    return i;
  }
  if (used_ < max_entries_) return used_++;
  // Full: every entry is live. The hand moves just past the evicted entry,
  // so the entry written there (young) stays behind it for a whole lap, and
  // those it skipped were younger than the evicted one. Under a flood the
  // hand advances one entry per eviction, in the order entries were written;
  // the window's lines are mostly those the previous eviction loaded.
  uint32_t best = hand_;
  for (uint32_t k = 1, i = hand_;
       k < static_cast<uint32_t>(kEvictWindow) && k < max_entries_; ++k) {
    if (++i == max_entries_) i = 0;
    if (entries_[i].first_ns < entries_[best].first_ns) best = i;
  }
  hand_ = best + 1 == max_entries_ ? 0 : best + 1;
  *evicted = entries_[best];
  *was_evicted = true;
  Unindex(best);
  --size_;
  return best;
}

TxEntry* TransactionTable::Insert(const TxKey& key, uint64_t hash,
                                  TxEntry* evicted, bool* was_evicted) {
  const uint32_t i = Allocate(evicted, was_evicted);
  const uint32_t home = Home(hash);
  uint32_t b = home;
  uint32_t m;
  while ((m = MatchEmpty(index_[b])) == 0) {
    ++index_[b].slot[kBucketSlots];
    b = Next(b);
  }
  const uint32_t s = static_cast<uint32_t>(__builtin_ctz(m));
  index_[b].slot[s] = (static_cast<uint32_t>(hash) & tag_mask_) | (i + 1);
  last_entry_ = i;
  last_home_ = home;
  last_bucket_ = b;
  last_slot_ = s;
  TxEntry& e = entries_[i];
  e.client = key.client;
  e.server = key.server;
  e.client_port = key.client_port;
  e.server_port = key.server_port;
  e.txid = key.txid;
  e.flags = key.flags;
  e.state = TxState::kPending;
  ++size_;
  return &e;
}

void TransactionTable::Unindex(uint32_t i) {
  uint32_t home, b, s;
  if (i == last_entry_) {
    home = last_home_;
    b = last_bucket_;
    s = last_slot_;
  } else {
    // Not the entry just found: locate it from its key's hash.
    const uint64_t hash = entries_[i].KeyHash();
    const uint32_t v = (static_cast<uint32_t>(hash) & tag_mask_) | (i + 1);
    home = Home(hash);
    uint32_t m;
    // Found within the chain unless Insert was given a hash other than
    // key.Hash(): a caller bug that would otherwise spin a worker forever.
    uint32_t walked = 0;
    for (b = home; (m = MatchMasked(index_[b], UINT32_MAX, v)) == 0;
         b = Next(b)) {
      if (++walked > buckets_) std::abort();
    }
    s = static_cast<uint32_t>(__builtin_ctz(m));
  }
  last_entry_ = kNone;
  index_[b].slot[s] = 0;
  for (uint32_t c = home; c != b; c = Next(c)) --index_[c].slot[kBucketSlots];
}

void TransactionTable::Erase(TxEntry* entry) {
  const uint32_t i = static_cast<uint32_t>(entry - entries_);
  Unindex(i);
  Release(i);
}

void TransactionTable::Release(uint32_t i) {
  entries_[i].state = TxState::kEmpty;
  entries_[i].frame_seq = free_;
  free_ = i;
  --size_;
}

}  // namespace edgecap::flow
