#include "lib/parse/packet.h"

namespace edgecap::parse {

bool IsSupportedLinkType(uint32_t link) {
  switch (link) {
    case 0:
    case 1:
    case 101:
    case 113:
    case 228:
    case 229:
    case 276:
      return true;
    default:
      return false;
  }
}

Anomaly DecodeFrame(LinkType, Bytes, Packet*) {
  return Anomaly::kNone;
}  // TODO

}  // namespace edgecap::parse
