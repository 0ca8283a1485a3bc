#include "lib/incident/affected.h"

#include <algorithm>
#include <vector>

namespace edgecap::incident {

AffectedTally::AffectedTally(const DetectorConfig& config)
    : max_clients_(config.max_exact_clients),
      max_qnames_(config.max_tracked_qnames) {}

void AffectedTally::AddClient(const parse::IpAddress& client) {
  if (clients_.size() < max_clients_) {
    clients_.insert(client);
  } else if (!clients_.contains(client)) {
    ++clients_beyond_;  // may count a client twice: hence "over-estimate"
  }
}

void AffectedTally::AddQname(std::string_view qname, uint16_t qtype) {
  auto key = std::make_pair(std::string(qname), qtype);
  auto it = qnames_.find(key);
  if (it != qnames_.end()) {
    ++it->second;
  } else if (qnames_.size() < max_qnames_) {
    qnames_.emplace(std::move(key), 1);
  }
}

void AffectedTally::FillRecord(const DetectorConfig& config,
                               Incident* inc) const {
  inc->client_count = client_count();
  std::vector<parse::IpAddress> sorted(clients_.begin(), clients_.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return flow::CompareIp(a, b) < 0;
  });
  if (sorted.size() > static_cast<size_t>(config.client_sample)) {
    sorted.resize(config.client_sample);
  }
  inc->client_sample = std::move(sorted);
  std::vector<QnameCount> names;
  names.reserve(qnames_.size());
  for (const auto& [k, n] : qnames_) names.push_back({k.first, k.second, n});
  auto more_asked = [](const QnameCount& a, const QnameCount& b) {
    if (a.count != b.count) return a.count > b.count;
    if (a.name != b.name) return a.name < b.name;
    return a.qtype < b.qtype;
  };
  const size_t top = std::min<size_t>(names.size(), config.top_qnames);
  std::partial_sort(names.begin(), names.begin() + top, names.end(),
                    more_asked);
  names.resize(top);
  inc->qnames = std::move(names);
}

}  // namespace edgecap::incident
