// Sensitivity to unobserved confounding: omitted-variable-bias bounds from
// the stored predictions of a fit (Chernozhukov, Cinelli, Newey, Sharma and
// Syrgkanis, "Long story short: omitted variable bias in causal machine
// learning", 2022/2024; "LSS" below). Nothing here refits a nuisance model;
// docs/sensitivity.md walks through the output.
//
// A confounder A left out of the features moves the estimate by at most
//   |theta_short - theta_long| <= |rho| * C_y * C_d * S,   S^2 = sigma^2 nu^2   (LSS, Theorem 2)
// with sigma^2 = E[(Y - g(D, X))^2], nu^2 = E[alpha(D, X)^2] (alpha: the Riesz
// representer of the estimand), C_y^2 = cf_y (the share of the outcome's
// residual variance A explains) and C_d^2 = cf_d / (1 - cf_d) (cf_d: the share
// of the Riesz representer's variation A explains). The parametrisation and
// every convention (weights, normalize_ipw, repetitions) follow DoubleML
// 0.11.4's sensitivity_analysis(), so the bounds agree with it to rounding.
#pragma once
#include <string>
#include <vector>

#include "fastdml/dataset.h"
#include "fastdml/estimator.h"
#include "fastdml/options.h"

namespace fastdml {

// One confounding scenario (--sensitivity cf_y=0.03,cf_d=0.03,rho=1.0).
struct SensitivityScenario {
  double cf_y = 0.03;  // in [0, 1)
  double cf_d = 0.03;  // in [0, 1)
  double rho = 1.0;    // in [-1, 1]; only |rho| matters for the bounds
};

// Parses "cf_y=0.03,cf_d=0.03,rho=1.0" (keys in any order; a key left out
// keeps its default). Throws UsageError naming `option` and the bad item.
SensitivityScenario ParseSensitivityScenario(const std::string& text, const std::string& option = "--sensitivity");
// Throws UsageError naming `option` when cf_y or cf_d is outside [0, 1) or rho
// outside [-1, 1].
void ValidateSensitivityScenario(const SensitivityScenario& s, const std::string& option = "--sensitivity");

// The bounds of one estimand under one scenario.
struct SensitivityBounds {
  std::string estimand;          // "ate", "att", ... as in EstimateResult
  SensitivityScenario scenario;
  double level = 0.95;           // the run's level; the confidence bounds are one-sided at it
  double null_hypothesis = 0.0;  // h0 of the robustness values
  double theta = 0;              // the estimate (median over repetitions)
  // theta -/+ |rho| C_y C_d S (median over repetitions).
  double theta_lower = 0, theta_upper = 0;
  // Standard errors of the two bounds (DoubleML's aggregation over repetitions).
  double se_lower = 0, se_upper = 0;
  // Confidence bounds: median over repetitions of theta_lower - z se_lower and
  // theta_upper + z se_upper, z = Phi^-1(level).
  double ci_lower = 0, ci_upper = 0;
  // Robustness values: the cf_y = cf_d at which the bound nearest h0 (theta
  // bound: rv; confidence bound: rva) reaches h0, with this scenario's rho;
  // 0 when it is there already, 1 when no confounder short of explaining
  // everything moves it there.
  double rv = 0, rva = 0;
};

// The quantities behind the bounds, per repetition, for one estimand.
struct SensitivityElements {
  std::string estimand;
  std::vector<double> sigma2, nu2, max_bias;  // one per repetition; max_bias = S
  // nu^2's orthogonal estimate was not positive in some repetition, so, as in
  // DoubleML, every repetition uses the plain second moment of the Riesz
  // representer instead (not orthogonal; a warning says so).
  bool riesz_fallback = false;
};

// The lower (theta >= h0) or upper theta bound over a grid of (cf_y, cf_d),
// for a contour plot without refitting (Python's sensitivity_plot draws it).
struct SensitivityGrid {
  std::string estimand;
  std::string bound;          // "lower" or "upper"
  double rho = 1.0;
  std::vector<double> cf_y, cf_d;
  std::vector<double> theta;  // theta[i * cf_d.size() + j] at (cf_y[i], cf_d[j])
};

struct SensitivityReport {
  std::vector<SensitivityBounds> bounds;  // scenario-major: every estimand of scenario 0, then 1, ...
  std::vector<SensitivityElements> elements;
  std::vector<SensitivityGrid> grids;     // one per estimand, at the first scenario's rho
  std::vector<std::string> warnings;
};

// Grid of the contour plot: cf_y and cf_d from 0 to kSensitivityGridMax in
// kSensitivityGridSize steps (DoubleML's sensitivity_plot default range).
inline constexpr double kSensitivityGridMax = 0.15;
inline constexpr int kSensitivityGridSize = 31;

// Bounds for every estimand of `report` (made by Estimate from `fit` with
// `options`) under each scenario. Throws UsageError for a bad scenario.
SensitivityReport Sensitivity(const Dataset& data, const Fit& fit, const Options& options, const Report& report,
                              const std::vector<SensitivityScenario>& scenarios, double null_hypothesis);

// Benchmarking (DoubleML's sensitivity_benchmark / gain_statistics): what an
// observed feature set would imply as a confounder, from a short fit that
// leaves it out. With sigma^2, nu^2 and theta of the long (all features) and
// the short fit per repetition, R2_y = 1 - sigma^2 / Var(Y):
//   cf_y = (R2_y,long - R2_y,short) / (1 - R2_y,long),   cf_d = (1 - R2_a) / R2_a,
//   R2_a = nu^2_short / nu^2_long,   both clipped to [0, 1];
//   rho  = sign(dtheta) min(1, |dtheta| / sqrt((sigma^2_short - sigma^2_long)(nu^2_long - nu^2_short))),
//   dtheta = theta_short - theta_long (rho = sign(dtheta) when a difference is not positive);
// each the median over repetitions.
struct SensitivityBenchmark {
  std::vector<std::string> features;  // left out of the short fit
  std::string estimand;
  double cf_y = 0, cf_d = 0, rho = 0, delta_theta = 0;
  // The bounds at that strength (the long fit's theta -/+ |rho| C_y C_d S);
  // has_bounds is false when cf_d reaches 1 (no finite bound).
  bool has_bounds = false;
  SensitivityBounds bounds;
};

// Throws UsageError naming --sensitivity-benchmark when a set names a column
// that is not a feature of `data`, is empty, or leaves no feature.
void CheckSensitivityBenchmark(const Dataset& data, const std::vector<std::string>& features);

// Refits the nuisances without `features` (same options, hence the same seeds
// and folds; a fit from loaded predictions of one repetition keeps its folds)
// and returns one benchmark per estimand of `report`. `long_sensitivity` is
// Sensitivity() of the same fit and report; `null_hypothesis` is --sensitivity-h0.
std::vector<SensitivityBenchmark> BenchmarkSensitivity(const Dataset& data, const Fit& fit, const Options& options,
                                                       const Report& report,
                                                       const SensitivityReport& long_sensitivity,
                                                       const std::vector<std::string>& features,
                                                       double null_hypothesis);

}  // namespace fastdml
