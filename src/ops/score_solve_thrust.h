// Scores and their DML2 solution written against a Thrust execution policy:
// cuda/scores.cu runs them with thrust::cuda::par on GPU memory (Thrust's
// reductions are CUB's), and tests/thrust runs them with thrust::device on
// Thrust's OpenMP backend, so the GPU's score code is checked on machines
// without a GPU. The per-row maths is ops/scores.h, as in cpu/scores.cc and
// inference/estimate.cc; only the order of the sums differs. Every pointer
// (the argument structs' included) must be in the memory the policy addresses.
#pragma once
#include <thrust/for_each.h>
#include <thrust/functional.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/reduce.h>
#include <thrust/transform.h>
#include <thrust/transform_reduce.h>

#include <cstddef>

#include "cpu/scores.h"  // IrmScoreArgs, PlrScoreArgs
#include "ops/scores.h"

namespace fastdml::ops {

namespace score_functors {

struct Clip {
  const double* m;
  double clip;
  double* out;
  FASTDML_HD void operator()(std::size_t i) const { out[i] = ClipPropensity(m[i], clip); }
};

// D/m (treated) or (1-D)/(1-m) (control) of row i: the Hajek sums.
struct InverseProbability {
  const double* d;
  const double* m;
  bool treated;
  FASTDML_HD double operator()(std::size_t i) const {
    return treated ? d[i] / m[i] : (1.0 - d[i]) / (1.0 - m[i]);
  }
};

struct Normalize {
  const double* d;
  double mean_ipw1, mean_ipw0;
  double* m;
  FASTDML_HD void operator()(std::size_t i) const {
    m[i] = NormalizedPropensity(m[i], d[i], mean_ipw1, mean_ipw0);
  }
};

// uw D of row i (uw = 1 unweighted): p = mean(uw D) for the ATT weights.
struct WeightedTreatment {
  const double* d;
  const double* uw;
  FASTDML_HD double operator()(std::size_t i) const { return (uw != nullptr ? uw[i] : 1.0) * d[i]; }
};

// psi_a = -w (rescaled by mean(w) afterwards) and psi_b of row i.
struct IrmRow {
  IrmScoreArgs a;  // m: the clipped (normalised) propensity
  double p;        // mean(uw D); 1 for the ATE
  double* psi_a;
  double* psi_b;
  FASTDML_HD void operator()(std::size_t i) const {
    double w, wbar;
    IrmWeights(a.att, a.d[i], a.m[i], a.uw != nullptr ? a.uw[i] : 1.0, p, &w, &wbar);
    const ScorePair s = IrmScore(a.y[i], a.d[i], a.m[i], a.g0[i], a.g1[i], w, wbar);
    psi_a[i] = s.a;
    psi_b[i] = s.b;
  }
};

struct DivideBy {
  double divisor;
  FASTDML_HD double operator()(double v) const { return v / divisor; }
};

struct PlrRow {
  PlrScoreArgs a;
  double* psi_a;
  double* psi_b;
  FASTDML_HD void operator()(std::size_t i) const {
    const ScorePair s = PlrScore(a.y[i], a.d[i], a.m[i], a.l[i]);
    psi_a[i] = s.a;
    psi_b[i] = s.b;
  }
};

// psi = theta psi_a + psi_b of row i.
struct Combine {
  const double* psi_a;
  const double* psi_b;
  double theta;
  FASTDML_HD double operator()(std::size_t i) const { return theta * psi_a[i] + psi_b[i]; }
};

struct Square {
  FASTDML_HD double operator()(double v) const { return v * v; }
};

}  // namespace score_functors

// IRM psi_a, psi_b as cpu::IrmScores computes them: clipped propensity, Hajek
// normalisation (DoubleML normalize_ipw), ATT weights, psi_a = -w / mean(w).
// `m_work` is n doubles of scratch for the propensity actually used.
template <class Policy>
void ComputeIrmScores(const Policy& policy, IrmScoreArgs a, double* m_work, double* psi_a, double* psi_b) {
  namespace f = score_functors;
  const std::size_t n = a.n;
  if (n == 0) return;
  const thrust::counting_iterator<std::size_t> first(0), last(n);
  thrust::for_each(policy, first, last, f::Clip{a.m, a.clip, m_work});
  a.m = m_work;
  if (a.normalize_ipw) {
    const double s1 = thrust::transform_reduce(policy, first, last, f::InverseProbability{a.d, a.m, true}, 0.0,
                                               thrust::plus<double>());
    const double s0 = thrust::transform_reduce(policy, first, last, f::InverseProbability{a.d, a.m, false}, 0.0,
                                               thrust::plus<double>());
    thrust::for_each(policy, first, last, f::Normalize{a.d, s1 / n, s0 / n, m_work});
  }
  double p = 1.0;
  if (a.att) {
    p = thrust::transform_reduce(policy, first, last, f::WeightedTreatment{a.d, a.uw}, 0.0,
                                 thrust::plus<double>()) / n;
  }
  thrust::for_each(policy, first, last, f::IrmRow{a, p, psi_a, psi_b});
  // sum(w) = -sum(psi_a): negation is exact, so this is the CPU's sum of w up to order.
  const double mean_w = -thrust::reduce(policy, psi_a, psi_a + n, 0.0, thrust::plus<double>()) / n;
  thrust::transform(policy, psi_a, psi_a + n, psi_a, f::DivideBy{mean_w});
}

// PLR psi_a, psi_b (partialling out), as cpu::PlrScores.
template <class Policy>
void ComputePlrScores(const Policy& policy, const PlrScoreArgs& a, double* psi_a, double* psi_b) {
  const thrust::counting_iterator<std::size_t> first(0);
  thrust::for_each(policy, first, first + a.n, score_functors::PlrRow{a, psi_a, psi_b});
}

// The DML2 solution from psi_a, psi_b (ops::SolveFromSums), and the scores at
// that solution written to psi = theta psi_a + psi_b. Three reductions: only
// their sums leave the policy's memory.
template <class Policy>
ScoreSolution SolveDml2(const Policy& policy, std::size_t n, const double* psi_a, const double* psi_b,
                        double* psi) {
  const double sum_a = thrust::reduce(policy, psi_a, psi_a + n, 0.0, thrust::plus<double>());
  const double sum_b = thrust::reduce(policy, psi_b, psi_b + n, 0.0, thrust::plus<double>());
  const double theta = SolveTheta(sum_a, sum_b);
  const thrust::counting_iterator<std::size_t> first(0);
  thrust::transform(policy, first, first + n, psi, score_functors::Combine{psi_a, psi_b, theta});
  const double sum_sq =
      thrust::transform_reduce(policy, psi, psi + n, score_functors::Square{}, 0.0, thrust::plus<double>());
  return SolveFromSums(n, sum_a, sum_b, sum_sq);
}

}  // namespace fastdml::ops
