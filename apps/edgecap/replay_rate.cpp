#include "apps/edgecap/replay_rate.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "apps/edgecap/signals.h"

namespace edgecap::app {
namespace {

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The worker lcores' own CPU time (EAL names their threads rte-worker-N):
// the stats lcore's share is not the worker's.
double WorkerCpuSeconds() {
  double total = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* t = readdir(d)) {
      if (t->d_name[0] == '.') continue;
      const std::string base = absl::StrCat("/proc/self/task/", t->d_name);
      char comm[32] = {};
      if (FILE* f = std::fopen((base + "/comm").c_str(), "r")) {
        if (std::fgets(comm, sizeof(comm), f) == nullptr) comm[0] = 0;
        std::fclose(f);
      }
      if (std::strncmp(comm, "rte-worker-", 11) != 0) continue;
      if (FILE* f = std::fopen((base + "/stat").c_str(), "r")) {
        char buf[1024] = {};
        const size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
        std::fclose(f);
        buf[n] = 0;
        // Fields 14 and 15 (utime, stime) follow the ')' closing comm.
        const char* p = std::strrchr(buf, ')');
        unsigned long long ut = 0, st = 0;
        if (p != nullptr &&
            std::sscanf(p + 2,
                        "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                        "%llu %llu",
                        &ut, &st) == 2) {
          total += static_cast<double>(ut + st) /
                   static_cast<double>(sysconf(_SC_CLK_TCK));
        }
      }
    }
    closedir(d);
  }
  return total;
}

}  // namespace

ReplayMeter::Mark ReplayMeter::Take(double elapsed_seconds, uint64_t packets) {
  return {elapsed_seconds, packets, ProcessCpuSeconds(), WorkerCpuSeconds()};
}

void ReplayMeter::Tick(double elapsed_seconds,
                       absl::FunctionRef<uint64_t()> packets) {
  // A signal's stop is not the measured one.
  if (StopRequest().load(std::memory_order_relaxed)) return;
  if (warm_.seconds < 0 && elapsed_seconds >= 1.0) {
    warm_ = Take(elapsed_seconds, packets());
  }
  if (elapsed_seconds >= duration_seconds_) {
    stopped_ = Take(elapsed_seconds, packets());
    StopRequest().store(true, std::memory_order_relaxed);
  }
}

void ReplayMeter::Report() const {
  if (stopped_.seconds <= 0) return;
  Mark warm = warm_;
  // Too short a warm-up interval: measure from the start instead.
  if (warm.seconds < 0 || stopped_.seconds - warm.seconds < 0.5) warm = {};
  const double n = static_cast<double>(stopped_.packets - warm.packets);
  std::fprintf(
      stderr,
      "edgecap: replay: %llu packets processed in %.3f s; "
      "%.0f packets/s from %.3f s to %.3f s; %.0f packets per "
      "process CPU-second (%.3f CPU s); %.0f packets per worker "
      "CPU-second (%.2f s)\n",
      static_cast<unsigned long long>(stopped_.packets), stopped_.seconds,
      n / (stopped_.seconds - std::max(warm.seconds, 0.0)),
      std::max(warm.seconds, 0.0), stopped_.seconds,
      n / std::max(stopped_.cpu - warm.cpu, 1e-9), stopped_.cpu - warm.cpu,
      n / std::max(stopped_.worker_cpu - warm.worker_cpu, 1e-9),
      stopped_.worker_cpu - warm.worker_cpu);
}

}  // namespace edgecap::app
