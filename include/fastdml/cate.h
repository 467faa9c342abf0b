// Heterogeneous effects from the stored predictions of a fit (never a refit):
// group average treatment effects (GATE) and the best linear predictor (BLP)
// of the CATE on a user basis, as OLS of an orthogonal signal with robust
// covariance (Semenova and Chernozhukov 2021; DoubleML's gate()/cate()).
//
// Signals, per repetition r (docs/design.md section 2):
//   IRM, ATE  y_i = psi_b,i of the ATE score (the AIPW signal, clipped m), x_i = basis row
//   PLR       y_i = Y - l(X), x_i = (D - m(X)) * basis row  (DoubleML's PLR cate)
//   IRM, ATT  per group: theta_g = -sum_{i in g} psi_b,i / sum_{i in g} psi_a,i with the
//             ATT score (GATE only; DoubleML has none, see docs/heterogeneity.md)
//   IRM, ATC  the same with the ATC score (ops/scores.h; GATE only)
// With R > 1 repetitions each is solved per repetition and aggregated as
// DoubleML does: median estimate, SE from the median of estimate + 1.96 se,
// CI and joint bands as medians of the per-repetition bounds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fastdml/dataset.h"
#include "fastdml/estimator.h"
#include "fastdml/inference.h"
#include "fastdml/options.h"  // ScoreSpec

