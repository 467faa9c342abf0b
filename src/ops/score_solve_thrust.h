// Scores and their DML2 solution written against a Thrust execution policy:
// cuda/scores.cu runs them with thrust::cuda::par on GPU memory (Thrust's
// reductions are CUB's), and tests/thrust runs them with thrust::device on
// Thrust's OpenMP backend, so the GPU's score code is checked on machines
// without a GPU. The IRM pass is ops/irm_pass.h and the per-row maths
// ops/scores.h, as in cpu/scores.cc; only the order of the sums differs. Every
// pointer (the argument structs' included) must be in the memory the policy
// addresses.
#pragma once
#include <thrust/for_each.h>
#include <thrust/functional.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/reduce.h>
#include <thrust/transform.h>
#include <thrust/transform_reduce.h>

#include <cstddef>

#include "ops/irm_pass.h"
#include "ops/score_args.h"
#include "ops/scores.h"

namespace fastdml::ops {

namespace score_functors {

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

// ops::IrmPass's loops as Thrust algorithms under `policy`: for_each over
// row indices and transform_reduce (CUB's reductions on a GPU).
template <class Policy>
struct ThrustLoops {
  Policy policy;
  template <class F>
  void ForEach(std::size_t n, const F& f) const {
    const thrust::counting_iterator<std::size_t> first(0);
    thrust::for_each(policy, first, first + n, f);
  }
  template <class F>
  double Sum(std::size_t n, const F& f) const {
    const thrust::counting_iterator<std::size_t> first(0);
    return thrust::transform_reduce(policy, first, first + n, f, 0.0, thrust::plus<double>());
  }
  // The sum of an array as a plain reduce over its pointer (the order the
  // CUDA twin had before IrmPass was shared: CUB loads a raw pointer in
  // vectors, which a counting iterator would not).
  double SumArray(std::size_t n, const double* v) const { return thrust::reduce(policy, v, v + n, 0.0); }
};

// IRM psi_a, psi_b: ops::IrmPass (the pass cpu::IrmScores runs) under `policy`.
// `m_work` is n doubles of scratch for the propensity actually used.
template <class Policy>
void ComputeIrmScores(const Policy& policy, const IrmScoreArgs& a, double* m_work, double* psi_a, double* psi_b) {
  IrmPass(ThrustLoops<Policy>{policy}, a, m_work, psi_a, psi_b);
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
