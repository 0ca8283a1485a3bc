// The named scenarios of issue 3. Each fills a Scene with frames and logs the
// transactions its ground truth comes from; `expected_incidents` is what the
// scenario was designed to produce, checked against the computed truth so a
// design slip cannot silently change a capture's meaning.
//
//   gen::Scene scene(seed, /*log=*/true);
//   const gen::Scenario* s = gen::FindScenario("outage");
//   s->build(&scene, gen::ScenarioOptions{seed, packets});
#ifndef EDGECAP_APPS_EDGECAP_GEN_SCENARIOS_H_
#define EDGECAP_APPS_EDGECAP_GEN_SCENARIOS_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "apps/edgecap-gen/scene.h"

namespace edgecap::gen {

// 2024-03-14T00:00:00Z: every scenario happens on this UTC day.
inline constexpr int64_t kDay = 1710374400LL * kSec;

struct ScenarioOptions {
  uint64_t seed = 1;
  uint64_t packets = 1000000;  // `mix` only
  // `mix` only, 0: its usual 7000 clients and 50 servers. Otherwise that
  // many distinct clients (5/7 IPv4, 2/7 IPv6) and servers (4/5 IPv4), for
  // measuring cost growth.
  uint64_t clients = 0;
  uint64_t servers = 0;
};

struct Scenario {
  std::string_view name;
  std::string_view description;
  bool logs_transactions;  // false: the truth has counts but no incidents
  int expected_incidents;  // -1 when not checked
  void (*build)(Scene* scene, const ScenarioOptions& options);
};

std::span<const Scenario> AllScenarios();
const Scenario* FindScenario(std::string_view name);

}  // namespace edgecap::gen

#endif  // EDGECAP_APPS_EDGECAP_GEN_SCENARIOS_H_
