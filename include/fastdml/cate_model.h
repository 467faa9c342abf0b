// Which covariates drive the effect: a DR-learner CATE model, sorted GATES,
// the BLP heterogeneity test and CLAN, all from a fit's stored out-of-fold
// nuisance predictions (no nuisance is refitted).
//
// DR-learner: Kennedy (2023), "Towards optimal doubly robust estimation of
// heterogeneous causal effects", Electron. J. Statist. 17(2), Algorithm 1.
// Sorted GATES, BLP, CLAN: Chernozhukov, Demirer, Duflo and Fernandez-Val
// (2018, rev. 2023), "Generic machine learning inference on heterogeneous
// treatment effects in randomized experiments" (NBER w24678), Sections 2-3.
//
// Fold structure: the pseudo-outcome phi_i uses the nuisance models that held
// row i out (repetition `repetition` of the fit); the second-stage model that
// predicts tau(X_i) is trained on the rows outside i's fold of that same plan,
// so every proxy value is out of fold. Row i's outcome still reaches
// tau_hat(X_i) at second order, through the nuisance models behind other rows'
// phi_j (as in every cross-fitted DR-learner); removing that would need nested
// cross-fitting, which is not done.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fastdml/cate.h"
#include "fastdml/dataset.h"
#include "fastdml/estimator.h"
#include "fastdml/options.h"

namespace fastdml {

// Second-stage defaults: shallow, slow and leaf-size-limited trees, because the
// pseudo-outcome is the effect plus inverse-propensity-weighted noise.
LearnerParams DefaultCateLearner();

struct CateModelOptions {
  std::vector<std::string> features;  // empty: every feature of the data, in order
  LearnerParams learner = DefaultCateLearner();
  int repetition = 0;  // which repetition's predictions and folds are used
  // Concurrent second-stage models (0: all cores). Results never depend on it,
  // only on learner.nthread (kept at 1 by default).
  int threads = 0;
};

class CateBooster;  // the trained XGBoost model (opaque; XGBoost stays out of the API)

struct CateModel {
  std::vector<std::string> feature_names;  // the model's inputs, in order
  LearnerParams learner;
  std::shared_ptr<const CateBooster> booster;  // final model, trained on all rows

