// The appliance's watch lists: lib/rules' RuleSet loaded from the --rules
// files, one flow::QueryWatcher per worker lcore over a rules::RuleWorker, and
// the control side: reload (SIGHUP on the stats lcore, /edgecap/rules/reload
// on the telemetry thread), reclamation once per stats tick, and the summary
// for /edgecap/rules. Reloads compile on the calling (control) thread and
// swap the database in while the workers run; a file that fails leaves the
// old rules in place. Control calls are serialized by a mutex the workers
// never take.
//
//   absl::StatusOr<std::unique_ptr<Watchlists>> wl =
//       Watchlists::Load({"c2.rules", "phish.domains"}, workers);
//   if (!wl.ok()) return wl.status();      // "c2.rules:7: rule 12: ..."
//   flow_engine[w]->SetWatcher((*wl)->watcher(w));
//   // stats lcore, every tick:
//   (*wl)->Tick();
//   // on SIGHUP (stats lcore) or from telemetry:
//   absl::StatusOr<Json> s = (*wl)->Reload();  // error: old rules stay
#ifndef EDGECAP_LIB_PIPELINE_WATCHLISTS_H_
#define EDGECAP_LIB_PIPELINE_WATCHLISTS_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/flow/watch.h"
#include "lib/rules/rule_set.h"
#include "nlohmann/json.hpp"

namespace edgecap::pipeline {

// A worker lcore's view of the watch lists.
class RuleWatcher : public flow::QueryWatcher {
 public:
  explicit RuleWatcher(std::unique_ptr<rules::RuleWorker> worker)
      : worker_(std::move(worker)) {}
  // The verdict cache first, keyed by the wire name hash; the name text is
  // written only for names it does not know.
  int Match(parse::DnsMessage* query, flow::WatchHit* hits) override;
  void Prefetch(uint64_t name_hash) const override {
    worker_->Prefetch(name_hash);
  }
  void Quiesce() override { worker_->Quiesce(); }
  void Offline() override { worker_->Offline(); }
  const rules::RuleWorker& rule_worker() const { return *worker_; }

 private:
  std::unique_ptr<rules::RuleWorker> worker_;
};

class Watchlists {
 public:
  using Json = nlohmann::ordered_json;
  // /edgecap/rules lists at most this many rules' hits (the busiest), to
  // stay within the telemetry reply limits.
  static constexpr size_t kMaxListedRules = 200;

  // Compiles `files` and makes a watcher for each of `workers` workers.
  static absl::StatusOr<std::unique_ptr<Watchlists>> Load(
      std::vector<std::string> files, int workers);
  ~Watchlists();

  RuleWatcher* watcher(int worker) { return watchers_[worker].get(); }

  // Compiles the files again and swaps them in. On error the old rules stay
  // and the status says FILE:LINE: why. Any thread but a worker's.
  absl::StatusOr<Json> Reload();
  // Frees databases no worker can still use. Stats lcore, once per tick;
  // skips the tick rather than wait for a reload in progress.
  void Tick();
  // Files, rule counts, generation, reloads, hits per rule (capped).
  Json Summary();

  uint32_t generation() const { return set_.generation(); }

 private:
  Watchlists(std::vector<std::string> files, int workers);
  Json SummaryLocked();

  const std::vector<std::string> files_;
  rules::RuleSet set_;
  std::vector<std::unique_ptr<RuleWatcher>> watchers_;
  std::mutex mu_;  // control side only
  uint64_t reloads_ = 0, reload_failures_ = 0;
  std::string last_error_;
};

}  // namespace edgecap::pipeline

#endif  // EDGECAP_LIB_PIPELINE_WATCHLISTS_H_
