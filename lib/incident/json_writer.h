// Incident records as JSON lines (DESIGN.md's schema, docs/detection.md's
// meanings), and the two ways to number and order them: live, written as
// they close (JsonLinesWriter); offline, collected and sorted by
// (first_seen, kind, server) at the end (IncidentLog).
//
//   incident::IncidentLog log;
//   incident::Detector det(config, n, [&](incident::Incident i) {
//     log.Add(std::move(i));
//   });
//   ... det.Finish(final_ns);
//   std::cout << log.Finalize().JsonLines();
#ifndef EDGECAP_LIB_INCIDENT_JSON_WRITER_H_
#define EDGECAP_LIB_INCIDENT_JSON_WRITER_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "lib/incident/incident.h"
#include "nlohmann/json.hpp"

namespace edgecap::incident {

nlohmann::ordered_json ToJson(const Incident& incident);
// One line, no trailing newline.
std::string ToJsonLine(const Incident& incident);

// Live: numbers incidents in write order.
class JsonLinesWriter {
 public:
  explicit JsonLinesWriter(std::ostream* out) : out_(out) {}
  void Write(Incident& incident);  // sets incident.id
  uint64_t written() const { return next_ - 1; }

 private:
  std::ostream* out_;
  uint64_t next_ = 1;
};

// Offline: collects everything, then sorts and numbers.
class IncidentLog {
 public:
  void Add(Incident incident) { incidents_.push_back(std::move(incident)); }
  IncidentLog& Finalize();
  const std::vector<Incident>& incidents() const { return incidents_; }
  std::string JsonLines() const;  // one line per incident, each ending "\n"

 private:
  std::vector<Incident> incidents_;
};

}  // namespace edgecap::incident

#endif  // EDGECAP_LIB_INCIDENT_JSON_WRITER_H_
