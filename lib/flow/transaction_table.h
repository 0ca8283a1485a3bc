// The per-worker table of pending DNS transactions, sized once at start-up
// and never allocating afterwards. Two parts:
//  - a dense array of max_entries 64-byte entries (one cache line each), with
//    a LIFO free list so that an insert right after an erase reuses the line
//    that is still in cache;
//  - a compact index: 64-byte buckets of 15 four-byte slots (entry number and
//    tag bits of the hash) plus an overflow count, filled to ~2/3 on average.
// So a Find reads one index line and (nearly always) one entry line, an
// Insert one index line; memory is ~70 bytes per transaction.
// When full, an insert evicts the oldest of kEvictWindow consecutive entries
// at a clock hand that then moves just past it (under a flood, about the
// oldest entry of the whole table), and hands it back so the caller can
// count it.
//
//   auto table = flow::TransactionTable::Create(1 << 20);
//   flow::TxKey key = ...;
//   uint64_t h = key.Hash();
//   if (flow::TxEntry* e = (*table)->Find(key, h)) { ...; (*table)->Erase(e); }
//   flow::TxEntry evicted;
//   bool was_evicted;
//   flow::TxEntry* e = (*table)->Insert(key, h, &evicted, &was_evicted);
//
// Within a burst, call Prefetch(h) for a packet ~2d ahead and PrefetchEntry(h)
// for the one d ahead (as DPDK's rte_hash bulk lookup does in stages).
#ifndef EDGECAP_LIB_FLOW_TRANSACTION_TABLE_H_
#define EDGECAP_LIB_FLOW_TRANSACTION_TABLE_H_

#if defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "absl/status/statusor.h"

namespace edgecap::flow {

enum TxFlags : uint8_t {
  kTxTcp = 1,
  kTxV6 = 2,
  kTxSyn = 4,  // a TCP SYN to port 53, not a DNS message
};

// kEmpty marks a free entry: Insert sets kPending, callers may set kTimedOut
// but never kEmpty.
enum class TxState : uint8_t { kEmpty = 0, kPending = 1, kTimedOut = 2 };

namespace internal {

__extension__ typedef unsigned __int128 U128;  // no pedantic warning

inline uint64_t Mix(uint64_t a, uint64_t b) {
  const U128 m = static_cast<U128>(a) * b;
  return static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
}

// Inline: every packet hashes its key once, and a call costs about as much
// as the three multiplications.
inline uint64_t HashFields(const std::array<uint8_t, 16>& client,
                           const std::array<uint8_t, 16>& server,
                           uint16_t cport, uint16_t sport, uint16_t txid,
                           uint8_t flags) {
  uint64_t c0, c1, s0, s1;
  std::memcpy(&c0, client.data(), 8);
  std::memcpy(&c1, client.data() + 8, 8);
  std::memcpy(&s0, server.data(), 8);
  std::memcpy(&s1, server.data() + 8, 8);
  const uint64_t p =
      static_cast<uint64_t>(cport) | static_cast<uint64_t>(sport) << 16 |
      static_cast<uint64_t>(txid) << 32 | static_cast<uint64_t>(flags) << 48;
  uint64_t h = Mix(c0 ^ 0xa0761d6478bd642full, c1 ^ 0xe7037ed1a0b428dbull);
  h = Mix(h ^ s0, s1 ^ 0x8ebc6af09c88c6e3ull);
  h = Mix(h ^ p, 0x589965cc75374cc3ull);
  return h;
}

}  // namespace internal

struct TxKey {
  std::array<uint8_t, 16> client{};
  std::array<uint8_t, 16> server{};
  uint16_t client_port = 0, server_port = 0, txid = 0;
  uint8_t flags = 0;
  uint64_t Hash() const {
    return internal::HashFields(client, server, client_port, server_port, txid,
                                flags);
  }
};

struct alignas(64) TxEntry {
  std::array<uint8_t, 16> client;
  std::array<uint8_t, 16> server;
  uint16_t client_port, server_port, txid;
  uint8_t flags;
  TxState state;
  int64_t first_ns;    // first transmission: the query time
  int64_t last_ns;     // last transmission: the timeout runs from here
  uint32_t qhash;      // question (qname, qtype, qclass) fingerprint
  uint32_t frame_seq;  // last transmission in the worker's frame ring

