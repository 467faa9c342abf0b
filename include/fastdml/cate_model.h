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

// Predictions for `rows` rows of `x` (row-major float32, one column per
// model.feature_names entry, NaN = missing).
std::vector<double> PredictCate(const CateModel& model, const float* x, std::size_t rows);

// Writes the final model to `path` (XGBoost UBJ) and its feature names and
// parameters to `path`.meta.json, each atomically.
void SaveCateModel(const CateModel& model, const std::string& path);
// Reads what SaveCateModel wrote; throws UsageError naming the file at fault.
CateModel LoadCateModel(const std::string& path);

}  // namespace fastdml
