// Omitted-variable-bias bounds (see fastdml/sensitivity.h). Equation numbers
// "LSS (n)" refer to Chernozhukov, Cinelli, Newey, Sharma and Syrgkanis (2024),
// "Long story short: omitted variable bias in causal machine learning".
#include "fastdml/sensitivity.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cpu/scores.h"
#include "fastdml/error.h"
#include "fastdml/warnings.h"
#include "inference/aggregate.h"
#include "inference/cluster.h"
#include "inference/format.h"
#include "inference/normal.h"
#include "ops/scores.h"

namespace fastdml {

namespace {

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// Per-repetition sensitivity elements of one estimand: the means and the
// centred per-row terms whose means they are (their influence functions).
struct RepElements {
  double sigma2 = 0, nu2 = 0;
  std::vector<double> psi_sigma2, psi_nu2, riesz;
};

void Centre(const std::vector<double>& element, double* mean, std::vector<double>* psi) {
  double s = 0;
  for (double v : element) s += v;
  *mean = s / static_cast<double>(element.size());
  psi->resize(element.size());
  for (std::size_t i = 0; i < element.size(); ++i) (*psi)[i] = element[i] - *mean;
}

// IRM (LSS section 3, binary D): sigma^2 = E[(Y - g(D, X))^2] and the Riesz
// representer of the weighted estimand,
//   alpha = wbar (D / m - (1 - D) / (1 - m)),
//   nu^2  = E[2 w wbar (1 / m + 1 / (1 - m)) - alpha^2]   (the orthogonal form, LSS (3.5)),
// with the propensity clipped and normalised as in the score, and the score's
// weights w, wbar (ops::IrmWeights; ATE: the sample weight; ATT: w = uw D / p,
// wbar = uw m / p; ATC: the ATT's with the arms swapped, so its elements are
// the ATT's of the swapped problem and its bounds minus that problem's).
RepElements IrmElements(const Dataset& data, const Predictions& pred, int rep, const std::vector<double>& uw,
                        const ScoreSpec& spec) {
  const IrmScoreArgs a = IrmArgsOf(data, pred, rep, uw, spec);
  const std::size_t n = a.n;
  std::vector<double> m(n);
  for (std::size_t i = 0; i < n; ++i) m[i] = ops::ClipPropensity(a.m[i], spec.clip);
  if (spec.normalize_ipw) {  // the Hajek sums of ops::IrmPass, in the same row order
    double s1 = 0, s0 = 0;
    for (std::size_t i = 0; i < n; ++i) s1 += a.d[i] / m[i];
    for (std::size_t i = 0; i < n; ++i) s0 += (1.0 - a.d[i]) / (1.0 - m[i]);
    for (std::size_t i = 0; i < n; ++i) m[i] = ops::NormalizedPropensity(m[i], a.d[i], s1 / n, s0 / n);
  }
  // p = mean(uw D) (ATT) or mean(uw (1 - D)) (ATC), as in the score.
  double p = 1.0;
  if (spec.estimand != Estimand::kAte) {
    const bool treated = spec.estimand == Estimand::kAtt;
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += (a.uw != nullptr ? a.uw[i] : 1.0) * (treated ? a.d[i] : 1.0 - a.d[i]);
    p = s / n;
  }
  std::vector<double> sigma2_el(n), nu2_el(n);
  RepElements e;
  e.riesz.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double d = a.d[i];
    double w, wbar;
    ops::IrmWeights(spec.estimand, d, m[i], a.uw != nullptr ? a.uw[i] : 1.0, p, &w, &wbar);
    const double r = a.y[i] - d * a.g1[i] - (1.0 - d) * a.g0[i];
    sigma2_el[i] = r * r;
    const double m_alpha = w * wbar * (1.0 / m[i] + 1.0 / (1.0 - m[i]));
    e.riesz[i] = wbar * (d / m[i] - (1.0 - d) / (1.0 - m[i]));
    nu2_el[i] = 2.0 * m_alpha - e.riesz[i] * e.riesz[i];
  }
  Centre(sigma2_el, &e.sigma2, &e.psi_sigma2);
  Centre(nu2_el, &e.nu2, &e.psi_nu2);
  return e;
}

// PLR (LSS section 3, partially linear): sigma^2 = E[(Y - l - theta (D - m))^2],
// alpha = (D - m) / E[(D - m)^2], nu^2 = 1 / E[(D - m)^2], whose influence
// function is nu^2 - (D - m)^2 nu^4. `l` is E[Y|X] (PLR's l; for the
// overlap-weighted ATE, whose score is this partialling-out score with the
// IRM's nuisances, m g1 + (1 - m) g0 with the raw m).
RepElements PartiallyLinearElements(std::size_t n, const double* y, const double* d, const double* m,
                                    const std::vector<double>& l, double theta) {
  std::vector<double> sigma2_el(n);
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = d[i] - m[i];
    const double r = y[i] - l[i] - theta * v;
    sigma2_el[i] = r * r;
    ss += v * v;
  }
  RepElements e;
  Centre(sigma2_el, &e.sigma2, &e.psi_sigma2);
  e.nu2 = 1.0 / (ss / n);
  e.psi_nu2.resize(n);
  e.riesz.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = d[i] - m[i];
    e.psi_nu2[i] = e.nu2 - v * v * e.nu2 * e.nu2;
    e.riesz[i] = v * e.nu2;
  }
  return e;
}

