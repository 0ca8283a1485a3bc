#include "apps/edgecap/signals.h"

#include <csignal>

namespace edgecap::app {
namespace {

// Handlers may only touch lock-free atomics.
std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

void OnStop(int) { g_stop.store(true, std::memory_order_relaxed); }
void OnHangup(int) { g_reload.store(true, std::memory_order_relaxed); }

}  // namespace

std::atomic<bool>& StopRequest() { return g_stop; }

void CatchStopSignals() {
  std::signal(SIGINT, OnStop);
  std::signal(SIGTERM, OnStop);
}

void CatchReloadSignal() { std::signal(SIGHUP, OnHangup); }

bool TakeReloadRequest() {
  return g_reload.exchange(false, std::memory_order_relaxed);
}

}  // namespace edgecap::app