namespace fastdml {

// statsmodels' cov_type names: HC0 (default, as DoubleML), HC1 = HC0 n/(n-k),
// HC3 = e_i^2/(1-h_ii)^2, cluster = one-way, with statsmodels' small-sample
// factor G/(G-1) (n-1)/(n-k) (Dataset::cluster).
enum class CovType { kHC0, kHC1, kHC3, kCluster };
CovType ParseCovType(const std::string& s);  // "hc0"|"hc1"|"hc3"|"cluster"; UsageError naming --cate-cov
const char* ToString(CovType c);

// ---------------------------------------------------------------------------
// Groups

// Mutually exclusive groups: group[i] in 0..G-1 for each of n rows.
struct Grouping {
  std::string name;                  // "category", "inventory_level:quintiles"
  std::vector<std::string> labels;   // G
  std::vector<std::int32_t> group;   // n
};

// One group per distinct value, ordered by value (labels print the value).
// DataError naming the column and row for a missing (NaN) value.
Grouping GroupByCategory(const std::string& name, const std::vector<double>& values);
// The same over n values in caller memory (a numpy column, without a copy).
Grouping GroupByCategory(const std::string& name, const double* values, std::size_t n);

// `bins` quantile bins: cut points edge_q = the ceil((q+1) n / bins)-th smallest
// value, bin(x) = the first q with x <= edge_q; without ties this is
// q = floor(bins * rank / n) (the seller design's truth rule), with ties equal
// values share a bin. DataError for NaN values or bins that come out empty.
Grouping GroupByQuantiles(const std::string& name, const std::vector<double>& values, int bins);

// "--cate-by" syntax: "col" (categorical), "col:quartiles|quintiles|deciles",
// "col:q=K" (K quantile bins, 2 <= K). UsageError naming --cate-by otherwise.
struct GroupSpec {
  std::string column;
  int bins = 0;  // 0: categorical
};
GroupSpec ParseGroupSpec(const std::string& spec);

// ---------------------------------------------------------------------------
// OLS with robust covariance (the engine of GATE, BLP and part B's sorted GATES)

struct OlsFit {
  std::size_t n = 0;
  int k = 0;
  std::vector<double> coef;  // k
  std::vector<double> cov;   // k * k, row-major
  // Per-row influence of each coefficient, influence[j * n + i], scaled so that
  // cov = sum_i IF_i IF_i' / n^2 for HC0/HC1/HC3 (cluster: summed per cluster).
  // Filled only when asked for (it is k * n doubles).
  std::vector<double> influence;
};

// OLS of y (n) on the row-major design x (n x k). UsageError/DataError for a
// singular design (naming the column from `names` that is collinear), n <= k,
// a leverage of 1 under HC3, fewer than 2 clusters, sizes that disagree.
OlsFit OlsRobust(const std::vector<double>& y, const std::vector<double>& x, std::size_t n, int k, CovType cov,
                 const std::vector<std::int32_t>& cluster = {}, std::int32_t n_clusters = 0,
                 const std::vector<std::string>& names = {}, bool want_influence = false);

// The same OLS for a design with one non-zero per row: x_i = scale_i in column
// group_i (group dummies, or dummies times D - m for PLR). O(n + G^2) instead
// of O(n G^2); coefficient g = sum_g scale y / sum_g scale^2. Empty `scale`
// means 1. Same errors as OlsRobust, naming the group from `labels`.
OlsFit OlsOnGroups(const std::vector<double>& y, const std::vector<double>& scale,
                   const std::vector<std::int32_t>& group, int n_groups, CovType cov,
                   const std::vector<std::int32_t>& cluster = {}, std::int32_t n_clusters = 0,
                   const std::vector<std::string>& labels = {});

// ---------------------------------------------------------------------------
// GATE

// Gaussian multiplier bootstrap on the coefficients, as DoubleMLBLP.confint
// (joint=True): t*_b = Corr^{1/2} z_b with z_b ~ N(0, I) from Philox(seed, rep, b).
struct CateBootstrap {
  std::int64_t replicates = 0;  // 0: no joint bands or Romano-Wolf
  std::uint64_t seed = 0;
};

// The signal's score: score.estimand is the signal (ATT, ATC: IRM only), clip and
// normalize_ipw as Options'; the model is always the fit's (its predictions
// are for one model), whatever score.model says.
struct GateOptions {
  ScoreSpec score;
  CovType cov = CovType::kHC0;
  double level = 0.95;
  CateBootstrap bootstrap;
};

struct GroupEffect {
  std::string label;
  std::size_t n = 0, n_treated = 0;
  double estimate = 0, se = 0, t = 0, p_value = 0, ci_lower = 0, ci_upper = 0;
  bool has_joint = false;
  double joint_ci_lower = 0, joint_ci_upper = 0, p_romano_wolf = 1;
  std::vector<double> theta_reps, se_reps;
};

struct GateResult {
  std::string by;      // Grouping::name
  std::string signal;  // "ate", "att" or "atc"
  CovType cov = CovType::kHC0;
  double level = 0.95;
  std::vector<GroupEffect> groups;
  std::vector<double> joint_critical_values;  // per repetition (after bootstrap)
  double seconds = 0;
};

// GATEs for each group of `g` from fit.predictions. UsageError for ATT or ATC
// with PLR, DataError naming the group for a group without treated (ATE, ATT)
// or without control (ATE, ATC) rows, a group of one row, more groups than
// rows can carry.
GateResult Gate(const Dataset& data, const Fit& fit, const Grouping& g, const GateOptions& opts);

// ---------------------------------------------------------------------------
// BLP

// A raw input column by name, for basis terms (values as numbers, NaN = missing).
using ColumnSource = std::function<std::vector<double>(const std::string& column)>;

// One term of a basis spec "inventory,category,spline(inventory,4)":
//   col             the numeric column itself
//   cat(col)        one-hot of its distinct values, first level dropped
//   spline(col,K)   K-1 hinge terms (x - c_j)_+ at the j/K quantiles (a linear
//                   spline with K pieces when `col` is also in the basis)
// An intercept always comes first.
struct BasisTerm {
  enum class Kind { kLinear, kOneHot, kSpline };
  Kind kind = Kind::kLinear;
  std::string column;
  int df = 0;                  // spline pieces
  std::vector<double> levels;  // one-hot: the levels kept (fitted on the data)
  std::vector<double> knots;   // spline: the knots (fitted on the data)
};

struct Basis {
  std::vector<BasisTerm> terms;    // levels and knots fixed by MakeBasis
  std::vector<std::string> names;  // k, "intercept" first
  std::size_t n = 0;
  int k = 0;
  std::vector<double> x;  // n * k, row-major
};

// Parses the spec and builds the basis on the data's columns (levels and
// knots from the data). UsageError naming --blp for a bad spec.
Basis MakeBasis(const std::string& spec, const ColumnSource& columns, std::size_t n);
// The same terms (same levels and knots) evaluated on other rows (a grid).
Basis MakeBasisLike(const Basis& fitted, const ColumnSource& columns, std::size_t n);

struct BlpOptions {
  ScoreSpec score;  // as GateOptions::score; the BLP signal is the ATE's
  CovType cov = CovType::kHC0;
  double level = 0.95;
  CateBootstrap bootstrap;  // for joint bands of PredictBlp
};

struct BlpResult {
  std::vector<std::string> names;  // k
  std::vector<double> coef, se, t, p_value, ci_lower, ci_upper;  // k, aggregated
  std::vector<std::vector<double>> coef_reps;  // per repetition, k
  std::vector<std::vector<double>> cov_reps;   // per repetition, k * k row-major
  CovType cov = CovType::kHC0;
  double level = 0.95;
  BlpOptions options;
  double seconds = 0;
};

BlpResult Blp(const Dataset& data, const Fit& fit, const Basis& basis, const BlpOptions& opts);

struct BlpPrediction {
  std::vector<double> estimate, se, ci_lower, ci_upper;  // per grid row
  bool has_joint = false;
  std::vector<double> joint_ci_lower, joint_ci_upper;
  std::vector<double> joint_critical_values;  // per repetition
};

// b' beta per grid row with se sqrt(b' Omega b), pointwise and (with
// opts.bootstrap.replicates > 0) joint sup-t bands (DoubleMLBLP.confint).
BlpPrediction PredictBlp(const BlpResult& blp, const Basis& grid);

}  // namespace fastdml
