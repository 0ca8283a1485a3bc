// A set of domains probed label by label from the right of the query name,
// as a hash trie: each node is (parent node, label), so a probe hashes and
// compares one label, never the whole suffix, and stops at the first suffix
// nobody listed: "www.google.com" against a list of malware domains costs one
// or two probes of an 8-byte slot, whatever the list size, and names that
// share long suffixes with the list cost one probe per label, never a scan of
// the list. Matching is ASCII-caseless, so callers need not copy the name to
// lowercase it.
//
// Each entry fires with a scope: a domain list's entries and `(^|\.)D$`
// regexes cover D and every name below it (kZone), `^D$` only D (kExact),
// `\.D$` only names below D (kBelow). Database also stores its Hyperscan
// "suffix gates" here (kGate: the name ends with ".D"), so one walk answers
// both.
//
//   DomainSet set;
//   set.Add("example.com", /*value=*/3);
//   set.Build();
//   Verdict v;
//   set.Match("x.Example.com", &v);  // v.rule = {3}
//   set.Match("notexample.com", &v); // no match
#ifndef EDGECAP_LIB_RULES_DOMAIN_SET_H_
#define EDGECAP_LIB_RULES_DOMAIN_SET_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#if defined(__AVX512BW__) && defined(__BMI2__)
#include <immintrin.h>
#endif
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/rules/verdict.h"

namespace edgecap::rules {

enum class Scope : uint8_t {
  kZone,   // the domain and every name below it
  kExact,  // the domain only
  kBelow,  // names below the domain, not the domain itself
  kGate,   // like kBelow; the value is not a rule (Match() skips it)
};

// Where an entry came from, for callers that must treat them apart.
enum class Source : uint8_t { kList, kRegex, kGate };

namespace internal {

inline uint64_t Load8(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// ASCII 'A'..'Z' → 'a'..'z' in each byte, other bytes unchanged.
inline uint64_t Lower8(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  const uint64_t low7 = w & (0x7f * kOnes);
  const uint64_t above_z = low7 + (0x7f - 'Z') * kOnes;
  const uint64_t from_a = low7 + (0x80 - 'A') * kOnes;
  const uint64_t upper = ~w & (from_a ^ above_z) & (0x80 * kOnes);
  return w | (upper >> 2);
}

inline uint64_t Mix(uint64_t h, uint64_t w) {
  h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}

// The first 16 bytes of a label, lowercased and zero-padded, as two words:
// labels up to 16 bytes (nearly all) hash and compare without a loop, so
// without the branch mispredictions a per-byte loop costs on every label
// of a random name.
struct LabelHead {
  uint64_t w0, w1;
};

inline LabelHead LoadLabelHead(const char* p, size_t n) {
  LabelHead h;
#if defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__BMI2__)
  const auto k = static_cast<__mmask16>(
      _bzhi_u32(0xffffu, static_cast<unsigned>(n < 16 ? n : 16)));
  const __m128i v = _mm_maskz_loadu_epi8(k, p);
  h.w0 = static_cast<uint64_t>(_mm_cvtsi128_si64(v));
  h.w1 = static_cast<uint64_t>(_mm_extract_epi64(v, 1));
#else
  char buf[16] = {};
  std::memcpy(buf, p, n < 16 ? n : 16);
  std::memcpy(&h.w0, buf, 8);
  std::memcpy(&h.w1, buf + 8, 8);
#endif
  h.w0 = Lower8(h.w0);
  h.w1 = Lower8(h.w1);
  return h;
}

// Hash of the label's `n` bytes at `p`, lowercased, under `parent`.
inline uint64_t HashLabel(const char* p, size_t n, uint32_t parent,
                          const LabelHead& head) {
  uint64_t h = (uint64_t{parent} << 32) ^ n ^ 0x5bd1e995ULL;
  h = Mix(Mix(h, head.w0), head.w1);
  for (size_t pos = 16; pos < n; pos += 8) {  // labels over 16 bytes
    char buf[8] = {};
    std::memcpy(buf, p + pos, n - pos < 8 ? n - pos : 8);
    uint64_t w;
    std::memcpy(&w, buf, 8);
    h = Mix(h, Lower8(w));
  }
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 32);
}

// Bit i set when p[i] == '.', for n <= 64. The AVX-512 path reads no byte
// past p + n (masked lanes neither load nor fault) and has no branch per
// byte, which a label walk otherwise mispredicts at every label end.
inline uint64_t DotMask(const char* p, size_t n) {
#if defined(__AVX512BW__) && defined(__BMI2__)
  const __mmask64 k = _bzhi_u64(~uint64_t{0}, static_cast<unsigned>(n));
  const __m512i v = _mm512_maskz_loadu_epi8(k, p);
  return _mm512_mask_cmpeq_epi8_mask(k, v, _mm512_set1_epi8('.'));
#else
  uint64_t m = 0;
  for (size_t i = 0; i < n; ++i) m |= uint64_t{p[i] == '.'} << i;
  return m;
#endif
}

inline bool EqualLower(const char* name, const char* lower, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (static_cast<unsigned>(c - 'A') < 26u) c += 32;
    if (c != static_cast<unsigned char>(lower[i])) return false;
  }
  return true;
}

}  // namespace internal

