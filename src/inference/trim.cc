// Trimming to comparable propensities (see fastdml/trim.h).
#include "fastdml/trim.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "fastdml/error.h"

namespace fastdml {

TrimOptions ParseTrim(const std::string& text) {
  TrimOptions o;
  if (text == "crump") {
    o.rule = TrimRule::kCrump;
    return o;
  }
  char* end = nullptr;
  const double alpha = std::strtod(text.c_str(), &end);
  if (text.empty() || end == nullptr || *end != '\0') {
    throw UsageError("--trim: '" + text + "' is neither 'crump' nor a number (e.g. --trim 0.1)");
  }
  if (!(alpha > 0 && alpha < 0.5)) {
    throw UsageError("--trim: alpha = " + text + " must lie in (0, 0.5): rows with a propensity in [alpha, "
                     "1 - alpha] are kept");
  }
  o.rule = TrimRule::kFixed;
  o.alpha = alpha;
  return o;
}

double CrumpAlpha(const std::vector<double>& m) {
  const std::size_t n = m.size();
  if (n == 0) return 0;
  std::vector<double> gamma(n);
  for (std::size_t i = 0; i < n; ++i) {
    // A propensity at 0 or 1 has an infinite gamma: it is trimmed whatever lambda is.
    const double e = m[i];
    gamma[i] = e > 0 && e < 1 ? 1.0 / (e * (1.0 - e)) : std::numeric_limits<double>::infinity();
  }
  std::sort(gamma.begin(), gamma.end());
  double total = 0;
  for (double g : gamma) total += g;
  // The whole sample is efficient enough (a propensity at 0 or 1 never is).
  if (std::isfinite(gamma.back()) && gamma.back() <= 2.0 * total / n) return 0.0;
  // lambda = 2 c_k with c_k the mean of the k smallest gammas, for the first k
  // where that value lies in [gamma_(k), gamma_(k+1)): there E[gamma | gamma <=
  // lambda] is c_k, so lambda is the fixed point.
  double sum = 0;
  for (std::size_t k = 1; k <= n; ++k) {
    sum += gamma[k - 1];
    const double lambda = 2.0 * sum / k;
    const double next = k < n ? gamma[k] : std::numeric_limits<double>::infinity();
    if (gamma[k - 1] <= lambda && lambda < next) return 0.5 - std::sqrt(0.25 - 1.0 / lambda);
  }
  return 0.0;  // unreachable: the last k satisfies the condition once max gamma > 2 mean
}

TrimmedSample Trim(const Dataset& data, const Fit& fit, const TrimOptions& options) {
  if (fit.options.model != Model::kIrm) {
    throw UsageError("--trim: trimming by the propensity applies to the IRM model (--model irm)");
  }
  const Predictions& pred = fit.predictions;
  const std::size_t n = pred.n;
  // One population for every repetition: the mean out-of-fold propensity.
  std::vector<double> m(n, 0.0);
  for (int r = 0; r < pred.reps; ++r) {
    for (std::size_t i = 0; i < n; ++i) m[i] += pred.m[static_cast<std::size_t>(r) * n + i] / pred.reps;
  }
  TrimmedSample t;
  t.options = options;
  t.rule = options.rule == TrimRule::kCrump ? "crump" : "fixed";
  t.alpha = options.rule == TrimRule::kCrump ? CrumpAlpha(m) : options.alpha;
  t.rows = n;
  for (std::size_t i = 0; i < n; ++i) {
    if (m[i] >= t.alpha && m[i] <= 1.0 - t.alpha) {
      t.kept.push_back(static_cast<std::uint32_t>(i));
      (data.d[i] != 0.0 ? t.treated_kept : t.control_kept) += 1;
    }
  }
  char text[64];
  std::snprintf(text, sizeof text, "%.4g", t.alpha);
  if (t.treated_kept == 0 || t.control_kept == 0) {
    throw UsageError("--trim: alpha = " + std::string(text) + " keeps " + std::to_string(t.treated_kept) +
                     " treated and " + std::to_string(t.control_kept) +
                     " control rows; both arms are needed: use a smaller alpha");
  }

  // The data restricted to the kept rows.
  const std::size_t k = t.kept.size();
  Dataset& s = t.data;
  s.n = k;
  s.p = data.p;
  s.feature_names = data.feature_names;
  s.outcome_name = data.outcome_name;
  s.treatment_name = data.treatment_name;
  s.cluster_name = data.cluster_name;
  s.x.resize(k * data.p);
  s.y.resize(k);
  s.d.resize(k);
  for (std::size_t j = 0; j < k; ++j) {
    const std::size_t i = t.kept[j];
    std::copy(data.x.begin() + i * data.p, data.x.begin() + (i + 1) * data.p, s.x.begin() + j * data.p);
    s.y[j] = data.y[i];
    s.d[j] = data.d[i];
    if (!data.weights.empty()) s.weights.push_back(data.weights[i]);
    if (!data.fold.empty()) s.fold.push_back(data.fold[i]);
  }
  if (!data.cluster.empty()) {  // renumbered 0..C'-1 in order of first appearance
    std::map<std::int32_t, std::int32_t> id;
    for (std::uint32_t i : t.kept) {
      const auto found = id.emplace(data.cluster[i], static_cast<std::int32_t>(id.size()));
      s.cluster.push_back(found.first->second);
    }
    s.n_clusters = static_cast<std::int32_t>(id.size());
  }

  // The fit restricted to them: the same nuisance models' predictions and folds.
  Predictions p;
  p.n = k;
  p.reps = pred.reps;
  auto take = [&](const std::vector<double>& v) {
    std::vector<double> out;
    if (v.empty()) return out;
    out.reserve(k * pred.reps);
    for (int r = 0; r < pred.reps; ++r) {
      for (std::uint32_t i : t.kept) out.push_back(v[static_cast<std::size_t>(r) * n + i]);
    }
    return out;
  };
  p.m = take(pred.m);
  p.g0 = take(pred.g0);
  p.g1 = take(pred.g1);
  p.l = take(pred.l);
  for (int r = 0; r < pred.reps; ++r) {
    for (std::uint32_t i : t.kept) p.fold.push_back(pred.fold[static_cast<std::size_t>(r) * n + i]);
  }
  try {
    t.fit = FitFromPredictions(s, fit.options, std::move(p));
  } catch (const DataError& e) {
    throw DataError(std::string("--trim: the ") + std::to_string(k) + " rows kept at alpha = " + text +
                    " cannot be estimated from: " + e.what());
  }
  // The nuisance diagnostics describe the models, which saw every row.
  t.fit.quality = fit.quality;
  t.fit.tuning = fit.tuning;
  t.fit.timings = fit.timings;
  t.fit.xgboost_version = fit.xgboost_version;
  t.fit.threads = fit.threads;
  return t;
}

}  // namespace fastdml
