// The keyed hash of a DNS name's wire labels behind DnsMessage::name_hash
// (lib/parse/dns.h): the watch-list verdict cache trusts it alone, so it is
// keyed per process, and every question of a worker goes through it, so it
// reads a name in 64-byte blocks rather than word by word.
//
// NH (UMAC's hash, RFC 4418) of the labels zero-padded to whole blocks,
// under two independent keys: for each 8-byte word of case-folded bytes,
// (low half + key) * (high half + key), the halves and keys added mod 2^32,
// summed mod 2^64. Two different names of the same number of blocks give
// equal sums under one random key with probability at most 2^-32, so under
// both at most 2^-64 (2^-62 for different block counts: an extra block's
// products can be 0). The two sums and the length are then folded into 64
// bits by multiplication: that last step has no proof, only no known attack.
// A wire name fixes its own end (the root octet), so zero padding never
// makes two names alike.
//
// Internal to lib/parse: dns.cpp and the tests.
#ifndef EDGECAP_LIB_PARSE_NAME_HASH_H_
#define EDGECAP_LIB_PARSE_NAME_HASH_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lib/parse/dns.h"

#if defined(__AVX512BW__) && defined(__BMI2__)
#define EDGECAP_NAME_HASH_AVX512 1
#include <immintrin.h>
#endif

namespace edgecap::parse::name_hash {

inline constexpr size_t kBlock = 64;  // bytes: eight words
inline constexpr size_t kBlocks = (kMaxNameLength + kBlock - 1) / kBlock;

struct Keys {
  uint64_t seed;
  // 32 bits per half word of every block.
  alignas(64) std::array<uint32_t, kBlocks * kBlock / 4> a, b;
};
// Drawn once per process (name_hash.cpp); with keys known in advance names
// can be made to collide (dns_test).
extern const Keys kKeys;

inline uint64_t Mix(uint64_t a, uint64_t b) {
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}

// Folds 'A'..'Z' to lowercase in eight arbitrary bytes (label lengths, 0..63,
// and bytes >= 0x80 are left alone).
inline uint64_t FoldCase(uint64_t x) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHighs = 0x8080808080808080ull;
  const uint64_t low7 = x & ~kHighs;  // low7 + 0x3f cannot carry out of a byte
  const uint64_t ge_a = low7 + (0x80 - 'A') * kOnes;
  const uint64_t gt_z = low7 + (0x80 - 'Z' - 1) * kOnes;
  return x | ((ge_a & ~gt_z & ~x & kHighs) >> 2);
}

// NH of one block (folded here) under keys ka and kb (16 halves each),
// added to *a and *b: the portable version, and the reference the vector
// one is tested against.
inline void NhBlock(const uint8_t* block, const uint32_t* ka,
                    const uint32_t* kb, uint64_t* a, uint64_t* b) {
  for (size_t w = 0; w < kBlock / 8; ++w) {
    uint64_t x;
    std::memcpy(&x, block + 8 * w, 8);
    x = FoldCase(x);
    const uint32_t lo = static_cast<uint32_t>(x);
    const uint32_t hi = static_cast<uint32_t>(x >> 32);
    *a += uint64_t{lo + ka[2 * w]} * uint32_t{hi + ka[2 * w + 1]};
    *b += uint64_t{lo + kb[2 * w]} * uint32_t{hi + kb[2 * w + 1]};
  }
}

#if defined(EDGECAP_NAME_HASH_AVX512)
// The first `len` (<= 64) bytes at p, case-folded, the rest zero; masked
// bytes are not read.
inline __m512i FoldedBlock(const uint8_t* p, size_t len) {
  const __mmask64 bytes = _bzhi_u64(~uint64_t{0}, static_cast<unsigned>(len));
  const __m512i v = _mm512_maskz_loadu_epi8(bytes, p);
  const __mmask64 upper = _mm512_cmplt_epu8_mask(
      _mm512_sub_epi8(v, _mm512_set1_epi8('A')), _mm512_set1_epi8(26));
  return _mm512_mask_blend_epi8(upper, v,
                                _mm512_or_si512(v, _mm512_set1_epi8(0x20)));
}

