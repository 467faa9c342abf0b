// Multiplier-bootstrap weights as PURE functions of (seed, rep, replicate b,
// unit), written once for the CPU and CUDA twins (docs/design.md section 4). A unit
// is a row, or a cluster when the bootstrap is clustered. Nothing here depends
// on thread count, tiling or launch shape.
//
// THE COUNTER CONTRACT (what the CUDA twin must reproduce bit for bit)
// --------------------------------------------------------------------
// Generator: Philox4x32-10 (Random123, philox4x32_R(10, ctr, key)).
//   key = { seed & 0xffffffff, seed >> 32 }                  (uint64 seed)
//   ctr = { block, b, rep, stream }                           (4 x uint32)
//     block  = unit / U, the unit-block index, U units per Philox call:
//     b      = replicate index 0..B-1
//     rep    = cross-fitting repetition
//     stream = a tag per law and consumer (kStream* below), so no two share draws.
// Output words v[0..3] are turned into weights as follows (unit u, r = u % U;
// (hi:lo) is the 64-bit word hi * 2^32 + lo):
//   Rademacher (stream 1, U = 128): bit (r % 32) (LSB = 0) of word v[r / 32];
//       bit 1 -> -1.0, bit 0 -> +1.0.
//   Mammen     (stream 2, U = 4):   word x = v[r];
//       x < kMammenThreshold -> (1 - sqrt 5)/2, else (1 + sqrt 5)/2.
//       kMammenThreshold = round(2^32 (sqrt5 + 1)/(2 sqrt5)) = 3107867531, so
//       P(low) = (sqrt5+1)/(2 sqrt5) - 1.16e-10 (mean 2.6e-10 instead of 0).
//   Normal     (stream 3, U = 2):   Box-Muller on the 53-bit uniforms
//       u1 = (((v1:v0) >> 11) + 1) 2^-53 in (0, 1]  and  u2 = ((v3:v2) >> 11) 2^-53 in [0, 1);
//       rad = sqrt(-2 log u1): r = 0 -> rad cos(2 pi u2), r = 1 -> rad sin(2 pi u2).
//   Wild       (stream 4, U = 1):   (xi, eta) = the Box-Muller pair above;
//       w = xi / sqrt 2 + (eta^2 - 1) / 2  (DoubleML's "wild").
//   Bayes      (stream 5, U = 2):   u = (((v[2r+1]:v[2r]) >> 11) + 1) 2^-53 in (0, 1];
//       w = -log(u) - 1  (Exp(1) - 1).
//   Exact Gaussian z_bj (streams 6-9, one per consumer, U = 2, the "unit" is
//       coordinate j: block = j / 2, r = j % 2): the Normal rule.
// Rademacher and Mammen weights are integer-derived, hence bit-identical on any
// device. The others use Log(), SqrtNonNegative() and SinCos2Pi() below (our
// own: <= 2 ulp, no libm, branch-free so that CPU loops vectorise) in the
// exact operation order written here, with exact IEEE division. The CPU paths
// (GCC, clang; AVX-512, AVX2, portable) give identical bits (tested). A CUDA
// build evaluating them without FMA contraction (nvcc --fmad=false for that
// code, or __dmul_rn/__dadd_rn) should match bit for bit as well (not yet
// checked on a GPU; this header compiles under nvcc 13 for sm_90); with
// contraction they agree to a few ulp.
#pragma once
#include <stdint.h>
#include <string.h>

#include <Random123/philox.h>

#include "ops/hd.h"

