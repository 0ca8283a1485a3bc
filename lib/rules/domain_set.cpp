#include "lib/rules/domain_set.h"

namespace edgecap::rules {

void DomainSet::Add(std::string_view domain, uint32_t rule_index) {
  std::vector<uint32_t>& refs = pending_[std::string(domain)];
  for (uint32_t r : refs) {
    if (r == rule_index) return;
  }
  refs.push_back(rule_index);
}

void DomainSet::Build() {
  size_t bytes = 0;
  for (const auto& [domain, refs] : pending_) bytes += domain.size();
  // Reserved up front: the keys are views into it, so it must never move.
  arena_.reserve(bytes);
  nodes_.reserve(pending_.size() * 2);
  domain_count_ = pending_.size();
  for (const auto& [domain, rule_refs] : pending_) {
    size_t offset = arena_.size();
    arena_.append(domain);
    std::string_view full(arena_.data() + offset, domain.size());
    Node& node = nodes_[full];
    node.refs_begin = static_cast<uint32_t>(refs_.size());
    node.refs_count = static_cast<uint32_t>(rule_refs.size());
    refs_.insert(refs_.end(), rule_refs.begin(), rule_refs.end());
    // Interior nodes for every proper suffix; an existing node (listed or
    // interior) is left as it is.
    for (size_t dot = full.find('.'); dot != std::string_view::npos;
         dot = full.find('.', dot + 1)) {
      nodes_.try_emplace(full.substr(dot + 1));
    }
  }
  pending_.clear();
  pending_.rehash(0);
}

void DomainSet::Match(std::string_view name, Verdict* out) const {
  size_t end = name.size();
  while (end > 0) {
    size_t dot = name.rfind('.', end - 1);
    size_t begin = dot == std::string_view::npos ? 0 : dot + 1;
    auto it = nodes_.find(name.substr(begin));
    if (it == nodes_.end()) return;
    const Node& node = it->second;
    for (uint32_t i = 0; i < node.refs_count; ++i) {
      out->Add(refs_[node.refs_begin + i]);
    }
    if (dot == std::string_view::npos) return;
    end = dot;
  }
}

size_t DomainSet::memory_bytes() const {
  return arena_.capacity() + refs_.capacity() * sizeof(uint32_t) +
         nodes_.capacity() * (sizeof(std::pair<std::string_view, Node>) + 1);
}

}  // namespace edgecap::rules
