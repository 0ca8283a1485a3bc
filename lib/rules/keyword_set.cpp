#include "lib/rules/keyword_set.h"

#include <algorithm>
#include <bit>
#include <utility>

namespace edgecap::rules {

bool KeywordSet::Add(std::string_view keyword, uint32_t value) {
  if (keyword.size() < kMinLength) return false;
  std::vector<uint32_t>& v = pending_[std::string(keyword)];
  if (std::find(v.begin(), v.end(), value) == v.end()) v.push_back(value);
  return true;
}

void KeywordSet::Build() {
  std::vector<std::pair<std::string, std::vector<uint32_t>>> keywords(
      pending_.begin(), pending_.end());
  pending_.clear();
  pending_.rehash(0);
  if (keywords.empty()) return;
  std::sort(keywords.begin(), keywords.end());

  // Windows at every stride-th position find a keyword of L bytes if its
  // grams at offsets k..k+stride-1 are all indexed, so L >= gram + stride
  // - 1: the shortest keyword sets both. Fewer windows cost less for every
  // name; grams of 5 bytes rather than 4 are far rarer in names by chance
  // (a random 4-gram of letters is one of 26^4 = 457k).
  size_t shortest = SIZE_MAX;
  for (const auto& [text, values] : keywords) {
    shortest = std::min(shortest, text.size());
  }
  stride_ = std::clamp<size_t>(shortest - kMinLength, 1, kMaxStride);
  gram_ = std::clamp<size_t>(shortest - stride_ + 1, kMinLength, 8);
  gram_mask_ = gram_ == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * gram_)) - 1;
#ifdef EDGECAP_KEYWORD_SET_AVX512
  for (size_t b = 0; b < 8; ++b) {
    for (size_t lane = 0; lane < 8; ++lane) {
      for (size_t byte = 0; byte < 8; ++byte) {
        // Past byte 63 only bytes the gram mask drops wrap around.
        windows_[b][8 * lane + byte] =
            static_cast<uint8_t>(((8 * b + lane) * stride_ + byte) & 63);
      }
    }
  }
  for (size_t n = 0; n <= 64; ++n) {
    for (size_t w = 0; w < 64 && w * stride_ + gram_ <= n; ++w) {
      valid_[n] |= uint64_t{1} << w;
    }
  }
#endif

  // For each keyword, the run of grams fewest other keywords use so far,
  // then with the fewest digits, dots and hyphens (counters, dates and
  // label boundaries put those in many names): the filter then lets
  // through fewer names that contain no keyword.
  absl::flat_hash_map<uint64_t, uint32_t> uses;
  auto gram_at = [&](const std::string& text, size_t k) {
    char buf[8] = {};
    std::memcpy(buf, text.data() + k, gram_);
    return Gram(Load8(buf));
  };
  std::vector<std::pair<uint64_t, Entry>> by_gram;
  for (const auto& [text, values] : keywords) {
    size_t first = 0;
    uint64_t best = UINT64_MAX;
    for (size_t k = 0; k + gram_ + stride_ - 1 <= text.size(); ++k) {
      uint64_t score = 0;
      for (size_t j = 0; j < stride_; ++j) {
        auto it = uses.find(gram_at(text, k + j));
        score += uint64_t{it == uses.end() ? 0u : it->second} << 16;
      }
      for (size_t j = k; j < k + gram_ + stride_ - 1; ++j) {
        score += !((text[j] >= 'a' && text[j] <= 'z') || text[j] < 0);
      }
      if (score < best) {
        best = score;
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
      const uint64_t gram = gram_at(text, e.offset);
      ++uses[gram];
      by_gram.emplace_back(gram, e);
    }
  }
  std::stable_sort(
      by_gram.begin(), by_gram.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });

  // 64 bits a gram, two set: a window that is no gram passes with
  // probability ~(2/64)^2, under 0.1 %, and the filter stays in L1/L2.
  const size_t grams = uses.size();
  const size_t words = std::bit_ceil(std::max<size_t>(grams, 64));
  filter_.assign(words, 0);
  filter_shift_ = 64 - static_cast<unsigned>(std::countr_zero(words));
  slots_.assign(std::bit_ceil(grams * 2), Slot{});
  slot_mask_ = slots_.size() - 1;
  for (size_t i = 0; i < by_gram.size();) {
    const uint64_t gram = by_gram[i].first;
    Slot s;
    s.gram = gram;
    s.begin = static_cast<uint32_t>(entries_.size());
    for (; i < by_gram.size() && by_gram[i].first == gram; ++i) {
      entries_.push_back(by_gram[i].second);
    }
    s.count = static_cast<uint32_t>(entries_.size() - s.begin);
    const uint64_t h = Hash(gram);
    filter_[h >> filter_shift_] |=
        (uint64_t{1} << (h & 63)) | (uint64_t{1} << ((h >> 6) & 63));
    uint64_t j = h & slot_mask_;
    while (slots_[j].count != 0) j = (j + 1) & slot_mask_;
    slots_[j] = s;
  }
}

