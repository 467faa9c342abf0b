// Per-thread logic of the tiled multiplier bootstrap, written once for the
// CUDA kernel (cuda/bootstrap.cu) and for Thrust's OpenMP backend
// (tests/thrust/bootstrap_tile_test.cc):
//   t*_bj = sum_u W_bu s_uj       (docs/design.md section 2; s as in cpu/bootstrap.cc)
// Weights come from ops/philox_weights.h (the counter contract) and are never
// stored: each thread regenerates the weights of its replicate b over its tile.
//
// THE SUMMATION ORDER (the determinism contract of the tiled path)
//   units are cut into tiles of kBootstrapTileUnits (the last one shorter);
//   partial(b, tile, j) = sum over the tile's units in increasing u, from 0.0;
//   t*_bj = sum over tiles in increasing tile order, from 0.0.
// Nothing depends on the grid, the block size, the thread count or on how
// many replicates one launch covers; evaluated without FMA contraction
// (nvcc --fmad=false for cuda/bootstrap.cu, no FMA on the host build) the
// CUDA and OpenMP runs give the same bits. The CPU loop sampler sums in
// another order (8 lanes), so it agrees within rounding only (tests derive
// the bound), except where every partial sum is exact.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ops/hd.h"
#include "ops/philox_weights.h"

