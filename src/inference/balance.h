// Covariate balance between the arms of a binary treatment, before and after
// inverse-propensity weighting (IRM; docs/reliability.md, "Overlap and
// balance"). Per feature j the standardized mean difference
//   SMD_j = (mean_T - mean_C) / sqrt((var_T + var_C) / 2),
// with the means raw, ATE-weighted (treated 1/m, control 1/(1 - m)) or
// ATT-weighted (treated 1, control m/(1 - m)), m clipped as the scores clip it
// (ops::ClipPropensity), and always the raw variances in the denominator, so
// that the three differ only in their numerators (Austin 2009, "Balance
// diagnostics for comparing the distribution of baseline covariates between
// treatment groups in propensity-score matched samples", Stat. Med. 28; the
// convention of R's cobalt). Sample weights, when given, multiply every weight
// and enter the variances too (cobalt's s.weights).
//
// Repetitions are pooled: every (row, repetition) pair is one weighted row,
// so a row's weight is the sum of its repetitions' weights (the raw moments
// do not depend on the repetitions). A NaN feature value is left out of that
// feature's moments only.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "fastdml/dataset.h"
#include "fastdml/estimator.h"

namespace fastdml {

// Raw moments per arm a (0 control, 1 treated) and feature j, at a * p + j.
struct BalanceMoments {
  std::vector<double> mean, var;  // var: unbiased for reliability weights (n - 1 without weights)
};

// Weighted sums per arm and feature, at a * p + j: sum of the weights over the
// rows where x_j is not NaN, and of the weight times x_j.
struct BalanceSums {
  std::vector<double> w, wx;
  void Resize(std::size_t p) { w.assign(2 * p, 0.0), wx.assign(2 * p, 0.0); }
  void AddRow(const float* x, std::size_t p, int arm, double weight);
};

// Two passes over X: the arms' means, then their variances. `uw`: the sample
// weights (empty: 1).
BalanceMoments RawBalanceMoments(const Dataset& data, const std::vector<double>& uw);

// Adds rows rows[0..count) (all n rows when rows is null) to the ATE and ATT
// sums, each row weighted by u_i times the sum over repetitions of its IPW
// weight at propensity ClipPropensity(m_ri, clip).
void AddIpwRows(const Dataset& data, const Predictions& pred, const std::vector<double>& uw, double clip,
                const std::size_t* rows, std::size_t count, BalanceSums* ate, BalanceSums* att);

// One FeatureBalance per feature from the raw moments and the weighted sums.
std::vector<FeatureBalance> BalanceOf(const Dataset& data, const BalanceMoments& raw, const BalanceSums& ate,
                                      const BalanceSums& att);

}  // namespace fastdml
