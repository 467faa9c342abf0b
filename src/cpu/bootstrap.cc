// The CPU twin of cuda/bootstrap.cu: multiplier bootstrap t* for one
// repetition (docs/design.md section 2):
//   t*_bj = sum_u W_bu s_uj,   s_uj = (sum of psi_ij over the unit's rows) / (n J_j se_j)
// where a unit is a row, or a cluster when clusters are given; W is a pure
// function of (seed, rep, b, unit) through Philox4x32-10 (ops/philox_weights.h
// holds the counter contract).
//
// Two samplers:
// - loop: weights drawn on the fly per (replicate, unit) in small tiles, never
//   a B x n matrix. Threads own whole replicates; each t*_bj is summed in a
//   fixed order (below), so results are bit-identical for any thread count.
//   Rademacher and Mammen weights take two values w = hi + (lo - hi) bit, so
//   t*_bj = hi S_j + (lo - hi) A_bj with S_j = sum_u s_uj and A_bj the sum of
//   s_uj over the units whose bit is 1: one masked add per (replicate, unit,
//   estimand), 128 units per Philox call for Rademacher.
// - exact (normal weights only): t*_b ~ N(0, Sigma) exactly, Sigma = sum_u s_u s_u^T;
//   t*_b = F z_b with F F^T = Sigma (pivoted LDL^T, semi-definite allowed) and
//   z_bj standard normal from Philox keyed by (seed, rep, b, j). O(n k^2 + B k^2).
//   The root and the draws are cpu/gaussian_draws.h, shared with the CATE bands.
//
// Summation order (the determinism contract of the loop sampler): units are
// padded with zero scores to a multiple of 128; lane l = u mod 8 accumulates
// its units in increasing u; the 8 lanes are reduced as
// ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)). This does not depend on tiling, thread
// count or the instruction-set path (x86-64: AVX-512, AVX2 or portable, picked
// at run time; FASTDML_BOOTSTRAP_ISA=avx2|portable caps it).
//
// The CUDA twin (cuda/bootstrap.cu) draws the same weights and sums in tiles
// (ops/bootstrap_tile.h holds its order). Validation and the device dispatch
// are src/inference/bootstrap.cc.

// No FMA contraction in this file (and no libm in the weights): every
// instruction-set path gives the same bits.
#include "cpu/no_fp_contract.h"  // first: the rest of the file rounds alike everywhere

#include "cpu/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "cpu/gaussian_draws.h"
#include "fastdml/error.h"
#include "fastdml/inference.h"
#include "fastdml/options.h"
#include "cpu/bootstrap.h"
#include "ops/bootstrap_checks.h"
#include "ops/parallel_for.h"
#include "ops/philox_weights.h"

// x86-64 gets two extra instruction-set paths chosen at run time (the build
// targets baseline x86-64): AVX2 and AVX-512. All paths give the same bits.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define FASTDML_BOOT_X86 1
#define FASTDML_TARGET_AVX2 __attribute__((target("avx2")))
#define FASTDML_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2")))
#else
#define FASTDML_BOOT_X86 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define FASTDML_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define FASTDML_ALWAYS_INLINE inline
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "bootstrap.cc packs Philox words into bytes assuming a little-endian host"
#endif

namespace fastdml {

namespace {

constexpr int kLanes = 8;                 // accumulation lanes per (b, j)
constexpr int kRb = 8;                    // replicates per sub-tile
constexpr std::size_t kPadUnits = ops::kBootstrapPadUnits;  // units padded to the Rademacher block
constexpr std::size_t kWeightTile = 512;  // units per tile, continuous weights
constexpr std::size_t kMaxMaskTile = 2048;
constexpr int kMaxLanesPhilox = 512;      // Philox lanes per fill call

// 64-byte aligned, zero-initialised array.
template <class T>
class AlignedArray {
 public:
  AlignedArray() = default;
  explicit AlignedArray(std::size_t n, bool zero = true) : n_(n) {
    if (n == 0) return;
    p_.reset(static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))));
    if (zero) std::memset(static_cast<void*>(p_.get()), 0, n * sizeof(T));
  }
  T* data() { return p_.get(); }
  const T* data() const { return p_.get(); }
  std::size_t size() const { return n_; }
  T& operator[](std::size_t i) { return p_[i]; }
  const T& operator[](std::size_t i) const { return p_[i]; }

 private:
  struct Free {
    void operator()(T* p) const { ::operator delete(static_cast<void*>(p), std::align_val_t(64)); }
  };
  std::unique_ptr<T[], Free> p_;
  std::size_t n_ = 0;
};