RepElements PlrElements(const Dataset& data, const Predictions& pred, int rep, double theta) {
  const PlrScoreArgs a = PlrArgsOf(data, pred, rep);
  return PartiallyLinearElements(a.n, a.y, a.d, a.m, std::vector<double>(a.l, a.l + a.n), theta);
}

RepElements OverlapElements(const Dataset& data, const Predictions& pred, int rep, const ScoreSpec& spec,
                            double theta) {
  const IrmScoreArgs a = IrmArgsOf(data, pred, rep, {}, spec);
  std::vector<double> l(a.n);
  for (std::size_t i = 0; i < a.n; ++i) l[i] = a.m[i] * a.g1[i] + (1.0 - a.m[i]) * a.g0[i];
  return PartiallyLinearElements(a.n, a.y, a.d, a.m, l, theta);
}

// Everything the bounds of one (estimand, repetition) need, whatever the
// scenario: theta, S and the quadratic form of the variance of
// IF_theta -/+ c IF_S, c = |rho| C_y C_d:  V(c) = a -/+ 2 c b + c^2 q.
struct RepBounds {
  double theta = 0, max_bias = 0;
  double a = 0, b = 0, q = 0;
  // sign -1: the lower bound's, +1: the upper bound's.
  double Variance(double c, double sign) const { return std::max(0.0, a + sign * 2 * c * b + c * c * q); }
};

// Sums of products of two per-row terms as the SE's variance estimator uses
// them: mean(u v) / n unclustered; with clusters DoubleML's one-way
// estimator with psi_deriv = 1 (utils/_estimation.py _var_est), whose cluster
// sums enter as products.
class VarianceForm {
 public:
  VarianceForm(const Dataset& data, const int* fold, int folds) : n_(data.n) {
    if (data.cluster.empty()) return;
    cluster_ = data.cluster.data();
    n_clusters_ = data.n_clusters;
    index_ = IndexClusterFolds(n_, cluster_, n_clusters_, fold, folds);
    // J = (1/K) sum_k n_k / |I_k| (the mean "psi_deriv" of one per row).
    std::vector<double> rows(static_cast<std::size_t>(folds), 0.0);
    for (std::size_t i = 0; i < n_; ++i) rows[static_cast<std::size_t>(fold[i])] += 1.0;
    double j = 0;
    for (int k = 0; k < folds; ++k) j += rows[static_cast<std::size_t>(k)] / index_.per_fold[static_cast<std::size_t>(k)];
    j_ = j / folds;
    folds_ = folds;
  }
  // The cross term of u and v (u = v: the variance of u).
  double Cross(const std::vector<double>& u, const std::vector<double>& v) const {
    if (cluster_ == nullptr) {
      double s = 0;
      for (std::size_t i = 0; i < n_; ++i) s += u[i] * v[i];
      return s / static_cast<double>(n_) / static_cast<double>(n_);
    }
    const double gamma = ClusterGamma(u.data(), v.data(), n_, cluster_, n_clusters_, folds_, index_);
    return gamma / (static_cast<double>(n_clusters_) * j_ * j_);
  }

 private:
  std::size_t n_;
  const std::int32_t* cluster_ = nullptr;
  std::int32_t n_clusters_ = 0;
  ClusterFoldIndex index_;
  double j_ = 1;
  int folds_ = 1;
};

