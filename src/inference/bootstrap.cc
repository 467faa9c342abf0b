// Multiplier bootstrap t* for one repetition (DESIGN.md section 2):
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
//
// Summation order (the determinism contract of the loop sampler): units are
// padded with zero scores to a multiple of 128; lane l = u mod 8 accumulates
// its units in increasing u; the 8 lanes are reduced as
// ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)). This does not depend on tiling, thread
// count or the instruction set (AVX-512 or portable; no FMA contraction here).

// No FMA contraction in this file: the AVX-512 path and the portable path must
// give the same bits.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off", "no-math-errno")
#endif
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <Eigen/Dense>

#include "fastdml/error.h"
#include "fastdml/inference.h"
#include "ops/philox_weights.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define FASTDML_BOOT_AVX512 1
#define FASTDML_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#else
#define FASTDML_BOOT_AVX512 0
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

const char* ToString(BootstrapMethod m) {
  switch (m) {
    case BootstrapMethod::kNormal: return "normal";
    case BootstrapMethod::kRademacher: return "rademacher";
    case BootstrapMethod::kMammen: return "mammen";
    case BootstrapMethod::kWild: return "wild";
    case BootstrapMethod::kBayes: return "bayes";
  }
  return "unknown";
}

BootstrapMethod ParseBootstrapMethod(const std::string& s) {
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (BootstrapMethod m : {BootstrapMethod::kNormal, BootstrapMethod::kRademacher,
                            BootstrapMethod::kMammen, BootstrapMethod::kWild,
                            BootstrapMethod::kBayes}) {
    if (lower == ToString(m)) return m;
  }
  throw UsageError("--bootstrap-method: unknown method '" + s +
                   "' (choose one of: normal, rademacher, mammen, wild, bayes)");
}

namespace {

constexpr int kLanes = 8;                 // accumulation lanes per (b, j)
constexpr int kRb = 8;                    // replicates per sub-tile
constexpr std::size_t kPadUnits = 128;    // units padded to the Rademacher block
constexpr std::size_t kWeightTile = 512;  // units per tile, continuous weights
constexpr std::size_t kMaxMaskTile = 2048;
constexpr int kMaxLanesPhilox = 512;      // Philox lanes per fill call
constexpr std::int64_t kMaxReplicates = 10000000;

// 64-byte aligned, zero-initialised array.
template <class T>
class AlignedArray {
 public:
  AlignedArray() = default;
  explicit AlignedArray(std::size_t n) : n_(n) {
    if (n == 0) return;
    p_.reset(static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))));
    std::memset(static_cast<void*>(p_.get()), 0, n * sizeof(T));
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