FASTDML_ALWAYS_INLINE double ReduceLanes(const double* a) {
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

// The bootstrap's per-unit scores, estimand-major, zero-padded.
struct UnitScores {
  std::size_t units = 0;   // rows or clusters
  std::size_t padded = 0;  // units rounded up to kPadUnits
  int k = 0;
  AlignedArray<double> s;  // s[j * padded + u]
  std::vector<double> total;  // S_j = sum_u s_uj in the lane order
};



// s_uj = (psi summed over the unit's rows, in row order) / (n J_j se_j), and
// S_j in the lane order; throws if a psi is not finite.
UnitScores PrepareUnits(const ScoreBlock& sc) {
  UnitScores us;
  us.k = sc.k;
  us.units = sc.cluster.empty() ? sc.n : static_cast<std::size_t>(sc.n_clusters);
  us.padded = (us.units + kPadUnits - 1) / kPadUnits * kPadUnits;
  const std::size_t k = static_cast<std::size_t>(sc.k);
  const bool clustered = !sc.cluster.empty();
  us.s = AlignedArray<double>(k * us.padded, /*zero=*/clustered);
  constexpr std::uint64_t kExp = 0x7FF0000000000000ull;  // all-ones exponent: inf or NaN
  for (std::size_t j = 0; j < k; ++j) {
    const double denom = ops::UnitScoreDivisor(sc, static_cast<int>(j));
    const double* p = sc.psi.data() + j * sc.n;
    double* s = us.s.data() + j * us.padded;
    std::uint64_t bad = 0;
    if (!clustered) {
      for (std::size_t i = 0; i < sc.n; ++i) {
        bad |= (ops::DoubleBits(p[i]) & kExp) == kExp;
        s[i] = p[i] / denom;
      }
      std::fill(s + sc.n, s + us.padded, 0.0);
    } else {
      for (std::size_t i = 0; i < sc.n; ++i) {
        bad |= (ops::DoubleBits(p[i]) & kExp) == kExp;
        s[sc.cluster[i]] += p[i];  // row order
      }
      for (std::size_t c = 0; c < us.units; ++c) s[c] /= denom;
    }
    if (bad) ops::ThrowNonFinitePsi(sc, j);
  }
  us.total.resize(k);
  for (std::size_t j = 0; j < k; ++j) {
    double a[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
    const double* s = us.s.data() + j * us.padded;
    for (std::size_t u = 0; u < us.padded; u += kLanes) {
      for (int l = 0; l < kLanes; ++l) a[l] += s[u + l];
    }
    us.total[j] = ReduceLanes(a);
  }
  return us;
}

// ---------------------------------------------------------------------------
// Loop sampler
// ---------------------------------------------------------------------------

struct LoopJob {
  const UnitScores* us = nullptr;
  BootstrapMethod method = BootstrapMethod::kRademacher;
  std::uint64_t seed = 0;
  std::uint32_t rep = 0;
  std::int64_t replicates = 0;
  std::size_t mask_tile = kMaxMaskTile;  // units per tile, two-point laws
  int group = kRb;                       // replicates per group (multiple of kRb)
  double* t = nullptr;                   // replicates * k
};

struct Scratch {
  AlignedArray<double> acc;        // group * k * kLanes
  AlignedArray<std::uint8_t> bits;  // kRb * (kMaxMaskTile / 8)
  AlignedArray<double> w;          // kRb * kWeightTile
  AlignedArray<std::uint32_t> c0, c1, o0, o1, o2, o3;  // Philox lanes
  explicit Scratch(const LoopJob& job)
      : acc(static_cast<std::size_t>(job.group) * job.us->k * kLanes),
        bits(kRb * (kMaxMaskTile / 8)),
        w(kRb * kWeightTile),
        c0(kMaxLanesPhilox), c1(kMaxLanesPhilox), o0(kMaxLanesPhilox), o1(kMaxLanesPhilox),
        o2(kMaxLanesPhilox), o3(kMaxLanesPhilox) {}
};

constexpr std::size_t kBitsStride = kMaxMaskTile / 8;  // bytes per replicate row

enum Isa : int { kPortable = 0, kAvx2 = 1, kAvx512 = 2 };

#if FASTDML_BOOT_X86
// GCC 12 reports the _mm*_undefined_*() inside its own intrinsics as
// maybe-uninitialized (a false positive, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// ops::PhiloxLanes with explicit 32x32->64 multiplies (vpmuludq): each
// 32-bit word lives in the low half of a 64-bit lane (the high half is junk
// that vpmuludq and the final truncation ignore), 2 x 8 lanes per step. The
// compiler's vectorisation of the portable loop uses 64-bit multiplies and is
// ~2-3x slower. Same words as ops::BootstrapPhilox (tested).
FASTDML_TARGET_AVX512 __attribute__((noinline)) void PhiloxLanesAvx512(
    int count, const std::uint32_t* c0, const std::uint32_t* c1, std::uint32_t c2,
    std::uint32_t c3, std::uint64_t seed, std::uint32_t* o0, std::uint32_t* o1,
    std::uint32_t* o2, std::uint32_t* o3) {
  __m512i k0[10], k1[10];
  std::uint32_t a = static_cast<std::uint32_t>(seed), b = static_cast<std::uint32_t>(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    k0[r] = _mm512_set1_epi64(a);
    k1[r] = _mm512_set1_epi64(b);
    a += PHILOX_W32_0;
    b += PHILOX_W32_1;
  }
  const __m512i m0 = _mm512_set1_epi64(PHILOX_M4x32_0);
  const __m512i m1 = _mm512_set1_epi64(PHILOX_M4x32_1);
  const __m512i v2 = _mm512_set1_epi64(c2);
  const __m512i v3 = _mm512_set1_epi64(c3);
  for (int i = 0; i < count; i += 16) {
    const int left = count - i;
    const __mmask8 ma = left >= 8 ? static_cast<__mmask8>(0xFF) : static_cast<__mmask8>((1u << left) - 1u);
    const __mmask8 mb = left >= 16  ? static_cast<__mmask8>(0xFF)
                        : left <= 8 ? static_cast<__mmask8>(0)
                                    : static_cast<__mmask8>((1u << (left - 8)) - 1u);
    __m512i xa0 = _mm512_cvtepu32_epi64(_mm256_maskz_loadu_epi32(ma, c0 + i));
    __m512i xa1 = _mm512_cvtepu32_epi64(_mm256_maskz_loadu_epi32(ma, c1 + i));
    __m512i xb0 = _mm512_cvtepu32_epi64(_mm256_maskz_loadu_epi32(mb, c0 + i + 8));
    __m512i xb1 = _mm512_cvtepu32_epi64(_mm256_maskz_loadu_epi32(mb, c1 + i + 8));
    __m512i xa2 = v2, xa3 = v3, xb2 = v2, xb3 = v3;
    for (int r = 0; r < 10; ++r) {
      const __m512i pa0 = _mm512_mul_epu32(xa0, m0), pa1 = _mm512_mul_epu32(xa2, m1);
      const __m512i pb0 = _mm512_mul_epu32(xb0, m0), pb1 = _mm512_mul_epu32(xb2, m1);
      // x0 = hi(M1 x2) ^ x1 ^ k0;  x1 = lo(M1 x2);  x2 = hi(M0 x0) ^ x3 ^ k1;  x3 = lo(M0 x0)
      xa0 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(pa1, 32), xa1, k0[r], 0x96);
      xb0 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(pb1, 32), xb1, k0[r], 0x96);
      xa2 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(pa0, 32), xa3, k1[r], 0x96);
      xb2 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(pb0, 32), xb3, k1[r], 0x96);
      xa1 = pa1;
      xb1 = pb1;
      xa3 = pa0;
      xb3 = pb0;
    }
    _mm512_mask_cvtepi64_storeu_epi32(o0 + i, ma, xa0);
    _mm512_mask_cvtepi64_storeu_epi32(o1 + i, ma, xa1);
    _mm512_mask_cvtepi64_storeu_epi32(o2 + i, ma, xa2);
    _mm512_mask_cvtepi64_storeu_epi32(o3 + i, ma, xa3);
    if (mb) {
      _mm512_mask_cvtepi64_storeu_epi32(o0 + i + 8, mb, xb0);
      _mm512_mask_cvtepi64_storeu_epi32(o1 + i + 8, mb, xb1);
      _mm512_mask_cvtepi64_storeu_epi32(o2 + i + 8, mb, xb2);
      _mm512_mask_cvtepi64_storeu_epi32(o3 + i + 8, mb, xb3);
    }
  }
}

