// The fuzz input format shared by decode_fuzz and fuzz_seeds: the first byte
// picks the link type (modulo the table), the rest is one captured frame.
//
//   LinkType link = kFuzzLinkTypes[data[0] % kFuzzLinkTypes.size()];
#ifndef EDGECAP_TESTS_FUZZ_FUZZ_INPUT_H_
#define EDGECAP_TESTS_FUZZ_FUZZ_INPUT_H_

#include <array>

#include "lib/parse/packet.h"

namespace edgecap::fuzz {

inline constexpr std::array<parse::LinkType, 7> kFuzzLinkTypes = {
    parse::LinkType::kEthernet, parse::LinkType::kRaw,
    parse::LinkType::kLinuxSll, parse::LinkType::kLinuxSll2,
    parse::LinkType::kNull,     parse::LinkType::kIpv4,
    parse::LinkType::kIpv6,
};

}  // namespace edgecap::fuzz

#endif  // EDGECAP_TESTS_FUZZ_FUZZ_INPUT_H_
