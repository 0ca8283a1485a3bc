// One run of the appliance once the checks before EAL have passed: DPDK and
// the ports, a flow engine per worker, the detector on the stats lcore,
// telemetry, the pipeline until the input drains or a signal stops it, then
// the outputs and the summary, and with --linger telemetry until a signal.
//
//   absl::Status s = RunAppliance(options, plan, input, watchlists.get());
#ifndef EDGECAP_APPS_EDGECAP_RUN_H_
#define EDGECAP_APPS_EDGECAP_RUN_H_

#include "absl/status/status.h"
#include "apps/edgecap/options.h"
#include "apps/edgecap/preflight.h"
#include "lib/pipeline/watchlists.h"

namespace edgecap::app {

// watchlists: nullptr without --rules; must outlive the call.
absl::Status RunAppliance(const Options& o, const Plan& plan,
                          const Input& input, pipeline::Watchlists* watchlists);

}  // namespace edgecap::app

#endif  // EDGECAP_APPS_EDGECAP_RUN_H_
