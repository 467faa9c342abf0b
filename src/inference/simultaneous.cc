// Simultaneous inference from bootstrap t-statistics: the sup-t (joint)
// critical value and multiplicity-adjusted p-values. The formulas are those of
// DoubleML 0.11.4 (double_ml_framework.py: confint(joint=True), p_adjust) and
// statsmodels' multipletests ('bonferroni', 'holm'), so that given the same
// bootstrap draws the results agree to rounding. NaN handling follows numpy:
// a NaN replicate makes the joint critical value NaN; a NaN inside a
// Romano-Wolf critical distribution never counts as >= the observed |t|.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "fastdml/error.h"
#include "fastdml/inference.h"

namespace fastdml {
namespace {

// Checks t_boot (replicate-major, B x k) against k; returns B.
std::size_t CheckBootShape(const std::vector<double>& t_boot, int k, const char* who) {
  if (k < 1) {
    throw Error(std::string(who) + ": number of estimands k = " + std::to_string(k) + " must be >= 1");
  }
  const std::size_t kk = static_cast<std::size_t>(k);
  if (t_boot.empty() || t_boot.size() % kk != 0) {
    throw Error(std::string(who) + ": " + std::to_string(t_boot.size()) +
                " bootstrap t-statistics are not a positive multiple of k = " + std::to_string(k));
  }
  return t_boot.size() / kk;
}

// max(acc, x) that keeps NaN once seen, as numpy's amax does.
inline double NanMax(double acc, double x) {
  if (std::isnan(acc) || std::isnan(x)) return std::numeric_limits<double>::quiet_NaN();
  return x > acc ? x : acc;
}

}  // namespace

// numpy.quantile(max_j |t*_bj|, level), method 'linear':
//   h = (B-1) level, lo = floor(h), g = h - lo,
//   result = lerp(x[lo], x[lo+1], g) evaluated as numpy's _lerp does
//   (a + (b-a) g for g < 0.5, b - (b-a)(1-g) otherwise), so that it is
//   bit-identical to numpy for the same draws.
double JointCriticalValue(const std::vector<double>& t_boot, int k, double level) {
  const std::size_t b_count = CheckBootShape(t_boot, k, "JointCriticalValue");
  if (!(level >= 0.0 && level <= 1.0)) {
    throw Error("JointCriticalValue: level " + std::to_string(level) + " is not in [0, 1]");
  }
  const std::size_t kk = static_cast<std::size_t>(k);
  std::vector<double> sup(b_count);
  for (std::size_t b = 0; b < b_count; ++b) {
    const double* row = t_boot.data() + b * kk;
    double m = std::fabs(row[0]);
    for (std::size_t j = 1; j < kk; ++j) m = NanMax(m, std::fabs(row[j]));
    if (std::isnan(m)) return std::numeric_limits<double>::quiet_NaN();  // numpy: any NaN -> NaN
    sup[b] = m;
  }

  const double h = static_cast<double>(b_count - 1) * level;
  // numpy: an index at or above the last position takes the maximum.
  if (h >= static_cast<double>(b_count - 1)) return *std::max_element(sup.begin(), sup.end());
  const double lo_d = std::floor(h);
  const std::size_t lo = static_cast<std::size_t>(lo_d);
  const double g = h - lo_d;
  std::nth_element(sup.begin(), sup.begin() + lo, sup.end());
  const double a = sup[lo];
  // The (lo+1)-th order statistic is the minimum of the part above lo.
  const double b = *std::min_element(sup.begin() + lo + 1, sup.end());
  const double diff = b - a;
  return g >= 0.5 ? b - diff * (1.0 - g) : a + diff * g;
}

// DoubleML's p_adjust('romano-wolf') for one repetition. Estimands are taken
// in order of decreasing |t_obs| (ties: either order gives the same result,
// as the step-down max makes tied values equal). At step i the critical
// distribution is max_{j not yet removed} |t*_bj| over the estimands from the
// i-th on; p_init_i = min(1, mean_b(crit_b >= |t_obs|_(i))); the adjusted
// p-values are the running max of p_init, returned in the original order.
// The remaining sets are nested, so the critical distributions are built from
// the last step backwards with one running max per replicate: O(B k).
// A NaN t_obs gets a NaN p-value; as in numpy's argsort it is placed first
// (removed first), so the other estimands' values equal DoubleML's.
std::vector<double> RomanoWolf(const std::vector<double>& t_boot, int k, const std::vector<double>& t_obs) {
  const std::size_t b_count = CheckBootShape(t_boot, k, "RomanoWolf");
  const std::size_t kk = static_cast<std::size_t>(k);
  if (t_obs.size() != kk) {
    throw Error("RomanoWolf: " + std::to_string(t_obs.size()) + " observed t-statistics for k = " +
                std::to_string(k) + " estimands");
  }
  std::vector<double> abs_obs(kk);
  for (std::size_t j = 0; j < kk; ++j) abs_obs[j] = std::fabs(t_obs[j]);

  // Step-down order: NaN first (numpy sorts NaN last ascending, then reverses),
  // then decreasing |t_obs|.
  std::vector<std::size_t> order(kk);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    const bool nx = std::isnan(abs_obs[x]), ny = std::isnan(abs_obs[y]);
    if (nx != ny) return nx;
    if (nx) return false;
    return abs_obs[x] > abs_obs[y];
  });

  std::vector<double> crit(b_count, -std::numeric_limits<double>::infinity());
  std::vector<double> p_init(kk);
  for (std::size_t step = kk; step-- > 0;) {
    const std::size_t j = order[step];
    const double threshold = abs_obs[j];
    std::size_t count = 0;
    for (std::size_t b = 0; b < b_count; ++b) {
      crit[b] = NanMax(crit[b], std::fabs(t_boot[b * kk + j]));
      count += crit[b] >= threshold ? 1 : 0;  // false for NaN on either side
    }
    p_init[step] = std::min(1.0, static_cast<double>(count) / static_cast<double>(b_count));
  }

  std::vector<double> adjusted(kk);
  double running = 0.0;
  for (std::size_t step = 0; step < kk; ++step) {
    const std::size_t j = order[step];
    if (std::isnan(abs_obs[j])) {
      adjusted[j] = std::numeric_limits<double>::quiet_NaN();
      continue;  // numpy's p_init would be 0 here: no effect on the running max
    }
    running = std::max(running, p_init[step]);
    adjusted[j] = running;
  }
  return adjusted;
}

