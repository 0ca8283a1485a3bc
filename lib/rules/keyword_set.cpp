#include "lib/rules/keyword_set.h"

#include <algorithm>
#include <bit>
#include <utility>

namespace edgecap::rules {

bool KeywordSet::Add(std::string_view keyword, uint32_t value) {
  if (keyword.size() < kGram) return false;
  std::vector<uint32_t>& v = pending_[std::string(keyword)];
  if (std::find(v.begin(), v.end(), value) == v.end()) v.push_back(value);
  return true;
}

void KeywordSet::Build() {
  std::vector<std::pair<std::string, std::vector<uint32_t>>> keywords(
      pending_.begin(), pending_.end());
  pending_.clear();
  pending_.rehash(0);
  std::sort(keywords.begin(), keywords.end());

  // Checking the windows of a name at every stride-th position only finds
  // a keyword of L bytes if one of its grams at offsets k..k+stride-1 is
  // indexed (L >= kGram + stride - 1): the shortest keyword sets the
  // stride for all, so that fewer windows cost less for every name.
  size_t shortest = SIZE_MAX;
  for (const auto& [text, values] : keywords) {
    shortest = std::min(shortest, text.size());
  }
  if (keywords.empty()) return;
  stride_ =
      static_cast<uint32_t>(std::min<size_t>(kMaxStride, shortest - kGram + 1));
  // Of the grams a keyword may be found through, the run fewest other
  // keywords use so far, so that keywords sharing a common stem ("login",
  // "logins") do not all pile onto grams the bitmap then lets through.
  absl::flat_hash_map<uint32_t, uint32_t> uses;
  std::vector<std::pair<uint32_t, Entry>> by_gram;
  for (const auto& [text, values] : keywords) {
    auto used = [&](size_t k) {
      auto it = uses.find(Load4(text.data() + k));
      return it == uses.end() ? 0u : it->second;
    };
    size_t first = 0;
    uint32_t fewest = UINT32_MAX;
    for (size_t k = 0; k + kGram + stride_ - 1 <= text.size(); ++k) {
      uint32_t u = 0;
      for (size_t j = 0; j < stride_; ++j) u += used(k + j);
      if (u < fewest) {
        fewest = u;
        first = k;
      }
    }
    Entry e;
    e.text = static_cast<uint32_t>(arena_.size());
    e.length = static_cast<uint32_t>(text.size());
    e.values_begin = static_cast<uint32_t>(values_.size());
    e.values_count = static_cast<uint32_t>(values.size());
    values_.insert(values_.end(), values.begin(), values.end());
    arena_ += text;
    for (size_t j = 0; j < stride_; ++j) {
      e.offset = static_cast<uint32_t>(first + j);
      const uint32_t gram = Load4(text.data() + e.offset);
      ++uses[gram];
      by_gram.emplace_back(gram, e);
    }
  }
  if (by_gram.empty()) return;
  std::stable_sort(
      by_gram.begin(), by_gram.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [gram, e] : by_gram) {
    Range& r = grams_[gram];
    if (r.count == 0) r.begin = static_cast<uint32_t>(entries_.size());
    ++r.count;
    entries_.push_back(e);
  }

  // A window of a name that is no gram passes with probability
  // 1/kBitsPerGram; the bitmap stays small enough for the L1/L2 cache.
  constexpr size_t kBitsPerGram = 128;
  const size_t n_bits = std::bit_ceil(
      std::clamp<size_t>(grams_.size() * kBitsPerGram, 4096, size_t{1} << 24));
  shift_ = 32 - static_cast<unsigned>(std::countr_zero(n_bits));
  bits_.assign(n_bits / 64, 0);
  for (const auto& [gram, range] : grams_) {
    const uint32_t h = (gram * 0x9e3779b1u) >> shift_;
    bits_[h >> 6] |= uint64_t{1} << (h & 63);
  }
}

size_t KeywordSet::memory_bytes() const {
  return bits_.capacity() * sizeof(uint64_t) +
         grams_.capacity() * (sizeof(uint32_t) + sizeof(Range) + 1) +
         entries_.capacity() * sizeof(Entry) +
         values_.capacity() * sizeof(uint32_t) + arena_.capacity();
}

}  // namespace edgecap::rules