  // Fitting diagnostics (empty after LoadCateModel).
  int repetition = 0, folds = 0;
  std::vector<int> fold;                 // n: the fold of each row
  std::vector<double> pseudo_outcome;    // n: phi_i, the AIPW (ATE) signal
  std::vector<double> out_of_fold;       // n: tau_hat(X_i) from the model without i's fold
  std::vector<double> in_sample;         // n: the final model's prediction of each fitting row
  // Out-of-fold losses against the pseudo-outcome (not against the unknown
  // CATE): mean (phi - tau_hat)^2, and the same for the out-of-fold mean of
  // phi (a constant model). Their ratio below 1 means the model beats "no
  // heterogeneity" out of fold; noise in phi dominates both.
  double pseudo_outcome_mse = 0, constant_mse = 0;
  double seconds = 0;
};

// Throws UsageError (PLR fit, sample weights, unknown or repeated feature, bad
// repetition, bad learner parameters) or DataError (non-finite pseudo-outcome).
CateModel FitCateModel(const Dataset& data, const Fit& fit, const CateModelOptions& options);
// The checks FitCateModel makes of its options, without predictions, so that
// a bad flag fails before the nuisance fit (`reps`: the fit's repetitions).
void CheckCateModelOptions(const Dataset& data, const Options& fit_options, int reps,
                           const CateModelOptions& options);

// Predictions for `rows` rows of `x` (row-major float32, one column per
// model.feature_names entry, NaN = missing).
std::vector<double> PredictCate(const CateModel& model, const float* x, std::size_t rows);

// Writes the final model to `path` (XGBoost UBJ) and its feature names and
// parameters to `path`.meta.json, each atomically.
void SaveCateModel(const CateModel& model, const std::string& path);
// Reads what SaveCateModel wrote; throws UsageError naming the file at fault.
CateModel LoadCateModel(const std::string& path);

// One model per repetition of the fit (options.repetition is ignored): the
// per-repetition proxies that SortedGates aggregates like DoubleML does.
std::vector<CateModel> FitCateModels(const Dataset& data, const Fit& fit, const CateModelOptions& options);

// ---------------------------------------------------------------------------
// Sorted GATES, BLP heterogeneity test and CLAN (Chernozhukov et al. 2018/2023)

struct SortedGatesOptions {
  int groups = 5;  // K quantile groups of the proxy S (G1 lowest ... GK highest)
  CovType cov = CovType::kHC0;  // cluster: Dataset::cluster
  double level = 0.95;
  ScoreSpec score;  // as GateOptions::score; the signal is the ATE's
  std::vector<std::string> clan;  // CLAN covariates (feature names); empty: none
  // replicates > 0: joint (sup-t) bands over the K GATES from the Gaussian
  // multiplier bootstrap of Gate() in cate.h (DoubleMLBLP.confint(joint=True)).
  CateBootstrap bootstrap;
};

// An estimate aggregated over repetitions by DoubleML's rule (median estimate,
// se from the median of estimate + 1.96 se), with a normal CI at `level`.
struct Inferred {
  double estimate = 0, se = 0, t = 0, p_value = 0, ci_lower = 0, ci_upper = 0;
  bool has_joint = false;  // joint band: median over repetitions of theta_r -+ c_r se_r
  double joint_ci_lower = 0, joint_ci_upper = 0;
  std::vector<double> theta_reps, se_reps;
};

struct ClanRow {
  std::string variable;
  Inferred top, bottom, difference;  // means in GK and G1, and GK - G1
};

struct SortedGatesResult {
  int groups = 0;
  CovType cov = CovType::kHC0;
  double level = 0.95;
  std::vector<std::string> labels;         // "G1" .. "GK"
  std::vector<std::size_t> group_rows;     // rows per group (repetition 0)
  std::vector<Inferred> gates;             // K: ATE of the AIPW signal per proxy group
  std::vector<double> joint_critical_values;  // per repetition (with bootstrap)
  Inferred top_minus_bottom;               // GATES_K - GATES_1 (covariance included)
  // BLP: OLS of the AIPW signal on [1, S - mean(S)]. beta1 = ATE, beta2 = the
  // heterogeneity loading; beta2 != 0 (p_value of blp_beta2) detects
  // heterogeneity, beta2 = 1 means the proxy is the CATE's best scale.
  Inferred blp_beta1, blp_beta2;
  std::vector<ClanRow> clan;
  std::string proxy;  // "outcome-difference" or "dr-learner" (set by the caller)
  std::vector<std::vector<std::int32_t>> group_reps;  // per repetition: group of each row
  double seconds = 0;
};

// The CATE proxy S per repetition, always out of fold:
//   OutcomeDifferenceProxy: g1_hat(X_i) - g0_hat(X_i) from the stored nuisance
//     predictions (a T-learner). The default for inference: the models behind
//     S_i never saw row i, and the signal's nuisance error enters with mean zero.
//   DrLearnerProxy: models[r].out_of_fold. Sharper (it targets the CATE), but
//     with one level of cross-fitting the proxy of fold k is trained on phi_j
//     whose own noise also trained the nuisances behind phi_i (i in k): this
//     biases the BLP loading downwards under no heterogeneity (measured:
//     tests/cate/sorted_gates_test.cc); use it for description, not for tests.
std::vector<std::vector<double>> OutcomeDifferenceProxy(const Fit& fit);
std::vector<std::vector<double>> DrLearnerProxy(const std::vector<CateModel>& models);

// From per-repetition proxies and the fit's stored predictions; no model is
// refitted, so K, cov, level and CLAN variables can change freely. UsageError
// for K < 2, a PLR fit, a proxy count that differs from the fit's
// repetitions, an unknown CLAN variable;
// DataError naming the group when a proxy group has fewer than
// kMinRowsPerProxyGroup rows or lacks treated or control rows.
inline constexpr std::size_t kMinRowsPerProxyGroup = 20;
SortedGatesResult SortedGates(const Dataset& data, const Fit& fit, const std::vector<std::vector<double>>& proxy,
                              const SortedGatesOptions& options);
// The checks SortedGates makes of its options and columns, without a fit;
// returns the CLAN columns' indices in the data's features.
std::vector<std::size_t> CheckSortedGatesOptions(const Dataset& data, const Options& fit_options,
                                                 const SortedGatesOptions& options);

}  // namespace fastdml