  bool Matches(const TxKey& k) const {
    // Word compares: std::array == would call memcmp.
    uint64_t a[4], b[4];
    std::memcpy(a, client.data(), 16);
    std::memcpy(a + 2, server.data(), 16);
    std::memcpy(b, k.client.data(), 16);
    std::memcpy(b + 2, k.server.data(), 16);
    return client_port == k.client_port && server_port == k.server_port &&
           txid == k.txid && flags == k.flags &&
           ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == 0;
  }
  // The hash of the entry's key (TxKey::Hash of the same fields).
  uint64_t KeyHash() const {
    return internal::HashFields(client, server, client_port, server_port, txid,
                                flags);
  }
};
static_assert(sizeof(TxEntry) == 64, "one cache line per transaction");

class TransactionTable {
 public:
  // Holds at most `max_entries` (1..2^30).
  static absl::StatusOr<std::unique_ptr<TransactionTable>> Create(
      uint32_t max_entries);

  // `hash` is always key.Hash(): erasing an entry other than the one just
  // found or inserted recomputes it from the entry's key.
  TxEntry* Find(const TxKey& key, uint64_t hash);
  // Inserts a fresh entry (key fields set, state kPending, the rest for the
  // caller to fill). The key must not be present. When the table is full,
  // the oldest entry (smallest first_ns) of the kEvictWindow entries at the
  // eviction hand is evicted first and copied to *evicted.
  TxEntry* Insert(const TxKey& key, uint64_t hash, TxEntry* evicted,
                  bool* was_evicted);
  // Entries never move: pointers stay valid until their entry is erased.
  void Erase(TxEntry* entry);

  // Stage 1: starts loading the index line a Find/Insert of `hash` reads.
  void Prefetch(uint64_t hash) const {
    __builtin_prefetch(&index_[Home(hash)]);
  }
  // Stage 2, once the index line has had time to arrive (a few packets after
  // Prefetch): starts loading the entries whose tag matches `hash`.
  void PrefetchEntry(uint64_t hash) const {
    const Bucket& b = index_[Home(hash)];
    const uint32_t tag = static_cast<uint32_t>(hash) & tag_mask_;
    for (uint32_t m = MatchTag(b, tag); m != 0; m &= m - 1) {
      const uint32_t i = b.slot[__builtin_ctz(m)] & idx_mask_;
      if (i != 0) __builtin_prefetch(&entries_[i - 1]);
    }
  }

  // Visits up to `count` entries from an internal cursor (wrapping);
  // `fn(entry)` returns false to erase the entry. `fn` must not insert or
  // erase.
  template <typename Fn>
  void Sweep(uint64_t count, Fn&& fn);

  uint32_t size() const { return size_; }
  uint32_t max_entries() const { return max_entries_; }
  // Sweep steps that cover the whole table: one per entry.
  uint64_t slots() const { return max_entries_; }
  uint64_t memory_bytes() const {
    return static_cast<uint64_t>(buckets_) * sizeof(Bucket) +
           static_cast<uint64_t>(max_entries_) * sizeof(TxEntry);
  }
  // Index buckets (15 slots each), for tests and figures.
  uint32_t buckets() const { return buckets_; }
  // Entries stored past `bucket` whose probe started at or before it.
  uint32_t overflow_count(uint32_t bucket) const {
    return index_[bucket].slot[kBucketSlots];
  }

  static constexpr int kEvictWindow = 16;
  // Slots of a bucket that hold entries; the 16th word counts overflow.
  static constexpr int kBucketSlots = 15;
  // Average entries per bucket at max_entries: the index costs
  // 64 / kMeanLoad bytes per entry; overflow (a second line for some
  // lookups) stays at a few percent of buckets.
  static constexpr int kMeanLoad = 10;

 private:
  // slot[0..14]: 0 when empty, else tag bits (from the hash's low word,
  // above idx_bits_) | entry number + 1. slot[15]: how many entries whose
  // probe started at or before this bucket are stored after it, so a Find
  // stops at the first bucket where that is 0.
  struct alignas(64) Bucket {
    uint32_t slot[16];
  };
  static constexpr uint32_t kNone = UINT32_MAX;

