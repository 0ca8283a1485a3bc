#include "lib/incident/simulate.h"

#include <algorithm>

#include "lib/capture/pcap_file.h"
#include "lib/flow/toeplitz.h"

namespace edgecap::incident {

absl::StatusOr<std::unique_ptr<Simulator>> Simulator::Create(
    const SimulationConfig& config, parse::LinkType link) {
  if (config.workers < 1 || config.workers > 1024) {
    return absl::InvalidArgumentError("simulation: workers must be 1..1024");
  }
  std::unique_ptr<Simulator> sim(new Simulator(config, link));
  flow::WorkerConfig wc = config.worker;
  wc.link = link;
  for (int i = 0; i < config.workers; ++i) {
    auto w = flow::Worker::Create(wc, i);
    if (!w.ok()) return w.status();
    sim->workers_.push_back(std::move(*w));
  }
  DetectorConfig dc = config.detector;
  dc.link = link;
  sim->detector_ = std::make_unique<Detector>(
      dc, config.workers,
      [s = sim.get()](Incident i) { s->log_.Add(std::move(i)); });
  sim->result_.worker_packets.assign(config.workers, 0);
  return sim;
}

Simulator::Simulator(const SimulationConfig& config, parse::LinkType link)
    : config_(config), link_(link) {}

void Simulator::Feed(int64_t ts, parse::Bytes frame) {
  parse::Packet p;
  const parse::Anomaly a = parse::DecodeFrame(link_, frame, &p);
  result_.anomalies.Count(a);
  ++result_.frames;
  FeedDecoded(ts, p, frame);
}

void Simulator::FeedDecoded(int64_t ts, const parse::Packet& p,
                            parse::Bytes frame) {
  const int w = flow::SteerToWorker(p, config_.workers);
  ++result_.worker_packets[w];
  workers_[w]->Process(ts, p, frame);
  last_ns_ = std::max(last_ns_, ts);
  const int64_t s = flow::SecondOf(ts);
  if (s != last_second_) {
    // The dispatcher's tick: idle workers follow packet time too.
    last_second_ = s;
    for (auto& worker : workers_) worker->Advance(ts);
    Pump();
  }
}

void Simulator::Pump() {
  for (size_t i = 0; i < workers_.size(); ++i) {
    std::unique_ptr<flow::Bucket> b;
    while (workers_[i]->PopClosed(&b)) detector_->Offer(i, std::move(b));
    detector_->SetWatermark(i, workers_[i]->watermark_second());
  }
  detector_->Poll();
  for (size_t i = 0; i < workers_.size(); ++i) {
    std::unique_ptr<flow::Bucket> b;
    while (detector_->PopSpent(i, &b)) workers_[i]->Recycle(std::move(b));
  }
}

SimulationResult Simulator::Finish() {
  if (last_ns_ != INT64_MIN) {
    for (auto& w : workers_) w->Finish(last_ns_);
    Pump();
    detector_->Finish(last_ns_);
  }
  log_.Finalize();
  result_.incidents = log_.incidents();
  result_.jsonl = log_.JsonLines();
  for (auto& w : workers_) result_.worker_stats.push_back(w->stats());
  result_.detector_stats = detector_->stats();
  return std::move(result_);
}

absl::StatusOr<SimulationResult> SimulateCapture(
    const std::string& path, const SimulationConfig& config) {
  auto file = capture::PcapFile::Open(path);
  if (!file.ok()) return file.status();
  auto sim = Simulator::Create(config, file->link_type());
  if (!sim.ok()) return sim.status();
  capture::Record r;
  while (file->Next(&r)) (*sim)->Feed(r.timestamp_ns, r.bytes);
  if (!file->status().ok()) return file->status();
  return (*sim)->Finish();
}

}  // namespace edgecap::incident
