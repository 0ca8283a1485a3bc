// A set of domains, each matching itself and all its subdomains, probed label
// by label from the right of the query name. Every suffix of every listed
// domain is stored (as an interior node when it is not listed itself), so a
// probe stops at the first suffix nobody listed: "www.google.com" against a
// list of malware domains costs one or two hash probes, whatever the list
// size, and names that share long suffixes with the list cost one probe per
// label, never a scan of the list.
//
//   DomainSet set;
//   set.Add("example.com", /*rule_index=*/3);
//   set.Build();
//   Verdict v;
//   set.Match("x.example.com", &v);  // v.rule = {3}
//   set.Match("notexample.com", &v); // no match
#ifndef EDGECAP_LIB_RULES_DOMAIN_SET_H_
#define EDGECAP_LIB_RULES_DOMAIN_SET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/rules/verdict.h"

namespace edgecap::rules {

class DomainSet {
 public:
  DomainSet() = default;
  DomainSet(const DomainSet&) = delete;
  DomainSet& operator=(const DomainSet&) = delete;

  // `domain` must be normalized (NormalizeDomain): lowercase, no trailing dot.
  void Add(std::string_view domain, uint32_t rule_index);
  // Builds the lookup table; Add() after Build() is not allowed.
  void Build();

  // `name` lowercase without a trailing dot. Adds the rule of every listed
  // suffix of `name` to `out`.
  void Match(std::string_view name, Verdict* out) const;

  size_t domain_count() const { return domain_count_; }
  size_t memory_bytes() const;

 private:
  struct Node {
    uint32_t refs_begin = 0;
    uint32_t refs_count = 0;  // 0: interior (a suffix of a listed domain)
  };
  // Before Build(): domain → rule indexes.
  absl::flat_hash_map<std::string, std::vector<uint32_t>> pending_;
  // After Build(): keys are views into arena_.
  std::string arena_;
  std::vector<uint32_t> refs_;
  absl::flat_hash_map<std::string_view, Node> nodes_;
  size_t domain_count_ = 0;
};

}  // namespace edgecap::rules

#endif  // EDGECAP_LIB_RULES_DOMAIN_SET_H_
