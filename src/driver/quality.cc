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

std::vector<NuisanceQuality> NuisanceQualities(const Dataset& data, const Predictions& pred) {
  const std::size_t n = pred.n;
  std::vector<NuisanceQuality> out;
  auto rmse = [&](const std::vector<double>& g, const char* name, int arm,
                  const std::vector<double>& target) {
    if (g.empty()) return;
    double total = 0;
    std::size_t rows = 0;
    for (int r = 0; r < pred.reps; ++r) {
      double ss = 0;
      std::size_t k = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (arm >= 0 && data.d[i] != arm) continue;
        const double e = target[i] - g[r * n + i];
        ss += e * e;
        ++k;
      }
      total += std::sqrt(ss / std::max<std::size_t>(k, 1));
      rows = k;
    }
    out.push_back({name, "rmse", total / pred.reps, -1.0, rows});
  };
  if (!pred.m.empty() && !IsBinaryTreatment(data.d)) {
    rmse(pred.m, "m", -1, data.d);  // continuous treatment: m = E[D|X]
  } else if (!pred.m.empty()) {
    double ll = 0, auc = 0;
    for (int r = 0; r < pred.reps; ++r) {
      const double* m = pred.m.data() + r * n;
      double s = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double p = std::min(std::max(m[i], 1e-15), 1 - 1e-15);
        s -= data.d[i] * std::log(p) + (1 - data.d[i]) * std::log(1 - p);
      }
      ll += s / n;
      auc += Auc(m, data.d.data(), n);
    }
    out.push_back({"m", "logloss", ll / pred.reps, auc / pred.reps, n});
  }
  rmse(pred.g0, "g0", 0, data.y);  // each arm's model judged on its own arm's rows
  rmse(pred.g1, "g1", 1, data.y);
  rmse(pred.l, "l", -1, data.y);
  return out;
}

}  // namespace fastdml
