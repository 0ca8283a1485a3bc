// Deterministic pseudo-random numbers for the generator: xoshiro256** seeded
// through splitmix64. Unlike std:: distributions, the output is specified
// here bit for bit, so a seed gives the same capture on every platform.
//
//   gen::Rng rng(42);
//   uint64_t port = 1024 + rng.Below(64512);
//   if (rng.Chance(0.05)) ...
#ifndef EDGECAP_APPS_EDGECAP_GEN_RNG_H_
#define EDGECAP_APPS_EDGECAP_GEN_RNG_H_

#include <cstdint>

namespace edgecap::gen {

inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : s_) word = SplitMix64(&seed);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n) by multiply-shift: no rejection loop, so the number of
  // draws per call is fixed (the bias is below 2^-32 for our n).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >>
                                 64);
  }
  // Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  // True with probability `p`, decided on 2^-32 steps.
  bool Chance(double p) {
    return (Next() >> 32) < static_cast<uint64_t>(p * 4294967296.0);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace edgecap::gen

#endif  // EDGECAP_APPS_EDGECAP_GEN_RNG_H_
