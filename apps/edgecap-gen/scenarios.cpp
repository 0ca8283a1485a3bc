#include "apps/edgecap-gen/scenarios.h"

#include <algorithm>
#include <string>

#include "apps/edgecap-gen/malformed.h"
#include "apps/edgecap-gen/watchlist.h"
#include "apps/edgecap-gen/world.h"

namespace edgecap::gen {
namespace {

// Scenarios with background traffic run 13:00:00-13:20:00 UTC; a fault runs
// 13:05:00-13:10:00. The victim had answered traffic in the 300 s before, so
// the failure ratio crosses 0.5 about 150 s into the fault (a clear margin
// both ways), and first_seen is the fault's first query regardless.
constexpr int64_t kT0 = kDay + 13 * 3600 * kSec;
constexpr int64_t kEnd = kT0 + 1200 * kSec;
constexpr int64_t kFaultStart = kT0 + 300 * kSec;
constexpr int64_t kFaultEnd = kT0 + 600 * kSec;
constexpr double kNxdomainShare = 0.03;

struct Fault {
  int64_t start = kFaultStart, end = kFaultEnd;
  void (*apply)(Rng* rng, TxnSpec* spec) = nullptr;
};

int64_t EvidenceTime(const TxnSpec& s) {
  const int64_t last_tx = s.t + s.retransmits * s.retransmit_gap;
  return s.reply == Reply::kSilent ? last_tx : last_tx + s.delay;
}

// One server's traffic over [from, to). During a fault every query fails as
// `apply` says. Then the server recovers: three answered queries 2, 4 and 6 s
// after the last failure evidence, and no query at all until 40 s after it,
// so the incident's close (10 s after the last failure) falls in a gap and
// every reading of "recovery" counts the same transactions.
void ServerTraffic(Scene* scene, const World& w, const Ip& server, double qps,
                   int64_t from, int64_t to, const Fault* fault) {
  Rng* rng = &scene->rng();
  int64_t last_evidence = 0;
  bool recovered = false;
  for (int64_t t = from + Gap(rng, qps); t < to;) {
    if (fault != nullptr && t >= fault->start && t < fault->end) {
      TxnSpec s = Ordinary(rng, w, server, t, 0);
      fault->apply(rng, &s);
      scene->Dns(s);
      last_evidence = std::max(last_evidence, EvidenceTime(s));
      t += Gap(rng, qps);
      continue;
    }
    if (fault != nullptr && t >= fault->end && !recovered) {
      for (int k = 1; k <= 3; ++k) {
        TxnSpec s = Ordinary(rng, w, server, last_evidence + 2 * k * kSec, 0);
        scene->Dns(s);
      }
      t = std::max(t, last_evidence + 40 * kSec);
      recovered = true;
      continue;
    }
    scene->Dns(Ordinary(rng, w, server, t, kNxdomainShare));
    t += Gap(rng, qps);
  }
}

constexpr double kServerQps[4] = {2, 4, 3, 2};

// Four resolvers with background traffic; `faults[i]` (if set) hits server i.
void Resolvers(Scene* scene, const World& w, const Fault* const faults[4]) {
  for (int i = 0; i < 4; ++i) {
    ServerTraffic(scene, w, w.servers[i], kServerQps[i], kT0, kEnd, faults[i]);
  }
}

void PortUnreachable(Rng* rng, TxnSpec* s) {
  s->reply = Reply::kIcmp;
  s->icmp_code = s->client.version == 4 ? 3 : 4;
  s->delay = rng->Range(100, 1500) * kUs;
}

void OutageOn(Scene* scene, bool v6) {
  const World w = MakeWorld(&scene->rng(), v6, 60, 800);
  const Fault fault{kFaultStart, kFaultEnd, PortUnreachable};
  const Fault* faults[4] = {&fault, nullptr, nullptr, nullptr};
  Resolvers(scene, w, faults);
}

void Outage(Scene* scene, const ScenarioOptions&) { OutageOn(scene, false); }
void Ipv6Outage(Scene* scene, const ScenarioOptions&) { OutageOn(scene, true); }

void Vlan(Scene* scene, const ScenarioOptions&) {
  scene->set_vlan(true);
  OutageOn(scene, false);
}

void Malformed(Scene* scene, const ScenarioOptions& o) {
  OutageOn(scene, false);
  // Own random stream: the outage's frames and truth stay exactly those of
  // `outage` with the same seed.
  Rng rng(o.seed ^ 0x6d616c666f726d65ULL);
  const World w = MakeWorld(&rng, false, 20, 50);
  InterleaveMalformed(scene, &rng, w, w.servers[1], kT0, kEnd);
}

// A firewall in front of the server rejects with admin-prohibited (13) or
// net-prohibited (9); the host's own filter answers host-prohibited (10).
void Firewall(Scene* scene, const ScenarioOptions&) {
  const World w = MakeWorld(&scene->rng(), false, 60, 800);
  const Fault fault{kFaultStart, kFaultEnd, [](Rng* rng, TxnSpec* s) {
                      s->reply = Reply::kIcmp;
                      s->delay = rng->Range(100, 900) * kUs;
                      const uint64_t r = rng->Below(10);
                      if (r < 8) {
                        s->icmp_code = r < 6 ? 13 : 9;
                        s->reporter = Ip::V4(198, 51, 100, 254);
                        s->has_reporter = true;
                        s->reporter_is_router = true;
                      } else {
                        s->icmp_code = 10;
                      }
                    }};
  const Fault* faults[4] = {&fault, nullptr, nullptr, nullptr};
  Resolvers(scene, w, faults);
}

// A router answers for two servers it cannot reach: host unreachable after
// its 3 s ARP timeout for one, net unreachable at once for the other (later).
void RouterUnreachable(Scene* scene, const ScenarioOptions&) {
  const World w = MakeWorld(&scene->rng(), false, 60, 800);
  const Fault host{kFaultStart, kFaultEnd, [](Rng* rng, TxnSpec* s) {
                     s->reply = Reply::kIcmp;
                     s->icmp_code = 1;
                     s->delay = 3 * kSec + rng->Range(0, 200) * kUs;
                     s->reporter = Ip::V4(192, 0, 2, 1);
                     s->has_reporter = s->reporter_is_router = true;
                   }};
  const Fault net{kFaultEnd + 100 * kSec, kFaultEnd + 400 * kSec,
                  [](Rng* rng, TxnSpec* s) {
                    s->reply = Reply::kIcmp;
                    s->icmp_code = 0;
                    s->delay = rng->Range(200, 800) * kUs;
                    s->reporter = Ip::V4(192, 0, 2, 1);
                    s->has_reporter = s->reporter_is_router = true;
                  }};
  const Fault* faults[4] = {&host, nullptr, &net, nullptr};
  Resolvers(scene, w, faults);
}

// The server stops answering; stub resolvers retransmit after 2 s.
void Timeouts(Scene* scene, const ScenarioOptions&) {
  const World w = MakeWorld(&scene->rng(), false, 60, 800);
  const Fault fault{kFaultStart, kFaultEnd, [](Rng* rng, TxnSpec* s) {
                      s->reply = Reply::kSilent;
                      const uint64_t r = rng->Below(10);
                      s->retransmits = r < 4 ? 1 : r < 5 ? 2 : 0;
                      s->retransmit_gap = 2 * kSec;
                    }};
  const Fault* faults[4] = {&fault, nullptr, nullptr, nullptr};
  Resolvers(scene, w, faults);
}

// A resolver whose upstreams fail answers SERVFAIL, often after its own
// upstream timeouts (up to 3 s, still inside the client's 5 s).
void Servfail(Scene* scene, const ScenarioOptions&) {
  const World w = MakeWorld(&scene->rng(), false, 60, 800);
  const Fault fault{kFaultStart, kFaultEnd, [](Rng* rng, TxnSpec* s) {
                      s->rcode = kRcodeServFail;
                      s->delay = rng->Range(50, 3000) * kMs;
                    }};
  const Fault* faults[4] = {&fault, nullptr, nullptr, nullptr};
  Resolvers(scene, w, faults);
}

// A resolver whose ACL lost the clients' prefix answers REFUSED at once.
void Refused(Scene* scene, const ScenarioOptions&) {
  const World w = MakeWorld(&scene->rng(), false, 60, 800);
  const Fault fault{kFaultStart, kFaultEnd, [](Rng* rng, TxnSpec* s) {
                      s->rcode = kRcodeRefused;
                      s->delay = rng->Range(200, 1000) * kUs;
                    }};
  const Fault* faults[4] = {&fault, nullptr, nullptr, nullptr};
  Resolvers(scene, w, faults);
}

// Twelve bots ask resolver 198.51.100.53 for random names under one domain,
// 40 per second for 120 s, all answered NXDOMAIN; then the flood stops.
void NxdomainStorm(Scene* scene, const ScenarioOptions&) {
  const World w = MakeWorld(&scene->rng(), false, 60, 800);
  const Fault* faults[4] = {nullptr, nullptr, nullptr, nullptr};
  Resolvers(scene, w, faults);
  Rng* rng = &scene->rng();
  const std::string domain = "onlinebank-example.com";
  for (int64_t t = kFaultStart; t < kFaultStart + 120 * kSec;
       t += Gap(rng, 40)) {
    const std::string qname = RandomLabel(rng, 8, 16) + "." + domain;
    TxnSpec s = Ordinary(rng, w, w.servers[2], t, 0);
    s.client = w.clients[rng->Below(12)];
    s.qname = qname;
    s.qtype = kTypeA;
    s.rcode = kRcodeNxDomain;
    s.delay = rng->Range(20, 120) * kMs;
    scene->Dns(s);
  }
}

// A day in the life: v4 and v6, A/AAAA/MX/TXT/HTTPS, normal NXDOMAIN, DNS
// over TCP, retransmissions, late answers (after the 5 s timeout: a timeout
// each, one in 300 transactions) some of which the client's closed socket
// rejects with ICMP port unreachable, rare SERVFAIL. Every server stays far
// below every threshold.
void Healthy(Scene* scene, const ScenarioOptions&) {
  Rng* rng = &scene->rng();
  const World v4 = MakeWorld(rng, false, 90, 1500);
  World v6 = MakeWorld(rng, true, 30, 1);
  v6.names = v4.names;
  const int64_t end = kT0 + 900 * kSec;
  struct Stream {
    const World* world;
    Ip server;
    double qps;
  };
  const Stream streams[] = {{&v4, v4.servers[0], 5}, {&v4, v4.servers[1], 4},
                            {&v4, v4.servers[2], 3}, {&v4, v4.servers[3], 3},
                            {&v6, v6.servers[0], 3}, {&v6, v6.servers[1], 2}};
  for (const Stream& st : streams) {
    for (int64_t t = kT0 + Gap(rng, st.qps); t < end; t += Gap(rng, st.qps)) {
      TxnSpec s = Ordinary(rng, *st.world, st.server, t, 0.04);
      const uint64_t r = rng->Below(1000);
      if (r < 20) {
        s.tcp = true;
        s.delay = rng->Range(1, 20) * kMs;
      } else if (r < 50) {
        s.retransmits = 1;
        s.retransmit_gap = kSec;
      } else if (r < 53) {
        s.delay = rng->Range(6000, 9000) * kMs;
        s.client_rejects_answer = rng->Chance(0.5);
      } else if (r < 55) {
        s.rcode = kRcodeServFail;
      }
      scene->Dns(s);
    }
  }
}

// The original incident's six packets (issue 3), on 2024-03-14.
void Seed(Scene* scene, const ScenarioOptions&) {
  constexpr int64_t kBase = kDay + (13 * 3600 + 24 * 60) * kSec;  // 13:24
  struct Pair {
    int64_t query, icmp;  // µs after 13:24:00
  };
  static constexpr Pair kPairs[] = {
      {32192571, 36098564}, {152192571, 195934126}, {272192571, 290022967}};
  for (const Pair& p : kPairs) {
    TxnSpec s;
    s.t = kBase + p.query * kUs;
    s.client = Ip::V4(192, 51, 100, 15);
    s.client_port = 52444;
    s.server = Ip::V4(203, 0, 113, 2);
    s.txid = 35084;
    s.qname = "yummyrecipesforme.com";
    s.qtype = kTypeA;
    s.reply = Reply::kIcmp;
    s.icmp_code = 3;
    s.delay = (p.icmp - p.query) * kUs;
    scene->Dns(s);
  }
}

// Throughput mix: ~100k packets per second of capture time, 7000 clients,
// 50 servers, 20000 names; outcomes in rough resolver proportions.
void Mix(Scene* scene, const ScenarioOptions& o) {
  Rng* rng = &scene->rng();
  World v4 = MakeWorld(rng, false, o.clients ? 1 : 5000, 20000);
  World v6 = MakeWorld(rng, true, o.clients ? 1 : 2000, 1);
  v6.names = v4.names;
  if (o.clients != 0) {
    // Sequential addresses: MakeWorld draws from a /16, too small for 1M.
    const uint64_t n6 = std::max<uint64_t>(1, o.clients * 2 / 7);
    const uint64_t n4 = std::max<uint64_t>(1, o.clients - n6);
    v4.clients.clear();
    v6.clients.clear();
    for (uint64_t i = 0; i < n4; ++i)
      v4.clients.push_back(Ip::V4(0x0a000001u + static_cast<uint32_t>(i)));
    for (uint64_t i = 0; i < n6; ++i)
      v6.clients.push_back(Ip::V6(0xd, 1 + static_cast<uint32_t>(i)));
  }
  const uint64_t n6 = o.servers ? std::max<uint64_t>(1, o.servers / 5) : 10;
  const uint64_t n4 =
      o.servers ? std::max<uint64_t>(1, o.servers - o.servers / 5) : 40;
  std::vector<Ip> servers4, servers6;
  for (uint32_t i = 0; i < n4; ++i)
    servers4.push_back(Ip::V4(0xcb007100u + 10 + i));
  for (uint32_t i = 0; i < n6; ++i) servers6.push_back(Ip::V6(0x53, 0x100 + i));
  scene->Reserve(o.packets);
  int64_t t = kT0;
  while (scene->frame_count() < o.packets) {
    const bool is_v6 = rng->Below(4) == 0;
    const World& w = is_v6 ? v6 : v4;
    const std::vector<Ip>& servers = is_v6 ? servers6 : servers4;
    TxnSpec s = Ordinary(rng, w, servers[rng->Below(servers.size())], t, 0.12);
    const uint64_t r = rng->Below(100);
    if (r < 2) {
      s.rcode = kRcodeServFail;
    } else if (r < 3) {
      s.rcode = kRcodeRefused;
    } else if (r < 7) {
      s.reply = Reply::kIcmp;
      static constexpr uint8_t kCodes4[] = {3, 3, 3, 3, 1, 13, 10, 0};
      static constexpr uint8_t kCodes6[] = {4, 4, 4, 4, 3, 1, 0, 4};
      s.icmp_code = is_v6 ? kCodes6[rng->Below(8)] : kCodes4[rng->Below(8)];
    } else if (r < 10) {
      s.reply = Reply::kSilent;
    }
    if (o.packets - scene->frame_count() == 1) s.reply = Reply::kSilent;
    scene->Dns(s);
    t += rng->Range(1, 39) * kUs;
  }
}

void WatchlistLight(Scene* scene, const ScenarioOptions& o) {
  Watchlist(scene, o, false);
}
void WatchlistLoad(Scene* scene, const ScenarioOptions& o) {
  Watchlist(scene, o, true);
}

constexpr Scenario kScenarios[] = {
    {"seed", "the original incident's six packets", true, 1, Seed},
    {"outage", "ICMP port unreachable from one of four resolvers, 5 min", true,
     1, Outage},
    {"firewall", "queries rejected with ICMP admin/net/host prohibited", true,
     1, Firewall},
    {"router-unreachable", "a router's host and net unreachable", true, 2,
     RouterUnreachable},
    {"timeouts", "a resolver stops answering", true, 1, Timeouts},
    {"servfail", "a resolver answers SERVFAIL", true, 1, Servfail},
    {"refused", "a resolver answers REFUSED", true, 1, Refused},
    {"nxdomain-storm", "random-subdomain flood against one domain", true, 1,
     NxdomainStorm},
    {"healthy", "day-in-the-life traffic, no incident", true, 0, Healthy},
    {"ipv6-outage", "outage over IPv6 with ICMPv6 port unreachable", true, 1,
     Ipv6Outage},
    {"vlan", "outage inside 802.1Q and QinQ tags", true, 1, Vlan},
    {"malformed", "outage with malformed frames interleaved", true, 1,
     Malformed},
    {"mix", "throughput mix (--packets, default 1M), counts only", false, -1,
     Mix},
    {"watchlist", "lookups of watch-listed names (writes .rules, .domains)",
     true, 6, WatchlistLight},
    {"watchlist-load", "the same among --packets of background traffic", true,
     6, WatchlistLoad},
};

}  // namespace

std::span<const Scenario> AllScenarios() { return kScenarios; }

const Scenario* FindScenario(std::string_view name) {
  for (const Scenario& s : kScenarios) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace edgecap::gen