// The low 32-bit words of 4 x 64-bit lanes to dst[0..3].
FASTDML_TARGET_AVX2 inline void StoreLow32x4(std::uint32_t* dst, __m256i x) {
  const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst),
                   _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(x, even)));
}

// The same with 2 x 4 lanes per step in AVX2; a ragged tail goes to the portable loop.
FASTDML_TARGET_AVX2 __attribute__((noinline)) void PhiloxLanesAvx2(
    int count, const std::uint32_t* c0, const std::uint32_t* c1, std::uint32_t c2,
    std::uint32_t c3, std::uint64_t seed, std::uint32_t* o0, std::uint32_t* o1,
    std::uint32_t* o2, std::uint32_t* o3) {
  __m256i k0[10], k1[10];
  std::uint32_t a = static_cast<std::uint32_t>(seed), b = static_cast<std::uint32_t>(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    k0[r] = _mm256_set1_epi64x(a);
    k1[r] = _mm256_set1_epi64x(b);
    a += PHILOX_W32_0;
    b += PHILOX_W32_1;
  }
  const __m256i m0 = _mm256_set1_epi64x(PHILOX_M4x32_0);
  const __m256i m1 = _mm256_set1_epi64x(PHILOX_M4x32_1);
  const __m256i v2 = _mm256_set1_epi64x(c2);
  const __m256i v3 = _mm256_set1_epi64x(c3);
  int i = 0;
  for (; i + 8 <= count; i += 8) {
    __m256i xa0 = _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c0 + i)));
    __m256i xa1 = _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c1 + i)));
    __m256i xb0 = _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c0 + i + 4)));
    __m256i xb1 = _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c1 + i + 4)));
    __m256i xa2 = v2, xa3 = v3, xb2 = v2, xb3 = v3;
    for (int r = 0; r < 10; ++r) {
      const __m256i pa0 = _mm256_mul_epu32(xa0, m0), pa1 = _mm256_mul_epu32(xa2, m1);
      const __m256i pb0 = _mm256_mul_epu32(xb0, m0), pb1 = _mm256_mul_epu32(xb2, m1);
      xa0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(pa1, 32), xa1), k0[r]);
      xb0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(pb1, 32), xb1), k0[r]);
      xa2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(pa0, 32), xa3), k1[r]);
      xb2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(pb0, 32), xb3), k1[r]);
      xa1 = pa1;
      xb1 = pb1;
      xa3 = pa0;
      xb3 = pb0;
    }
    StoreLow32x4(o0 + i, xa0);
    StoreLow32x4(o1 + i, xa1);
    StoreLow32x4(o2 + i, xa2);
    StoreLow32x4(o3 + i, xa3);
    StoreLow32x4(o0 + i + 4, xb0);
    StoreLow32x4(o1 + i + 4, xb1);
    StoreLow32x4(o2 + i + 4, xb2);
    StoreLow32x4(o3 + i + 4, xb3);
  }
  if (i < count) {
    ops::PhiloxLanes(count - i, c0 + i, c1 + i, c2, c3, seed, o0 + i, o1 + i, o2 + i, o3 + i);
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif  // FASTDML_BOOT_X86

template <int kIsa>
FASTDML_ALWAYS_INLINE void Philox(int count, const std::uint32_t* c0, const std::uint32_t* c1,
                                  std::uint32_t c2, std::uint32_t c3, std::uint64_t seed,
                                  std::uint32_t* o0, std::uint32_t* o1, std::uint32_t* o2,
                                  std::uint32_t* o3) {
#if FASTDML_BOOT_X86
  if (kIsa == kAvx512) return PhiloxLanesAvx512(count, c0, c1, c2, c3, seed, o0, o1, o2, o3);
  if (kIsa == kAvx2) return PhiloxLanesAvx2(count, c0, c1, c2, c3, seed, o0, o1, o2, o3);
#endif
  ops::PhiloxLanes(count, c0, c1, c2, c3, seed, o0, o1, o2, o3);
}

// Bits (1 = low weight) for kRb replicates from b_first, units [u0, u0 + nu).
template <int kIsa>
FASTDML_ALWAYS_INLINE void FillBits(const LoopJob& job, std::uint32_t b_first, std::size_t u0,
                                    std::size_t nu, Scratch& sc) {
  std::uint32_t* c0 = sc.c0.data();
  std::uint32_t* c1 = sc.c1.data();
  std::uint32_t* o0 = sc.o0.data();
  std::uint32_t* o1 = sc.o1.data();
  std::uint32_t* o2 = sc.o2.data();
  std::uint32_t* o3 = sc.o3.data();
  std::uint8_t* bits = sc.bits.data();
  if (job.method == BootstrapMethod::kRademacher) {
    const int nblk = static_cast<int>(nu / ops::kUnitsPerBlockRademacher);
    const std::uint32_t blk0 = static_cast<std::uint32_t>(u0 / ops::kUnitsPerBlockRademacher);
    const int lanes = kRb * nblk;  // <= 8 * 16; lane = bb * nblk + blk
    for (int bb = 0, i = 0; bb < kRb; ++bb) {
      for (int blk = 0; blk < nblk; ++blk, ++i) {
        c0[i] = blk0 + static_cast<std::uint32_t>(blk);
        c1[i] = b_first + static_cast<std::uint32_t>(bb);
      }
    }
    Philox<kIsa>(lanes, c0, c1, job.rep, ops::kStreamRademacher, job.seed, o0, o1, o2, o3);
    for (int bb = 0, i = 0; bb < kRb; ++bb) {
      std::uint8_t* dst = bits + static_cast<std::size_t>(bb) * kBitsStride;
      for (int blk = 0; blk < nblk; ++blk, ++i) {
        // Little-endian: byte c of the row holds units 8c..8c+7, LSB first.
        const std::uint32_t words[4] = {o0[i], o1[i], o2[i], o3[i]};
        std::memcpy(dst + 16 * blk, words, 16);
      }
    }
  } else {  // Mammen: one 32-bit word per unit, bit = word < threshold
    const int nblk = static_cast<int>(nu / ops::kUnitsPerBlockMammen);  // <= 512
    const std::uint32_t blk0 = static_cast<std::uint32_t>(u0 / ops::kUnitsPerBlockMammen);
    for (int i = 0; i < nblk; ++i) c0[i] = blk0 + static_cast<std::uint32_t>(i);
    for (int bb = 0; bb < kRb; ++bb) {
      for (int i = 0; i < nblk; ++i) c1[i] = b_first + static_cast<std::uint32_t>(bb);
      Philox<kIsa>(nblk, c0, c1, job.rep, ops::kStreamMammen, job.seed, o0, o1, o2, o3);
      std::uint8_t* dst = bits + static_cast<std::size_t>(bb) * kBitsStride;
      const std::uint32_t th = ops::kMammenThreshold;
      for (int c = 0; c < nblk / 2; ++c) {
        const int i = 2 * c;
        const unsigned byte =
            (o0[i] < th ? 1u : 0u) | (o1[i] < th ? 2u : 0u) | (o2[i] < th ? 4u : 0u) |
            (o3[i] < th ? 8u : 0u) | (o0[i + 1] < th ? 16u : 0u) | (o1[i + 1] < th ? 32u : 0u) |
            (o2[i + 1] < th ? 64u : 0u) | (o3[i + 1] < th ? 128u : 0u);
        dst[c] = static_cast<std::uint8_t>(byte);
      }
    }
  }
}

// Continuous weights of replicate b, units [u0, u0 + nu), into w[0..nu).
template <int kIsa>
FASTDML_ALWAYS_INLINE void FillWeights(const LoopJob& job, std::uint32_t b, std::size_t u0,
                                       std::size_t nu, Scratch& sc, double* w) {
  std::uint32_t* c0 = sc.c0.data();
  std::uint32_t* c1 = sc.c1.data();
  std::uint32_t* o0 = sc.o0.data();
  std::uint32_t* o1 = sc.o1.data();
  std::uint32_t* o2 = sc.o2.data();
  std::uint32_t* o3 = sc.o3.data();
  std::uint32_t per = ops::kUnitsPerBlockNormal, stream = ops::kStreamNormal;
  if (job.method == BootstrapMethod::kWild) {
    per = ops::kUnitsPerBlockWild;
    stream = ops::kStreamWild;
  } else if (job.method == BootstrapMethod::kBayes) {
    per = ops::kUnitsPerBlockBayes;
    stream = ops::kStreamBayes;
  }
  const int nblk = static_cast<int>(nu / per);
  const std::uint32_t blk0 = static_cast<std::uint32_t>(u0 / per);
  for (int i = 0; i < nblk; ++i) {
    c0[i] = blk0 + static_cast<std::uint32_t>(i);
    c1[i] = b;
  }
  Philox<kIsa>(nblk, c0, c1, job.rep, stream, job.seed, o0, o1, o2, o3);
  if (job.method == BootstrapMethod::kNormal) {
    for (int i = 0; i < nblk; ++i) {
      double z0, z1;
      ops::BoxMuller(o0[i], o1[i], o2[i], o3[i], &z0, &z1);
      w[2 * i] = z0;
      w[2 * i + 1] = z1;
    }
  } else if (job.method == BootstrapMethod::kWild) {
    for (int i = 0; i < nblk; ++i) {
      double xi, eta;
      ops::BoxMuller(o0[i], o1[i], o2[i], o3[i], &xi, &eta);
      w[i] = ops::WildFromNormals(xi, eta);
    }
  } else {
    for (int i = 0; i < nblk; ++i) {
      w[2 * i] = ops::BayesFromWords(o0[i], o1[i]);
      w[2 * i + 1] = ops::BayesFromWords(o2[i], o3[i]);
    }
  }
}

// ---- the (replicate, unit) kernels ---------------------------------------------
// acc[b * acc_bstride + j * kLanes + l] for kRb replicates b and KJ estimands j;
// lane l sums units 8c + l over chunks c in order.
//   MaskSums:   += s_ju where bit(b, u) = 1   (bits[b * kBitsStride + c], LSB = unit 8c)
//   WeightSums: += w_bu * s_ju                (w[b * kWeightTile + u]; product, then sum)
// Adding +0.0 for a cleared bit equals skipping it: accumulators start at +0.0
// and so never hold -0.0.

// 256 x 8 lane masks (all ones where the byte's bit is set), 16 KiB.
struct LaneMasks {
  alignas(64) std::uint64_t m[256][kLanes];
  LaneMasks() {
    for (int v = 0; v < 256; ++v)
      for (int l = 0; l < kLanes; ++l) m[v][l] = ((v >> l) & 1) ? ~0ull : 0ull;
  }
};
const LaneMasks& Masks() {
  static const LaneMasks masks;
  return masks;
}

template <int KJ>
FASTDML_ALWAYS_INLINE void MaskSumsPortable(const double* s, std::size_t s_stride,
                                            std::size_t nchunks, const std::uint8_t* bits,
                                            double* acc, std::size_t acc_bstride) {
  const auto& table = Masks().m;
  for (int b = 0; b < kRb; ++b) {
    const std::uint8_t* bb = bits + static_cast<std::size_t>(b) * kBitsStride;
    for (int j = 0; j < KJ; ++j) {
      double a[kLanes];
      double* dst = acc + b * acc_bstride + j * kLanes;
      for (int l = 0; l < kLanes; ++l) a[l] = dst[l];
      const double* sj = s + j * s_stride;
      for (std::size_t c = 0; c < nchunks; ++c) {
        const std::uint64_t* mk = table[bb[c]];  // s AND lane mask: s or +0.0
        for (int l = 0; l < kLanes; ++l) a[l] += ops::BitsDouble(ops::DoubleBits(sj[kLanes * c + l]) & mk[l]);
      }
      for (int l = 0; l < kLanes; ++l) dst[l] = a[l];
    }
  }
}

template <int KJ>
FASTDML_ALWAYS_INLINE void WeightSumsPortable(const double* s, std::size_t s_stride,
                                              std::size_t nchunks, const double* w, double* acc,
                                              std::size_t acc_bstride) {
  for (int b = 0; b < kRb; ++b) {
    const double* wb = w + static_cast<std::size_t>(b) * kWeightTile;
    for (int j = 0; j < KJ; ++j) {
      double a[kLanes];
      double* dst = acc + b * acc_bstride + j * kLanes;
      for (int l = 0; l < kLanes; ++l) a[l] = dst[l];
      const double* sj = s + j * s_stride;
      for (std::size_t c = 0; c < nchunks; ++c) {
        for (int l = 0; l < kLanes; ++l) a[l] += wb[kLanes * c + l] * sj[kLanes * c + l];
      }
      for (int l = 0; l < kLanes; ++l) dst[l] = a[l];
    }
  }
}

#if FASTDML_BOOT_X86
// AVX-512: one masked add per (replicate, 8 units, estimand); all kRb x KJ
// accumulators stay in registers over the tile.
template <int KJ>
FASTDML_TARGET_AVX512 __attribute__((noinline)) void MaskSumsAvx512(
    const double* s, std::size_t s_stride, std::size_t nchunks, const std::uint8_t* bits,
    double* acc, std::size_t acc_bstride) {
  __m512d a[kRb][KJ];
  for (int b = 0; b < kRb; ++b)
    for (int j = 0; j < KJ; ++j) a[b][j] = _mm512_loadu_pd(acc + b * acc_bstride + j * kLanes);
  for (std::size_t c = 0; c < nchunks; ++c) {
    __m512d sv[KJ];
    for (int j = 0; j < KJ; ++j) sv[j] = _mm512_load_pd(s + j * s_stride + kLanes * c);
    for (int b = 0; b < kRb; ++b) {
      const __mmask8 m = bits[static_cast<std::size_t>(b) * kBitsStride + c];
      for (int j = 0; j < KJ; ++j) a[b][j] = _mm512_mask_add_pd(a[b][j], m, a[b][j], sv[j]);
    }
  }
  for (int b = 0; b < kRb; ++b)
    for (int j = 0; j < KJ; ++j) _mm512_storeu_pd(acc + b * acc_bstride + j * kLanes, a[b][j]);
}

template <int KJ>
FASTDML_TARGET_AVX512 __attribute__((noinline)) void WeightSumsAvx512(
    const double* s, std::size_t s_stride, std::size_t nchunks, const double* w, double* acc,
    std::size_t acc_bstride) {
  __m512d a[kRb][KJ];
  for (int b = 0; b < kRb; ++b)
    for (int j = 0; j < KJ; ++j) a[b][j] = _mm512_loadu_pd(acc + b * acc_bstride + j * kLanes);
  for (std::size_t c = 0; c < nchunks; ++c) {
    __m512d sv[KJ];
    for (int j = 0; j < KJ; ++j) sv[j] = _mm512_load_pd(s + j * s_stride + kLanes * c);
    for (int b = 0; b < kRb; ++b) {
      const __m512d wv = _mm512_load_pd(w + static_cast<std::size_t>(b) * kWeightTile + kLanes * c);
      for (int j = 0; j < KJ; ++j) a[b][j] = _mm512_add_pd(a[b][j], _mm512_mul_pd(wv, sv[j]));
    }
  }
  for (int b = 0; b < kRb; ++b)
    for (int j = 0; j < KJ; ++j) _mm512_storeu_pd(acc + b * acc_bstride + j * kLanes, a[b][j]);
}

// AVX2: s AND the byte's lane mask from a 16 KiB table, then add; two
// replicates per pass (2 x KJ x 2 ymm accumulators).
template <int KJ>
FASTDML_TARGET_AVX2 __attribute__((noinline)) void MaskSumsAvx2(
    const double* s, std::size_t s_stride, std::size_t nchunks, const std::uint8_t* bits,
    double* acc, std::size_t acc_bstride) {
  const double* table = reinterpret_cast<const double*>(Masks().m);
  for (int b = 0; b < kRb; b += 2) {
    __m256d a[2][KJ][2];
    for (int r = 0; r < 2; ++r)
      for (int j = 0; j < KJ; ++j)
        for (int h = 0; h < 2; ++h) a[r][j][h] = _mm256_loadu_pd(acc + (b + r) * acc_bstride + j * kLanes + 4 * h);
    const std::uint8_t* bits0 = bits + static_cast<std::size_t>(b) * kBitsStride;
    const std::uint8_t* bits1 = bits0 + kBitsStride;
    for (std::size_t c = 0; c < nchunks; ++c) {
      __m256d sv[KJ][2];
      for (int j = 0; j < KJ; ++j)
        for (int h = 0; h < 2; ++h) sv[j][h] = _mm256_load_pd(s + j * s_stride + kLanes * c + 4 * h);
      const double* mk[2] = {table + kLanes * bits0[c], table + kLanes * bits1[c]};
      for (int r = 0; r < 2; ++r) {
        const __m256d lo = _mm256_load_pd(mk[r]), hi = _mm256_load_pd(mk[r] + 4);
        for (int j = 0; j < KJ; ++j) {
          a[r][j][0] = _mm256_add_pd(a[r][j][0], _mm256_and_pd(sv[j][0], lo));
          a[r][j][1] = _mm256_add_pd(a[r][j][1], _mm256_and_pd(sv[j][1], hi));
        }
      }
    }
    for (int r = 0; r < 2; ++r)
      for (int j = 0; j < KJ; ++j)
        for (int h = 0; h < 2; ++h) _mm256_storeu_pd(acc + (b + r) * acc_bstride + j * kLanes + 4 * h, a[r][j][h]);
  }
}

template <int KJ>
FASTDML_TARGET_AVX2 __attribute__((noinline)) void WeightSumsAvx2(
    const double* s, std::size_t s_stride, std::size_t nchunks, const double* w, double* acc,
    std::size_t acc_bstride) {
  for (int b = 0; b < kRb; b += 2) {
    __m256d a[2][KJ][2];
    for (int r = 0; r < 2; ++r)
      for (int j = 0; j < KJ; ++j)
        for (int h = 0; h < 2; ++h) a[r][j][h] = _mm256_loadu_pd(acc + (b + r) * acc_bstride + j * kLanes + 4 * h);
    const double* w0 = w + static_cast<std::size_t>(b) * kWeightTile;
    const double* w1 = w0 + kWeightTile;
    for (std::size_t c = 0; c < nchunks; ++c) {
      __m256d sv[KJ][2];
      for (int j = 0; j < KJ; ++j)
        for (int h = 0; h < 2; ++h) sv[j][h] = _mm256_load_pd(s + j * s_stride + kLanes * c + 4 * h);
      const double* wr[2] = {w0 + kLanes * c, w1 + kLanes * c};
      for (int r = 0; r < 2; ++r) {
        const __m256d lo = _mm256_load_pd(wr[r]), hi = _mm256_load_pd(wr[r] + 4);
        for (int j = 0; j < KJ; ++j) {
          a[r][j][0] = _mm256_add_pd(a[r][j][0], _mm256_mul_pd(lo, sv[j][0]));
          a[r][j][1] = _mm256_add_pd(a[r][j][1], _mm256_mul_pd(hi, sv[j][1]));
        }
      }
    }
    for (int r = 0; r < 2; ++r)
      for (int j = 0; j < KJ; ++j)
        for (int h = 0; h < 2; ++h) _mm256_storeu_pd(acc + (b + r) * acc_bstride + j * kLanes + 4 * h, a[r][j][h]);
  }
}
#endif  // FASTDML_BOOT_X86

template <int kIsa, int KJ>
FASTDML_ALWAYS_INLINE void MaskSums(const double* s, std::size_t s_stride, std::size_t nchunks,
                                    const std::uint8_t* bits, double* acc, std::size_t acc_bstride) {
#if FASTDML_BOOT_X86
  if (kIsa == kAvx512) return MaskSumsAvx512<KJ>(s, s_stride, nchunks, bits, acc, acc_bstride);
  if (kIsa == kAvx2) return MaskSumsAvx2<KJ>(s, s_stride, nchunks, bits, acc, acc_bstride);
#endif
  MaskSumsPortable<KJ>(s, s_stride, nchunks, bits, acc, acc_bstride);
}

template <int kIsa, int KJ>
FASTDML_ALWAYS_INLINE void WeightSums(const double* s, std::size_t s_stride, std::size_t nchunks,
                                      const double* w, double* acc, std::size_t acc_bstride) {
#if FASTDML_BOOT_X86
  if (kIsa == kAvx512) return WeightSumsAvx512<KJ>(s, s_stride, nchunks, w, acc, acc_bstride);
  if (kIsa == kAvx2) return WeightSumsAvx2<KJ>(s, s_stride, nchunks, w, acc, acc_bstride);
#endif
  WeightSumsPortable<KJ>(s, s_stride, nchunks, w, acc, acc_bstride);
}

// One group of replicates [b0, b0 + nbp) (nbp a multiple of kRb; rows past
// job.replicates are computed and dropped).
template <int kIsa>
FASTDML_ALWAYS_INLINE void RunGroupImpl(const LoopJob& job, std::int64_t b0, int nbp,
                                        Scratch& sc) {
  const UnitScores& us = *job.us;
  const int k = us.k;
  const std::size_t acc_bstride = static_cast<std::size_t>(k) * kLanes;
  double* acc = sc.acc.data();
  std::fill(acc, acc + static_cast<std::size_t>(nbp) * acc_bstride, 0.0);
  const bool two_point =
      job.method == BootstrapMethod::kRademacher || job.method == BootstrapMethod::kMammen;
  const std::size_t tile = two_point ? job.mask_tile : kWeightTile;
  for (std::size_t u0 = 0; u0 < us.padded; u0 += tile) {
    const std::size_t nu = std::min(tile, us.padded - u0);
    const std::size_t nchunks = nu / kLanes;
    for (int sub = 0; sub < nbp; sub += kRb) {
      const std::uint32_t b_first = static_cast<std::uint32_t>(b0 + sub);
      if (two_point) {
        FillBits<kIsa>(job, b_first, u0, nu, sc);
      } else {
        for (int bb = 0; bb < kRb; ++bb) {
          FillWeights<kIsa>(job, b_first + static_cast<std::uint32_t>(bb), u0, nu, sc,
                            sc.w.data() + static_cast<std::size_t>(bb) * kWeightTile);
        }
      }
      double* acc_sub = acc + static_cast<std::size_t>(sub) * acc_bstride;
      for (int j = 0; j < k; j += 2) {
        const double* s = us.s.data() + static_cast<std::size_t>(j) * us.padded + u0;
        double* a = acc_sub + j * kLanes;
        if (two_point) {
          if (j + 1 < k) {
            MaskSums<kIsa, 2>(s, us.padded, nchunks, sc.bits.data(), a, acc_bstride);
          } else {
            MaskSums<kIsa, 1>(s, us.padded, nchunks, sc.bits.data(), a, acc_bstride);
          }
        } else {
          if (j + 1 < k) {
            WeightSums<kIsa, 2>(s, us.padded, nchunks, sc.w.data(), a, acc_bstride);
          } else {
            WeightSums<kIsa, 1>(s, us.padded, nchunks, sc.w.data(), a, acc_bstride);
          }
        }
      }
    }
  }
}

void RunGroupPortable(const LoopJob& job, std::int64_t b0, int nbp, Scratch& sc) {
  RunGroupImpl<kPortable>(job, b0, nbp, sc);
}
#if FASTDML_BOOT_X86
FASTDML_TARGET_AVX2 void RunGroupAvx2(const LoopJob& job, std::int64_t b0, int nbp, Scratch& sc) {
  RunGroupImpl<kAvx2>(job, b0, nbp, sc);
}
FASTDML_TARGET_AVX512 void RunGroupAvx512(const LoopJob& job, std::int64_t b0, int nbp,
                                          Scratch& sc) {
  RunGroupImpl<kAvx512>(job, b0, nbp, sc);
}
#endif

// The best path this CPU runs; FASTDML_BOOTSTRAP_ISA=portable|avx2 caps it
// (tests compare the paths; results never depend on it).
Isa SelectIsa() {
  Isa best = kPortable;
#if FASTDML_BOOT_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) best = kAvx2;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) {
    best = kAvx512;
  }
#endif
  const char* env = std::getenv("FASTDML_BOOTSTRAP_ISA");
  if (env != nullptr) {
    const std::string cap(env);
    if (cap == "portable") best = kPortable;
    if (cap == "avx2" && best > kAvx2) best = kAvx2;
  }
  return best;
}

