// Finishing inference from per-repetition estimates: the one place for the
// median over repetitions, DoubleML's aggregation of (theta, se) pairs, the
// confidence bounds and the joint (sup-t) bands. Every estimator (ATE/ATT,
// GATE, BLP and its predictions, sorted GATES, CLAN) calls it, so they all
// aggregate the same way (docs/design.md, "Repetitions").
#pragma once
#include <vector>

namespace fastdml::inference {

// DoubleML aggregates SEs over repetitions with a fixed 1.96
// (utils/_estimation.py, _aggregate_coefs_and_ses), whatever the CI level; we
// keep it so that results agree with DoubleML to rounding.
inline constexpr double kAggregationCritical = 1.96;

// Median with the mean of the two middle values for an even count (numpy's).
double Median(std::vector<double> v);

// z_{1 - (1 - level) / 2}: the two-sided normal critical value at `level`.
double TwoSidedCritical(double level);

// Chernozhukov et al. (2018), section 3.4, as DoubleML implements it: the
// median estimate, and se = (median(theta_r + 1.96 se_r) - theta) / 1.96
// (one repetition: its own se).
struct Pooled {
  double estimate = 0, se = 0;
};
Pooled AggregateReps(const std::vector<double>& theta_reps, const std::vector<double>& se_reps);

// Medians over repetitions of theta_r -/+ c_r se_r: the confidence interval
// (one critical value for all r) and the joint band (c_r = the sup-t critical
// value of repetition r). DoubleMLFramework.confint takes these medians.
struct Bounds {
  double lower = 0, upper = 0;
};
Bounds MedianBounds(const std::vector<double>& theta_reps, const std::vector<double>& se_reps, double critical);
Bounds MedianBounds(const std::vector<double>& theta_reps, const std::vector<double>& se_reps,
                    const std::vector<double>& critical_per_rep);

// The whole finishing step: aggregated estimate and SE, t, two-sided normal p
// and the median CI at `level`.
struct Inference {
  double estimate = 0, se = 0, t = 0, p_value = 0, ci_lower = 0, ci_upper = 0;
};
Inference Finish(const std::vector<double>& theta_reps, const std::vector<double>& se_reps, double level);

// Finish() written into any result with the usual fields (EstimateResult,
// GroupEffect, Inferred): estimate, se, t, p_value, ci_lower, ci_upper from
// its theta_reps and se_reps.
template <class Result>
void FinishInto(Result* r, double level) {
  const Inference f = Finish(r->theta_reps, r->se_reps, level);
  r->estimate = f.estimate;
  r->se = f.se;
  r->t = f.t;
  r->p_value = f.p_value;
  r->ci_lower = f.ci_lower;
  r->ci_upper = f.ci_upper;
}

}  // namespace fastdml::inference