namespace fastdml::ops {

// Units per tile: a multiple of 128 (every law's block), so that a tile never
// splits a Philox block. Part of the summation order above: changing it
// changes the last bits of t*.
constexpr uint64_t kBootstrapTileUnits = 8192;
// Estimands accumulated by one pass over a tile (registers per thread); more
// estimands take several passes, each regenerating the same weights.
constexpr int kMaxTileEstimands = 4;

// The weights of one Philox block of law kStream: LawBlock<kStream>(words)[r]
// is the weight of unit block * kUnits + r, by the rules of philox_weights.h.
template <uint32_t kStream>
struct LawBlock;

template <>
struct LawBlock<kStreamRademacher> {
  static constexpr uint32_t kUnits = kUnitsPerBlockRademacher;
  Philox4 words;
  FASTDML_HD explicit LawBlock(const Philox4& p) : words(p) {}
  FASTDML_HD double operator[](uint32_t r) const { return RademacherFromWords(words, r); }
};

template <>
struct LawBlock<kStreamMammen> {
  static constexpr uint32_t kUnits = kUnitsPerBlockMammen;
  Philox4 words;
  FASTDML_HD explicit LawBlock(const Philox4& p) : words(p) {}
  FASTDML_HD double operator[](uint32_t r) const { return MammenFromWord(words.v[r]); }
};

template <>
struct LawBlock<kStreamNormal> {
  static constexpr uint32_t kUnits = kUnitsPerBlockNormal;
  double z[2];
  FASTDML_HD explicit LawBlock(const Philox4& p) {
    BoxMuller(p.v[0], p.v[1], p.v[2], p.v[3], &z[0], &z[1]);
  }
  FASTDML_HD double operator[](uint32_t r) const { return z[r]; }
};

template <>
struct LawBlock<kStreamWild> {
  static constexpr uint32_t kUnits = kUnitsPerBlockWild;
  double w;
  FASTDML_HD explicit LawBlock(const Philox4& p) {
    double xi, eta;
    BoxMuller(p.v[0], p.v[1], p.v[2], p.v[3], &xi, &eta);
    w = WildFromNormals(xi, eta);
  }
  FASTDML_HD double operator[](uint32_t) const { return w; }
};

template <>
struct LawBlock<kStreamBayes> {
  static constexpr uint32_t kUnits = kUnitsPerBlockBayes;
  double w[2];
  FASTDML_HD explicit LawBlock(const Philox4& p) {
    w[0] = BayesFromWords(p.v[0], p.v[1]);
    w[1] = BayesFromWords(p.v[2], p.v[3]);
  }
  FASTDML_HD double operator[](uint32_t r) const { return w[r]; }
};

// Weight of (seed, rep, b, unit) for law kStream, through the same LawBlock
// the tile loop uses (the test hook cuda::BootstrapWeights calls this).
template <uint32_t kStream>
FASTDML_HD double TileWeight(uint64_t seed, uint32_t rep, uint32_t b, uint64_t unit) {
  constexpr uint32_t kU = LawBlock<kStream>::kUnits;
  const LawBlock<kStream> block(
      BootstrapPhilox(seed, static_cast<uint32_t>(unit / kU), b, rep, kStream));
  return block[static_cast<uint32_t>(unit % kU)];
}

// acc[j] += sum_{u in [u0, u1), increasing} W_bu s[j * s_stride + (u - u0)], j < kj.
// u0 must be a multiple of the law's block (LawBlock::kUnits); kj <= kMaxTileEstimands.
// `s` may be global memory or a shared-memory stage of the tile: calling this
// on consecutive stages [u0, u1), [u1, u2) with the same acc gives the same
// operations as one call on [u0, u2) when u1 is a multiple of the block.
template <uint32_t kStream>
FASTDML_HD void AccumulateUnits(uint64_t seed, uint32_t rep, uint32_t b, uint64_t u0, uint64_t u1,
                                const double* s, uint64_t s_stride, int kj, double* acc) {
  constexpr uint32_t kU = LawBlock<kStream>::kUnits;
  for (uint64_t first = u0; first < u1; first += kU) {
    const LawBlock<kStream> block(
        BootstrapPhilox(seed, static_cast<uint32_t>(first / kU), b, rep, kStream));
    const uint32_t count = u1 - first < kU ? static_cast<uint32_t>(u1 - first) : kU;
    const double* s_first = s + (first - u0);
    for (uint32_t r = 0; r < count; ++r) {
      const double w = block[r];
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
      for (int j = 0; j < kMaxTileEstimands; ++j) {
        if (j < kj) acc[j] = acc[j] + w * s_first[j * s_stride + r];
      }
    }
  }
}

// Units [first, last) of tile `tile` out of `units`.
FASTDML_HD uint64_t TileFirstUnit(uint64_t tile) { return tile * kBootstrapTileUnits; }
FASTDML_HD uint64_t TileEndUnit(uint64_t tile, uint64_t units) {
  const uint64_t end = (tile + 1) * kBootstrapTileUnits;
  return end < units ? end : units;
}
FASTDML_HD uint64_t TileCount(uint64_t units) {
  return (units + kBootstrapTileUnits - 1) / kBootstrapTileUnits;
}

// Layout of the per-(replicate, tile) partial sums of one launch covering
// replicates [b0, b0 + nb): partials[(bl * tiles + tile) * k + j], bl = b - b0.
// It depends on the tile count and k only, never on the launch shape.
FASTDML_HD uint64_t PartialIndex(uint64_t bl, uint64_t tile, uint64_t tiles, int k, int j) {
  return (bl * tiles + tile) * static_cast<uint64_t>(k) + static_cast<uint64_t>(j);
}

// One (replicate, tile) per index i = bl * tiles + tile, estimands [j0, j0 + kj),
// reading s (s[j * units + u], estimand-major) from memory: the form of the
// tile pass that Thrust runs (the CUDA kernel stages s in shared memory and
// calls AccumulateUnits the same way).
template <uint32_t kStream>
struct TilePartialFn {
  const double* s;
  uint64_t units;
  uint64_t tiles;
  int k, j0, kj;
  uint64_t seed;
  uint32_t rep;
  uint64_t b0;
  double* partials;
  FASTDML_HD void operator()(uint64_t i) const {
    const uint64_t bl = i / tiles, tile = i % tiles;
    double acc[kMaxTileEstimands] = {};
    const uint64_t u0 = TileFirstUnit(tile), u1 = TileEndUnit(tile, units);
    AccumulateUnits<kStream>(seed, rep, static_cast<uint32_t>(b0 + bl), u0, u1,
                             s + static_cast<uint64_t>(j0) * units + u0, units, kj, acc);
    for (int j = 0; j < kj; ++j) partials[PartialIndex(bl, tile, tiles, k, j0 + j)] = acc[j];
  }
};

// t[bl * k + j] = sum over tiles in increasing order (the fixed reduction),
// one (replicate, estimand) per index i = bl * k + j.
struct TileReduceFn {
  const double* partials;
  uint64_t tiles;
  int k;
  double* t;
  FASTDML_HD void operator()(uint64_t i) const {
    const uint64_t bl = i / static_cast<uint64_t>(k);
    const int j = static_cast<int>(i % static_cast<uint64_t>(k));
    double sum = 0.0;
    for (uint64_t tile = 0; tile < tiles; ++tile) {
      sum = sum + partials[PartialIndex(bl, tile, tiles, k, j)];
    }
    t[i] = sum;
  }
};

}  // namespace fastdml::ops
