#include "lib/telemetry/commands.h"

#include <rte_telemetry.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "lib/telemetry/reply.h"

namespace edgecap::telemetry {
namespace {

std::atomic<std::shared_ptr<RulesControl>>& Rules() {
  static auto* const rules = new std::atomic<std::shared_ptr<RulesControl>>();
  return *rules;
}

constexpr std::string_view kPrefix = "/edgecap/";

struct Command {
  const char* name;
  const char* help;  // DPDK keeps 63 bytes
};
constexpr Command kCommands[] = {
    {"/edgecap/stats", "Totals, uptime, watermark. No parameters"},
    {"/edgecap/workers", "Per worker lcore counters. No parameters"},
    {"/edgecap/servers", "Top N servers by queries. Parameter: N"},
    {"/edgecap/incidents", "Page of incidents. Parameter: [offset]"},
    {"/edgecap/incident", "One incident. Parameter: incident id"},
    {"/edgecap/config", "Effective configuration. No parameters"},
    {"/edgecap/rules", "Watch-list summary. No parameters"},
    {"/edgecap/rules/reload", "Reload the watch lists. No parameters"},
};

bool Given(const char* params) { return params != nullptr && *params != 0; }

absl::Status NoParams(std::string_view command, const char* params) {
  if (Given(params)) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(command), " takes no parameters"));
  }
  return absl::OkStatus();
}

// Digits only (no sign, space or suffix), at most 9 of them.
absl::StatusOr<uint64_t> Number(std::string_view command, const char* params,
                                const char* what) {
  if (!Given(params)) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(command), " needs ", what));
  }
  const std::string_view p(params);
  if (p.size() > 9 || !std::all_of(p.begin(), p.end(), absl::ascii_isdigit)) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(command), ": ", what, " must be a number"));
  }
  uint64_t n = 0;
  for (char c : p) n = n * 10 + static_cast<uint64_t>(c - '0');
  return n;
}

const Snapshot& Require(const Snapshot* s) {
  static const Snapshot* const empty = new Snapshot();
  return s != nullptr ? *s : *empty;
}

Json Servers(const Snapshot& s, uint64_t n) {
  Json rows = Json::array();
  Json reply = {{"servers_tracked", s.servers_tracked},
                {"requested", n},
                {"shown", 0},
                {"servers", Json::array()}};
  size_t used = ReplySize(reply);
  for (const Json& row : s.servers) {
    if (rows.size() >= n) break;
    const size_t size = ReplySize(row) + 8;  // + "NNN":,
    if (used + size > kReplyBudget) break;
    used += size;
    rows.push_back(row);
  }
  reply["shown"] = rows.size();
  reply["servers"] = std::move(rows);
  return reply;
}

Json Incidents(const Snapshot& s, uint64_t offset) {
  Json page = Json::array();
  Json reply = {{"total", s.incidents.size()},
                {"offset", offset},
                {"count", 0},
                {"next", -1},
                {"incidents", Json::array()}};
  size_t used = ReplySize(reply) + 16;
  size_t i = offset;
  for (; i < s.incidents.size() && page.size() < kIncidentsPerPage; ++i) {
    const size_t size = ReplySize(s.incidents[i]->brief) + 8;
    if (used + size > kReplyBudget) break;
    used += size;
    page.push_back(s.incidents[i]->brief);
  }
  reply["count"] = page.size();
  if (i < s.incidents.size()) reply["next"] = i;
  reply["incidents"] = std::move(page);
  return reply;
}

absl::StatusOr<Json> IncidentById(const Snapshot& s, const char* params) {
  if (!Given(params)) {
    return absl::InvalidArgumentError("/edgecap/incident needs an id");
  }
  const std::string_view id(params);
  const bool valid =
      id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return absl::ascii_isalnum(c) || c == '-' || c == '_';
      });
  if (!valid) {
    return absl::InvalidArgumentError("/edgecap/incident: malformed id");
  }
  for (const auto& e : s.incidents) {
    if (!e->id.empty() && e->id == id) return e->record;
  }
  return absl::NotFoundError(absl::StrCat("no incident ", std::string(id)));
}

