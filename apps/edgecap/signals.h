// What the process does on signals: SIGINT/SIGTERM ask the run to stop (the
// pipeline drains and the summary is still written), SIGHUP asks for the
// watch lists to be reloaded instead of killing the appliance.
//
//   CatchReloadSignal();          // before EAL, once the rules are loaded
//   CatchStopSignals();
//   pipeline::Pipeline pipe(..., &StopRequest());
//   if (TakeReloadRequest()) ...  // stats lcore, each tick
#ifndef EDGECAP_APPS_EDGECAP_SIGNALS_H_
#define EDGECAP_APPS_EDGECAP_SIGNALS_H_

#include <atomic>

namespace edgecap::app {

// Set by SIGINT/SIGTERM, and by --duration when its time is up; the pipeline
// polls it.
std::atomic<bool>& StopRequest();
void CatchStopSignals();

// A SIGHUP is only recorded; the stats lcore reloads at its next tick.
void CatchReloadSignal();
bool TakeReloadRequest();

}  // namespace edgecap::app

#endif  // EDGECAP_APPS_EDGECAP_SIGNALS_H_
