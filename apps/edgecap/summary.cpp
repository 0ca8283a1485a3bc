#include "apps/edgecap/summary.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "lib/incident/report.h"

namespace edgecap::app {

std::string Count(uint64_t n) {
  const std::string digits = absl::StrCat(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

void PrintProgress(const pipeline::Progress& p) {
  const double rate =
      p.elapsed_seconds > 0 ? p.received / p.elapsed_seconds : 0;
  if (p.expected > 0) {
    std::fprintf(stderr, "\r%s / %s packets (%.0f%%), %.2f Mpps   ",
                 Count(p.received).c_str(), Count(p.expected).c_str(),
                 100.0 * static_cast<double>(p.received) /
                     static_cast<double>(p.expected),
                 rate / 1e6);
  } else {
    std::fprintf(stderr, "\r%s packets, %.2f Mpps   ",
                 Count(p.received).c_str(), rate / 1e6);
  }
  std::fflush(stderr);
}

absl::Status WriteIncidentLog(const std::string& path,
                              const incident::IncidentLog& log) {
  std::ofstream out(path, std::ios::out | std::ios::trunc);
  out << log.JsonLines();
  if (!out) {
    return absl::PermissionDeniedError(
        absl::StrCat("--incidents ", path, ": cannot write"));
  }
  return absl::OkStatus();
}

absl::Status ReportRun(const Options& o, const RunFacts& f,
                       const std::vector<incident::Incident>& incidents) {
  const std::string report =
      incident::RenderReport(incidents, {.source = f.source});
  if (!o.report_path.empty()) {
    std::ofstream out(o.report_path, std::ios::out | std::ios::trunc);
    out << report;
    if (!out) {
      return absl::PermissionDeniedError(
          absl::StrCat("--report ", o.report_path, ": cannot write"));
    }
  }
  const pipeline::PortDrops& drops = f.drops;
  if (!o.quiet) {
    uint64_t open = 0;
    for (const auto& i : incidents) open += i.open ? 1 : 0;
    std::printf(
        "edgecap: %s packets, %s DNS transactions, %s servers, %s incidents "
        "(%s still open)\n",
        Count(f.packets).c_str(), Count(f.dns_transactions).c_str(),
        Count(f.servers).c_str(), Count(incidents.size()).c_str(),
        Count(open).c_str());
    // received = packets + ring-full: what the ports delivered, so a lost
    // packet is accounted for once, here or in the port's own counters.
    std::printf(
        "workers: %u (%s dispatch); received %s; drops: imissed %s, rx_nombuf "
        "%s, ierrors %s, ring-full %s, table evictions %s, watch-list hits "
        "%s, watch-list evidence %s\n\n",
        f.workers, f.hardware_dispatch ? "hw" : "sw",
        Count(drops.ipackets).c_str(), Count(drops.imissed).c_str(),
        Count(drops.rx_nombuf).c_str(), Count(drops.ierrors).c_str(),
        Count(f.ring_full).c_str(), Count(f.evictions).c_str(),
        Count(f.watchlist_dropped).c_str(),
        Count(f.watchlist_evidence_dropped).c_str());
    std::fputs(report.c_str(), stdout);
  }
  if (f.evictions > 0) {
    std::fprintf(stderr,
                 "edgecap: warning: %s transactions evicted from full tables\n",
                 Count(f.evictions).c_str());
  }
  if (f.failures_without_query_frame > 0) {
    // Counted and attributed all the same; what is missing is the packet an
    // analyst would look at and, for a timeout, its name (read from that
    // packet), so the incident's names leave it out.
    std::fprintf(
        stderr,
        "edgecap: warning: %s failures have no query packet in their "
        "evidence, and the timeouts among them no name (a worker keeps the "
        "frames of its last %s queries, and records a timeout up to %g s "
        "after its query: above ~%s queries a second per worker, the frame "
        "is gone by then)\n",
        Count(f.failures_without_query_frame).c_str(),
        Count(f.query_frames_per_worker).c_str(),
        f.timeout_recorded_within_seconds,
        Count(static_cast<uint64_t>(f.query_frames_per_worker /
                                    f.timeout_recorded_within_seconds))
            .c_str());
  }
  if (f.watchlist_dropped > 0) {
    std::fprintf(stderr,
                 "edgecap: warning: %s watch-list hits dropped (a worker's "
                 "watch-list records for one second were full)\n",
                 Count(f.watchlist_dropped).c_str());
  }
  if (f.watchlist_evidence_dropped > 0) {
    std::fprintf(stderr,
                 "edgecap: warning: %s watch-list hits kept no evidence line "
                 "(more rule/server pairs in one worker-second than a worker "
                 "keeps frames for)\n",
                 Count(f.watchlist_evidence_dropped).c_str());
  }
  for (const pipeline::ShortRead& r : f.short_reads) {
    std::fprintf(stderr,
                 "edgecap: warning: port %u queue %u stopped after %s of %s "
                 "records\n",
                 r.port, r.queue, Count(r.received).c_str(),
                 Count(r.expected).c_str());
  }
  if (drops.imissed + drops.rx_nombuf + f.ring_full > 0) {
    std::fprintf(stderr,
                 "edgecap: warning: packets lost: imissed %s, rx_nombuf %s, "
                 "ring-full %s\n",
                 Count(drops.imissed).c_str(), Count(drops.rx_nombuf).c_str(),
                 Count(f.ring_full).c_str());
  }
  return absl::OkStatus();
}

}  // namespace edgecap::app
