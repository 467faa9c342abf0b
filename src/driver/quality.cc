#include "driver/quality.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace fastdml {

double Auc(const double* s, const double* d, std::size_t n) {
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return s[a] < s[b]; });
  double rank_sum = 0, n1 = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && s[idx[j]] == s[idx[i]]) ++j;
    const double mid_rank = 0.5 * (i + 1 + j);  // average 1-based rank of the tie block
    for (std::size_t k = i; k < j; ++k) {
      if (d[idx[k]] == 1.0) {
        rank_sum += mid_rank;
        n1 += 1;
      }
    }
    i = j;
  }
  const double n0 = n - n1;
  if (n1 == 0 || n0 == 0) return NAN;
  return (rank_sum - n1 * (n1 + 1) / 2) / (n1 * n0);
}

namespace {

// The constant model of cross-fitting, for repetition r: each row's
// prediction is the mean of `target` over the rows of the other folds (of the
// same arm when arm >= 0), which is what a model that learned nothing from
// the features would predict out of fold. NaN where no training row exists.
std::vector<double> ConstantPredictions(const Dataset& data, const Predictions& pred, int r, int arm,
                                        const std::vector<double>& target) {
  const std::size_t n = pred.n;
  const int* fold = pred.fold.data() + static_cast<std::size_t>(r) * n;
  int folds = 0;
  for (std::size_t i = 0; i < n; ++i) folds = std::max(folds, fold[i] + 1);
  std::vector<double> sum(static_cast<std::size_t>(folds), 0.0), count(static_cast<std::size_t>(folds), 0.0);
  double total = 0, rows = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (arm >= 0 && data.d[i] != arm) continue;
    sum[static_cast<std::size_t>(fold[i])] += target[i];
    count[static_cast<std::size_t>(fold[i])] += 1;
    total += target[i];
    rows += 1;
  }
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t k = static_cast<std::size_t>(fold[i]);
    out[i] = rows > count[k] ? (total - sum[k]) / (rows - count[k]) : NAN;
  }
  return out;
}

double RowLogLoss(double m, double d) {
  const double p = std::min(std::max(m, 1e-15), 1 - 1e-15);
  return -(d * std::log(p) + (1 - d) * std::log(1 - p));
}

double LogLoss(const double* m, const std::vector<double>& d) {
  double s = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    const double p = std::min(std::max(m[i], 1e-15), 1 - 1e-15);
    s -= d[i] * std::log(p) + (1 - d[i]) * std::log(1 - p);
  }
  return s / d.size();
}

// t-statistic of the mean of per-row loss differences (model minus constant)
// over the rows of `arm`: how many standard errors the model's loss lies
// above the constant's (a paired comparison on the same held-out rows).
template <class RowLoss>
double PairedT(std::size_t n, int arm, const Dataset& data, const RowLoss& diff) {
  double s = 0, ss = 0, k = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (arm >= 0 && data.d[i] != arm) continue;
    const double v = diff(i);
    s += v;
    ss += v * v;
    k += 1;
  }
  if (k < 2) return NAN;
  const double mean = s / k, var = (ss - k * mean * mean) / (k - 1);
  return var > 0 ? mean / std::sqrt(var / k) : (mean > 0 ? INFINITY : 0.0);
}

}  // namespace

std::vector<NuisanceQuality> NuisanceQualities(const Dataset& data, const Predictions& pred) {
  const std::size_t n = pred.n;
  const bool folds_known = pred.fold.size() == n * static_cast<std::size_t>(pred.reps);
  std::vector<NuisanceQuality> out;
  // RMSE over the rows of `arm` (all rows when arm < 0) of predictions g.
  auto arm_rmse = [&](const double* g, int arm, const std::vector<double>& target, std::size_t* rows) {
    double ss = 0;
    std::size_t k = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (arm >= 0 && data.d[i] != arm) continue;
      const double e = target[i] - g[i];
      ss += e * e;
      ++k;
    }
    *rows = k;
    return std::sqrt(ss / std::max<std::size_t>(k, 1));
  };
  auto rmse = [&](const std::vector<double>& g, const char* name, int arm,
                  const std::vector<double>& target) {
    if (g.empty()) return;
    double total = 0, constant = 0, t = 0;
    std::size_t rows = 0;
    for (int r = 0; r < pred.reps; ++r) {
      const double* gr = g.data() + static_cast<std::size_t>(r) * n;
      total += arm_rmse(gr, arm, target, &rows);
      if (!folds_known) continue;
      const std::vector<double> c = ConstantPredictions(data, pred, r, arm, target);
      std::size_t unused = 0;
      constant += arm_rmse(c.data(), arm, target, &unused);
      t += PairedT(n, arm, data, [&](std::size_t i) {
        return (target[i] - gr[i]) * (target[i] - gr[i]) - (target[i] - c[i]) * (target[i] - c[i]);
      });
    }
    out.push_back({name, "rmse", total / pred.reps, -1.0, rows});
    out.back().constant = folds_known ? constant / pred.reps : NAN;
    out.back().worse_t = folds_known ? t / pred.reps : NAN;
  };
  if (!pred.m.empty() && !IsBinaryTreatment(data.d)) {
    rmse(pred.m, "m", -1, data.d);  // continuous treatment: m = E[D|X]
  } else if (!pred.m.empty()) {
    double ll = 0, auc = 0, constant = 0, t = 0;
    for (int r = 0; r < pred.reps; ++r) {
      const double* m = pred.m.data() + r * n;
      ll += LogLoss(m, data.d);
      auc += Auc(m, data.d.data(), n);
      if (!folds_known) continue;
      const std::vector<double> c = ConstantPredictions(data, pred, r, -1, data.d);
      constant += LogLoss(c.data(), data.d);
      t += PairedT(n, -1, data, [&](std::size_t i) { return RowLogLoss(m[i], data.d[i]) - RowLogLoss(c[i], data.d[i]); });
    }
    out.push_back({"m", "logloss", ll / pred.reps, auc / pred.reps, n});
    out.back().constant = folds_known ? constant / pred.reps : NAN;
    out.back().worse_t = folds_known ? t / pred.reps : NAN;
  }
  rmse(pred.g0, "g0", 0, data.y);  // each arm's model judged on its own arm's rows
  rmse(pred.g1, "g1", 1, data.y);
  rmse(pred.l, "l", -1, data.y);
  return out;
}

}  // namespace fastdml
