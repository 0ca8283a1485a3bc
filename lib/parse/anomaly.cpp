#include "lib/parse/anomaly.h"

namespace edgecap::parse {

std::string_view AnomalyName(Anomaly anomaly) {
  (void)anomaly;
  return "todo";  // replaced by the decoder work
}

}  // namespace edgecap::parse
