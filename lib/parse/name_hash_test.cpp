#include "lib/parse/name_hash.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace edgecap::parse::name_hash {
namespace {

// Blocks drawn from bytes the fold treats differently: letters of both
// cases, the bytes around 'A'..'Z', bytes >= 0x80 (0xc1 and 0xe1 differ by
// 0x20 too) and zeros.
std::vector<uint8_t> RandomBlock(std::mt19937* rng) {
  static constexpr uint8_t kBytes[] = {0,    1,    '@',  'A', 'M', 'Z',  '[',
                                       '`',  'a',  'z',  '{', 63,  0x7f, 0x80,
                                       0xc1, 0xe1, 0xff, '-', '.'};
  std::vector<uint8_t> b(kBlock);
  for (uint8_t& x : b) x = kBytes[(*rng)() % sizeof(kBytes)];
  return b;
}

// The vector NH must give the portable one's sums exactly: a name's hash
// is only comparable within one build, but a lane or key mix-up that keeps
// the hash deterministic would quietly weaken it, and no other test sees
// that. Random keys, all sixteen halves of each.
TEST(NameHashTest, VectorNhEqualsPortableNh) {
#if defined(EDGECAP_NAME_HASH_AVX512)
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) {
    alignas(64) std::array<uint32_t, 16> ka, kb;
    for (uint32_t& k : ka) k = static_cast<uint32_t>(rng());
    for (uint32_t& k : kb) k = static_cast<uint32_t>(rng());
    const std::vector<uint8_t> block = RandomBlock(&rng);
    const size_t len = 1 + rng() % kBlock;
    std::vector<uint8_t> padded(kBlock, 0);
    std::copy(block.begin(), block.begin() + len, padded.begin());
    uint64_t a = 0, b = 0, va = 0, vb = 0;
    NhBlock(padded.data(), ka.data(), kb.data(), &a, &b);
    Nh8(FoldedBlock(block.data(), len), ka.data(), kb.data(), &va, &vb);
    ASSERT_EQ(va, a) << i;
    ASSERT_EQ(vb, b) << i;
  }
#else
  GTEST_SKIP() << "no AVX-512 in this build: the portable NH is the only one";
#endif
}

// NhBlock against the definition written out with 32-bit halves, and the
// two keys independent: swapping them changes both sums.
TEST(NameHashTest, NhIsTheSumOfKeyedHalfProducts) {
  std::mt19937 rng(5);
  for (int i = 0; i < 200; ++i) {
    std::array<uint32_t, 16> ka, kb;
    for (uint32_t& k : ka) k = static_cast<uint32_t>(rng());
    for (uint32_t& k : kb) k = static_cast<uint32_t>(rng());
    const std::vector<uint8_t> block = RandomBlock(&rng);
    uint64_t want = 0;
    for (size_t w = 0; w < 8; ++w) {
      uint32_t half[2];
      for (int h = 0; h < 2; ++h) {
        uint32_t v = 0;
        for (int k = 3; k >= 0; --k) {
          uint8_t c = block[8 * w + 4 * h + k];
          if (c >= 'A' && c <= 'Z') c = static_cast<uint8_t>(c + 32);
          v = v << 8 | c;
        }
        half[h] = v + ka[2 * w + h];
      }
      want += uint64_t{half[0]} * half[1];
    }
    uint64_t a = 0, b = 0;
    NhBlock(block.data(), ka.data(), kb.data(), &a, &b);
    ASSERT_EQ(a, want) << i;
    uint64_t sa = 0, sb = 0;
    NhBlock(block.data(), kb.data(), ka.data(), &sa, &sb);
    EXPECT_EQ(sa, b);
    EXPECT_EQ(sb, a);
  }
}

// The one-block shortcut of the question decoder (the block loaded before
// the name's end was known) equals HashLabels; so does every prefix length.
TEST(NameHashTest, FoldedNameEqualsHashLabels) {
#if defined(EDGECAP_NAME_HASH_AVX512)
  std::mt19937 rng(9);
  for (int i = 0; i < 500; ++i) {
    const std::vector<uint8_t> block = RandomBlock(&rng);
    const __m512i folded = FoldedBlock(block.data(), kBlock);
    for (size_t n = 1; n <= kBlock; n += 1 + rng() % 7) {
      ASSERT_EQ(HashFoldedName(folded, n), HashLabels(block.data(), n)) << n;
    }
  }
#else
  GTEST_SKIP() << "no AVX-512 in this build: no one-block shortcut";
#endif
}

}  // namespace
}  // namespace edgecap::parse::name_hash