class DomainSet {
 public:
  struct Ref {
    uint32_t value;  // a rule index, or a Database chunk for kGate
    Scope scope;
    Source source;
  };

  DomainSet() = default;
  DomainSet(const DomainSet&) = delete;
  DomainSet& operator=(const DomainSet&) = delete;

  // `domain` must be normalized (NormalizeDomain): lowercase, no trailing dot.
  void Add(std::string_view domain, uint32_t value, Scope scope = Scope::kZone,
           Source source = Source::kList);
  // Builds the lookup table; Add() after Build() is not allowed.
  void Build();

  // Calls f(const Ref&) for every entry `name` (no trailing dot; any case)
  // fires. Never allocates.
  template <typename F>
  void ForEach(std::string_view name, F&& f) const;

  // Adds the value of every firing entry but gates to `out`.
  void Match(std::string_view name, Verdict* out) const {
    ForEach(name, [out](const Ref& r) {
      if (r.scope != Scope::kGate) out->Add(r.value);
    });
  }

  // Distinct domains added with Source::kList.
  size_t domain_count() const { return domain_count_; }
  bool empty() const { return nodes_.size() <= 1; }
  size_t memory_bytes() const;

 private:
  struct Node {
    internal::LabelHead head;
    uint32_t parent;
    uint32_t label;  // offset in arena_
    uint32_t refs_begin;
    uint32_t refs_count;
    uint8_t label_length;
  };
  static constexpr uint32_t kRoot = 0;

  // Probes label [begin, end) of `base` under `parent`, calls f for the
  // entries that fire; the node found, or kRoot.
  template <typename F>
  uint32_t Step(const char* base, size_t begin, size_t end, uint32_t parent,
                F& f) const;

  // Before Build(): domain → entries.
  absl::flat_hash_map<std::string, std::vector<Ref>> pending_;
  // After Build(): open addressing, linear probing. A slot is a one-byte
  // tag (0: empty) and a node index (node 0 is the root, never stored); the
  // tags sit apart so that a probe for an unlisted label, the common case,
  // reads one byte from a table a quarter of the size.
  static uint8_t Tag(uint64_t h) {
    const auto t = static_cast<uint8_t>(h >> 56);
    return t == 0 ? 1 : t;
  }
  std::vector<uint8_t> tags_;
  std::vector<uint32_t> slot_nodes_;
  uint64_t mask_ = 0;
  std::vector<Node> nodes_;
  std::string arena_;
  std::vector<Ref> refs_;
  size_t domain_count_ = 0;
};

template <typename F>
uint32_t DomainSet::Step(const char* base, size_t begin, size_t end,
                         uint32_t parent, F& f) const {
  const size_t length = end - begin;
  const internal::LabelHead head =
      internal::LoadLabelHead(base + begin, length);
  const uint64_t h = internal::HashLabel(base + begin, length, parent, head);
  const uint8_t tag = Tag(h);
  uint32_t found = kRoot;
  for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
    const uint8_t t = tags_[i];
    if (t == 0) return kRoot;
    if (t != tag) continue;
    const uint32_t id = slot_nodes_[i];
    const Node& n = nodes_[id];
    if (n.head.w0 == head.w0 && n.head.w1 == head.w1 && n.parent == parent &&
        n.label_length == length &&
        (length <= 16 ||
         internal::EqualLower(base + begin + 16, arena_.data() + n.label + 16,
                              length - 16))) {
      found = id;
      break;
    }
  }
  const Node& node = nodes_[found];
  for (uint32_t i = 0; i < node.refs_count; ++i) {
    const Ref& r = refs_[node.refs_begin + i];
    bool fires = true;
    switch (r.scope) {
      case Scope::kZone:
        break;
      case Scope::kExact:
        fires = begin == 0;
        break;
      case Scope::kBelow:
      case Scope::kGate:
        fires = begin > 0;
        break;
    }
    if (fires) f(r);
  }
  return found;
}

