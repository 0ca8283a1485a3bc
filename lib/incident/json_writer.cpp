#include "lib/incident/json_writer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace edgecap::incident {

using Json = nlohmann::ordered_json;

Json ToJson(const Incident& i) {
  Json j;
  j["id"] = i.id;
  j["kind"] = std::string(KindName(i.kind));
  if (i.kind == Kind::kNxdomainStorm) j["domain"] = i.domain;
  if (i.kind == Kind::kWatchlist) {
    j["rule"] = {
        {"id", i.rule.id}, {"label", i.rule.label}, {"severity", i.severity}};
  }
  j["state"] = i.open ? "open" : "closed";
  j["severity"] = i.severity;
  j["server"] = {{"ip", flow::IpToString(i.server.ip)},
                 {"port", i.server.port},
                 {"transport", TransportName(i.server.transport)}};
  Json reporters = Json::array();
  for (const auto& r : i.reporters) reporters.push_back(flow::IpToString(r));
  j["reporters"] = reporters;
  j["first_seen"] = Rfc3339(i.first_seen_ns);
  j["last_seen"] = Rfc3339(i.last_seen_ns);
  j["queries"] = i.queries;
  j["answered"] = i.answered;
  // DESIGN.md's order; tcp_refused after the ICMP kinds.
  static constexpr flow::Fail kOrder[] = {
      flow::Fail::kIcmpPort,  flow::Fail::kIcmpHost,   flow::Fail::kIcmpNet,
      flow::Fail::kIcmpAdmin, flow::Fail::kTcpRefused, flow::Fail::kServfail,
      flow::Fail::kRefused,   flow::Fail::kTimeout};
  Json failures;
  for (flow::Fail f : kOrder) {
    failures[std::string(flow::FailName(f))] = i.failures[static_cast<int>(f)];
  }
  failures["nxdomain"] = i.nxdomain;
  j["failures"] = failures;
  Json sample = Json::array();
  for (const auto& c : i.client_sample) sample.push_back(flow::IpToString(c));
  j["clients"] = {{"count", i.client_count}, {"sample", sample}};
  Json qnames = Json::array();
  for (const auto& q : i.qnames) {
    qnames.push_back(
        {{"name", q.name}, {"qtype", QtypeName(q.qtype)}, {"count", q.count}});
  }
  j["qnames"] = qnames;
  j["evidence"] = i.evidence;
  j["summary"] = i.summary;
  return j;
}

std::string ToJsonLine(const Incident& i) {
  // Replacement keeps a line valid JSON even if a name held invalid UTF-8.
  return ToJson(i).dump(-1, ' ', false, Json::error_handler_t::replace);
}

void JsonLinesWriter::Write(Incident& i) {
  i.id = absl::StrCat("edgecap-", next_++);
  *out_ << ToJsonLine(i) << '\n';
  out_->flush();
}

IncidentLog& IncidentLog::Finalize() {
  std::stable_sort(incidents_.begin(), incidents_.end(), IncidentLess);
  for (size_t k = 0; k < incidents_.size(); ++k) {
    incidents_[k].id = absl::StrCat("edgecap-", k + 1);
  }
  return *this;
}

std::string IncidentLog::JsonLines() const {
  std::string out;
  for (const Incident& i : incidents_)
    absl::StrAppend(&out, ToJsonLine(i), "\n");
  return out;
}

}  // namespace edgecap::incident