void RunGroup(Isa isa, const LoopJob& job, std::int64_t b0, int nbp, Scratch& sc) {
#if FASTDML_BOOT_X86
  if (isa == kAvx512) return RunGroupAvx512(job, b0, nbp, sc);
  if (isa == kAvx2) return RunGroupAvx2(job, b0, nbp, sc);
#else
  (void)isa;
#endif
  RunGroupPortable(job, b0, nbp, sc);
}

// t*_bj from the group's accumulators (the fixed lane reduction).
void FinishGroup(const LoopJob& job, std::int64_t b0, int nb, const Scratch& sc) {
  const int k = job.us->k;
  const double* acc = sc.acc.data();
  double hi = 0.0, step = 0.0;  // w = hi + step * bit (two-point laws)
  const bool two_point =
      job.method == BootstrapMethod::kRademacher || job.method == BootstrapMethod::kMammen;
  if (job.method == BootstrapMethod::kRademacher) {
    hi = 1.0;
    step = -2.0;
  } else if (job.method == BootstrapMethod::kMammen) {
    hi = ops::kMammenHigh;
    step = ops::kMammenLow - ops::kMammenHigh;
  }
  for (int b = 0; b < nb; ++b) {
    for (int j = 0; j < k; ++j) {
      const double a = ReduceLanes(acc + (static_cast<std::size_t>(b) * k + j) * kLanes);
      job.t[(b0 + b) * k + j] = two_point ? hi * job.us->total[j] + step * a : a;
    }
  }
}