// statsmodels multipletests(method='bonferroni'): min(1, p m).
std::vector<double> Bonferroni(const std::vector<double>& p) {
  const double m = static_cast<double>(p.size());
  std::vector<double> out(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double v = p[i] * m;
    out[i] = v > 1.0 ? 1.0 : v;
  }
  return out;
}

// statsmodels multipletests(method='holm'): sort ascending, p_(i) (m - i) for
// i = 0..m-1, running max, values above 1 set to 1, original order. Ties give
// the same values in either order (the running max equalises them).
std::vector<double> Holm(const std::vector<double>& p) {
  const std::size_t m = p.size();
  std::vector<std::size_t> order(m);
  std::iota(order.begin(), order.end(), std::size_t{0});
  // NaN last, as numpy's argsort.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    const bool nx = std::isnan(p[x]), ny = std::isnan(p[y]);
    if (nx != ny) return ny;
    if (nx) return false;
    return p[x] < p[y];
  });
  std::vector<double> out(m);
  double running = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < m; ++i) {
    const double raw = p[order[i]] * static_cast<double>(m - i);
    running = NanMax(running, raw);  // np.maximum.accumulate propagates NaN
    out[order[i]] = running > 1.0 ? 1.0 : running;
  }
  return out;
}

}  // namespace fastdml