namespace fastdml::ops {

// ---- the registry of random streams ------------------------------------------
// Every use of the user's seed names its stream here, and no two consumers
// share one (tests/ops/random_streams_test.cc checks that the tags are
// distinct).
//
// Philox streams: counter word 3 of the contract above.
enum PhiloxStream : uint32_t {
  kStreamRademacher = 1,       // loop sampler, Rademacher weights (ATE/ATT bootstrap)
  kStreamMammen = 2,           // loop sampler, Mammen weights
  kStreamNormal = 3,           // loop sampler, normal weights
  kStreamWild = 4,             // loop sampler, wild weights
  kStreamBayes = 5,            // loop sampler, Bayes weights
  kStreamExactNormal = 6,      // exact sampler z_bj of the ATE/ATT bootstrap
  kStreamGateBand = 7,         // z_bj of the GATE joint bands
  kStreamBlpBand = 8,          // z_bj of the BLP joint bands
  kStreamSortedGatesBand = 9,  // z_bj of the sorted GATES joint bands
};
constexpr PhiloxStream kAllPhiloxStreams[] = {
    kStreamRademacher,  kStreamMammen,   kStreamNormal,  kStreamWild,           kStreamBayes,
    kStreamExactNormal, kStreamGateBand, kStreamBlpBand, kStreamSortedGatesBand};

// (The simulated designs key a Philox of their own with `simulate --seed`;
// their per-variable streams are sim/design_helpers.h's enum Stream.)
//
// SplitMix64 streams: seeds of other generators (fold shuffles, XGBoost),
// DeriveSeed(seed, stream, index) = SplitMix64(seed ^ SplitMix64(stream ^ index)).
// The tags are the salts these consumers used before DeriveSeed existed, so
// fold plans and XGBoost seeds keep their values. `index` packs the
// consumer's coordinates as written; the fold plans always XORed the
// repetition into their tag, and the other two consumers' fields lie clear of
// their tag's bits (so XOR is the OR they used).
enum class SeedStream : uint64_t {
  kNuisance = 0,                    // XGBoost seed: index = rep << 32 | fold << 8 | nuisance
  kRowFolds = 0xf01dull,            // stratified fold shuffle: index = rep
  kClusterFolds = 0xc105ull << 32,  // cluster fold shuffle: index = rep
  kCateLearner = 0xca7eull << 40,   // DR-learner XGBoost seed: index = rep << 16 | task (rep < 2^24)
  kValidationSplit = 0x5a11dull << 44,  // early-stopping split: index = rep << 32 | fold << 8 | nuisance
};
constexpr SeedStream kAllSeedStreams[] = {SeedStream::kNuisance,     SeedStream::kRowFolds,
                                          SeedStream::kClusterFolds, SeedStream::kCateLearner,
                                          SeedStream::kValidationSplit};

// splitmix64 (Steele, Lea and Flood 2014): a well-mixed 64-bit hash.
FASTDML_HD uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The seed of `stream`'s generator at `index`: a pure function of its inputs.
FASTDML_HD uint64_t DeriveSeed(uint64_t seed, SeedStream stream, uint64_t index) {
  return SplitMix64(seed ^ SplitMix64(static_cast<uint64_t>(stream) ^ index));
}

// Units covered by one Philox call, per law (U above).
constexpr uint32_t kUnitsPerBlockRademacher = 128;
constexpr uint32_t kUnitsPerBlockMammen = 4;
constexpr uint32_t kUnitsPerBlockNormal = 2;
constexpr uint32_t kUnitsPerBlockWild = 1;
constexpr uint32_t kUnitsPerBlockBayes = 2;

constexpr uint32_t kMammenThreshold = 3107867531u;
constexpr double kMammenLow = -0.61803398874989484820;   // (1 - sqrt 5) / 2
constexpr double kMammenHigh = 1.61803398874989484820;   // (1 + sqrt 5) / 2

struct Philox4 {
  uint32_t v[4];
};

// One Philox4x32-10 call of the contract above.
FASTDML_HD Philox4 BootstrapPhilox(uint64_t seed, uint32_t block, uint32_t b, uint32_t rep,
                                   uint32_t stream) {
  philox4x32_ctr_t ctr = {{block, b, rep, stream}};
  philox4x32_key_t key = {{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)}};
  const philox4x32_ctr_t r = philox4x32_R(10, ctr, key);
  Philox4 out = {{r.v[0], r.v[1], r.v[2], r.v[3]}};
  return out;
}

// Philox4x32-10 on `count` counters {c0[i], c1[i], c2, c3} in structure-of-arrays
// form; lane i equals BootstrapPhilox's words exactly. Written as plain lane
// loops so that a host compiler vectorises it (32x32->64 multiplies).
FASTDML_HD void PhiloxLanes(int count, const uint32_t* __restrict__ c0,
                            const uint32_t* __restrict__ c1, uint32_t c2, uint32_t c3,
                            uint64_t seed, uint32_t* __restrict__ o0, uint32_t* __restrict__ o1,
                            uint32_t* __restrict__ o2, uint32_t* __restrict__ o3) {
  uint32_t k0[10], k1[10];
  k0[0] = static_cast<uint32_t>(seed);
  k1[0] = static_cast<uint32_t>(seed >> 32);
  for (int r = 1; r < 10; ++r) {
    k0[r] = k0[r - 1] + PHILOX_W32_0;
    k1[r] = k1[r - 1] + PHILOX_W32_1;
  }
  for (int i = 0; i < count; ++i) {
    uint32_t x0 = c0[i], x1 = c1[i], x2 = c2, x3 = c3;
    for (int r = 0; r < 10; ++r) {
      const uint64_t p0 = static_cast<uint64_t>(PHILOX_M4x32_0) * x0;
      const uint64_t p1 = static_cast<uint64_t>(PHILOX_M4x32_1) * x2;
      x0 = static_cast<uint32_t>(p1 >> 32) ^ x1 ^ k0[r];
      x1 = static_cast<uint32_t>(p1);
      x2 = static_cast<uint32_t>(p0 >> 32) ^ x3 ^ k1[r];
      x3 = static_cast<uint32_t>(p0);
    }
    o0[i] = x0;
    o1[i] = x1;
    o2[i] = x2;
    o3[i] = x3;
  }
}