std::vector<double> LoopT(const UnitScores& us, const BootstrapOptions& o, std::uint32_t rep) {
  const std::int64_t B = o.replicates;
  const int k = us.k;
  std::vector<double> t(static_cast<std::size_t>(B) * k);
  const int threads = ops::ResolveThreads(o.threads);

  LoopJob job;
  job.us = &us;
  job.method = o.method;
  job.seed = o.seed;
  job.rep = rep;
  job.replicates = B;
  job.t = t.data();
  // Tile: the estimands' scores of one tile stay in cache (<= 256 KiB) while
  // every replicate of the group streams over them.
  {
    std::size_t tile = (32768 / static_cast<std::size_t>(k)) / kPadUnits * kPadUnits;
    job.mask_tile = std::max(kPadUnits, std::min(kMaxMaskTile, tile));
  }
  // Group: enough groups for load balance (4 per thread), at most 512
  // replicates and ~1 MiB of accumulators. Results do not depend on it.
  {
    const std::int64_t want = (B + 4 * threads - 1) / (4 * threads);
    std::int64_t g = (want + kRb - 1) / kRb * kRb;
    std::int64_t cap = std::max<std::int64_t>(kRb, (16384 / k) / kRb * kRb);
    cap = std::min<std::int64_t>(cap, 512);
    job.group = static_cast<int>(std::max<std::int64_t>(kRb, std::min(g, cap)));
  }
  const std::int64_t groups = (B + job.group - 1) / job.group;
  const Isa isa = SelectIsa();
  const int nt = static_cast<int>(std::min<std::int64_t>(threads, groups));
  std::vector<std::unique_ptr<Scratch>> scratch(static_cast<std::size_t>(std::max(nt, 1)));
  ops::ParallelFor(groups, nt, [&](std::int64_t g, int tid) {
    std::unique_ptr<Scratch>& sc = scratch[static_cast<std::size_t>(tid)];
    if (!sc) sc = std::make_unique<Scratch>(job);
    const std::int64_t b0 = g * job.group;
    const int nb = static_cast<int>(std::min<std::int64_t>(job.group, B - b0));
    const int nbp = (nb + kRb - 1) / kRb * kRb;
    RunGroup(isa, job, b0, nbp, *sc);
    FinishGroup(job, b0, nb, *sc);
  });
  return t;
}

