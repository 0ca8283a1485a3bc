// Literal byte strings ("keywords") found anywhere in a query name:
// Database's keyword gates, the literal every match of an unanchored
// pattern such as `paypa[l1][0-9-]*login` must contain (RegexShape::factor).
// A name then scans the Hyperscan chunk of such rules only when it contains
// one of their keywords, instead of every name scanning them.
//
// The test must cost far less than the scan it saves (~45 ns a name for a
// 2000-rule chunk): a first pass hashes each 4-byte window of the name
// into a bitmap of the keywords' chosen 4-grams, branch-free, so that a
// name matching no gram (most) pays ~1 ns per byte; only on a bitmap hit
// does a second pass look the grams up and compare whole keywords. A false
// positive at either stage costs time, never a verdict: what ForEach
// reports is exact.
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
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace edgecap::rules {

class KeywordSet {
 public:
  static constexpr size_t kGram = 4;
  // Windows checked: every position, or one in two, three or four.
  static constexpr size_t kMaxStride = 4;

  KeywordSet() = default;
  KeywordSet(const KeywordSet&) = delete;
  KeywordSet& operator=(const KeywordSet&) = delete;

  // `keyword`: lowercase. False (and not added) when shorter than kGram.
  bool Add(std::string_view keyword, uint32_t value);
  // Builds the lookup tables; Add() after Build() is not allowed.
  void Build();
  bool empty() const { return bits_.empty(); }
  size_t memory_bytes() const;

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
  struct Range {
    uint32_t begin;
    uint32_t count;
  };

  // Four bytes with bit 5 set in each: 'A'..'Z' read as 'a'..'z', so the
  // bitmap is caseless (a few other bytes fold together too, which only
  // lets a window through that Verify then rejects).
  static uint32_t Load4(const char* p) {
    uint32_t g;
    std::memcpy(&g, p, 4);
    return g | 0x20202020u;
  }
  static bool EqualLower(const char* name, const char* lower, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      unsigned char c = static_cast<unsigned char>(name[i]);
      if (static_cast<unsigned>(c - 'A') < 26u) c += 32;
      if (c != static_cast<unsigned char>(lower[i])) return false;
    }
    return true;
  }
  uint64_t Bit(uint32_t gram) const {
    const uint32_t h = (gram * 0x9e3779b1u) >> shift_;
    return bits_[h >> 6] >> (h & 63);
  }
  template <typename F>
  void Verify(const char* name, size_t n, size_t at, uint32_t gram, F& f) const;

  // Before Build(): keyword → values.
  absl::flat_hash_map<std::string, std::vector<uint32_t>> pending_;
  std::vector<uint64_t> bits_;
  unsigned shift_ = 32;
  uint32_t stride_ = 1;
  // Gram → its entries, for the names the bitmap lets through.
  absl::flat_hash_map<uint32_t, Range> grams_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> values_;
  std::string arena_;
};

template <typename F>
void KeywordSet::Verify(const char* name, size_t n, size_t at, uint32_t gram,
                        F& f) const {
  auto it = grams_.find(gram);
  if (it == grams_.end()) return;
  for (uint32_t k = 0; k < it->second.count; ++k) {
    const Entry& e = entries_[it->second.begin + k];
    if (at < e.offset || at - e.offset + e.length > n ||
        !EqualLower(name + at - e.offset, arena_.data() + e.text, e.length)) {
      continue;
    }
    for (uint32_t v = 0; v < e.values_count; ++v) {
      f(values_[e.values_begin + v]);
    }
  }
}

template <typename F>
void KeywordSet::ForEach(std::string_view name, F&& f) const {
  const size_t n = name.size();
  if (n < kGram || bits_.empty()) return;
  const char* p = name.data();
  // No branch per window: the bitmap says no for nearly every name.
  uint64_t any = 0;
  for (size_t i = 0; i + kGram <= n; i += stride_) any |= Bit(Load4(p + i));
  if (!(any & 1)) return;
  for (size_t i = 0; i + kGram <= n; i += stride_) {
    const uint32_t g = Load4(p + i);
    if (Bit(g) & 1) Verify(p, n, i, g, f);
  }
}

}  // namespace edgecap::rules

#endif  // EDGECAP_LIB_RULES_KEYWORD_SET_H_
