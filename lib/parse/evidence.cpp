#include "lib/parse/evidence.h"

namespace edgecap::parse {

std::string FormatEvidence(int64_t, LinkType, Bytes) { return {}; }  // TODO

}  // namespace edgecap::parse