// ---- uniforms and elementary functions ---------------------------------------

FASTDML_HD uint64_t DoubleBits(double x) {
#if defined(__CUDA_ARCH__)
  return static_cast<uint64_t>(__double_as_longlong(x));
#else
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  return u;
#endif
}
FASTDML_HD double BitsDouble(uint64_t u) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(u));
#else
  double x;
  memcpy(&x, &u, sizeof x);
  return x;
#endif
}

// Exact double of an integer v <= 2^53 with integer adds and one double
// subtraction per half (2^52 + w has w in its mantissa): no int64 -> double
// conversion instruction, which AVX2 lacks, so host loops vectorise everywhere.
FASTDML_HD double SmallIntToDouble(uint64_t v) {
  const double hi = BitsDouble(0x4330000000000000ull + (v >> 1)) - 0x1p52;  // v >> 1 <= 2^52
  const double lo = BitsDouble(0x4330000000000000ull + (v & 1u)) - 0x1p52;
  return hi * 2.0 + lo;  // exact: an integer <= 2^53
}

// 53-bit uniforms from the 64-bit word hi * 2^32 + lo (its top 53 bits).
FASTDML_HD double UniformOpenZero(uint32_t lo, uint32_t hi) {  // (0, 1]
  const uint64_t x = ((static_cast<uint64_t>(hi) << 32) | lo) >> 11;
  return SmallIntToDouble(x + 1) * 0x1.0p-53;
}
FASTDML_HD double UniformOpenOne(uint32_t lo, uint32_t hi) {  // [0, 1)
  const uint64_t x = ((static_cast<uint64_t>(hi) << 32) | lo) >> 11;
  return SmallIntToDouble(x) * 0x1.0p-53;
}

// Natural log of a positive normal finite x (no checks: callers pass (0, 1]
// uniforms >= 2^-53). x = 2^e m with m in [sqrt(1/2), sqrt 2);
// log m = 2 atanh(f), f = (m-1)/(m+1), |f| <= 0.1716, Taylor series to f^21
// (truncation < 1e-18 relative). Branch-free (selects) so that loops vectorise.
FASTDML_HD double Log(double x) {
  const uint64_t bits = DoubleBits(x);
  // e = biased exponent - 1023, as an exact double: (2^52 + E) - (2^52 + 1023).
  double ed = BitsDouble(0x4330000000000000ull + (bits >> 52)) - (0x1p52 + 1023.0);
  // m = mantissa in [1, 2), halved when above sqrt 2 (mantissa bits of sqrt 2:
  // 0x6A09E667F3BCD). Integer conditions and integer/constant arms only, so
  // that host compilers if-convert without speculating FP operations.
  const uint64_t mant = bits & 0x000FFFFFFFFFFFFFull;
  const bool big = mant > 0x6A09E667F3BCDull;
  const double m = BitsDouble(mant | (big ? 0x3FE0000000000000ull : 0x3FF0000000000000ull));
  ed = ed + (big ? 1.0 : 0.0);
  const double f = (m - 1.0) / (m + 1.0);
  const double f2 = f * f;
  double p = 1.0 / 21;
  p = p * f2 + 1.0 / 19;
  p = p * f2 + 1.0 / 17;
  p = p * f2 + 1.0 / 15;
  p = p * f2 + 1.0 / 13;
  p = p * f2 + 1.0 / 11;
  p = p * f2 + 1.0 / 9;
  p = p * f2 + 1.0 / 7;
  p = p * f2 + 1.0 / 5;
  p = p * f2 + 1.0 / 3;
  const double log_m = 2.0 * f + 2.0 * f * (f2 * p);
  // ln 2 split so that ed * kLn2Hi is exact for |e| < 2^11.
  const double kLn2Hi = 6.93147180369123816490e-01;
  const double kLn2Lo = 1.90821492927058770002e-10;
  return ed * kLn2Hi + (log_m + ed * kLn2Lo);
}

