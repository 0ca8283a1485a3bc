#include "lib/telemetry/publisher.h"

#include <rte_ethdev.h>

#include <algorithm>
#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/incident/early.h"
#include "lib/incident/json_writer.h"
#include "lib/pipeline/port.h"

namespace edgecap::telemetry {
namespace {

uint64_t Load(const std::atomic<uint64_t>& a) {
  return a.load(std::memory_order_relaxed);
}

std::string RcodeName(int rcode) {
  static constexpr const char* kNames[] = {
      "noerror",  "formerr", "servfail", "nxdomain", "notimp", "refused",
      "yxdomain", "yxrrset", "nxrrset",  "notauth",  "notzone"};
  if (rcode < static_cast<int>(std::size(kNames))) return kNames[rcode];
  return absl::StrCat("rcode", rcode);
}

Json Failures(const std::array<uint64_t, flow::kFailCount>& f, bool all) {
  Json out = Json::object();
  for (int k = 0; k < flow::kFailCount; ++k) {
    if (all || f[k] != 0) {
      out[std::string(flow::FailName(static_cast<flow::Fail>(k)))] = f[k];
    }
  }
  return out;
}

Json Time(int64_t ns) {
  if (ns == std::numeric_limits<int64_t>::min() || ns == pipeline::kEndOfTime) {
    return "";
  }
  return incident::Rfc3339(ns);
}

}  // namespace

Json ServerJson(const ServerRow& r) {
  return {{"ip", flow::IpToString(r.server.ip)},
          {"port", r.server.port},
          {"transport", incident::TransportName(r.server.transport)},
          {"queries", r.queries},
          {"answered", r.answered},
          {"failed", r.failed},
          {"nxdomain", r.nxdomain},
          {"unresolved", r.unresolved},
          {"failures", Failures(r.failures, false)},
          {"latency_us",
           {{"p50", r.LatencyQuantileUs(0.5)},
            {"p90", r.LatencyQuantileUs(0.9)},
            {"p99", r.LatencyQuantileUs(0.99)}}}};
}

std::string OpenIncidentId(const incident::Incident& i) {
  const std::string key =
      absl::StrCat(std::string(incident::KindName(i.kind)), "|",
                   flow::IpToString(i.server.ip), "|", i.server.port, "|",
                   incident::TransportName(i.server.transport), "|", i.domain,
                   "|", i.rule.id);
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrCat("open-", absl::Hex(h, absl::kZeroPad16));
}

std::shared_ptr<const IncidentEntry> MakeEntry(const incident::Incident& i) {
  auto e = std::make_shared<IncidentEntry>();
  e->id = i.id;
  e->open = i.open;
  e->record = incident::ToJson(i);
  e->brief = {{"id", i.id},
              {"kind", std::string(incident::KindName(i.kind))},
              {"state", i.open ? "open" : "closed"},
              {"severity", i.severity},
              {"server",
               {{"ip", flow::IpToString(i.server.ip)},
                {"port", i.server.port},
                {"transport", incident::TransportName(i.server.transport)}}},
              {"first_seen", incident::Rfc3339(i.first_seen_ns)},
              {"last_seen", incident::Rfc3339(i.last_seen_ns)},
              {"queries", i.queries},
              {"failed", i.failed()},
              {"clients", i.client_count}};
  if (!i.domain.empty()) e->brief["domain"] = i.domain;
  if (i.kind == incident::Kind::kWatchlist) e->brief["rule"] = i.rule.id;
  return e;
}

Publisher::Publisher(Sources sources, Json config, SnapshotStore* store)
    : sources_(std::move(sources)),
      config_(std::move(config)),
      store_(store),
      start_(absl::Now()) {}

void Publisher::OnIncident(const incident::Incident& incident) {
  incidents_.push_back(MakeEntry(incident));
}

void Publisher::SetIncidents(const std::vector<incident::Incident>& list) {
  incidents_.clear();
  for (const incident::Incident& i : list) incidents_.push_back(MakeEntry(i));
}

Json Publisher::Stats(int64_t packet_time_ns, bool final) const {
  uint64_t processed = 0, bytes = 0, ring_full = 0, resteered = 0;
  const pipeline::Pipeline* pipe = sources_.pipeline;
  if (pipe != nullptr) {
    for (uint16_t w = 0; w < pipe->config().workers; ++w) {
      const pipeline::WorkerCounters& c = pipe->worker(w);
      processed += Load(c.packets);
      bytes += Load(c.bytes);
      ring_full += Load(c.ring_full);
      resteered += Load(c.resteered_out);
    }
    ring_full += Load(pipe->dispatcher().ring_full);
  }
  uint64_t queries = 0, responses = 0, undecodable = 0, retries = 0,
           unmatched = 0, late = 0, icmp = 0, icmp_matched = 0,
           icmp_orphans = 0, syns = 0, tcp_refused = 0, timeouts = 0,
           evictions = 0, pending = 0, no_query_frame = 0;
  for (const pipeline::FlowWorkerEngine* f : sources_.flow) {
    const pipeline::FlowCounters& c = f->counters();
    queries += Load(c.dns_queries);
    responses += Load(c.dns_responses);
    undecodable += Load(c.dns_undecodable);
    retries += Load(c.retries);
    unmatched += Load(c.unmatched_responses);
    late += Load(c.late_responses);
    icmp += Load(c.icmp_errors);
    icmp_matched += Load(c.icmp_matched);
    icmp_orphans += Load(c.icmp_orphans);
    syns += Load(c.tcp_syns);
    tcp_refused += Load(c.tcp_refused);
    timeouts += Load(c.timeouts);
    evictions += Load(c.evictions);
    pending += Load(c.table_entries);
    no_query_frame += Load(c.failures_without_query_frame);
  }
  pipeline::PortDrops drops;
  for (uint16_t p : sources_.ports) {
    const pipeline::PortDrops d = pipeline::ReadPortDrops(p);
    drops.ipackets += d.ipackets;
    drops.imissed += d.imissed;
    drops.ierrors += d.ierrors;
    drops.rx_nombuf += d.rx_nombuf;
  }
  const ServerRow& t = board_.totals();
  Json rcodes = Json::object();
  for (int r = 0; r < 16; ++r) {
    if (t.rcodes[r] != 0) rcodes[RcodeName(r)] = t.rcodes[r];
  }
  incident::DetectorStats det;
  int64_t counted_below = std::numeric_limits<int64_t>::min();
  if (sources_.stats != nullptr) {
    det = sources_.stats->detector().stats();
    const int64_t s = sources_.stats->detector().processed_below();
    if (s != std::numeric_limits<int64_t>::min()) {
      counted_below = s * flow::kNsPerSecond;
    }
  }
  uint64_t listed_open = 0;
  for (const auto& e : incidents_) listed_open += e->open ? 1 : 0;
  return {
      {"mode", sources_.offline ? "offline" : "live"},
      {"input_done", final ? 1 : 0},
      {"uptime_ms",
       static_cast<uint64_t>(absl::ToInt64Milliseconds(absl::Now() - start_))},
      {"packet_time", Time(packet_time_ns)},
      {"packets",
       {{"received", drops.ipackets},
        {"processed", processed},
        {"bytes", bytes},
        {"resteered_icmp", resteered}}},
      {"dns",
       {{"queries", queries},
        {"responses", responses},
        {"undecodable", undecodable},
        {"retries", retries},
        {"unmatched_responses", unmatched},
        {"late_responses", late},
        {"tcp_syns", syns},
        {"tcp_refused", tcp_refused},
        {"rcodes", rcodes}}},
      {"icmp",
       {{"errors", icmp},
        {"matched", icmp_matched},
        {"orphans", icmp_orphans},
        {"by_kind",
         {{"port_unreachable", t.failures[int(flow::Fail::kIcmpPort)]},
          {"host_unreachable", t.failures[int(flow::Fail::kIcmpHost)]},
          {"net_unreachable", t.failures[int(flow::Fail::kIcmpNet)]},
          {"admin_prohibited", t.failures[int(flow::Fail::kIcmpAdmin)]}}}}},
      // Final outcomes, per query-time second, once that second is closed
      // (every worker's watermark past it plus the hold time).
      {"transactions",
       {{"counted_below", Time(counted_below)},
        {"total", t.queries},
        {"answered", t.answered},
        {"nxdomain", t.nxdomain},
        {"failed", t.failed},
        {"unresolved", t.unresolved},
        {"failures", Failures(t.failures, true)},
        {"pending", pending},
        {"expired", timeouts},
        {"evicted", evictions}}},
      {"drops",
       {{"imissed", drops.imissed},
        {"ierrors", drops.ierrors},
        {"rx_nombuf", drops.rx_nombuf},
        {"ring_full", ring_full},
        {"table_evictions", evictions},
        {"detector_dropped_details", det.dropped_details},
        {"failure_query_frames_dropped", no_query_frame},
        {"watchlist_dropped", det.watchlist_dropped},
        {"watchlist_evidence_dropped", det.watchlist_evidence_dropped}}},
      {"incidents",
       {{"opened", det.incidents_opened + det.storms_opened},
        {"closed", det.incidents_closed},
        {"listed", incidents_.size()},
        {"listed_open", listed_open},
        {"listed_closed", incidents_.size() - listed_open},
        {"early_opens", det.early_opens},
        {"early_opens_confirmed", det.early_opens_confirmed},
        {"early_opens_unconfirmed", det.early_opens_unconfirmed}}},
      {"servers_tracked", det.servers_tracked},
  };
}

Json Publisher::Workers() {
  Json rows = Json::array();
  const pipeline::Pipeline* pipe = sources_.pipeline;
  if (pipe == nullptr) return {{"workers", rows}};
  const pipeline::PipelineConfig& cfg = pipe->config();
  last_polls_.resize(cfg.workers, 0);
  last_idle_.resize(cfg.workers, 0);
  for (uint16_t w = 0; w < cfg.workers; ++w) {
    const pipeline::WorkerCounters& c = pipe->worker(w);
    Json queues = Json::array();
    for (uint16_t p : cfg.ports) {
      if (cfg.hardware_dispatch) {
        queues.push_back(absl::StrCat("port ", p, " queue ", w));
      } else {
        queues.push_back(absl::StrCat("ring from dispatcher"));
        break;
      }
    }
    const uint64_t polls = Load(c.polls), idle = Load(c.idle_polls);
    const uint64_t dp = polls - last_polls_[w], di = idle - last_idle_[w];
    last_polls_[w] = polls;
    last_idle_[w] = idle;
    Json row = {
        {"worker", w},
        {"lcore", cfg.worker_lcores[w]},
        {"queues", queues},
        {"packets", Load(c.packets)},
        {"bytes", Load(c.bytes)},
        {"bursts", Load(c.bursts)},
        {"polls", polls},
        {"idle_permille", polls == 0 ? 0 : idle * 1000 / polls},
        {"idle_permille_recent", dp == 0 ? 0 : di * 1000 / dp},
        {"ring_drops", Load(c.ring_full)},
        {"resteered_out", Load(c.resteered_out)},
        {"resteered_in", Load(c.resteered_in)},
        {"watermark", Time(c.watermark.load(std::memory_order_relaxed))},
        {"finished", c.finished.load(std::memory_order_relaxed) ? 1 : 0}};
    if (w < sources_.flow.size()) {
      const pipeline::FlowCounters& f = sources_.flow[w]->counters();
      row["table_entries"] = Load(f.table_entries);
      row["table_capacity"] = Load(f.table_capacity);
      row["dns_queries"] = Load(f.dns_queries);
      row["timeouts"] = Load(f.timeouts);
      row["evictions"] = Load(f.evictions);
    }
    rows.push_back(std::move(row));
  }
  Json out = {{"count", cfg.workers},
              {"dispatch", cfg.hardware_dispatch ? "hw" : "sw"},
              {"workers", rows}};
  if (!cfg.hardware_dispatch) {
    const pipeline::DispatcherCounters& d = pipe->dispatcher();
    out["dispatcher"] = {{"lcore", cfg.dispatcher_lcore},
                         {"packets", Load(d.packets)},
                         {"ring_drops", Load(d.ring_full)},
                         {"ring_waits", Load(d.ring_waits)}};
  }
  return out;
}

Json Publisher::Servers() const {
  Json rows = Json::array();
  for (const ServerRow& r : board_.Top(kMaxServers)) {
    rows.push_back(ServerJson(r));
  }
  return rows;
}

void Publisher::Publish(int64_t packet_time_ns, bool final) {
  auto s = std::make_shared<Snapshot>();
  s->generation = ++generation_;
  s->final = final;
  s->stats = Stats(packet_time_ns, final);
  s->workers = Workers();
  s->config = config_;
  s->servers = Servers();
  s->servers_tracked = board_.size();
  s->incidents = incidents_;
  // While running, the incidents open right now follow the written ones
  // (live, incidents are written when they close), early ones marked.
  if (!final && sources_.stats != nullptr) {
    for (const incident::OpenIncident& o :
         sources_.stats->detector().OpenIncidents()) {
      auto e = std::make_shared<IncidentEntry>(*MakeEntry(o.incident));
      e->id = OpenIncidentId(o.incident);
      e->brief["id"] = e->id;
      e->record["id"] = e->id;
      e->brief["early"] = o.early;
      s->incidents.push_back(std::move(e));
    }
  }
  store_->Publish(std::move(s));
}

}  // namespace edgecap::telemetry