void Validate(const ScoreBlock& sc, const BootstrapOptions& o, int rep) {
  if (o.replicates < 1 || o.replicates > kMaxReplicates) {
    throw UsageError("--bootstrap: the number of bootstrap replicates must be between 1 and " +
                     std::to_string(kMaxReplicates) + " (got " + std::to_string(o.replicates) +
                     ")");
  }
  if (o.threads < 0) throw UsageError("--threads: must be >= 0 (0 = all cores)");
  switch (o.method) {
    case BootstrapMethod::kNormal:
    case BootstrapMethod::kRademacher:
    case BootstrapMethod::kMammen:
    case BootstrapMethod::kWild:
    case BootstrapMethod::kBayes: break;
    default: throw UsageError("--bootstrap-method: unknown method");
  }
  if (o.sampler != BootstrapSampler::kAuto && o.sampler != BootstrapSampler::kExact &&
      o.sampler != BootstrapSampler::kLoop) {
    throw UsageError("--bootstrap-sampler: unknown sampler (choose auto, exact or loop)");
  }
  if (o.sampler == BootstrapSampler::kExact && o.method != BootstrapMethod::kNormal) {
    throw UsageError(std::string("--bootstrap-sampler exact needs --bootstrap-method normal (got ") +
                     ToString(o.method) + ")");
  }
  if (rep < 0) throw Error("bootstrap: repetition index must be >= 0, got " + std::to_string(rep));
  if (sc.k < 1) throw Error("bootstrap: the score block has no estimand (k = " + std::to_string(sc.k) + ")");
  if (sc.n == 0) throw Error("bootstrap: the score block has no rows");
  const std::size_t k = static_cast<std::size_t>(sc.k);
  if (sc.psi.size() != k * sc.n) {
    throw Error("bootstrap: psi has " + std::to_string(sc.psi.size()) + " values, expected k * n = " +
                std::to_string(k * sc.n));
  }
  if (sc.j.size() != k || sc.se.size() != k) {
    throw Error("bootstrap: J and se need one value per estimand (k = " + std::to_string(k) +
                "), got " + std::to_string(sc.j.size()) + " and " + std::to_string(sc.se.size()));
  }
  for (std::size_t j = 0; j < k; ++j) {
    if (!std::isfinite(sc.j[j]) || sc.j[j] == 0.0) {
      throw Error("bootstrap: estimand " + std::to_string(j) + " has J = " + std::to_string(sc.j[j]) +
                  " (must be finite and non-zero)");
    }
    if (!std::isfinite(sc.se[j]) || !(sc.se[j] > 0.0)) {
      throw Error("bootstrap: estimand " + std::to_string(j) + " has se = " +
                  std::to_string(sc.se[j]) + " (must be finite and > 0)");
    }
    const double denom = static_cast<double>(sc.n) * sc.j[j] * sc.se[j];
    if (!std::isfinite(denom) || denom == 0.0) {
      throw Error("bootstrap: estimand " + std::to_string(j) + ": n J se is not a finite non-zero number");
    }
  }
  for (std::size_t j = 0; j < k; ++j) {
    const double* p = sc.psi.data() + j * sc.n;
    for (std::size_t i = 0; i < sc.n; ++i) {
      if (!std::isfinite(p[i])) {
        throw Error("bootstrap: psi of estimand " + std::to_string(j) + " is not finite at row " +
                    std::to_string(i));
      }
    }
  }
  if (!sc.cluster.empty()) {
    if (sc.cluster.size() != sc.n) {
      throw Error("bootstrap: " + std::to_string(sc.cluster.size()) + " cluster ids for " +
                  std::to_string(sc.n) + " rows");
    }
    if (sc.n_clusters < 1) throw Error("bootstrap: cluster ids given but n_clusters < 1");
    for (std::size_t i = 0; i < sc.n; ++i) {
      if (sc.cluster[i] < 0 || sc.cluster[i] >= sc.n_clusters) {
        throw Error("bootstrap: cluster id " + std::to_string(sc.cluster[i]) + " of row " +
                    std::to_string(i) + " is outside 0.." + std::to_string(sc.n_clusters - 1));
      }
    }
  }
}

