// The IRM score pass, written once: clip the propensity, Hajek-normalise it
// (DoubleML normalize_ipw), the weights w and wbar (ATT: p = mean(uw D); ATC:
// p = mean(uw (1 - D))), the per-row psi_a and psi_b (ops/scores.h), and
// psi_a = -w / mean(w), as in DoubleML's irm.py. It is generic in how it
// loops: SerialLoops below for the CPU scores (cpu/scores.cc, hence Estimate,
// the CATE signal and the DR-learner's pseudo-outcome), ThrustLoops
// (ops/score_solve_thrust.h) for the CUDA twin and its OpenMP check in tests/thrust.
#pragma once
#include <cstddef>

#include "ops/hd.h"
#include "ops/score_args.h"
#include "ops/scores.h"

namespace fastdml::ops {

namespace irm_functors {

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

// uw D of row i (uw = 1 unweighted): p = mean(uw D) for the ATT weights;
// uw (1 - D) with `control`: p = mean(uw (1 - D)) for the ATC weights.
struct WeightedTreatment {
  const double* d;
  const double* uw;
  bool control;
  FASTDML_HD double operator()(std::size_t i) const {
    return (uw != nullptr ? uw[i] : 1.0) * (control ? 1.0 - d[i] : d[i]);
  }
};

// psi_a = -w (rescaled by mean(w) afterwards) and psi_b of row i.
struct Row {
  IrmScoreArgs a;  // m: the propensity, already clipped (and normalised) unless clip_here
  double p;        // mean(uw D) (ATT), mean(uw (1 - D)) (ATC); 1 for the ATE
  bool clip_here;  // clip a.m[i] in this pass (no separate clip pass)
  double* psi_a;
  double* psi_b;
  FASTDML_HD void operator()(std::size_t i) const {
    const double m = clip_here ? ClipPropensity(a.m[i], a.spec.clip) : a.m[i];
    double w, wbar;
    IrmWeights(a.spec.estimand, a.d[i], m, a.uw != nullptr ? a.uw[i] : 1.0, p, &w, &wbar);
    const ScorePair s = IrmScore(a.y[i], a.d[i], m, a.g0[i], a.g1[i], w, wbar);
    psi_a[i] = s.a;
    psi_b[i] = s.b;
  }
};

// The overlap-weighted ATE's psi_a, psi_b of row i (OverlapScore; raw m).
struct OverlapRow {
  IrmScoreArgs a;
  double* psi_a;
  double* psi_b;
  FASTDML_HD void operator()(std::size_t i) const {
    const ScorePair s = OverlapScore(a.y[i], a.d[i], a.m[i], a.g0[i], a.g1[i], a.uw != nullptr ? a.uw[i] : 1.0);
    psi_a[i] = s.a;
    psi_b[i] = s.b;
  }
};

struct Element {
  const double* v;
  FASTDML_HD double operator()(std::size_t i) const { return v[i]; }
};

struct DivideInPlace {
  double* v;
  double divisor;
  FASTDML_HD void operator()(std::size_t i) const { v[i] /= divisor; }
};

}  // namespace irm_functors

// Host loops in row order: sums accumulate i = 0, 1, ..., n-1.
struct SerialLoops {
  template <class F>
  void ForEach(std::size_t n, const F& f) const {
    for (std::size_t i = 0; i < n; ++i) f(i);
  }
  template <class F>
  double Sum(std::size_t n, const F& f) const {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += f(i);
    return s;
  }
  double SumArray(std::size_t n, const double* v) const { return Sum(n, irm_functors::Element{v}); }
};

// IRM psi_a, psi_b of a.n rows. `Loops` gives ForEach(n, f) and Sum(n, f)
// over row indices and SumArray(n, v) over an array, in the memory that every pointer (the arguments', m_work,
// psi_a, psi_b) lives in. `m_work` is n doubles of scratch for the normalised
// propensity (untouched without normalize_ipw).
//
// Passes over the rows, the memory traffic of a re-estimation: the clip is
// fused into the score pass unless the Hajek sums need the clipped values
// first; the rescale by mean(w) runs only where w is not 1 in every row (ATT,
// ATC or sample weights): for the unweighted ATE, sum(w) = n exactly, mean(w) = 1
// and the division would change no bit.
template <class Loops>
void IrmPass(const Loops& loops, IrmScoreArgs a, double* m_work, double* psi_a, double* psi_b) {
  namespace f = irm_functors;
  const std::size_t n = a.n;
  if (n == 0) return;
  if (a.spec.estimand == Estimand::kAto) {  // one pass; no weights to normalise
    loops.ForEach(n, f::OverlapRow{a, psi_a, psi_b});
    return;
  }
  const bool normalize = a.spec.normalize_ipw;
  if (normalize) {
    loops.ForEach(n, f::Clip{a.m, a.spec.clip, m_work});
    a.m = m_work;
    const double s1 = loops.Sum(n, f::InverseProbability{a.d, a.m, true});
    const double s0 = loops.Sum(n, f::InverseProbability{a.d, a.m, false});
    loops.ForEach(n, f::Normalize{a.d, s1 / n, s0 / n, m_work});
  }
  const bool ate = a.spec.estimand == Estimand::kAte;
  double p = 1.0;
  if (!ate) p = loops.Sum(n, f::WeightedTreatment{a.d, a.uw, a.spec.estimand == Estimand::kAtc}) / n;
  loops.ForEach(n, f::Row{a, p, /*clip_here=*/!normalize, psi_a, psi_b});
  if (ate && a.uw == nullptr) return;  // w = 1 in every row: psi_a = -1 already
  // sum(w) = -sum(psi_a): negation is exact, so this is the sum of w itself.
  const double mean_w = -loops.SumArray(n, psi_a) / n;
  loops.ForEach(n, f::DivideInPlace{psi_a, mean_w});
}

}  // namespace fastdml::ops
