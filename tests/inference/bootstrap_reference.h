// Test helpers shared by the bootstrap's device tests (tests/cuda, tests/thrust):
// score blocks, the unit scores and t* written out naively from docs/design.md
// section 2, and the rounding bound two summation orders of t* must meet.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "fastdml/inference.h"
#include "ops/philox_weights.h"

namespace fastdml::testing {

inline std::uint32_t StreamOf(BootstrapMethod m) {
  switch (m) {
    case BootstrapMethod::kRademacher: return ops::kStreamRademacher;
    case BootstrapMethod::kMammen: return ops::kStreamMammen;
    case BootstrapMethod::kNormal: return ops::kStreamNormal;
    case BootstrapMethod::kWild: return ops::kStreamWild;
    case BootstrapMethod::kBayes: return ops::kStreamBayes;
  }
  return 0;
}

inline const BootstrapMethod kAllLaws[] = {BootstrapMethod::kRademacher, BootstrapMethod::kMammen,
                                           BootstrapMethod::kNormal, BootstrapMethod::kWild,
                                           BootstrapMethod::kBayes};

// n rows, k estimands of heavy-tailed scores with different J and se; with
// n_clusters > 0 rows get random cluster ids (some clusters may stay empty).
// dyadic: psi_ij = q_ij (n J_j se_j) with q_ij a multiple of 2^-10 below 2^10,
// so that s = psi / (n J se) = q exactly and every sum of +-s is exact.
inline ScoreBlock MakeScoreBlock(std::size_t n, int k, std::int32_t n_clusters, std::uint64_t seed,
                                 bool dyadic = false) {
  std::mt19937_64 rng(seed);
  std::student_t_distribution<double> heavy(3.0);
  std::uniform_int_distribution<int> small(-(1 << 20), 1 << 20);
  ScoreBlock sc;
  sc.n = n;
  sc.k = k;
  sc.psi.resize(n * static_cast<std::size_t>(k));
  for (int j = 0; j < k; ++j) {
    sc.j.push_back(dyadic ? 1.0 : -1.0 - 0.25 * j);
    sc.se.push_back(dyadic ? 1.0 : 0.01 * (j + 1));
    sc.theta.push_back(0.1 * j);
    const double divisor = static_cast<double>(n) * sc.j.back() * sc.se.back();
    for (std::size_t i = 0; i < n; ++i) {
      sc.psi[static_cast<std::size_t>(j) * n + i] =
          dyadic ? std::ldexp(static_cast<double>(small(rng)), -10) * divisor : heavy(rng) + 0.5 * j;
    }
  }
  if (n_clusters > 0) {
    std::uniform_int_distribution<std::int32_t> pick(0, n_clusters - 1);
    sc.cluster.resize(n);
    for (auto& c : sc.cluster) c = pick(rng);
    sc.n_clusters = n_clusters;
  }
  return sc;
}

// s[j * units + u] as docs/design.md section 2 defines it (cluster sums in row order).
inline std::vector<double> ReferenceUnitScores(const ScoreBlock& sc) {
  const bool clustered = !sc.cluster.empty();
  const std::size_t units = clustered ? static_cast<std::size_t>(sc.n_clusters) : sc.n;
  std::vector<double> s(units * static_cast<std::size_t>(sc.k), 0.0);
  for (int j = 0; j < sc.k; ++j) {
    const double divisor = static_cast<double>(sc.n) * sc.j[j] * sc.se[j];
    double* sj = s.data() + static_cast<std::size_t>(j) * units;
    for (std::size_t i = 0; i < sc.n; ++i) {
      sj[clustered ? static_cast<std::size_t>(sc.cluster[i]) : i] += sc.psi[j * sc.n + i];
    }
    for (std::size_t u = 0; u < units; ++u) sj[u] /= divisor;
  }
  return s;
}

// t*_bj = sum_u W_bu s_uj summed naively in increasing u, with abs[b * k + j]
// = sum_u |W_bu s_uj|, the scale of its rounding error.
struct ReferenceT {
  std::vector<double> t, abs;
  std::size_t units = 0;
};

inline ReferenceT ComputeReferenceT(const ScoreBlock& sc, BootstrapMethod law, std::uint64_t seed,
                                    int rep, std::int64_t replicates) {
  const std::vector<double> s = ReferenceUnitScores(sc);
  ReferenceT ref;
  ref.units = s.size() / static_cast<std::size_t>(sc.k);
  ref.t.assign(static_cast<std::size_t>(replicates) * sc.k, 0.0);
  ref.abs = ref.t;
  for (std::int64_t b = 0; b < replicates; ++b) {
    for (std::size_t u = 0; u < ref.units; ++u) {
      const double w = ops::BootstrapWeight(StreamOf(law), seed, static_cast<std::uint32_t>(rep),
                                            static_cast<std::uint32_t>(b), u);
      for (int j = 0; j < sc.k; ++j) {
        const double term = w * s[static_cast<std::size_t>(j) * ref.units + u];
        ref.t[b * sc.k + j] += term;
        ref.abs[b * sc.k + j] += std::fabs(term);
      }
    }
  }
  return ref;
}

// Two evaluations of sum_u W_bu s_uj over N units in different orders (or the
// CPU's two-point form hi S_j + (lo - hi) A_bj) differ by at most
//   8 (N + 2) 2^-53 sum_u |W_bu s_uj|:
// any order of recursive summation errs by <= (N - 1) u sum|terms| (u = 2^-53,
// Higham, Accuracy and Stability, eq. 4.4), each product by u |term|; the
// two-point form sums |s| with factors |hi| + |lo - hi| <= 3.9, i.e. <= 6.3
// sum |W s| since |W| >= 0.618 for Mammen. 8 covers both sides with margin;
// a single wrong weight moves t* by ~|s_u| ~ 1/sqrt(N), far above the bound.
inline double SumTolerance(std::size_t units, double abs_sum) {
  return 8.0 * (static_cast<double>(units) + 2.0) * 0x1p-53 * abs_sum;
}

}  // namespace fastdml::testing
