// The outcome of matching one query name: the indexes (into
// Database::rules()) of the rules that fired, at most kMaxHits of them, in
// ascending order. Plain data so that a worker can keep one per lcore and
// copy it into its verdict cache without allocating.
//
//   const rules::Verdict& v = worker.Match(qname);
//   for (int i = 0; i < v.count; ++i) Report(worker.rule(v.rule[i]));
#ifndef EDGECAP_LIB_RULES_VERDICT_H_
#define EDGECAP_LIB_RULES_VERDICT_H_

#include <cstdint>

namespace edgecap::rules {

inline constexpr int kMaxHits = 4;

struct Verdict {
  uint8_t count = 0;
  bool truncated = false;  // more than kMaxHits rules fired; the rest dropped
  uint32_t rule[kMaxHits] = {};

  void Clear() {
    count = 0;
    truncated = false;
  }
  // Keeps the list sorted and free of duplicates (Hyperscan may report a
  // rule several times, at different offsets).
  void Add(uint32_t index) {
    int i = 0;
    while (i < count && rule[i] < index) ++i;
    if (i < count && rule[i] == index) return;
    if (count == kMaxHits) {
      truncated = true;
      if (i == kMaxHits) return;
      --count;  // drop the largest index to keep the smallest ones
    }
    for (int j = count; j > i; --j) rule[j] = rule[j - 1];
    rule[i] = index;
    ++count;
  }
};

}  // namespace edgecap::rules

#endif  // EDGECAP_LIB_RULES_VERDICT_H_