double ConfoundingStrength(const SensitivityScenario& s) {
  // |rho| C_y C_d with C_y^2 = cf_y, C_d^2 = cf_d / (1 - cf_d) (LSS Theorem 2; DoubleML's parametrisation).
  return std::fabs(s.rho) * std::sqrt(s.cf_y * (s.cf_d / (1.0 - s.cf_d)));
}

// Median over repetitions of theta_r -/+ c S_r.
double ThetaBound(const std::vector<RepBounds>& reps, double c, double sign) {
  std::vector<double> v;
  for (const RepBounds& r : reps) v.push_back(r.theta + sign * c * r.max_bias);
  return inference::Median(v);
}

// Median over repetitions of the one-sided confidence bound at z.
double ConfidenceBound(const std::vector<RepBounds>& reps, double c, double sign, double z) {
  std::vector<double> v;
  for (const RepBounds& r : reps) v.push_back(r.theta + sign * (c * r.max_bias + z * std::sqrt(r.Variance(c, sign))));
  return inference::Median(v);
}

// The cf (= cf_y = cf_d) in [0, 1) at which bound(cf) reaches h0: 0 when it
// is at or past h0 at cf = 0, 1 when it never gets there. Bisection to
// rounding: the bounds move monotonically away from theta as cf grows.
template <class Bound>
double RobustnessValue(const Bound& bound, double h0, double sign) {
  auto past = [&](double cf) { return sign < 0 ? bound(cf) <= h0 : bound(cf) >= h0; };
  if (past(0.0)) return 0.0;
  double lo = 0.0, hi = 1.0;
  if (!past(std::nextafter(1.0, 0.0))) return 1.0;
  for (int it = 0; it < 200 && hi - lo > 1e-15; ++it) {
    const double mid = 0.5 * (lo + hi);
    (past(mid) ? hi : lo) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

void ValidateSensitivityScenario(const SensitivityScenario& s, const std::string& option) {
  auto in_unit = [&](double v, const char* name) {
    if (!(v >= 0.0 && v < 1.0)) {
      throw UsageError(option + ": " + name + " = " + inference::FormatNumber(v) +
                       " must lie in [0, 1) (a share of variation explained by the confounder)");
    }
  };
  in_unit(s.cf_y, "cf_y");
  in_unit(s.cf_d, "cf_d");
  if (!(s.rho >= -1.0 && s.rho <= 1.0)) {
    throw UsageError(option + ": rho = " + inference::FormatNumber(s.rho) + " must lie in [-1, 1] (a correlation)");
  }
}

SensitivityScenario ParseSensitivityScenario(const std::string& text, const std::string& option) {
  SensitivityScenario s;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string item = Trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos) {
      throw UsageError(option + ": '" + item + "' is not key=value (expected cf_y=0.03,cf_d=0.03,rho=1.0)");
    }
    const std::string key = Trim(item.substr(0, eq)), value = Trim(item.substr(eq + 1));
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || end == nullptr || *end != '\0') {
      throw UsageError(option + ": " + key + "='" + value + "' is not a number");
    }
    if (key == "cf_y") {
      s.cf_y = v;
    } else if (key == "cf_d") {
      s.cf_d = v;
    } else if (key == "rho") {
      s.rho = v;
    } else {
      throw UsageError(option + ": unknown key '" + key + "' (expected cf_y, cf_d and rho)");
    }
  }
  ValidateSensitivityScenario(s, option);
  return s;
}

