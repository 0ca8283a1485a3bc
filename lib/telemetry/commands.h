// edgecap's commands on DPDK's telemetry socket (next to /ethdev/stats etc.):
//
//   /edgecap/stats              totals, uptime, packet-time watermark
//   /edgecap/workers            per worker lcore
//   /edgecap/servers,N          top N servers by queries (N: 1..256)
//   /edgecap/incidents[,OFFSET] a page of incidents, from OFFSET (default 0)
//   /edgecap/incident,ID        one incident whole
//   /edgecap/config             the effective configuration
//   /edgecap/rules              watch-list summary (RulesControl)
//   /edgecap/rules/reload       reload the watch lists (RulesControl)
//
// Handlers run on DPDK's telemetry thread and read only the Snapshot in
// SnapshotStore::Global() (and the RulesControl, which is thread-safe by
// contract). A bad or missing parameter, or a parameter given to a command
// that takes none, is an error: the handler returns -EINVAL and DPDK replies
// {"<command>": null}.
//
//   RegisterCommands();                        // once, after rte_eal_init()
//   SetRulesControl(std::make_shared<MyRules>(...));   // when rules exist
#ifndef EDGECAP_LIB_TELEMETRY_COMMANDS_H_
#define EDGECAP_LIB_TELEMETRY_COMMANDS_H_

#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/telemetry/snapshot.h"

namespace edgecap::telemetry {

// The seam to the watch lists (lib/rules). Both calls run on DPDK's
// telemetry thread, concurrently with the workers: an implementation reads
// its own published state and swaps rule sets the way lib/rules' RuleSet
// allows (hot swap). Replies must fit the telemetry limits (reply.h).
class RulesControl {
 public:
  virtual ~RulesControl() = default;
  // For /edgecap/rules: e.g. source, rule counts, generation, hits.
  virtual Json Summary() = 0;
  // For /edgecap/rules/reload: recompile and swap; the new summary, or why
  // the old rules stay.
  virtual absl::StatusOr<Json> Reload() = 0;
};

// Null: "no rules loaded".
void SetRulesControl(std::shared_ptr<RulesControl> rules);

// Page size of /edgecap/incidents (fewer when the byte budget is reached).
inline constexpr size_t kIncidentsPerPage = 32;
inline constexpr size_t kMaxTopServers = kMaxServers;

// Registers every command with rte_telemetry_register_cmd. Idempotent.
absl::Status RegisterCommands();

// What a command replies (before conversion to rte_tel_data), or
// InvalidArgument for bad parameters / NotFound for an unknown incident.
// `params` is null when the client sent none. `snapshot` may be null (not yet
// published). Exposed for tests.
absl::StatusOr<Json> Execute(std::string_view command, const char* params,
                             const Snapshot* snapshot);

}  // namespace edgecap::telemetry

#endif  // EDGECAP_LIB_TELEMETRY_COMMANDS_H_
