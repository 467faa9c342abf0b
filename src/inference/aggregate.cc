#include "inference/aggregate.h"

#include <algorithm>
#include <cmath>

#include "fastdml/error.h"
#include "inference/normal.h"

namespace fastdml::inference {

double Median(std::vector<double> v) {
  if (v.empty()) throw Error("internal: median of no repetitions");
  std::sort(v.begin(), v.end());
  const std::size_t k = v.size();
  return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}

double TwoSidedCritical(double level) { return NormalQuantile(1 - (1 - level) / 2); }

Pooled AggregateReps(const std::vector<double>& theta_reps, const std::vector<double>& se_reps) {
  if (theta_reps.size() != se_reps.size()) throw Error("internal: estimates and SEs differ in repetitions");
  Pooled out;
  out.estimate = Median(theta_reps);
  if (theta_reps.size() == 1) {
    out.se = se_reps[0];
    return out;
  }
  std::vector<double> upper(theta_reps.size());
  for (std::size_t r = 0; r < upper.size(); ++r) upper[r] = theta_reps[r] + kAggregationCritical * se_reps[r];
  out.se = (Median(upper) - out.estimate) / kAggregationCritical;
  return out;
}

Bounds MedianBounds(const std::vector<double>& theta_reps, const std::vector<double>& se_reps,
                    const std::vector<double>& critical_per_rep) {
  const std::size_t reps = theta_reps.size();
  if (se_reps.size() != reps || critical_per_rep.size() != reps) {
    throw Error("internal: estimates, SEs and critical values differ in repetitions");
  }
  std::vector<double> lo(reps), hi(reps);
  for (std::size_t r = 0; r < reps; ++r) {
    lo[r] = theta_reps[r] - critical_per_rep[r] * se_reps[r];
    hi[r] = theta_reps[r] + critical_per_rep[r] * se_reps[r];
  }
  return {Median(std::move(lo)), Median(std::move(hi))};
}

Bounds MedianBounds(const std::vector<double>& theta_reps, const std::vector<double>& se_reps, double critical) {
  return MedianBounds(theta_reps, se_reps, std::vector<double>(theta_reps.size(), critical));
}

Inference Finish(const std::vector<double>& theta_reps, const std::vector<double>& se_reps, double level) {
  const Pooled pooled = AggregateReps(theta_reps, se_reps);
  Inference f;
  f.estimate = pooled.estimate;
  f.se = pooled.se;
  f.t = f.estimate / f.se;
  f.p_value = 2 * NormalCdf(-std::fabs(f.t));
  const Bounds ci = MedianBounds(theta_reps, se_reps, TwoSidedCritical(level));
  f.ci_lower = ci.lower;
  f.ci_upper = ci.upper;
  return f;
}

}  // namespace fastdml::inference