absl::StatusOr<Json> RulesCommand(bool reload) {
  std::shared_ptr<RulesControl> rules = Rules().load();
  if (rules == nullptr) {
    Json reply = {{"status", "no rules loaded"}};
    if (reload) reply["reloaded"] = 0;
    return reply;
  }
  if (!reload) return rules->Summary();
  absl::StatusOr<Json> r = rules->Reload();
  if (!r.ok()) {
    return Json{{"reloaded", 0}, {"error", std::string(r.status().message())}};
  }
  return Json{{"reloaded", 1}, {"rules", *r}};
}

int Handle(const char* cmd, const char* params, rte_tel_data* d) {
  try {
    const std::shared_ptr<const Snapshot> snapshot =
        SnapshotStore::Global().Load();
    absl::StatusOr<Json> reply =
        Execute(cmd == nullptr ? "" : cmd, params, snapshot.get());
    if (!reply.ok()) return -EINVAL;
    if (!CheckReply(*reply).ok()) return -E2BIG;
    if (!ToTelData(*reply, d).ok()) return -EIO;
    return 0;
  } catch (const std::exception&) {
    // Never let an exception unwind through DPDK's C thread.
    return -EIO;
  }
}

}  // namespace

void SetRulesControl(std::shared_ptr<RulesControl> rules) {
  Rules().store(std::move(rules));
}

absl::StatusOr<Json> Execute(std::string_view command, const char* params,
                             const Snapshot* snapshot) {
  const Snapshot& s = Require(snapshot);
  if (!command.starts_with(kPrefix)) {
    return absl::NotFoundError(
        absl::StrCat("unknown command ", std::string(command)));
  }
  const std::string_view name = command.substr(kPrefix.size());
  if (name == "stats" || name == "workers" || name == "config") {
    if (absl::Status st = NoParams(command, params); !st.ok()) return st;
    Json reply = name == "stats"     ? s.stats
                 : name == "workers" ? s.workers
                                     : s.config;
    if (name != "config") {
      reply["snapshot"] = s.generation;
      reply["final"] = s.final ? 1 : 0;
    }
    return reply;
  }
  if (name == "servers") {
    absl::StatusOr<uint64_t> n = Number(command, params, "N");
    if (!n.ok()) return n.status();
    if (*n < 1 || *n > kMaxTopServers) {
      return absl::InvalidArgumentError(absl::StrCat(
          std::string(command), ": N must be 1..", kMaxTopServers));
    }
    return Servers(s, *n);
  }
  if (name == "incidents") {
    uint64_t offset = 0;
    if (params != nullptr) {
      absl::StatusOr<uint64_t> o = Number(command, params, "an offset");
      if (!o.ok()) return o.status();
      offset = *o;
    }
    if (offset > s.incidents.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(command), ": offset past the last of ",
                       s.incidents.size()));
    }
    return Incidents(s, offset);
  }
  if (name == "incident") return IncidentById(s, params);
  if (name == "rules" || name == "rules/reload") {
    if (absl::Status st = NoParams(command, params); !st.ok()) return st;
    return RulesCommand(name == "rules/reload");
  }
  return absl::NotFoundError(
      absl::StrCat("unknown command ", std::string(command)));
}

absl::Status RegisterCommands() {
  static std::once_flag once;
  static absl::Status result;
  std::call_once(once, [] {
    for (const Command& c : kCommands) {
      const int rc = rte_telemetry_register_cmd(c.name, Handle, c.help);
      if (rc != 0) {
        result = absl::InternalError(absl::StrCat(
            "cannot register telemetry command ", c.name, ": ", rc));
        return;
      }
    }
  });
  return result;
}

}  // namespace edgecap::telemetry
