#include "inference/balance.h"

#include <cmath>
#include <limits>

#include "ops/scores.h"

namespace fastdml {

void BalanceSums::AddRow(const float* x, std::size_t p, int arm, double weight) {
  double* w_arm = w.data() + arm * p;
  double* wx_arm = wx.data() + arm * p;
  for (std::size_t j = 0; j < p; ++j) {
    const double v = x[j];
    if (std::isnan(v)) continue;
    w_arm[j] += weight;
    wx_arm[j] += weight * v;
  }
}

BalanceMoments RawBalanceMoments(const Dataset& data, const std::vector<double>& uw) {
  const std::size_t n = data.n, p = data.p;
  BalanceSums s;
  s.Resize(p);
  for (std::size_t i = 0; i < n; ++i) {
    s.AddRow(data.x.data() + i * p, p, data.d[i] == 1.0, uw.empty() ? 1.0 : uw[i]);
  }
  BalanceMoments raw;
  raw.mean.resize(2 * p);
  for (std::size_t k = 0; k < 2 * p; ++k) raw.mean[k] = s.wx[k] / s.w[k];
  // Second pass, deviations from the mean (no cancellation): the unbiased
  // variance for reliability weights, sum u (x - mean)^2 / (sum u - sum u^2 /
  // sum u), which is the usual n - 1 form when every u is 1.
  std::vector<double> ss(2 * p, 0.0), u2(2 * p, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t a = data.d[i] == 1.0;
    const double u = uw.empty() ? 1.0 : uw[i];
    const float* x = data.x.data() + i * p;
    for (std::size_t j = 0; j < p; ++j) {
      const double v = x[j];
      if (std::isnan(v)) continue;
      const double dev = v - raw.mean[a * p + j];
      ss[a * p + j] += u * dev * dev;
      u2[a * p + j] += u * u;
    }
  }
  raw.var.resize(2 * p);
  for (std::size_t k = 0; k < 2 * p; ++k) {
    const double denom = s.w[k] - u2[k] / s.w[k];
    raw.var[k] = denom > 0 ? ss[k] / denom : std::numeric_limits<double>::quiet_NaN();
  }
  return raw;
}

void AddIpwRows(const Dataset& data, const Predictions& pred, const std::vector<double>& uw, double clip,
                const std::size_t* rows, std::size_t count, BalanceSums* ate, BalanceSums* att) {
  const std::size_t n = pred.n, p = data.p;
  if (!rows) count = n;
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t i = rows ? rows[k] : k;
    const int arm = data.d[i] == 1.0;
    double w_ate = 0, w_att = 0;
    for (int r = 0; r < pred.reps; ++r) {
      const double m = ops::ClipPropensity(pred.m[static_cast<std::size_t>(r) * n + i], clip);
      // ATE: each arm weighted to the whole sample; ATT: controls to the treated.
      w_ate += arm ? 1 / m : 1 / (1 - m);
      w_att += arm ? 1.0 : m / (1 - m);
    }
    const double u = uw.empty() ? 1.0 : uw[i];
    const float* x = data.x.data() + i * p;
    ate->AddRow(x, p, arm, u * w_ate);
    att->AddRow(x, p, arm, u * w_att);
  }
}

namespace {

// (mean_T - mean_C) / sqrt((var_T + var_C) / 2); a feature constant within
// both arms has SMD 0 when the means agree and +-infinity when they differ
// (it is the treatment, W-FEATURE-IS-D).
double Smd(double mean_t, double mean_c, double var_t, double var_c) {
  const double diff = mean_t - mean_c;
  const double sd = std::sqrt((var_t + var_c) / 2);
  if (sd == 0) return diff == 0 ? 0.0 : std::copysign(std::numeric_limits<double>::infinity(), diff);
  return diff / sd;
}

}  // namespace

std::vector<FeatureBalance> BalanceOf(const Dataset& data, const BalanceMoments& raw, const BalanceSums& ate,
                                      const BalanceSums& att) {
  const std::size_t p = data.p;
  std::vector<FeatureBalance> out(p);
  for (std::size_t j = 0; j < p; ++j) {
    FeatureBalance& b = out[j];
    b.feature = j < data.feature_names.size() ? data.feature_names[j] : "x" + std::to_string(j + 1);
    const double vt = raw.var[p + j], vc = raw.var[j];
    b.smd_raw = Smd(raw.mean[p + j], raw.mean[j], vt, vc);
    b.smd_ate = Smd(ate.wx[p + j] / ate.w[p + j], ate.wx[j] / ate.w[j], vt, vc);
    b.smd_att = Smd(att.wx[p + j] / att.w[p + j], att.wx[j] / att.w[j], vt, vc);
  }
  return out;
}

}  // namespace fastdml
