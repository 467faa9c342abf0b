// Codes of the documented warnings in Report::warnings (JSON
// diagnostics.warnings, console "warning:" lines). Each warning text starts
// with its code and a colon; docs/reliability.md has the table.
#pragma once

namespace fastdml {

// More than kMaxClippedShare of the out-of-fold propensities lie at the clip
// bounds: the estimate leans on few comparable rows (weak overlap).
inline constexpr char kWarnOverlap[] = "W-OVERLAP";
inline constexpr double kMaxClippedShare = 0.05;
// The out-of-fold propensities separate treated from control rows perfectly
// (every treated row above every control row): the features predict D, there
// is no overlap, and the estimate rests on the clipping bounds alone.
inline constexpr char kWarnSeparation[] = "W-SEPARATION";
// A feature equals the treatment (or 1 - D) in every row: perfect prediction
// of D by construction; drop the feature.
inline constexpr char kWarnFeatureIsTreatment[] = "W-FEATURE-IS-D";
// A nuisance model's out-of-fold loss is above that of the constant model of
// cross-fitting (each fold predicted by its training folds' mean): the model
// overfits, or its features carry no signal for it. Its residuals then add
// noise to the scores and widen the interval.
// It fires when the loss is above the constant's by more than
// kWorseThanConstantT standard errors of the paired per-row difference, so
// that a model merely as good as the constant (sampling noise) stays quiet.
inline constexpr char kWarnWorseThanConstant[] = "W-NUISANCE-WORSE-THAN-CONSTANT";
inline constexpr double kWorseThanConstantT = 2.0;
// IRM: in some repetition more than kExtremeClippedShare of the rows have
// their propensity clipped, or the effective sample size of the ATE's
// inverse-propensity weights (Kish's, per arm, summed: FitCache::Ipw in
// src/inference/fit_cache.h) is below kMinIpwEssShare of n. A few extreme
// weights then dominate the scores' variance (issue 14: the NHEFS default fit
// clipped 39 rows and its SE was 4.6 times the regularised fit's).
inline constexpr char kWarnExtremePropensity[] = "W-EXTREME-PROPENSITY";
inline constexpr double kExtremeClippedShare = 0.01;
inline constexpr double kMinIpwEssShare = 0.10;
// IRM: a feature's standardized mean difference between the arms stays above
// kMaxAbsSmd in absolute value after inverse-propensity weighting with the
// weights of the report's estimands (ATE and/or ATT; src/inference/balance.h):
// the propensity model leaves it imbalanced (0.1: Austin 2009, Stat. Med. 28,
// and R's cobalt; docs/reliability.md, "Overlap and balance").
inline constexpr char kWarnImbalance[] = "W-IMBALANCE";
inline constexpr double kMaxAbsSmd = 0.1;
// --sensitivity: the orthogonal estimate of the Riesz representer's second
// moment nu^2 is not positive (extreme propensities in a small sample); the
// bounds use its plain second moment instead, as DoubleML does.
inline constexpr char kWarnSensitivityNu2[] = "W-SENSITIVITY-NU2";
// A number of the report is NaN or infinite; it is written as JSON null.
inline constexpr char kWarnNonFinite[] = "W-NONFINITE";

}  // namespace fastdml