SensitivityReport Sensitivity(const Dataset& data, const Fit& fit, const Options& options, const Report& report,
                              const std::vector<SensitivityScenario>& scenarios, double null_hypothesis) {
  for (const SensitivityScenario& s : scenarios) ValidateSensitivityScenario(s);
  if (!std::isfinite(null_hypothesis)) throw UsageError("--sensitivity-h0: must be a finite number");
  const Predictions& pred = fit.predictions;
  const std::size_t n = pred.n;
  const int reps = pred.reps;
  const bool irm = fit.options.model == Model::kIrm;
  if (report.scores.size() != static_cast<std::size_t>(reps) || n != data.n) {
    throw Error("internal: Sensitivity needs the report Estimate made from this fit");
  }
  const std::vector<double> uw = MeanOneWeights(data.weights);
  const int k = static_cast<int>(report.estimates.size());
  const double z = NormalQuantile(options.level);  // one-sided, as DoubleML
  for (Estimand e : options.estimands) {
    if (e == Estimand::kAto && !data.weights.empty()) {
      throw UsageError("--sensitivity with --estimand ato and --weights: the overlap-weighted bounds are derived "
                       "for unweighted data only; drop --weights or the ato estimand");
    }
  }

  SensitivityReport out;
  // The variance estimator of each repetition (its cluster-fold index), once for all estimands.
  std::vector<VarianceForm> forms;
  for (int r = 0; r < reps; ++r) {
    forms.emplace_back(data, pred.fold.data() + static_cast<std::size_t>(r) * n, fit.options.folds);
  }
  std::vector<std::vector<RepBounds>> per_estimand(static_cast<std::size_t>(k));
  for (int j = 0; j < k; ++j) {
    const std::string& estimand = report.estimates[static_cast<std::size_t>(j)].estimand;
    const ScoreSpec spec = options.Score(options.estimands[static_cast<std::size_t>(j)]);
    std::vector<RepElements> el;
    for (int r = 0; r < reps; ++r) {
      const double theta = report.scores[static_cast<std::size_t>(r)].theta[static_cast<std::size_t>(j)];
      if (!irm) {
        el.push_back(PlrElements(data, pred, r, theta));
      } else if (spec.estimand == Estimand::kAto) {
        el.push_back(OverlapElements(data, pred, r, spec, theta));
      } else {
        el.push_back(IrmElements(data, pred, r, uw, spec));
      }
    }
    SensitivityElements summary;
    summary.estimand = estimand;
    // nu^2 is a difference of two means and can come out negative in a small
    // sample; DoubleML (double_ml.py _validate_sensitivity_elements) then
    // uses E[alpha^2] in every repetition, uncentred as it is there.
    for (const RepElements& e : el) summary.riesz_fallback = summary.riesz_fallback || !(e.nu2 > 0);
    if (summary.riesz_fallback) {
      for (RepElements& e : el) {
        double s = 0;
        for (std::size_t i = 0; i < n; ++i) s += e.riesz[i] * e.riesz[i];
        e.nu2 = s / n;
        for (std::size_t i = 0; i < n; ++i) e.psi_nu2[i] = e.riesz[i] * e.riesz[i];
      }
      out.warnings.push_back(std::string(kWarnSensitivityNu2) + ": the " + estimand +
                             " Riesz representer's orthogonal second moment nu^2 was not positive; the sensitivity "
                             "bounds use its plain second moment instead (not orthogonal), as DoubleML does. The "
                             "propensities are likely extreme: see the overlap diagnostics");
    }
    for (int r = 0; r < reps; ++r) {
      const RepElements& e = el[static_cast<std::size_t>(r)];
      const ScoreBlock& block = report.scores[static_cast<std::size_t>(r)];
      RepBounds rb;
      rb.theta = block.theta[static_cast<std::size_t>(j)];
      rb.max_bias = std::sqrt(e.sigma2 * e.nu2);  // S, LSS Theorem 2
      // Influence functions: theta's, -psi / J (DoubleML's scaled_psi is
      // psi / J, the opposite sign; see docs/sensitivity.md), and S's by the
      // delta method, (sigma^2 IF_nu2 + nu^2 IF_sigma2) / (2 S).
      std::vector<double> if_theta(n), if_s(n);
      const double* psi = block.psi.data() + static_cast<std::size_t>(j) * n;
      const double jac = block.j[static_cast<std::size_t>(j)];
      for (std::size_t i = 0; i < n; ++i) {
        if_theta[i] = -psi[i] / jac;
        if_s[i] = (e.sigma2 * e.psi_nu2[i] + e.nu2 * e.psi_sigma2[i]) / (2.0 * rb.max_bias);
      }
      const VarianceForm& form = forms[static_cast<std::size_t>(r)];
      rb.a = form.Cross(if_theta, if_theta);
      rb.b = form.Cross(if_theta, if_s);
      rb.q = form.Cross(if_s, if_s);
      per_estimand[static_cast<std::size_t>(j)].push_back(rb);
      summary.sigma2.push_back(e.sigma2);
      summary.nu2.push_back(e.nu2);
      summary.max_bias.push_back(rb.max_bias);
    }
    out.elements.push_back(std::move(summary));
  }

  for (const SensitivityScenario& s : scenarios) {
    const double c = ConfoundingStrength(s);
    for (int j = 0; j < k; ++j) {
      const std::vector<RepBounds>& reps_j = per_estimand[static_cast<std::size_t>(j)];
      SensitivityBounds b;
      b.estimand = report.estimates[static_cast<std::size_t>(j)].estimand;
      b.scenario = s;
      b.level = options.level;
      b.null_hypothesis = null_hypothesis;
      std::vector<double> theta_r, lower_r, upper_r, se_lower_r, se_upper_r;
      for (const RepBounds& rb : reps_j) {
        theta_r.push_back(rb.theta);
        lower_r.push_back(rb.theta - c * rb.max_bias);
        upper_r.push_back(rb.theta + c * rb.max_bias);
        se_lower_r.push_back(std::sqrt(rb.Variance(c, -1.0)));
        se_upper_r.push_back(std::sqrt(rb.Variance(c, +1.0)));
      }
      b.theta = inference::Median(theta_r);
      const inference::Pooled lo = inference::AggregateReps(lower_r, se_lower_r);
      const inference::Pooled hi = inference::AggregateReps(upper_r, se_upper_r);
      b.theta_lower = lo.estimate;
      b.theta_upper = hi.estimate;
      b.se_lower = lo.se;
      b.se_upper = hi.se;
      b.ci_lower = ConfidenceBound(reps_j, c, -1.0, z);
      b.ci_upper = ConfidenceBound(reps_j, c, +1.0, z);
      // The bound on h0's side of theta (DoubleML: upper when h0 > theta).
      const double sign = null_hypothesis > b.theta ? +1.0 : -1.0;
      const double abs_rho = std::fabs(s.rho);
      auto strength = [abs_rho](double cf) { return abs_rho * std::sqrt(cf * (cf / (1.0 - cf))); };
      b.rv = RobustnessValue([&](double cf) { return ThetaBound(reps_j, strength(cf), sign); }, null_hypothesis,
                             sign);
      b.rva = RobustnessValue([&](double cf) { return ConfidenceBound(reps_j, strength(cf), sign, z); },
                              null_hypothesis, sign);
      out.bounds.push_back(b);
    }
  }

  // The contour grid at the first scenario's rho (rho = 1 without scenarios).
  const double rho = scenarios.empty() ? 1.0 : scenarios.front().rho;
  for (int j = 0; j < k; ++j) {
    const std::vector<RepBounds>& reps_j = per_estimand[static_cast<std::size_t>(j)];
    SensitivityGrid g;
    g.estimand = report.estimates[static_cast<std::size_t>(j)].estimand;
    g.rho = rho;
    std::vector<double> theta_r;
    for (const RepBounds& rb : reps_j) theta_r.push_back(rb.theta);
    const double sign = null_hypothesis > inference::Median(theta_r) ? +1.0 : -1.0;
    g.bound = sign < 0 ? "lower" : "upper";
    for (int i = 0; i < kSensitivityGridSize; ++i) {
      const double v = kSensitivityGridMax * i / (kSensitivityGridSize - 1);
      g.cf_y.push_back(v);
      g.cf_d.push_back(v);
    }
    for (double cf_y : g.cf_y) {
      for (double cf_d : g.cf_d) {
        g.theta.push_back(ThetaBound(reps_j, ConfoundingStrength({cf_y, cf_d, rho}), sign));
      }
    }
    out.grids.push_back(std::move(g));
  }
  return out;
}

