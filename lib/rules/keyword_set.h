// Literal byte strings ("keywords") found anywhere in a query name:
// Database's keyword gates, the literals one of which every match of an
// unanchored pattern such as `paypa[l1][0-9-]*login` must contain
// (RegexShape::factors). A name then scans the Hyperscan chunk of such
// rules only when it contains one of their keywords, instead of every name
// scanning them.
//
// The test must cost far less than the scan it saves (~45 ns a name for a
// 2000-rule chunk). A name's windows of gram_ bytes (4 to 8), at every
// stride_-th position (1 to 4: the shortest keyword allows that), are
// probed in a blocked Bloom filter without a branch per window (with
// AVX-512, eight windows per gather); only a window that passes is looked
// up in an exact table of grams, whose keywords are then compared whole. A
// false positive costs time, never a verdict: what ForEach reports is
// exact.
//
//   KeywordSet k;
//   k.Add("login", 7);
//   k.Build();
//   k.ForEach("secure-login.example", [](uint32_t v) { ... });  // v == 7
#ifndef EDGECAP_LIB_RULES_KEYWORD_SET_H_
#define EDGECAP_LIB_RULES_KEYWORD_SET_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#if defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VBMI__) && defined(__BMI2__)
#include <immintrin.h>
#define EDGECAP_KEYWORD_SET_AVX512 1
#endif
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/rules/domain_set.h"

namespace edgecap::rules {

class KeywordSet {
 public:
  static constexpr size_t kMinLength = 4;
  static constexpr size_t kMaxStride = 4;

  KeywordSet() = default;
  KeywordSet(const KeywordSet&) = delete;
  KeywordSet& operator=(const KeywordSet&) = delete;

  // `keyword`: lowercase. False (and not added) when shorter than
  // kMinLength.
  bool Add(std::string_view keyword, uint32_t value);
  // Builds the lookup tables; Add() after Build() is not allowed.
  void Build();
  bool empty() const { return filter_.empty(); }
  size_t memory_bytes() const;
  size_t gram() const { return gram_; }
  size_t stride() const { return stride_; }

  // Calls f(value) for every keyword `name` contains, ASCII-caseless (a
  // value may come more than once). Never allocates.
  template <typename F>
  void ForEach(std::string_view name, F&& f) const;

 private:
  struct Entry {
    uint32_t text;    // offset in arena_
    uint32_t length;  // of the keyword
    uint32_t offset;  // of its gram in it
    uint32_t values_begin;
    uint32_t values_count;
  };
  struct Slot {
    uint64_t gram = 0;
    uint32_t begin = 0;
    uint32_t count = 0;  // 0: empty
  };

  static uint64_t Load8(const char* p) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  }
  // Bit 5 set in each byte: 'A'..'Z' read as 'a'..'z', so the filter and
  // the table are caseless (a few other bytes fold together too, which
  // only lets a window through that the exact comparison then rejects).
  uint64_t Gram(uint64_t window) const {
    return (window | 0x2020202020202020ULL) & gram_mask_;
  }
  static uint64_t Hash(uint64_t gram) {
    const uint64_t h = gram * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 29);
  }
  // 1 when both of the gram's bits are set in its filter word.
  uint64_t MayHave(uint64_t h) const {
    const uint64_t word = filter_[h >> filter_shift_];
    const uint64_t bits =
        (uint64_t{1} << (h & 63)) | (uint64_t{1} << ((h >> 6) & 63));
    return (word & bits) == bits;
  }
  template <typename F>
  void Verify(const char* name, size_t n, size_t at, uint64_t gram, F& f) const;
  // Window i of a name of n >= 8 bytes, from 8 bytes in bounds: the last
  // windows are the name's last 8 bytes shifted down, max(0, i + 8 - n)
  // bytes, without a branch (it would mispredict once a name).
  static uint64_t Window(const char* p, size_t n, size_t i) {
    const auto over = static_cast<int64_t>(i + 8 - n);
    const auto d = static_cast<size_t>(over & ~(over >> 63));
    return Load8(p + i - d) >> (8 * d);
  }
  // Whether some window of p[0, n) passes the filter (n >= 8).
  bool AnyMayHave(const char* p, size_t n) const;
  // Verify() for each window of the first `n` bytes that passes.
  template <typename F>
  void VerifyAll(const char* p, size_t readable, size_t n, F& f) const;

  // Before Build(): keyword → values.
  absl::flat_hash_map<std::string, std::vector<uint32_t>> pending_;
  size_t gram_ = kMinLength;
  size_t stride_ = 1;
  uint64_t gram_mask_ = 0;
  // Blocked Bloom filter: a gram sets two bits of one 64-bit word.
  std::vector<uint64_t> filter_;
  unsigned filter_shift_ = 64;
  // Open addressing, linear probing, on the gram itself.
  std::vector<Slot> slots_;
  uint64_t slot_mask_ = 0;
  std::vector<Entry> entries_;
  std::vector<uint32_t> values_;
  std::string arena_;
#ifdef EDGECAP_KEYWORD_SET_AVX512
  // Byte shuffles that gather windows 8b..8b+7 of a name in a register, and
  // for each name length the windows that fit in it.
  alignas(64) uint8_t windows_[8][64] = {};
  uint64_t valid_[65] = {};
#endif
};

template <typename F>
void KeywordSet::Verify(const char* name, size_t n, size_t at, uint64_t gram,
                        F& f) const {
  for (uint64_t i = Hash(gram) & slot_mask_;; i = (i + 1) & slot_mask_) {
    const Slot& s = slots_[i];
    if (s.count == 0) return;
    if (s.gram != gram) continue;
    for (uint32_t k = 0; k < s.count; ++k) {
      const Entry& e = entries_[s.begin + k];
      if (at < e.offset || at - e.offset + e.length > n ||
          !internal::EqualLower(name + at - e.offset, arena_.data() + e.text,
                                e.length)) {
        continue;
      }
      for (uint32_t v = 0; v < e.values_count; ++v) {
        f(values_[e.values_begin + v]);
      }
    }
    return;
  }
}

template <typename F>
void KeywordSet::VerifyAll(const char* p, size_t readable, size_t n,
                           F& f) const {
  for (size_t i = 0; i + gram_ <= n; i += stride_) {
    const uint64_t g = Gram(Window(p, readable, i));
    if (MayHave(Hash(g))) Verify(p, n, i, g, f);
  }
}

template <typename F>
void KeywordSet::ForEach(std::string_view name, F&& f) const {
  const size_t n = name.size();
  if (n < gram_ || filter_.empty()) return;
  const char* p = name.data();
  size_t readable = n;
  char copy[8] = {};
  if (n < 8) {
    // Windows read 8 bytes: the zeros past the name may only let a window
    // through the filter, Verify knows the length.
    std::memcpy(copy, p, n);
    p = copy;
    readable = 8;
  }
  if (!AnyMayHave(p, readable)) return;
  VerifyAll(p, readable, n, f);
}

}  // namespace edgecap::rules

#endif  // EDGECAP_LIB_RULES_KEYWORD_SET_H_
