// NXDOMAIN storms (random-subdomain floods): per attacked domain (the parent
// of the names asked, never a public suffix: parse::AttackedDomain), the
// NXDOMAIN answers over a sliding window; a storm opens when the window holds
// enough answers for enough distinct names and closes once it has not for a
// while (docs/detection.md). One storm per domain until its window empties.
// Part of the Detector's per-second processing; what it counts does not
// depend on the worker split. It appends incidents in no particular order:
// the Detector sorts them (IncidentLess).
//
//   StormTracker storms(config);
//   storms.AddSecond(s, buckets);       // each processed second, in order
//   storms.Evaluate(s, &emitted);       // may open, may emit closed storms
//   ...
//   storms.Finish(&emitted);            // end of input: the open ones
#ifndef EDGECAP_LIB_INCIDENT_STORM_H_
#define EDGECAP_LIB_INCIDENT_STORM_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/flow/bucket.h"
#include "lib/incident/incident.h"

namespace edgecap::incident {

class StormTracker {
 public:
  explicit StormTracker(const DetectorConfig& config);
  ~StormTracker();

  // The NXDOMAIN answers of the buckets of second `s`.
  void AddSecond(int64_t s, std::span<const flow::Bucket* const> buckets);
  // Slides the windows to second `s`; opens storms, and appends the ones
  // that close to `out`.
  void Evaluate(int64_t s, std::vector<Incident>* out);
  // Appends the storms still open, with state open.
  void Finish(std::vector<Incident>* out);
  // The open storms' counts so far (no names, no summary; telemetry).
  void AppendOpen(std::vector<Incident>* out) const;

  // Whether any domain still has answers in its window (time alone can then
  // open or close a storm).
  bool active() const { return !domains_.empty(); }
  uint64_t opened() const { return opened_; }
  size_t tracked() const { return domains_.size(); }

 private:
  struct Answer;
  struct Open;
  struct Domain;

  static flow::ServerKey MostResponder(const Open& open);
  // Whether `parent` (a name minus its first label) can be a storm's
  // domain: not an ICANN public suffix (parse::IsPublicSuffix).
  bool Attackable(std::string_view parent);
  void Emit(const std::string& domain, const Open& open, bool still_open,
            std::vector<Incident>* out) const;

  DetectorConfig config_;
  // Domains with answers in their window or a storm open.
  absl::flat_hash_map<std::string, std::unique_ptr<Domain>> domains_;
  // Whether a parent is a public suffix (most NXDOMAINs are under one:
  // `typo.com`; a new flood's first second repeats its parent), so that
  // the list is not searched for each answer.
  static constexpr size_t kMaxVerdicts = 4096;
  absl::flat_hash_map<std::string, bool> suffix_verdicts_;
  uint64_t opened_ = 0;
};

}  // namespace edgecap::incident

#endif  // EDGECAP_LIB_INCIDENT_STORM_H_
