// Who an incident affected and what they asked: distinct clients and
// (qname, qtype) counts, each kept exactly up to a limit so that a flood of
// distinct clients or names cannot grow a record without bound. Server
// incidents, NXDOMAIN storms and watch-list incidents all tally and report
// these the same way.
//
//   AffectedTally tally(config);
//   tally.Add(client, "www.example.com", 1);
//   tally.FillRecord(config, &incident);  // client_count, sample, top names
#ifndef EDGECAP_LIB_INCIDENT_AFFECTED_H_
#define EDGECAP_LIB_INCIDENT_AFFECTED_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "lib/incident/incident.h"
#include "lib/parse/packet.h"

namespace edgecap::incident {

class AffectedTally {
 public:
  // Limits from config.max_exact_clients and config.max_tracked_qnames.
  explicit AffectedTally(const DetectorConfig& config);

  void AddClient(const parse::IpAddress& client);
  // Names past the limit are not counted at all, not even as "other".
  void AddQname(std::string_view qname, uint16_t qtype);
  void Add(const parse::IpAddress& client, std::string_view qname,
           uint16_t qtype) {
    AddClient(client);
    AddQname(qname, qtype);
  }

  // Distinct clients: exact below the limit, an over-estimate past it.
  uint64_t client_count() const { return clients_.size() + clients_beyond_; }
  size_t distinct_qnames() const { return qnames_.size(); }

  // client_count, the lowest config.client_sample clients and the
  // config.top_qnames most asked names (ties by name, then qtype), so that
  // the record does not depend on hash order.
  void FillRecord(const DetectorConfig& config, Incident* inc) const;

 private:
  size_t max_clients_, max_qnames_;
  absl::flat_hash_set<parse::IpAddress> clients_;
  uint64_t clients_beyond_ = 0;
  absl::flat_hash_map<std::pair<std::string, uint16_t>, uint64_t> qnames_;
};

}  // namespace edgecap::incident

#endif  // EDGECAP_LIB_INCIDENT_AFFECTED_H_