  TransactionTable(uint32_t max_entries, uint32_t buckets);
  uint32_t Home(uint64_t hash) const {
    return static_cast<uint32_t>(((hash >> 32) * buckets_) >> 32);
  }
  uint32_t Next(uint32_t b) const { return b + 1 == buckets_ ? 0 : b + 1; }
  // Bit s set when slot s (s < 15) holds `v` under `mask`.
  static uint32_t MatchMasked(const Bucket& b, uint32_t mask, uint32_t v);
  uint32_t MatchTag(const Bucket& b, uint32_t tag) const {
    return MatchMasked(b, tag_mask_, tag);
  }
  static uint32_t MatchEmpty(const Bucket& b) {
    return MatchMasked(b, UINT32_MAX, 0);
  }
  uint32_t Allocate(TxEntry* evicted, bool* was_evicted);
  // Removes entry `i` from the index (not from the free list bookkeeping).
  void Unindex(uint32_t i);
  void Release(uint32_t i);

  uint32_t max_entries_;
  uint32_t buckets_;
  uint32_t idx_bits_;
  uint32_t idx_mask_;
  uint32_t tag_mask_;
  uint32_t size_ = 0;
  uint32_t used_ = 0;      // entries [used_, max_entries_) never used yet
  uint32_t free_ = kNone;  // LIFO of erased entries, linked via frame_seq
  uint32_t hand_ = 0;      // eviction window start
  uint64_t cursor_ = 0;    // sweep position
  // Where the last found or inserted entry sits in the index, so the Erase
  // that usually follows skips rehashing and rescanning.
  uint32_t last_entry_ = kNone;
  uint32_t last_home_ = 0;
  uint32_t last_bucket_ = 0;
  uint32_t last_slot_ = 0;
  // Both arrays live in 2 MB-aligned memory marked for transparent huge
  // pages: random probes over 70+ MB otherwise miss the TLB every time.
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::unique_ptr<Bucket, Free> index_storage_;
  std::unique_ptr<TxEntry, Free> entry_storage_;
  Bucket* index_;
  TxEntry* entries_;
};

inline uint32_t TransactionTable::MatchMasked(const Bucket& b, uint32_t mask,
                                              uint32_t v) {
#if defined(__AVX2__)
  const __m256i m = _mm256_set1_epi32(static_cast<int>(mask));
  const __m256i x = _mm256_set1_epi32(static_cast<int>(v));
  const __m256i lo =
      _mm256_load_si256(reinterpret_cast<const __m256i*>(b.slot));
  const __m256i hi =
      _mm256_load_si256(reinterpret_cast<const __m256i*>(b.slot + 8));
  const uint32_t l = static_cast<uint32_t>(_mm256_movemask_ps(
      _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(lo, m), x))));
  const uint32_t h = static_cast<uint32_t>(_mm256_movemask_ps(
      _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(hi, m), x))));
  return (l | h << 8) & 0x7fff;
#elif defined(__SSE2__)
  const __m128i m = _mm_set1_epi32(static_cast<int>(mask));
  const __m128i x = _mm_set1_epi32(static_cast<int>(v));
  uint32_t r = 0;
  for (int q = 0; q < 4; ++q) {
    const __m128i w =
        _mm_load_si128(reinterpret_cast<const __m128i*>(b.slot + 4 * q));
    r |= static_cast<uint32_t>(_mm_movemask_ps(
             _mm_castsi128_ps(_mm_cmpeq_epi32(_mm_and_si128(w, m), x))))
         << (4 * q);
  }
  return r & 0x7fff;
#else
  uint32_t r = 0;
  for (int s = 0; s < kBucketSlots; ++s) {
    r |= static_cast<uint32_t>((b.slot[s] & mask) == v) << s;
  }
  return r;
#endif
}

template <typename Fn>
void TransactionTable::Sweep(uint64_t count, Fn&& fn) {
  if (count > max_entries_) count = max_entries_;
  for (uint64_t visited = 0; visited < count;) {
    if (cursor_ >= used_) {
      // Entries past used_ were never allocated: the cursor moves over them
      // step by step as before (so every entry is still seen at the same
      // packet times) without reading their lines. Offline, where packet
      // time runs ahead of the clock, these laps were most of the sweep.
      const uint64_t skip = std::min(max_entries_ - cursor_, count - visited);
      visited += skip;
      cursor_ += skip;
      if (cursor_ == max_entries_) cursor_ = 0;
      continue;
    }
    TxEntry& e = entries_[cursor_];
    if (e.state != TxState::kEmpty && !fn(e)) Erase(&e);
    if (++cursor_ == max_entries_) cursor_ = 0;
    ++visited;
  }
}

}  // namespace edgecap::flow

#endif  // EDGECAP_LIB_FLOW_TRANSACTION_TABLE_H_