// sqrt(a) for 0 <= a < 2^1000 (-0.0 and 0 give 0), within 1 ulp, from the
// bit-trick reciprocal square root, four Newton steps (relative error
// 3.4e-2 -> 1e-21 before rounding) and one Heron correction. No library call:
// a host compiler keeps an errno path around sqrt() that stops vectorisation,
// and both twins evaluate the same operations.
FASTDML_HD double SqrtNonNegative(double a) {
  double y = BitsDouble(0x5FE6EB50C7B537A9ull - (DoubleBits(a) >> 1));
  const double h = 0.5 * a;
  y = y * (1.5 - h * y * y);
  y = y * (1.5 - h * y * y);
  y = y * (1.5 - h * y * y);
  y = y * (1.5 - h * y * y);
  double s = a * y;
  s = s + (0.5 * y) * (a - s * s);
  // +0.0 unless a > 0 (a's bits as a signed integer are > 0), by a bit mask.
  const uint64_t keep = static_cast<int64_t>(DoubleBits(a)) > 0 ? ~0ull : 0ull;
  return BitsDouble(DoubleBits(s) & keep);
}

// sin(2 pi u) and cos(2 pi u) for u in [0, 1]: u = q/4 + r with q = 4u rounded
// to nearest (ties to even, by adding 2^52), r exact with |r| <= 1/8,
// x = 2 pi r in [-pi/4, pi/4], Taylor series of sin to x^17 and cos to x^18
// (truncation < 1e-17), then the quadrant q mod 4 by selects.
FASTDML_HD void SinCos2Pi(double u, double* s, double* c) {
  const double shifted = u * 4.0 + 0x1p52;                 // 2^52 + round(4u)
  const double qd = shifted - 0x1p52;                       // round(4u), exact
  const uint64_t qq = DoubleBits(shifted) & 3u;             // round(4u) mod 4
  const double r = u - 0.25 * qd;                           // exact, |r| <= 1/8
  const double x = r * 6.28318530717958647693;
  const double x2 = x * x;
  double ps = -1.0 / 355687428096000.0;  // -1/17!
  ps = ps * x2 + 1.0 / 1307674368000.0;  // 1/15!
  ps = ps * x2 - 1.0 / 6227020800.0;     // 1/13!
  ps = ps * x2 + 1.0 / 39916800.0;       // 1/11!
  ps = ps * x2 - 1.0 / 362880.0;         // 1/9!
  ps = ps * x2 + 1.0 / 5040.0;           // 1/7!
  ps = ps * x2 - 1.0 / 120.0;            // 1/5!
  ps = ps * x2 + 1.0 / 6.0;              // 1/3!
  const double sn = x - x * (x2 * ps);   // x - x^3/3! + ...
  double pc = 1.0 / 6402373705728000.0;  // 1/18!
  pc = pc * x2 - 1.0 / 20922789888000.0; // 1/16!
  pc = pc * x2 + 1.0 / 87178291200.0;    // 1/14!
  pc = pc * x2 - 1.0 / 479001600.0;      // 1/12!
  pc = pc * x2 + 1.0 / 3628800.0;        // 1/10!
  pc = pc * x2 - 1.0 / 40320.0;          // 1/8!
  pc = pc * x2 + 1.0 / 720.0;            // 1/6!
  pc = pc * x2 - 1.0 / 24.0;             // 1/4!
  const double cs = 1.0 - (0.5 * x2 + x2 * (x2 * pc));  // 1 - x^2/2 + x^4/4! - ...
  const double s1 = (qq & 1) ? cs : sn;
  const double c1 = (qq & 1) ? sn : cs;
  *s = (qq & 2) ? -s1 : s1;
  *c = ((qq + 1) & 2) ? -c1 : c1;
}

// Box-Muller pair from one Philox output (the Normal rule of the contract;
// -2 log u1 >= 0, u1 = 1 gives rad = 0).
FASTDML_HD void BoxMuller(uint32_t v0, uint32_t v1, uint32_t v2, uint32_t v3, double* z0,
                          double* z1) {
  const double u1 = UniformOpenZero(v0, v1);
  const double u2 = UniformOpenOne(v2, v3);
  const double rad = SqrtNonNegative(-2.0 * Log(u1));
  double s, c;
  SinCos2Pi(u2, &s, &c);
  *z0 = rad * c;
  *z1 = rad * s;
}

