// What edgecap tells the operator about a run: the progress line while it
// reads, and at the end the incident file, the report, the one-paragraph
// summary on stdout and the warnings on stderr (drops are never silent).
// Tests compare these texts: change them with the tests.
//
//   PrintProgress(progress);                       // stats lcore, each tick
//   absl::Status s = WriteIncidentLog(path, log);  // offline, at the end
//   s = ReportRun(options, facts, incidents);
#ifndef EDGECAP_APPS_EDGECAP_SUMMARY_H_
#define EDGECAP_APPS_EDGECAP_SUMMARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "apps/edgecap/options.h"
#include "lib/incident/incident.h"
#include "lib/incident/json_writer.h"
#include "lib/pipeline/pipeline.h"
#include "lib/pipeline/port.h"

namespace edgecap::app {

// 1234567 -> "1,234,567".
std::string Count(uint64_t n);

void PrintProgress(const pipeline::Progress& p);

// The counters of a finished run.
struct RunFacts {
  uint64_t packets = 0;
  uint64_t dns_transactions = 0;
  uint64_t servers = 0;
  uint64_t evictions = 0;  // transactions pushed out of full flow tables
  // flow::WorkerStats: failures whose query frame a worker's ring no longer
  // held, with the ring's size and how long after its query a timeout is
  // recorded at the latest (query timeout + sweep period) to explain why.
  uint64_t failures_without_query_frame = 0;
  uint32_t query_frames_per_worker = 0;
  double timeout_recorded_within_seconds = 0;
  uint16_t workers = 1;
  bool hardware_dispatch = true;
  pipeline::PortDrops drops;
  uint64_t ring_full = 0;
  // incident::DetectorStats: watch-list hits the workers could not keep, and
  // hits that got no evidence frames (watchlist_evidence_dropped).
  uint64_t watchlist_dropped = 0;
  uint64_t watchlist_evidence_dropped = 0;
  std::vector<pipeline::ShortRead> short_reads;
  std::string source;  // what the report says was read
};

// Offline incidents are sorted and numbered only at the end: the whole file
// is written then.
absl::Status WriteIncidentLog(const std::string& path,
                              const incident::IncidentLog& log);

// The report (to --report and, unless --quiet, after the summary on stdout),
// then the warnings.
absl::Status ReportRun(const Options& o, const RunFacts& f,
                       const std::vector<incident::Incident>& incidents);

}  // namespace edgecap::app

#endif  // EDGECAP_APPS_EDGECAP_SUMMARY_H_
