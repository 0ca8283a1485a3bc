// The population a scenario's traffic is drawn from (clients, servers, query
// names) and the generator of one ordinary, healthy transaction. Shared by
// the scenarios and by the malformed-frame interleaver.
//
//   gen::World w = gen::MakeWorld(&rng, /*v6=*/false, 60, 800);
//   gen::TxnSpec q = gen::Ordinary(&rng, w, w.servers[1], t, 0.03);
#ifndef EDGECAP_APPS_EDGECAP_GEN_WORLD_H_
#define EDGECAP_APPS_EDGECAP_GEN_WORLD_H_

#include <string>
#include <string_view>
#include <vector>

#include "apps/edgecap-gen/packet_builder.h"
#include "apps/edgecap-gen/rng.h"
#include "apps/edgecap-gen/scene.h"

namespace edgecap::gen {

struct World {
  std::vector<Ip> clients;
  std::vector<Ip> servers;  // four resolvers; servers[0] is the usual victim
  std::vector<std::string> names;
};

World MakeWorld(Rng* rng, bool v6, size_t clients, size_t names);

// A popular-skewed name: low indexes come up far more often.
const std::string& PickName(Rng* rng, const World& w);
uint16_t PickQtype(Rng* rng);
// Uniform gap with mean 1/qps, in whole microseconds.
int64_t Gap(Rng* rng, double qps);
// `label`: random lowercase letters and digits, as a random-subdomain flood.
std::string RandomLabel(Rng* rng, size_t min_len, size_t max_len);

// A healthy query to `server` at `t`: random client, port and txid, answered
// NOERROR (or NXDOMAIN with probability `nxdomain`) within 0.3-30 ms.
TxnSpec Ordinary(Rng* rng, const World& w, const Ip& server, int64_t t,
                 double nxdomain);

}  // namespace edgecap::gen

#endif  // EDGECAP_APPS_EDGECAP_GEN_WORLD_H_
