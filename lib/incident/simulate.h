// In-process "simulated workers": reads a capture, decodes every frame,
// steers each packet to one of N flow workers by flow hash (ICMP errors by
// the flow they quote, as the appliance does), advances idle workers once
// per second of packet time like a dispatcher tick, and feeds the published
// buckets to one Detector. Tests and benchmarks use it; the appliance does
// the same on lcores with rings in between.
//
//   incident::SimulationConfig cfg;
//   cfg.workers = 4;
//   auto r = incident::SimulateCapture("seed.pcap", cfg);
//   if (r.ok()) std::cout << r->jsonl;
#ifndef EDGECAP_LIB_INCIDENT_SIMULATE_H_
#define EDGECAP_LIB_INCIDENT_SIMULATE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/flow/worker.h"
#include "lib/incident/detector.h"
#include "lib/incident/json_writer.h"
#include "lib/parse/anomaly.h"

namespace edgecap::incident {

struct SimulationConfig {
  int workers = 1;
  flow::WorkerConfig worker;  // `link` is taken from the capture
  DetectorConfig detector;
};

struct SimulationResult {
  std::vector<Incident> incidents;  // sorted and numbered
  std::string jsonl;
  std::vector<flow::WorkerStats> worker_stats;
  std::vector<uint64_t> worker_packets;
  DetectorStats detector_stats;
  parse::AnomalyCounters anomalies;
  uint64_t frames = 0;
};

class Simulator {
 public:
  static absl::StatusOr<std::unique_ptr<Simulator>> Create(
      const SimulationConfig& config, parse::LinkType link);

  // One captured frame.
  void Feed(int64_t ts_ns, parse::Bytes frame);
  // An already decoded packet (in-process tests without a capture).
  void FeedDecoded(int64_t ts_ns, const parse::Packet& packet,
                   parse::Bytes frame);
  // End of input: the final packet time is the latest fed.
  SimulationResult Finish();

  flow::Worker& worker(int i) { return *workers_[i]; }
  Detector& detector() { return *detector_; }

 private:
  Simulator(const SimulationConfig& config, parse::LinkType link);
  void Pump();

  SimulationConfig config_;
  parse::LinkType link_;
  std::vector<std::unique_ptr<flow::Worker>> workers_;
  std::unique_ptr<Detector> detector_;
  IncidentLog log_;
  SimulationResult result_;
  int64_t last_ns_ = INT64_MIN;
  int64_t last_second_ = INT64_MIN;
};

absl::StatusOr<SimulationResult> SimulateCapture(
    const std::string& pcap_path, const SimulationConfig& config);

}  // namespace edgecap::incident

#endif  // EDGECAP_LIB_INCIDENT_SIMULATE_H_
