// Orthogonal scores psi = psi_a * theta + psi_b, per row, written once for the
// CPU and CUDA twins. Notation and formulas: Chernozhukov et al. (2018),
// "Double/debiased machine learning", Econometrics Journal 21(1): PLR eq. (4.4),
// IRM ATE eq. (5.3), ATT eq. (5.4); weighted forms as in DoubleML (>= 0.10).
#pragma once
#include <cmath>
#include <cstddef>

#include "fastdml/options.h"  // Estimand
#include "ops/hd.h"

namespace fastdml::ops {

struct ScorePair {
  double a;  // psi_a
  double b;  // psi_b
};

// Propensity clipped to [clip, 1 - clip] (DoubleML's clipping_threshold).
FASTDML_HD double ClipPropensity(double m, double clip) {
  return m < clip ? clip : (m > 1.0 - clip ? 1.0 - clip : m);
}

// Hajek normalisation (DoubleML's normalize_ipw): returns the propensity m~ for
// which D/m~ = (D/m) / mean(D/m) and (1-D)/(1-m~) = ((1-D)/(1-m)) / mean((1-D)/(1-m)).
FASTDML_HD double NormalizedPropensity(double m, double d, double mean_ipw1, double mean_ipw0) {
  return d * m * mean_ipw1 + (1.0 - d) * (1.0 - (1.0 - m) * mean_ipw0);
}

// IRM in DoubleML's weighted form:
//   psi_a = -w,  psi_b = w (g1 - g0) + wbar (D (Y - g1) / m - (1 - D)(Y - g0) / (1 - m)).
// ATE: w = wbar = sample weight (1 unweighted).
// ATT: w = D / p, wbar = m / p with p = mean(D); this reduces to the textbook
//   psi_b = D (Y - g0) / p - m (1 - D)(Y - g0) / (p (1 - m)).
// ATC: w = (1 - D) / q, wbar = (1 - m) / q with q = mean(1 - D). It is the ATT
//   score of the swapped problem (D' = 1 - D, m' = 1 - m, g0' = g1, g1' = g0),
//   whose theta is E[Y0 - Y1 | D = 0], negated: substituting the swap into the
//   ATT's psi_b flips the sign of both of its terms, so -psi_b' is the line
//   above with the ATC weights, and psi_a = -w is unchanged. Textbook form:
//   psi_b = -(1 - D)(Y - g1) / q + (1 - m) D (Y - g1) / (q m).
// `m` is the (clipped, possibly normalised) propensity used in the IPW terms.
FASTDML_HD ScorePair IrmScore(double y, double d, double m, double g0, double g1, double w,
                              double wbar) {
  const double ipw = d * (y - g1) / m - (1.0 - d) * (y - g0) / (1.0 - m);
  return ScorePair{-w, w * (g1 - g0) + wbar * ipw};
}

// The overlap-weighted ATE (Li, Morgan and Zaslavsky 2018; grf's
// target.sample = "overlap"): theta = E[h (g1 - g0)] / E[h], h = m (1 - m).
// The plug-in AIPW score with the weight h is not orthogonal in m, because h
// is itself estimated. The efficient influence function adds h's own
// correction h'(m) (D - m)(tau - theta), h' = 1 - 2m, to the AIPW one,
// h (D (Y - g1) / m - (1 - D)(Y - g0) / (1 - m)) = (1 - m) D (Y - g1) - m (1 - D)(Y - g0):
//   psi = h (tau - theta) + (1 - m) D (Y - g1) - m (1 - D)(Y - g0) + (1 - 2m)(D - m)(tau - theta).
// Orthogonality: d psi / d m = -D (Y - g1) - (1 - D)(Y - g0) - 2 (D - m)(tau - theta),
// d psi / d g1 = h - (1 - m) D + (1 - 2m)(D - m), d psi / d g0 = -h + m (1 - D) - (1 - 2m)(D - m),
// each of conditional mean 0 given X at the truth. Collecting terms for D = 1
// and D = 0 gives the compact form (with l = m g1 + (1 - m) g0 = E[Y | X])
//   psi_a = -(D - m)^2,  psi_b = (D - m)(Y - l),
// the partialling-out score of Robinson (1988) with the IRM's nuisances: the
// residual-on-residual slope that grf computes for "overlap". No division by
// m, so the raw propensity is used (no clipping, no Hajek normalisation).
FASTDML_HD ScorePair OverlapScore(double y, double d, double m, double g0, double g1, double uw) {
  const double v = d - m;
  return ScorePair{-uw * v * v, uw * v * (y - m * g1 - (1.0 - m) * g0)};
}

// DoubleML's IRM weights (irm.py, _get_weights) for sample weight `uw` (mean 1):
// ATE: w = wbar = uw;  ATT: w = uw D / p, wbar = uw m / p with p = mean(uw D);
// ATC: the ATT's with D -> 1 - D and m -> 1 - m, p = mean(uw (1 - D)).
FASTDML_HD void IrmWeights(Estimand e, double d, double m, double uw, double p, double* w,
                           double* wbar) {
  if (e == Estimand::kAtt) {
    *w = uw * d / p;
    *wbar = uw * m / p;
  } else if (e == Estimand::kAtc) {
    *w = uw * (1.0 - d) / p;
    *wbar = uw * (1.0 - m) / p;
  } else {
    *w = uw;
    *wbar = uw;
  }
}

// PLR, partialling out: v = D - m, u = Y - l;  psi_a = -v^2, psi_b = v u.
FASTDML_HD ScorePair PlrScore(double y, double d, double m, double l) {
  const double v = d - m;
  return ScorePair{-v * v, v * (y - l)};
}

// DML2 for a score linear in theta, psi = psi_a theta + psi_b (Chernozhukov et
// al. 2018, Definition 3.2 and Theorem 3.1), from three sums over the n rows:
//   theta = -sum(psi_b) / sum(psi_a),  J = mean(psi_a),
//   se = sqrt(mean(psi^2) / J^2 / n) with psi evaluated at theta.
// J == 0 (no treatment variation left) gives a non-finite theta: callers check j.
struct ScoreSolution {
  double theta;
  double j;
  double se;
};

FASTDML_HD double SolveTheta(double sum_a, double sum_b) { return -sum_b / sum_a; }

// sum_sq = sum of (theta psi_a + psi_b)^2 at theta = SolveTheta(sum_a, sum_b).
FASTDML_HD ScoreSolution SolveFromSums(std::size_t n, double sum_a, double sum_b, double sum_sq) {
  const double j = sum_a / n;
  return ScoreSolution{SolveTheta(sum_a, sum_b), j, std::sqrt(sum_sq / n / (j * j) / n)};
}

}  // namespace fastdml::ops
