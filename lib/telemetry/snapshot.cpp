#include "lib/telemetry/snapshot.h"

namespace edgecap::telemetry {

SnapshotStore& SnapshotStore::Global() {
  static SnapshotStore* const store = new SnapshotStore();
  return *store;
}

}  // namespace edgecap::telemetry