bool KeywordSet::AnyMayHave(const char* p, size_t n) const {
#ifdef EDGECAP_KEYWORD_SET_AVX512
  if (n <= 64) {
    const __m512i name = _mm512_maskz_loadu_epi8(
        _bzhi_u64(~uint64_t{0}, static_cast<unsigned>(n)), p);
    const __m512i fold = _mm512_set1_epi64(0x2020202020202020LL);
    const __m512i mask = _mm512_set1_epi64(static_cast<int64_t>(gram_mask_));
    const __m512i multiplier =
        _mm512_set1_epi64(static_cast<int64_t>(0x9e3779b97f4a7c15ULL));
    const __m128i shift = _mm_cvtsi32_si128(static_cast<int>(filter_shift_));
    const __m512i m63 = _mm512_set1_epi64(63);
    const __m512i one = _mm512_set1_epi64(1);
    const uint64_t valid = valid_[n];
    for (unsigned b = 0; b < 8; ++b) {
      const auto lanes = static_cast<__mmask8>(valid >> (8 * b));
      if (lanes == 0) return false;
      // Gram(), Hash() and MayHave() of eight windows at once.
      // (The maskz_ forms: GCC 12 warns that the plain ones read an
      // uninitialized register.)
      __m512i w = _mm512_maskz_permutexvar_epi8(
          ~__mmask64{0},
          _mm512_load_si512(reinterpret_cast<const void*>(windows_[b])), name);
      w = _mm512_ternarylogic_epi64(w, fold, mask, 0xa8);  // (w | fold) & mask
      __m512i h = _mm512_mullo_epi64(w, multiplier);
      h = _mm512_xor_si512(h, _mm512_maskz_srli_epi64(0xff, h, 29));
      const __m512i words = _mm512_mask_i64gather_epi64(
          _mm512_setzero_si512(), lanes, _mm512_maskz_srl_epi64(0xff, h, shift),
          reinterpret_cast<const long long*>(filter_.data()), 8);
      const __m512i bits = _mm512_or_si512(
          _mm512_maskz_sllv_epi64(0xff, one, _mm512_and_si512(h, m63)),
          _mm512_maskz_sllv_epi64(
              0xff, one,
              _mm512_and_si512(_mm512_maskz_srli_epi64(0xff, h, 6), m63)));
      if (_mm512_mask_cmpeq_epi64_mask(lanes, _mm512_and_si512(words, bits),
                                       bits) != 0) {
        return true;
      }
    }
    return false;
  }
#endif
  uint64_t any = 0;
  for (size_t i = 0; i + gram_ <= n; i += stride_) {
    any |= MayHave(Hash(Gram(Window(p, n, i))));
  }
  return any != 0;
}

size_t KeywordSet::memory_bytes() const {
  return filter_.capacity() * sizeof(uint64_t) +
         slots_.capacity() * sizeof(Slot) +
         entries_.capacity() * sizeof(Entry) +
         values_.capacity() * sizeof(uint32_t) + arena_.capacity();
}

}  // namespace edgecap::rules