template <typename F>
void DomainSet::ForEach(std::string_view name, F&& f) const {
  if (tags_.empty()) return;
  const char* base = name.data();
  size_t end = name.size();
  uint32_t parent = kRoot;
  if (end <= 64) {
    const uint64_t dots = internal::DotMask(base, end);
    while (end > 0) {
      const uint64_t below =
          end == 64 ? dots : dots & ((uint64_t{1} << end) - 1);
      const size_t begin =
          below == 0 ? 0 : 64 - static_cast<size_t>(__builtin_clzll(below));
      parent = Step(base, begin, end, parent, f);
      if (parent == kRoot || begin == 0) return;
      end = begin - 1;
    }
    return;
  }
  while (end > 0) {
    size_t begin = end;
    while (begin > 0 && base[begin - 1] != '.') --begin;
    parent = Step(base, begin, end, parent, f);
    if (parent == kRoot || begin == 0) return;
    end = begin - 1;
  }
}

// Short byte prefixes of a name, each naming values (Database's "prefix
// gates": the chunks whose rules all start with `^literal`). Probed once
// per distinct prefix length, ASCII-caseless.
//
//   PrefixSet p;
//   p.Add("stem", 2);
//   p.Build();
//   p.ForEach("Stem42.com", [](uint32_t v) { ... });  // v == 2
class PrefixSet {
 public:
  static constexpr size_t kMaxLength = 7;

  // `prefix`: 1..kMaxLength bytes, lowercase.
  void Add(std::string_view prefix, uint32_t value);
  void Build();
  bool empty() const { return lengths_ == 0; }
  size_t memory_bytes() const {
    return slots_.capacity() * sizeof(Entry) +
           values_.capacity() * sizeof(uint32_t);
  }

  template <typename F>
  void ForEach(std::string_view name, F&& f) const {
    if (lengths_ == 0 || name.empty()) return;
    uint64_t w = 0;
    if (name.size() >= 8) {
      w = internal::Load8(name.data());
    } else {
      for (size_t i = 0; i < name.size(); ++i) {
        w |= uint64_t{static_cast<unsigned char>(name[i])} << (8 * i);
      }
    }
    w = internal::Lower8(w);
    for (size_t len = 1; len <= kMaxLength && len <= name.size(); ++len) {
      if (!(lengths_ & (1u << len))) continue;
      const uint64_t key = Key(w, len);
      for (uint64_t i = Slot(key);; i = (i + 1) & mask_) {
        const Entry& e = slots_[i];
        if (e.key == 0) break;
        if (e.key != key) continue;
        for (uint32_t k = 0; k < e.count; ++k) f(values_[e.begin + k]);
        break;
      }
    }
  }

 private:
  struct Entry {
    uint64_t key = 0;  // 0: empty
    uint32_t begin = 0;
    uint32_t count = 0;
  };
  static uint64_t Key(uint64_t w, size_t len) {
    return (w & ((uint64_t{1} << (8 * len)) - 1)) | (uint64_t{len} << 56);
  }
  uint64_t Slot(uint64_t key) const {
    return ((key * 0x9e3779b97f4a7c15ULL) >> 24) & mask_;
  }

  absl::flat_hash_map<uint64_t, std::vector<uint32_t>> pending_;
  std::vector<Entry> slots_;
  uint64_t mask_ = 0;
  std::vector<uint32_t> values_;
  uint32_t lengths_ = 0;  // bit n: some prefix has n bytes
};

}  // namespace edgecap::rules

#endif  // EDGECAP_LIB_RULES_DOMAIN_SET_H_
