// The flow worker alone on a capture, fed as the appliance feeds it: frames
// decoded beforehand, bursts of 64 to ProcessBurst, the watch list of the
// rules files, the capture replayed in a loop on a clock that moves like the
// replay's (one packet every kSpacingNs). No EAL and no driver: what the
// replay of bench/e2e measures minus net_pcap's copy, with less of its noise
// (+-3% a run there), for A/B of worker changes.
//
//   build/apps/edgecap-gen/edgecap-gen mix -o /tmp/mix1m.pcap
//   export EDGECAP_BENCH_PCAP=/tmp/mix1m.pcap
//   export EDGECAP_BENCH_RULES=/tmp/e2e/watch.domains   # optional
//   build/bench/flow/worker_mix_bench --benchmark_repetitions=8
//
// bench/e2e/run.py writes such a watch list (watch.domains in its workdir).
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "benchmark/benchmark.h"
#include "lib/capture/pcap_file.h"
#include "lib/flow/worker.h"
#include "lib/parse/packet.h"
#include "lib/pipeline/watchlists.h"

namespace edgecap {
namespace {

// ~7 M packets a second: the replay's rate, so that timeouts, sweeps and
// buckets come as often per packet as there.
constexpr int64_t kSpacingNs = 140;
constexpr size_t kBurst = 64;

struct Capture {
  parse::LinkType link = parse::LinkType::kEthernet;
  std::vector<uint8_t> bytes;
  std::vector<parse::Bytes> frames;
  std::vector<parse::Packet> packets;
};

// Loaded once per process; empty with `error` set when it cannot be.
const Capture& Load(const std::string& path, std::string* error) {
  static Capture c;
  static std::string failure;
  static bool loaded = false;
  if (!loaded) {
    loaded = true;
    absl::StatusOr<capture::PcapFile> f = capture::PcapFile::Open(path);
    if (!f.ok()) {
      failure = std::string(f.status().message());
    } else {
      c.link = f->link_type();
      std::vector<std::pair<size_t, size_t>> spans;
      capture::Record r;
      while (f->Next(&r)) {
        spans.emplace_back(c.bytes.size(), r.bytes.size());
        c.bytes.insert(c.bytes.end(), r.bytes.begin(), r.bytes.end());
      }
      if (!f->status().ok()) failure = std::string(f->status().message());
      c.packets.resize(spans.size());
      for (size_t i = 0; i < spans.size(); ++i) {
        c.frames.emplace_back(c.bytes.data() + spans[i].first, spans[i].second);
        parse::DecodeFrame(c.link, c.frames[i], &c.packets[i]);
      }
      if (failure.empty() && c.packets.size() < kBurst) {
        failure = path + ": fewer than 64 packets";
      }
    }
  }
  *error = failure;
  return c;
}

void BM_WorkerOnCapture(benchmark::State& state) {
  const char* path = std::getenv("EDGECAP_BENCH_PCAP");
  if (path == nullptr) {
    state.SkipWithError(
        "set EDGECAP_BENCH_PCAP to a capture (edgecap-gen mix)");
    return;
  }
  std::string error;
  const Capture& c = Load(path, &error);
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  flow::WorkerConfig config;
  config.link = c.link;
  absl::StatusOr<std::unique_ptr<flow::Worker>> w =
      flow::Worker::Create(config, 0);
  if (!w.ok()) {
    state.SkipWithError(std::string(w.status().message()).c_str());
    return;
  }
  std::unique_ptr<pipeline::Watchlists> watchlists;
  if (const char* rules = std::getenv("EDGECAP_BENCH_RULES")) {
    absl::StatusOr<std::unique_ptr<pipeline::Watchlists>> wl =
        pipeline::Watchlists::Load(absl::StrSplit(rules, ','), 1);
    if (!wl.ok()) {
      state.SkipWithError(std::string(wl.status().message()).c_str());
      return;
    }
    watchlists = std::move(*wl);
    (*w)->SetWatcher(watchlists->watcher(0));
  }
  const size_t usable = c.packets.size() / kBurst * kBurst;
  std::vector<int64_t> times(kBurst);
  int64_t now = 0;
  size_t pos = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < kBurst; ++i) times[i] = now += kSpacingNs;
    if (watchlists != nullptr) watchlists->watcher(0)->Quiesce();
    (*w)->ProcessBurst(times.data(), &c.packets[pos], &c.frames[pos], kBurst);
    std::unique_ptr<flow::Bucket> b;
    while ((*w)->PopClosed(&b)) (*w)->Recycle(std::move(b));
    pos += kBurst;
    if (pos == usable) pos = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBurst));
  state.counters["watch_hits"] = static_cast<double>((*w)->stats().watch_hits);
  state.counters["timeouts"] = static_cast<double>((*w)->stats().timeouts);
}
BENCHMARK(BM_WorkerOnCapture)->MinTime(5.0);

}  // namespace
}  // namespace edgecap

BENCHMARK_MAIN();