// NhBlock of a folded block in vectors: the eight products under each key,
// then both sums reduced together (a's in even lanes, b's in odd ones). The
// maskz forms, and the lanes read as a GCC vector: GCC 12's plain
// intrinsics leave a lane "maybe uninitialized".
inline void Nh8(__m512i folded, const uint32_t* ka, const uint32_t* kb,
                uint64_t* a, uint64_t* b) {
  constexpr __mmask8 kAll = 0xff;
  const __m512i xa = _mm512_add_epi32(folded, _mm512_load_si512(ka));
  const __m512i xb = _mm512_add_epi32(folded, _mm512_load_si512(kb));
  const __m512i pa =
      _mm512_maskz_mul_epu32(kAll, xa, _mm512_maskz_srli_epi64(kAll, xa, 32));
  const __m512i pb =
      _mm512_maskz_mul_epu32(kAll, xb, _mm512_maskz_srli_epi64(kAll, xb, 32));
  __m512i s = _mm512_add_epi64(_mm512_maskz_unpacklo_epi64(kAll, pa, pb),
                               _mm512_maskz_unpackhi_epi64(kAll, pa, pb));
  s = _mm512_add_epi64(s, _mm512_maskz_shuffle_i64x2(kAll, s, s, 0x4e));
  s = _mm512_add_epi64(s, _mm512_maskz_shuffle_i64x2(kAll, s, s, 0xb1));
  typedef uint64_t Lanes __attribute__((vector_size(64)));
  const Lanes sums = reinterpret_cast<Lanes>(s);
  *a += sums[0];
  *b += sums[1];
}
#endif

// The two sums and the name's length, folded into the hash.
inline uint64_t Finish(uint64_t a, uint64_t b, size_t n) {
  return Mix(a ^ Mix(kKeys.seed ^ n, 0x9e3779b97f4a7c15ull),
             b ^ 0xbf58476d1ce4e5b9ull);
}

// The hash of the n (<= kMaxNameLength) octets of wire labels at p, ending
// with the root octet. Two names have equal label sequences exactly when
// their dotted lowercase texts are equal, so this stands for a hash of the
// text without writing it. The work depends only on the number of blocks
// (one for nearly every name), where a multiply chain per word had a loop
// exit to predict and a multiply's latency per word.
inline uint64_t HashLabels(const uint8_t* p, size_t n) {
  uint64_t a = 0, b = 0;
  for (size_t off = 0, k = 0; off < n; off += kBlock, k += kBlock / 4) {
    const size_t len = std::min(kBlock, n - off);
#if defined(EDGECAP_NAME_HASH_AVX512)
    Nh8(FoldedBlock(p + off, len), &kKeys.a[k], &kKeys.b[k], &a, &b);
#else
    uint8_t block[kBlock] = {};
    std::memcpy(block, p + off, len);
    NhBlock(block, &kKeys.a[k], &kKeys.b[k], &a, &b);
#endif
  }
  return Finish(a, b, n);
}

#if defined(EDGECAP_NAME_HASH_AVX512)
// HashLabels of a name of n <= 64 octets, given the FoldedBlock of at least
// its n octets (loaded before the name's end was known).
inline uint64_t HashFoldedName(__m512i folded, size_t n) {
  uint64_t a = 0, b = 0;
  const __mmask64 name = _bzhi_u64(~uint64_t{0}, static_cast<unsigned>(n));
  Nh8(_mm512_maskz_mov_epi8(name, folded), kKeys.a.data(), kKeys.b.data(), &a,
      &b);
  return Finish(a, b, n);
}
#endif

}  // namespace edgecap::parse::name_hash

#endif  // EDGECAP_LIB_PARSE_NAME_HASH_H_
