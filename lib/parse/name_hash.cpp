#include "lib/parse/name_hash.h"

#include <random>

namespace edgecap::parse::name_hash {

const Keys kKeys = [] {
  std::random_device r;
  Keys k;
  k.seed = uint64_t{r()} << 32 ^ r();
  for (uint32_t& x : k.a) x = r();
  for (uint32_t& x : k.b) x = r();
  return k;
}();

}  // namespace edgecap::parse::name_hash