void CheckSensitivityBenchmark(const Dataset& data, const std::vector<std::string>& features) {
  const std::string option = "--sensitivity-benchmark";
  if (features.empty()) throw UsageError(option + ": give at least one feature (e.g. experience_years)");
  std::vector<std::string> seen;
  for (const std::string& f : features) {
    if (std::find(data.feature_names.begin(), data.feature_names.end(), f) == data.feature_names.end()) {
      std::string names;
      for (const std::string& name : data.feature_names) names += (names.empty() ? "" : ", ") + name;
      throw UsageError(option + ": '" + f + "' is not a feature of this fit (features: " + names + ")");
    }
    if (std::find(seen.begin(), seen.end(), f) != seen.end()) {
      throw UsageError(option + ": '" + f + "' is named twice");
    }
    seen.push_back(f);
  }
  if (seen.size() >= data.p) {
    throw UsageError(option + ": leaving out " + std::to_string(seen.size()) +
                     " features leaves the short model none; benchmark a subset of the features");
  }
}

std::vector<SensitivityBenchmark> BenchmarkSensitivity(const Dataset& data, const Fit& fit, const Options& options,
                                                       const Report& report,
                                                       const SensitivityReport& long_sensitivity,
                                                       const std::vector<std::string>& features,
                                                       double null_hypothesis) {
  CheckSensitivityBenchmark(data, features);
  // The short data: the same rows, folds, weights and clusters, without `features`.
  Dataset short_data = data;
  std::vector<std::size_t> keep;
  for (std::size_t j = 0; j < data.p; ++j) {
    if (std::find(features.begin(), features.end(), data.feature_names[j]) == features.end()) keep.push_back(j);
  }
  short_data.p = keep.size();
  short_data.feature_names.clear();
  for (std::size_t j : keep) short_data.feature_names.push_back(data.feature_names[j]);
  short_data.x.assign(data.n * keep.size(), 0.0f);
  for (std::size_t i = 0; i < data.n; ++i) {
    for (std::size_t c = 0; c < keep.size(); ++c) short_data.x[i * keep.size() + c] = data.X(i, keep[c]);
  }
  // A trained fit's folds follow from its seed, not its features; loaded
  // predictions bring their own, which the short fit must reuse.
  if (fit.tuning.empty() && data.fold.empty()) {
    if (fit.predictions.reps != 1) {
      throw UsageError("--sensitivity-benchmark: the predictions were loaded with " +
                       std::to_string(fit.predictions.reps) +
                       " repetitions, whose folds a refit cannot reproduce; fit with fastdml instead");
    }
    short_data.fold.assign(fit.predictions.fold.begin(), fit.predictions.fold.begin() + data.n);
  }
  Options short_options = fit.options;
  const Fit short_fit = FitNuisances(short_data, short_options);
  const Report short_report = Estimate(short_data, short_fit, options);
  const SensitivityReport short_sensitivity = Sensitivity(short_data, short_fit, options, short_report, {}, 0.0);

  // Var(Y) with divisor n, as numpy's var.
  double mean_y = 0;
  for (double v : data.y) mean_y += v;
  mean_y /= data.n;
  double var_y = 0;
  for (double v : data.y) var_y += (v - mean_y) * (v - mean_y);
  var_y /= data.n;

  std::vector<SensitivityBenchmark> out;
  for (std::size_t j = 0; j < report.estimates.size(); ++j) {
    const SensitivityElements& lo = long_sensitivity.elements[j];
    const SensitivityElements& sh = short_sensitivity.elements[j];
    std::vector<double> cf_y, cf_d, rho, delta;
    for (std::size_t r = 0; r < lo.sigma2.size(); ++r) {
      const double r2_long = 1.0 - lo.sigma2[r] / var_y, r2_short = 1.0 - sh.sigma2[r] / var_y;
      const double r2_riesz = sh.nu2[r] / lo.nu2[r];
      cf_y.push_back(std::clamp((r2_long - r2_short) / (1.0 - r2_long), 0.0, 1.0));
      cf_d.push_back(std::clamp((1.0 - r2_riesz) / r2_riesz, 0.0, 1.0));
      const double dtheta = short_report.scores[r].theta[j] - report.scores[r].theta[j];
      delta.push_back(dtheta);
      const double var_g = sh.sigma2[r] - lo.sigma2[r], var_riesz = lo.nu2[r] - sh.nu2[r];
      const double denom = var_g > 0 && var_riesz > 0 ? std::sqrt(var_g * var_riesz) : 0.0;
      const double sign = dtheta > 0 ? 1.0 : (dtheta < 0 ? -1.0 : 0.0);
      rho.push_back(sign * (denom != 0 ? std::clamp(std::fabs(dtheta) / denom, 0.0, 1.0) : 1.0));
    }
    SensitivityBenchmark b;
    b.features = features;
    b.estimand = report.estimates[j].estimand;
    b.cf_y = inference::Median(cf_y);
    b.cf_d = inference::Median(cf_d);
    b.rho = inference::Median(rho);
    b.delta_theta = inference::Median(delta);
    if (b.cf_y < 1.0 && b.cf_d < 1.0) {
      const SensitivityReport at =
          Sensitivity(data, fit, options, report, {{b.cf_y, b.cf_d, b.rho}}, null_hypothesis);
      b.has_bounds = true;
      b.bounds = at.bounds[j];
    }
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace fastdml