// ---------------------------------------------------------------------------
// Exact sampler (normal weights)
// ---------------------------------------------------------------------------

std::vector<double> ExactT(const UnitScores& us, const BootstrapOptions& o, std::uint32_t rep) {
  const int k = us.k;
  using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const RowMat> S(us.s.data(), k, static_cast<Eigen::Index>(us.padded));
  Eigen::MatrixXd sigma(k, k);
  sigma.setZero();
  sigma.selfadjointView<Eigen::Lower>().rankUpdate(S);
  sigma.triangularView<Eigen::StrictlyUpper>() = sigma.transpose();
  if (!sigma.allFinite()) throw Error("bootstrap: the scores' covariance is not finite");

  const Eigen::MatrixXd f = cpu::CovarianceRoot(sigma, "bootstrap: cannot factor the scores' covariance");
  return cpu::GaussianDraws(f, o.replicates, o.seed, rep, ops::kStreamExactNormal, o.threads);
}

}  // namespace

namespace cpu {

std::vector<double> BootstrapT(const ScoreBlock& scores, const BootstrapOptions& options, int rep) {
  ops::ValidateBootstrap(scores, options, rep);
  const UnitScores us = PrepareUnits(scores);
  const std::uint32_t r = static_cast<std::uint32_t>(rep);
  return ops::UsesExactBootstrap(options) ? ExactT(us, options, r) : LoopT(us, options, r);
}

}  // namespace cpu
}  // namespace fastdml
