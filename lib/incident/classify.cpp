#include "lib/incident/classify.h"

#include <utility>

namespace edgecap::incident {

using flow::Fail;

Kind KindOfFailures(const std::array<uint64_t, flow::kFailCount>& f) {
  static constexpr std::pair<Fail, Kind> kIcmp[] = {
      {Fail::kIcmpPort, Kind::kPortUnreachable},
      {Fail::kIcmpAdmin, Kind::kAdminProhibited},
      {Fail::kIcmpHost, Kind::kHostUnreachable},
      {Fail::kIcmpNet, Kind::kNetUnreachable}};
  uint64_t best = 0;
  Kind kind = Kind::kTimeout;
  for (const auto& [fail, k] : kIcmp) {
    if (f[static_cast<int>(fail)] > best) {
      best = f[static_cast<int>(fail)];
      kind = k;
    }
  }
  if (best > 0) return kind;
  if (f[static_cast<int>(Fail::kTcpRefused)] > 0) return Kind::kTcpRefused;
  const uint64_t sf = f[static_cast<int>(Fail::kServfail)];
  const uint64_t rf = f[static_cast<int>(Fail::kRefused)];
  if (sf + rf > 0) return rf > sf ? Kind::kRefused : Kind::kServfail;
  return Kind::kTimeout;
}

std::string Severity(double ratio) {
  return ratio >= 0.9 ? "critical" : ratio >= 0.5 ? "major" : "minor";
}

std::string FailureSeverity(uint64_t failed, uint64_t answered) {
  return Severity(failed == 0 ? 0.0
                              : static_cast<double>(failed) /
                                    static_cast<double>(failed + answered));
}

bool MeetsOpenThresholds(const DetectorConfig& config, uint64_t failed,
                         uint64_t answered) {
  return failed >= config.min_failures &&
         !(static_cast<double>(failed) <
           config.min_failure_ratio * static_cast<double>(failed + answered));
}

}  // namespace edgecap::incident
