// The Thrust steps of cuda::BootstrapT, written against an execution policy so
// that the same code runs on a GPU (cuda/bootstrap.cu, thrust::device = CUDA)
// and on Thrust's OpenMP backend (tests/thrust/bootstrap_tile_test.cc), which
// exercises the device logic on machines without a GPU. Needs the Thrust
// headers: include from cuda/*.cu and tests/thrust only. Every pointer lives
// in the policy's memory: device memory for CUDA, host memory for OpenMP.
//
// Unit scores (docs/design.md section 2), estimand-major s[j * units + u]:
//   rows:      s_ij = psi_ij / (n J_j se_j)
//   clusters:  s_cj = (sum of psi_ij over the rows of cluster c, in row order) / (n J_j se_j)
// The same operations in the same order as the CPU's PrepareUnits, so s is
// bit-identical on both twins: rows are stably sorted by cluster id (row order
// kept within a cluster) and one thread sums each (cluster, estimand) in that order.
#pragma once
#include <stdint.h>

#include <thrust/binary_search.h>
#include <thrust/find.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>

#include "ops/bootstrap_tile.h"
#include "ops/hd.h"
#include "ops/philox_weights.h"

namespace fastdml::bootstrap_steps {

// Inf or NaN: an all-ones exponent (the CPU's test, with no libm call).
struct NotFiniteFn {
  FASTDML_HD bool operator()(double x) const {
    return (ops::DoubleBits(x) & 0x7FF0000000000000ull) == 0x7FF0000000000000ull;
  }
};

// Index of the first value in values[0, count) that is not finite, or count.
template <class Policy>
uint64_t FirstNonFinite(const Policy& policy, const double* values, uint64_t count) {
  return static_cast<uint64_t>(thrust::find_if(policy, values, values + count, NotFiniteFn()) -
                               values);
}

struct RowScoreFn {
  const double* psi;       // k * n
  uint64_t n;
  const double* divisors;  // k: n J_j se_j
  double* s;               // k * n
  FASTDML_HD void operator()(uint64_t i) const { s[i] = psi[i] / divisors[i / n]; }
};

// Unit scores when every row is a unit.
template <class Policy>
void RowUnitScores(const Policy& policy, const double* psi, uint64_t n, int k,
                   const double* divisors, double* s) {
  const uint64_t count = n * static_cast<uint64_t>(k);
  thrust::for_each(policy, thrust::counting_iterator<uint64_t>(0),
                   thrust::counting_iterator<uint64_t>(count), RowScoreFn{psi, n, divisors, s});
}

// rows <- 0..n-1 stably sorted by cluster id; keys (a copy of the ids) <- sorted ids;
// offsets[c] = first position of cluster c in that order, offsets[n_clusters] = n.
template <class Policy>
void SortRowsByCluster(const Policy& policy, int32_t* keys, uint64_t n, int32_t n_clusters,
                       int64_t* rows, int64_t* offsets) {
  thrust::sequence(policy, rows, rows + n);
  thrust::stable_sort_by_key(policy, keys, keys + n, rows);
  thrust::lower_bound(policy, keys, keys + n, thrust::counting_iterator<int32_t>(0),
                      thrust::counting_iterator<int32_t>(n_clusters + 1), offsets);
}

struct ClusterScoreFn {
  const double* psi;  // k * n
  uint64_t n;
  const int64_t* rows;     // rows sorted by cluster
  const int64_t* offsets;  // n_clusters + 1
  uint64_t n_clusters;
  const double* divisors;
  double* s;  // k * n_clusters
  FASTDML_HD void operator()(uint64_t i) const {
    const uint64_t j = i / n_clusters, c = i % n_clusters;
    const double* p = psi + j * n;
    double sum = 0.0;
    for (int64_t o = offsets[c]; o < offsets[c + 1]; ++o) sum = sum + p[rows[o]];
    s[i] = sum / divisors[j];
  }
};

// Unit scores of clustered rows, after SortRowsByCluster. One thread per
// (estimand, cluster): a single huge cluster is summed by one thread, which
// is what keeps the CPU's row order (and its bits).
template <class Policy>
void ClusterUnitScores(const Policy& policy, const double* psi, uint64_t n, int k,
                       const int64_t* rows, const int64_t* offsets, int32_t n_clusters,
                       const double* divisors, double* s) {
  const uint64_t units = static_cast<uint64_t>(n_clusters);
  thrust::for_each(policy, thrust::counting_iterator<uint64_t>(0),
                   thrust::counting_iterator<uint64_t>(units * static_cast<uint64_t>(k)),
                   ClusterScoreFn{psi, n, rows, offsets, units, divisors, s});
}

// The fixed-order reduction over tiles: t[(b - b0) * k + j] for the nb
// replicates whose partials (ops::PartialIndex layout) are in `partials`.
template <class Policy>
void ReduceTiles(const Policy& policy, const double* partials, uint64_t tiles, int k, uint64_t nb,
                 double* t) {
  thrust::for_each(policy, thrust::counting_iterator<uint64_t>(0),
                   thrust::counting_iterator<uint64_t>(nb * static_cast<uint64_t>(k)),
                   ops::TileReduceFn{partials, tiles, k, t});
}

// The tile pass with s read from memory, one (replicate, tile) per index, for
// law kStream: what the CUDA kernel computes with s staged in shared memory.
template <uint32_t kStream, class Policy>
void TilePartials(const Policy& policy, const double* s, uint64_t units, int k, uint64_t seed,
                  uint32_t rep, uint64_t b0, uint64_t nb, double* partials) {
  const uint64_t tiles = ops::TileCount(units);
  for (int j0 = 0; j0 < k; j0 += ops::kMaxTileEstimands) {
    const int kj = k - j0 < ops::kMaxTileEstimands ? k - j0 : ops::kMaxTileEstimands;
    thrust::for_each(policy, thrust::counting_iterator<uint64_t>(0),
                     thrust::counting_iterator<uint64_t>(nb * tiles),
                     ops::TilePartialFn<kStream>{s, units, tiles, k, j0, kj, seed, rep, b0,
                                                 partials});
  }
}

}  // namespace fastdml::bootstrap_steps