UnitScores PrepareUnits(const ScoreBlock& sc) {
  UnitScores us;
  us.k = sc.k;
  us.units = sc.cluster.empty() ? sc.n : static_cast<std::size_t>(sc.n_clusters);
  us.padded = (us.units + kPadUnits - 1) / kPadUnits * kPadUnits;
  const std::size_t k = static_cast<std::size_t>(sc.k);
  us.s = AlignedArray<double>(k * us.padded);
  for (std::size_t j = 0; j < k; ++j) {
    const double denom = static_cast<double>(sc.n) * sc.j[j] * sc.se[j];
    const double* p = sc.psi.data() + j * sc.n;
    double* s = us.s.data() + j * us.padded;
    if (sc.cluster.empty()) {
      for (std::size_t i = 0; i < sc.n; ++i) s[i] = p[i] / denom;
    } else {
      for (std::size_t i = 0; i < sc.n; ++i) s[sc.cluster[i]] += p[i];  // row order
      for (std::size_t c = 0; c < us.units; ++c) s[c] /= denom;
    }
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

// Bits (1 = low weight) for kRb replicates from b_first, units [u0, u0 + nu).
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
    const int lanes = kRb * nblk;  // <= 8 * 16
    for (int i = 0; i < lanes; ++i) {
      c0[i] = blk0 + static_cast<std::uint32_t>(i % nblk);
      c1[i] = b_first + static_cast<std::uint32_t>(i / nblk);
    }
    ops::PhiloxLanes(lanes, c0, c1, job.rep, ops::kStreamRademacher, job.seed, o0, o1, o2, o3);
    for (int i = 0; i < lanes; ++i) {
      std::uint8_t* dst = bits + static_cast<std::size_t>(i / nblk) * kBitsStride +
                          static_cast<std::size_t>(i % nblk) * 16;
      const std::uint32_t words[4] = {o0[i], o1[i], o2[i], o3[i]};
      std::memcpy(dst, words, 16);  // little-endian: byte c holds units 8c..8c+7, LSB first
    }
  } else {  // Mammen: one 32-bit word per unit, bit = word < threshold
    const int nblk = static_cast<int>(nu / ops::kUnitsPerBlockMammen);  // <= 512
    const std::uint32_t blk0 = static_cast<std::uint32_t>(u0 / ops::kUnitsPerBlockMammen);
    for (int i = 0; i < nblk; ++i) c0[i] = blk0 + static_cast<std::uint32_t>(i);
    for (int bb = 0; bb < kRb; ++bb) {
      for (int i = 0; i < nblk; ++i) c1[i] = b_first + static_cast<std::uint32_t>(bb);
      ops::PhiloxLanes(nblk, c0, c1, job.rep, ops::kStreamMammen, job.seed, o0, o1, o2, o3);
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
  ops::PhiloxLanes(nblk, c0, c1, job.rep, stream, job.seed, o0, o1, o2, o3);
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

// A_bj lanes += s_ju where bit(b, u) = 1, for kRb replicates and KJ estimands.
// acc[b * acc_bstride + j * kLanes + l]; bits[b * kBitsStride + c] covers units 8c..8c+7.
template <int KJ>
FASTDML_ALWAYS_INLINE void MaskSumsPortable(const double* s, std::size_t s_stride,
                                            std::size_t nchunks, const std::uint8_t* bits,
                                            double* acc, std::size_t acc_bstride) {
  for (int b = 0; b < kRb; ++b) {
    const std::uint8_t* bb = bits + static_cast<std::size_t>(b) * kBitsStride;
    for (int j = 0; j < KJ; ++j) {
      double a[kLanes];
      double* dst = acc + b * acc_bstride + j * kLanes;
      for (int l = 0; l < kLanes; ++l) a[l] = dst[l];
      const double* sj = s + j * s_stride;
      for (std::size_t c = 0; c < nchunks; ++c) {
        const unsigned m = bb[c];
        for (int l = 0; l < kLanes; ++l) a[l] += ((m >> l) & 1u) ? sj[kLanes * c + l] : 0.0;
      }
      for (int l = 0; l < kLanes; ++l) dst[l] = a[l];
    }
  }
}

#if FASTDML_BOOT_AVX512
// The same sums with one masked add per (replicate, 8 units, estimand); all
// kRb x KJ accumulators stay in registers over the tile.
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
#endif

// acc lanes += w_bu s_ju for kRb replicates and KJ estimands.
template <int KJ>
FASTDML_ALWAYS_INLINE void WeightSums(const double* s, std::size_t s_stride, std::size_t nchunks,
                                      const double* w, double* acc, std::size_t acc_bstride) {
  for (int b = 0; b < kRb; ++b) {
    const double* wb = w + static_cast<std::size_t>(b) * kWeightTile;
    double a[KJ][kLanes];
    for (int j = 0; j < KJ; ++j)
      for (int l = 0; l < kLanes; ++l) a[j][l] = acc[b * acc_bstride + j * kLanes + l];
    for (std::size_t c = 0; c < nchunks; ++c) {
      for (int j = 0; j < KJ; ++j) {
        const double* sj = s + j * s_stride + kLanes * c;
        for (int l = 0; l < kLanes; ++l) a[j][l] += wb[kLanes * c + l] * sj[l];
      }
    }
    for (int j = 0; j < KJ; ++j)
      for (int l = 0; l < kLanes; ++l) acc[b * acc_bstride + j * kLanes + l] = a[j][l];
  }
}

// One group of replicates [b0, b0 + nbp) (nbp a multiple of kRb; rows past
// job.replicates are computed and dropped). kAvx512 picks the masked-add kernel.
template <bool kAvx512>
FASTDML_ALWAYS_INLINE void RunGroupImpl(const LoopJob& job, std::int64_t b0, int nbp,
                                        Scratch& sc) {
  const UnitScores& us = *job.us;
  const int k = us.k;
  const std::size_t acc_bstride = static_cast<std::size_t>(k) * kLanes;
  double* acc = sc.acc.data();
  std::fill(acc, acc + static_cast<std::size_t>(nbp) * acc_bstride, 0.0);
  const bool two_point =
      job.method == BootstrapMethod::kRademacher || job.method == BootstrapMethod::kMammen;
  if (two_point) {
    for (std::size_t u0 = 0; u0 < us.padded; u0 += job.mask_tile) {
      const std::size_t nu = std::min(job.mask_tile, us.padded - u0);
      const std::size_t nchunks = nu / kLanes;
      for (int sub = 0; sub < nbp; sub += kRb) {
        FillBits(job, static_cast<std::uint32_t>(b0 + sub), u0, nu, sc);
        double* acc_sub = acc + static_cast<std::size_t>(sub) * acc_bstride;
        int j = 0;
        for (; j + 2 <= k; j += 2) {
          const double* s = us.s.data() + static_cast<std::size_t>(j) * us.padded + u0;
#if FASTDML_BOOT_AVX512
          if (kAvx512) {
            MaskSumsAvx512<2>(s, us.padded, nchunks, sc.bits.data(), acc_sub + j * kLanes, acc_bstride);
            continue;
          }
#endif
          MaskSumsPortable<2>(s, us.padded, nchunks, sc.bits.data(), acc_sub + j * kLanes, acc_bstride);
        }
        if (j < k) {
          const double* s = us.s.data() + static_cast<std::size_t>(j) * us.padded + u0;
#if FASTDML_BOOT_AVX512
          if (kAvx512) {
            MaskSumsAvx512<1>(s, us.padded, nchunks, sc.bits.data(), acc_sub + j * kLanes, acc_bstride);
            continue;
          }
#endif
          MaskSumsPortable<1>(s, us.padded, nchunks, sc.bits.data(), acc_sub + j * kLanes, acc_bstride);
        }
      }
    }
  } else {
    for (std::size_t u0 = 0; u0 < us.padded; u0 += kWeightTile) {
      const std::size_t nu = std::min(kWeightTile, us.padded - u0);
      const std::size_t nchunks = nu / kLanes;
      for (int sub = 0; sub < nbp; sub += kRb) {
        for (int bb = 0; bb < kRb; ++bb) {
          FillWeights(job, static_cast<std::uint32_t>(b0 + sub + bb), u0, nu, sc,
                      sc.w.data() + static_cast<std::size_t>(bb) * kWeightTile);
        }
        double* acc_sub = acc + static_cast<std::size_t>(sub) * acc_bstride;
        int j = 0;
        for (; j + 2 <= k; j += 2) {
          WeightSums<2>(us.s.data() + static_cast<std::size_t>(j) * us.padded + u0, us.padded,
                        nchunks, sc.w.data(), acc_sub + j * kLanes, acc_bstride);
        }
        if (j < k) {
          WeightSums<1>(us.s.data() + static_cast<std::size_t>(j) * us.padded + u0, us.padded,
                        nchunks, sc.w.data(), acc_sub + j * kLanes, acc_bstride);
        }
      }
    }
  }
}

void RunGroupPortable(const LoopJob& job, std::int64_t b0, int nbp, Scratch& sc) {
  RunGroupImpl<false>(job, b0, nbp, sc);
}
#if FASTDML_BOOT_AVX512
FASTDML_TARGET_AVX512 void RunGroupAvx512(const LoopJob& job, std::int64_t b0, int nbp,
                                          Scratch& sc) {
  RunGroupImpl<true>(job, b0, nbp, sc);
}
#endif

bool UseAvx512() {
#if FASTDML_BOOT_AVX512
  const char* env = std::getenv("FASTDML_NO_AVX512");
  if (env != nullptr && env[0] != '\0' && env[0] != '0') return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
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

int ResolveThreads(int threads) {
  if (threads > 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

// Runs body(i) for i in [0, count) on up to `threads` threads (dynamic
// scheduling; callers make each i's result independent of who runs it).
template <class Body>
void ParallelFor(std::int64_t count, int threads, const Body& body) {
  const int nt = static_cast<int>(std::min<std::int64_t>(threads, count));
  if (nt <= 1) {
    for (std::int64_t i = 0; i < count; ++i) body(i, 0);
    return;
  }
  std::atomic<std::int64_t> next(0);
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(nt));
  auto worker = [&](int tid) {
    try {
      for (;;) {
        const std::int64_t i = next.fetch_add(1);
        if (i >= count) break;
        body(i, tid);
      }
    } catch (...) {
      errors[static_cast<std::size_t>(tid)] = std::current_exception();
      next.store(count);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(nt - 1));
  for (int tid = 1; tid < nt; ++tid) pool.emplace_back(worker, tid);
  worker(0);
  for (std::thread& th : pool) th.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

std::vector<double> LoopT(const UnitScores& us, const BootstrapOptions& o, std::uint32_t rep) {
  const std::int64_t B = o.replicates;
  const int k = us.k;
  std::vector<double> t(static_cast<std::size_t>(B) * k);
  const int threads = ResolveThreads(o.threads);

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
  const bool avx512 = UseAvx512();
  const int nt = static_cast<int>(std::min<std::int64_t>(threads, groups));
  std::vector<std::unique_ptr<Scratch>> scratch(static_cast<std::size_t>(std::max(nt, 1)));
  ParallelFor(groups, nt, [&](std::int64_t g, int tid) {
    std::unique_ptr<Scratch>& sc = scratch[static_cast<std::size_t>(tid)];
    if (!sc) sc = std::make_unique<Scratch>(job);
    const std::int64_t b0 = g * job.group;
    const int nb = static_cast<int>(std::min<std::int64_t>(job.group, B - b0));
    const int nbp = (nb + kRb - 1) / kRb * kRb;
#if FASTDML_BOOT_AVX512
    if (avx512) {
      RunGroupAvx512(job, b0, nbp, *sc);
    } else {
      RunGroupPortable(job, b0, nbp, *sc);
    }
#else
    (void)avx512;
    RunGroupPortable(job, b0, nbp, *sc);
#endif
    FinishGroup(job, b0, nb, *sc);
  });
  return t;
}

// ---------------------------------------------------------------------------
// Exact sampler (normal weights)
// ---------------------------------------------------------------------------

std::vector<double> ExactT(const UnitScores& us, const BootstrapOptions& o, std::uint32_t rep) {
  const int k = us.k;
  const std::int64_t B = o.replicates;
  using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const RowMat> S(us.s.data(), k, static_cast<Eigen::Index>(us.padded));
  Eigen::MatrixXd sigma(k, k);
  sigma.setZero();
  sigma.selfadjointView<Eigen::Lower>().rankUpdate(S);
  sigma.triangularView<Eigen::StrictlyUpper>() = sigma.transpose();
  if (!sigma.allFinite()) throw Error("bootstrap: the scores' covariance is not finite");

  // Sigma = P^T L D L^T P (pivoted, D >= 0 up to rounding) => F = P^T L D^{1/2}.
  Eigen::LDLT<Eigen::MatrixXd> ldlt(sigma);
  if (ldlt.info() != Eigen::Success) throw Error("bootstrap: LDL^T of the scores' covariance failed");
  const Eigen::VectorXd root_d = ldlt.vectorD().cwiseMax(0.0).cwiseSqrt();
  Eigen::MatrixXd lower = ldlt.matrixL();
  Eigen::MatrixXd f = lower * root_d.asDiagonal();
  f = ldlt.transpositionsP().transpose() * f;
  // Row i of F is a row of the lower-triangular L D^{1/2}: non-zero up to len[i].
  std::vector<int> len(static_cast<std::size_t>(k), 0);
  for (int i = 0; i < k; ++i)
    for (int c = 0; c < k; ++c)
      if (f(i, c) != 0.0) len[static_cast<std::size_t>(i)] = c + 1;
  RowMat fr = f;  // row-major for the per-replicate dot products

  std::vector<double> t(static_cast<std::size_t>(B) * k);
  const std::int64_t chunk = std::max<std::int64_t>(1, 65536 / (static_cast<std::int64_t>(k) * k + 8));
  const std::int64_t chunks = (B + chunk - 1) / chunk;
  const int threads = ResolveThreads(o.threads);
  ParallelFor(chunks, threads, [&](std::int64_t ci, int) {
    std::vector<double> z(static_cast<std::size_t>(k) + 1);
    const std::int64_t b_end = std::min(B, (ci + 1) * chunk);
    for (std::int64_t b = ci * chunk; b < b_end; ++b) {
      for (int j = 0; j < k; j += 2) {
        const ops::Philox4 p = ops::BootstrapPhilox(o.seed, static_cast<std::uint32_t>(j / 2),
                                                    static_cast<std::uint32_t>(b), rep,
                                                    ops::kStreamExactNormal);
        ops::BoxMuller(p.v[0], p.v[1], p.v[2], p.v[3], &z[j], &z[j + 1]);
      }
      double* tb = t.data() + b * k;
      for (int i = 0; i < k; ++i) {
        const double* fi = fr.data() + static_cast<std::size_t>(i) * k;
        double acc = 0.0;
        for (int c = 0; c < len[static_cast<std::size_t>(i)]; ++c) acc += fi[c] * z[c];
        tb[i] = acc;
      }
    }
  });
  return t;
}

}  // namespace

std::vector<double> BootstrapT(const ScoreBlock& scores, const BootstrapOptions& options, int rep) {
  Validate(scores, options, rep);
  const bool exact = options.sampler == BootstrapSampler::kExact ||
                     (options.sampler == BootstrapSampler::kAuto &&
                      options.method == BootstrapMethod::kNormal);
  if (!exact) {
    // Block indices of the contract are 32-bit.
    const std::size_t units = scores.cluster.empty() ? scores.n : static_cast<std::size_t>(scores.n_clusters);
    std::size_t per = 1;
    switch (options.method) {
      case BootstrapMethod::kRademacher: per = ops::kUnitsPerBlockRademacher; break;
      case BootstrapMethod::kMammen: per = ops::kUnitsPerBlockMammen; break;
      case BootstrapMethod::kNormal: per = ops::kUnitsPerBlockNormal; break;
      case BootstrapMethod::kWild: per = ops::kUnitsPerBlockWild; break;
      case BootstrapMethod::kBayes: per = ops::kUnitsPerBlockBayes; break;
    }
    if ((units + kPadUnits) / per >= (static_cast<std::size_t>(1) << 32)) {
      throw Error("bootstrap: too many units (" + std::to_string(units) +
                  ") for the 32-bit block counter of the " + ToString(options.method) + " weights");
    }
  }
  const UnitScores us = PrepareUnits(scores);
  const std::uint32_t r = static_cast<std::uint32_t>(rep);
  return exact ? ExactT(us, options, r) : LoopT(us, options, r);
}

}  // namespace fastdml