FASTDML_HD double WildFromNormals(double xi, double eta) {
  return xi * 0.70710678118654752440 + (eta * eta - 1.0) * 0.5;
}
FASTDML_HD double BayesFromWords(uint32_t lo, uint32_t hi) {
  return -Log(UniformOpenZero(lo, hi)) - 1.0;
}
FASTDML_HD double MammenFromWord(uint32_t x) {
  return x < kMammenThreshold ? kMammenLow : kMammenHigh;
}
// Rademacher weight of unit r (0 <= r < 128) of a block: bit r % 32 of word r / 32.
FASTDML_HD double RademacherFromWords(const Philox4& p, uint32_t r) {
  return ((p.v[r / 32] >> (r % 32)) & 1u) ? -1.0 : 1.0;
}

// ---- per-unit weights (reference form: one Philox call per unit) --------------
// `unit` must satisfy unit / U < 2^32 for the law's U.

FASTDML_HD double RademacherWeight(uint64_t seed, uint32_t rep, uint32_t b, uint64_t unit) {
  const Philox4 p = BootstrapPhilox(seed, static_cast<uint32_t>(unit / kUnitsPerBlockRademacher),
                                    b, rep, kStreamRademacher);
  return RademacherFromWords(p, static_cast<uint32_t>(unit % kUnitsPerBlockRademacher));
}

FASTDML_HD double MammenWeight(uint64_t seed, uint32_t rep, uint32_t b, uint64_t unit) {
  const Philox4 p = BootstrapPhilox(seed, static_cast<uint32_t>(unit / kUnitsPerBlockMammen), b,
                                    rep, kStreamMammen);
  return MammenFromWord(p.v[unit % kUnitsPerBlockMammen]);
}

FASTDML_HD double NormalWeight(uint64_t seed, uint32_t rep, uint32_t b, uint64_t unit) {
  const Philox4 p = BootstrapPhilox(seed, static_cast<uint32_t>(unit / kUnitsPerBlockNormal), b,
                                    rep, kStreamNormal);
  double z0, z1;
  BoxMuller(p.v[0], p.v[1], p.v[2], p.v[3], &z0, &z1);
  return (unit % 2) ? z1 : z0;
}

FASTDML_HD double WildWeight(uint64_t seed, uint32_t rep, uint32_t b, uint64_t unit) {
  const Philox4 p = BootstrapPhilox(seed, static_cast<uint32_t>(unit), b, rep, kStreamWild);
  double xi, eta;
  BoxMuller(p.v[0], p.v[1], p.v[2], p.v[3], &xi, &eta);
  return WildFromNormals(xi, eta);
}

FASTDML_HD double BayesWeight(uint64_t seed, uint32_t rep, uint32_t b, uint64_t unit) {
  const Philox4 p = BootstrapPhilox(seed, static_cast<uint32_t>(unit / kUnitsPerBlockBayes), b,
                                    rep, kStreamBayes);
  const uint32_t r = static_cast<uint32_t>(unit % kUnitsPerBlockBayes);
  return BayesFromWords(p.v[2 * r], p.v[2 * r + 1]);
}

// The exact Gaussian sampler's standard normal z_bj (coordinate j of
// replicate b) on a consumer's stream (kStreamExactNormal, kStream*Band).
FASTDML_HD double ExactNormalDraw(uint64_t seed, uint32_t rep, uint32_t b, uint32_t j, uint32_t stream) {
  const Philox4 p = BootstrapPhilox(seed, j / 2, b, rep, stream);
  double z0, z1;
  BoxMuller(p.v[0], p.v[1], p.v[2], p.v[3], &z0, &z1);
  return (j % 2) ? z1 : z0;
}

// Weight of law `stream` (one of the loop sampler's five tags); 0 for any
// other tag.
FASTDML_HD double BootstrapWeight(uint32_t stream, uint64_t seed, uint32_t rep, uint32_t b,
                                  uint64_t unit) {
  switch (stream) {
    case kStreamRademacher: return RademacherWeight(seed, rep, b, unit);
    case kStreamMammen: return MammenWeight(seed, rep, b, unit);
    case kStreamNormal: return NormalWeight(seed, rep, b, unit);
    case kStreamWild: return WildWeight(seed, rep, b, unit);
    case kStreamBayes: return BayesWeight(seed, rep, b, unit);
    default: return 0.0;
  }
}

}  // namespace fastdml::ops
