// Renders incidents as a Markdown report modelled on an analyst's incident
// report: for each incident what happened (one paragraph: which protocol,
// what the ICMP errors or answers say), the evidence as tcpdump -n lines,
// the timeline, who and what was affected, the interpretation of that kind
// of failure and the next steps for it. Off the fast path.
//
//   std::string md = incident::RenderReport(log.incidents(), {"seed.pcap"});
#ifndef EDGECAP_LIB_INCIDENT_REPORT_H_
#define EDGECAP_LIB_INCIDENT_REPORT_H_

#include <string>
#include <vector>

#include "lib/incident/incident.h"

namespace edgecap::incident {

struct ReportOptions {
  std::string source;  // capture file or interface, for the heading
};

std::string RenderIncident(const Incident& incident);
std::string RenderReport(const std::vector<Incident>& incidents,
                         const ReportOptions& options);

}  // namespace edgecap::incident

#endif  // EDGECAP_LIB_INCIDENT_REPORT_H_
