#include "lib/rules/domain_set.h"

#include <algorithm>
#include <bit>

namespace edgecap::rules {

void DomainSet::Add(std::string_view domain, uint32_t value, Scope scope,
                    Source source) {
  std::vector<Ref>& refs = pending_[std::string(domain)];
  for (const Ref& r : refs) {
    if (r.value == value && r.scope == scope && r.source == source) return;
  }
  refs.push_back({value, scope, source});
}

void DomainSet::Build() {
  // Node ids in first-seen order; the map is only needed while building.
  absl::flat_hash_map<std::pair<uint32_t, std::string_view>, uint32_t> ids;
  nodes_.clear();
  nodes_.push_back({});  // the root
  std::vector<const std::vector<Ref>*> node_refs(1, nullptr);
  domain_count_ = 0;
  for (const auto& [domain, refs] : pending_) {
    uint32_t parent = kRoot;
    size_t end = domain.size();
    while (true) {
      size_t dot = end == 0 ? std::string::npos : domain.rfind('.', end - 1);
      size_t begin = dot == std::string::npos ? 0 : dot + 1;
      std::string_view label(domain.data() + begin, end - begin);
      auto [it, inserted] = ids.try_emplace(
          std::pair(parent, label), static_cast<uint32_t>(nodes_.size()));
      if (inserted) {
        Node n{};
        n.head = internal::LoadLabelHead(label.data(), label.size());
        n.parent = parent;
        n.label = static_cast<uint32_t>(arena_.size());
        n.label_length = static_cast<uint8_t>(label.size());
        arena_.append(label);
        nodes_.push_back(n);
        node_refs.push_back(nullptr);
      }
      parent = it->second;
      if (begin == 0) break;
      end = dot;
    }
    node_refs[parent] = &refs;
    for (const Ref& r : refs) {
      if (r.source == Source::kList) {
        ++domain_count_;
        break;
      }
    }
  }
  for (uint32_t i = 1; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    n.refs_begin = static_cast<uint32_t>(refs_.size());
    if (node_refs[i] != nullptr) {
      refs_.insert(refs_.end(), node_refs[i]->begin(), node_refs[i]->end());
      n.refs_count = static_cast<uint32_t>(node_refs[i]->size());
    }
  }
  const size_t capacity =
      std::bit_ceil(std::max<size_t>(16, (nodes_.size() - 1) * 2));
  tags_.assign(capacity, 0);
  slot_nodes_.assign(capacity, 0);
  mask_ = capacity - 1;
  for (uint32_t i = 1; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    uint64_t h = internal::HashLabel(arena_.data() + n.label, n.label_length,
                                     n.parent, n.head);
    uint64_t j = h & mask_;
    while (tags_[j] != 0) j = (j + 1) & mask_;
    tags_[j] = Tag(h);
    slot_nodes_[j] = i;
  }
  pending_.clear();
  pending_.rehash(0);
}

void PrefixSet::Add(std::string_view prefix, uint32_t value) {
  const size_t len = std::min(prefix.size(), kMaxLength);
  uint64_t w = 0;
  for (size_t i = 0; i < len; ++i) {
    w |= uint64_t{static_cast<unsigned char>(prefix[i])} << (8 * i);
  }
  std::vector<uint32_t>& v = pending_[Key(w, len)];
  if (std::find(v.begin(), v.end(), value) == v.end()) v.push_back(value);
}

void PrefixSet::Build() {
  const size_t capacity =
      std::bit_ceil(std::max<size_t>(16, pending_.size() * 2));
  slots_.assign(capacity, Entry{});
  mask_ = capacity - 1;
  for (const auto& [key, values] : pending_) {
    uint64_t i = Slot(key);
    while (slots_[i].key != 0) i = (i + 1) & mask_;
    slots_[i] = {key, static_cast<uint32_t>(values_.size()),
                 static_cast<uint32_t>(values.size())};
    values_.insert(values_.end(), values.begin(), values.end());
    lengths_ |= 1u << (key >> 56);
  }
  pending_.clear();
  pending_.rehash(0);
}

size_t DomainSet::memory_bytes() const {
  return tags_.capacity() + slot_nodes_.capacity() * sizeof(uint32_t) +
         nodes_.capacity() * sizeof(Node) + arena_.capacity() +
         refs_.capacity() * sizeof(Ref);
}

}  // namespace edgecap::rules
