// The per-worker table of pending DNS transactions: open addressing with
// linear probing over 64-byte entries and a one-byte tag per slot (probes scan
// tags, not entries), backward-shift deletion (no tombstones), sized once at
// start-up. When full, an insert evicts the oldest entry of its probe window
// and hands it back so the caller can count it. Nothing allocates after
// Create().
//
//   auto table = flow::TransactionTable::Create(1 << 20);
//   flow::TxKey key = ...;
//   uint64_t h = key.Hash();
//   if (flow::TxEntry* e = (*table)->Find(key, h)) { ...; (*table)->Erase(e); }
//   flow::TxEntry evicted;
//   bool was_evicted;
//   flow::TxEntry* e = (*table)->Insert(key, h, &evicted, &was_evicted);
#ifndef EDGECAP_LIB_FLOW_TRANSACTION_TABLE_H_
#define EDGECAP_LIB_FLOW_TRANSACTION_TABLE_H_

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"

namespace edgecap::flow {

enum TxFlags : uint8_t {
  kTxTcp = 1,
  kTxV6 = 2,
  kTxSyn = 4,  // a TCP SYN to port 53, not a DNS message
};

enum class TxState : uint8_t { kEmpty = 0, kPending = 1, kTimedOut = 2 };

struct TxKey {
  std::array<uint8_t, 16> client{};
  std::array<uint8_t, 16> server{};
  uint16_t client_port = 0, server_port = 0, txid = 0;
  uint8_t flags = 0;
  uint64_t Hash() const;
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
};
static_assert(sizeof(TxEntry) == 64, "one cache line per transaction");

class TransactionTable {
 public:
  // Holds at most `max_entries`; slots are the next power of two above
  // max_entries / 0.8 (the load at which linear probing stays short).
  static absl::StatusOr<std::unique_ptr<TransactionTable>> Create(
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
  TransactionTable(uint32_t max_entries, uint64_t slots);
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
void TransactionTable::Sweep(uint64_t count, Fn&& fn) {
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

}  // namespace edgecap::flow

#endif  // EDGECAP_LIB_FLOW_TRANSACTION_TABLE_H_
