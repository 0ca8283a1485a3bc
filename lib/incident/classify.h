// What a server incident is called and how bad it is, from its counts, by
// the rules of docs/detection.md. The detector's final records, its early
// opens and its open-incident snapshot all classify through here, so that
// telemetry and the written record agree.
//
//   inc.kind = KindOfFailures(inc.failures);
//   inc.severity = FailureSeverity(inc.failed(), inc.answered);
#ifndef EDGECAP_LIB_INCIDENT_CLASSIFY_H_
#define EDGECAP_LIB_INCIDENT_CLASSIFY_H_

#include <array>
#include <cstdint>
#include <string>

#include "lib/flow/bucket.h"
#include "lib/incident/incident.h"

namespace edgecap::incident {

// The most telling failure: the most frequent ICMP error, else TCP resets,
// else the more frequent of REFUSED and SERVFAIL, else timeouts.
Kind KindOfFailures(const std::array<uint64_t, flow::kFailCount>& failures);

// "critical" from 0.9, "major" from 0.5, else "minor".
std::string Severity(double ratio);
// Severity of failed / (failed + answered); no failures is "minor".
std::string FailureSeverity(uint64_t failed, uint64_t answered);

// Whether `failed` failures against `answered` answers over the window are
// enough to open a server incident (config.min_failures and
// config.min_failure_ratio).
bool MeetsOpenThresholds(const DetectorConfig& config, uint64_t failed,
                         uint64_t answered);

}  // namespace edgecap::incident

#endif  // EDGECAP_LIB_INCIDENT_CLASSIFY_H_
