#include "bench/flow/baseline_table.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace edgecap::flow::baseline {

absl::StatusOr<std::unique_ptr<BaselineTable>> BaselineTable::Create(
    uint32_t max_entries) {
  if (max_entries == 0 || max_entries > (1u << 30)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "transaction table size must be 1..2^30, not ", max_entries));
  }
  uint64_t slots = 16;
  while (slots * 4 < static_cast<uint64_t>(max_entries) * 5) slots <<= 1;
  return std::unique_ptr<BaselineTable>(new BaselineTable(max_entries, slots));
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

BaselineTable::BaselineTable(uint32_t max_entries, uint64_t slots)
    : max_entries_(max_entries),
      mask_(slots - 1),
      tag_storage_(static_cast<uint16_t*>(HugeAlloc(slots * sizeof(uint16_t)))),
      storage_(static_cast<TxEntry*>(HugeAlloc(slots * sizeof(TxEntry)))),
      tags_(tag_storage_.get()),
      entries_(storage_.get()) {
  if (tags_ == nullptr || entries_ == nullptr) std::abort();  // start-up only
}

TxEntry* BaselineTable::Find(const TxKey& key, uint64_t hash) {
  const uint16_t fp = Fingerprint(hash);
  for (uint64_t i = hash & mask_;; i = (i + 1) & mask_) {
    const uint16_t t = tags_[i];
    if (t == 0) return nullptr;
    if ((t & 0xff) == fp && entries_[i].Matches(key)) return &entries_[i];
  }
}

TxEntry* BaselineTable::Insert(const TxKey& key, uint64_t hash,
                               TxEntry* evicted, bool* was_evicted) {
  *was_evicted = false;
  const uint64_t home = hash & mask_;
  uint64_t d = 0;
  while (tags_[(home + d) & mask_] != 0) ++d;
  if (size_ >= max_entries_ || d > kMaxDistance) {
    // Oldest of the window that starts at the key's home: the window is
    // where the new entry will probe, so this also keeps probes short.
    uint64_t best = UINT64_MAX;
    int seen = 0;
    for (uint64_t i = home; seen < kEvictWindow; i = (i + 1) & mask_) {
      if (tags_[i] == 0) continue;
      ++seen;
      if (best == UINT64_MAX || entries_[i].first_ns < entries_[best].first_ns)
        best = i;
    }
    *evicted = entries_[best];
    *was_evicted = true;
    EraseAt(best);
    d = 0;
    while (tags_[(home + d) & mask_] != 0) ++d;
  }
  const uint64_t i = (home + d) & mask_;
  tags_[i] =
      static_cast<uint16_t>(Fingerprint(hash) | std::min(d, kMaxDistance) << 8);
  TxEntry& e = entries_[i];
  e.client = key.client;
  e.server = key.server;
  e.client_port = key.client_port;
  e.server_port = key.server_port;
  e.txid = key.txid;
  e.flags = key.flags;
  ++size_;
  return &e;
}

void BaselineTable::Erase(TxEntry* entry) { EraseAt(IndexOf(entry)); }

void BaselineTable::EraseAt(uint64_t i) {
  // Backward shift: pull later entries of the run into the hole when their
  // home allows it, so probes never need tombstones.
  --size_;
  uint64_t hole = i;
  for (uint64_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
    const uint16_t t = tags_[j];
    if (t == 0) break;
    const uint64_t gap = (j - hole) & mask_;
    // Entry j may move to `hole` if its home is not in (hole, j].
    if (Distance(t) >= gap) {
      entries_[hole] = entries_[j];
      tags_[hole] = static_cast<uint16_t>(t - (gap << 8));
      hole = j;
    }
  }
  tags_[hole] = 0;
  entries_[hole].state = TxState::kEmpty;
}

}  // namespace edgecap::flow::baseline
