// Malformed frames for the `malformed` scenario: truncated at every layer,
// bogus lengths and counts, DNS compression loops, ICMP errors quoting
// garbage. They go between unrelated hosts or to a healthy busy server and
// never complete or quote a real transaction, so the scenario's incidents
// stay those of the same traffic without them.
//
//   gen::InterleaveMalformed(&scene, &rng, world, world.servers[1], from, to);
#ifndef EDGECAP_APPS_EDGECAP_GEN_MALFORMED_H_
#define EDGECAP_APPS_EDGECAP_GEN_MALFORMED_H_

#include <cstdint>

#include "apps/edgecap-gen/rng.h"
#include "apps/edgecap-gen/scene.h"
#include "apps/edgecap-gen/world.h"

namespace edgecap::gen {

// Writes each kind of malformed frame kCopies times at random times.
inline constexpr int kMalformedCopies = 4;
void InterleaveMalformed(Scene* scene, Rng* rng, const World& w,
                         const Ip& server, int64_t from, int64_t to);

}  // namespace edgecap::gen

#endif  // EDGECAP_APPS_EDGECAP_GEN_MALFORMED_H_
