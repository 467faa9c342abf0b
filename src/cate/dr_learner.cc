// DR-learner (Kennedy 2023, Algorithm 1) over a fit's stored out-of-fold
// predictions: phi_i = g1 - g0 + D(Y - g1)/m - (1 - D)(Y - g0)/(1 - m), then a
// cross-fitted XGBoost regression of phi on X, and one final model on all rows.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "cate/cate_booster.h"
#include "cpu/scores.h"
#include "driver/fold_plan.h"
#include "fastdml/cate_model.h"
#include "fastdml/error.h"
#include "nuisance/learner.h"
#include "ops/parallel_for.h"
#include "ops/philox_weights.h"

namespace fastdml {
namespace {

// Columns of X the model uses, by name, in the order given.
std::vector<std::size_t> FeatureIndex(const Dataset& data, const std::vector<std::string>& wanted) {
  std::vector<std::size_t> index;
  if (wanted.empty()) {
    for (std::size_t j = 0; j < data.p; ++j) index.push_back(j);
    return index;
  }
  std::set<std::string> seen;
  for (const std::string& name : wanted) {
    if (!seen.insert(name).second) throw UsageError("--cate-features: '" + name + "' is listed twice");
    auto it = std::find(data.feature_names.begin(), data.feature_names.end(), name);
    if (it == data.feature_names.end()) {
      std::string have;
      for (const auto& f : data.feature_names) have += (have.empty() ? "" : ", ") + f;
      throw UsageError("--cate-features: '" + name + "' is not one of the fit's features (" + have + ")");
    }
    index.push_back(static_cast<std::size_t>(it - data.feature_names.begin()));
  }
  return index;
}

}  // namespace

LearnerParams DefaultCateLearner() {
  LearnerParams p;
  p.rounds = 100;
  p.max_depth = 2;
  p.eta = 0.03;
  p.min_child_weight = 100;
  p.lambda = 10;
  return p;
}

void CheckCateModelOptions(const Dataset& data, const Options& fit_options, int reps,
                           const CateModelOptions& options) {
  if (fit_options.model != Model::kIrm) {
    throw UsageError("the CATE model needs a binary treatment and --model irm (the DR-learner's "
                     "pseudo-outcome uses m, g0 and g1)");
  }
  if (!data.weights.empty()) {
    throw UsageError("the CATE model does not support --weights yet; drop --weights or the CATE options");
  }
  if (options.repetition < 0 || options.repetition >= reps) {
    throw UsageError("--cate-rep: repetition " + std::to_string(options.repetition) + " does not exist (the fit has " +
                     std::to_string(reps) + ")");
  }
  ValidateLearner(options.learner, "cate-");
  FeatureIndex(data, options.features);
}

CateModel FitCateModel(const Dataset& data, const Fit& fit, const CateModelOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const Options& fo = fit.options;
  const Predictions& pred = fit.predictions;
  CheckCateModelOptions(data, fo, pred.reps, options);
  const std::size_t n = data.n;
  if (pred.n != n || pred.g0.size() < n * pred.reps || pred.m.size() < n * pred.reps) {
    throw Error("internal: predictions do not match the data (n or models)");
  }
  const std::vector<std::size_t> cols = FeatureIndex(data, options.features);

  CateModel model;
  model.learner = options.learner;
  for (std::size_t j : cols) model.feature_names.push_back(data.feature_names[j]);
  model.repetition = options.repetition;
  const std::size_t base = static_cast<std::size_t>(options.repetition) * n;
  model.fold.assign(pred.fold.begin() + base, pred.fold.begin() + base + n);
  model.folds = *std::max_element(model.fold.begin(), model.fold.end()) + 1;

  // The ATE signal psi_b with the fit's clipping and Hajek choice, unweighted
  // (docs/design.md section 2): the pseudo-outcome of Kennedy (2023), eq. (3).
  // CheckCateModelOptions rejected weights, so the IRM pass runs unweighted.
  model.pseudo_outcome.resize(n);
  {
    std::vector<double> psi_a(n);
    cpu::IrmScores(IrmArgsOf(data, pred, options.repetition, {}, fo.Score(Estimand::kAte)), psi_a.data(),
                   model.pseudo_outcome.data());
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(model.pseudo_outcome[i])) {
      throw DataError("row " + std::to_string(i + 1) + ": the CATE pseudo-outcome is not finite (check g0_hat, "
                      "g1_hat and m_hat of repetition " + std::to_string(options.repetition) + ")");
    }
  }

  // The model's own feature block (a subset or all of X).
  const std::size_t q = cols.size();
  std::vector<float> x(n * q);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < q; ++k) x[i * q + k] = data.x[i * data.p + cols[k]];
  }
  nuisance::FeatureMatrix features(x.data(), n, q);
  const int threads = ops::ResolveThreads(options.threads);
  features.PrepareReferences({options.learner.max_bin}, threads);
  std::vector<float> labels_all(n);
  for (std::size_t i = 0; i < n; ++i) labels_all[i] = static_cast<float>(model.pseudo_outcome[i]);

  // Tasks 0..K-1: the cross-fitted models; task K: the final model on all rows.
  const int tasks = model.folds + 1;
  model.out_of_fold.assign(n, NAN);
  std::vector<double> fold_mean(model.folds, 0.0);
  auto booster = std::make_shared<CateBooster>();
  const std::uint64_t seed_base =
      options.learner.seed >= 0 ? static_cast<std::uint64_t>(options.learner.seed) : fo.seed;
  auto run = [&](int t) {
    std::vector<std::uint32_t> train, held;
    for (std::size_t i = 0; i < n; ++i) {
      (t < model.folds && model.fold[i] == t ? held : train).push_back(static_cast<std::uint32_t>(i));
    }
    if (t == model.folds) held = train;
    std::vector<float> labels(train.size());
    double sum = 0;
    for (std::size_t k = 0; k < train.size(); ++k) {
      labels[k] = labels_all[train[k]];
      sum += model.pseudo_outcome[train[k]];
    }
    nuisance::TrainSpec spec;
    spec.objective = nuisance::Objective::kSquaredError;
    spec.params = options.learner;
    spec.strategy = MatrixStrategy::kSharedCuts;
    // A pure function of (seed, repetition, task), distinct from the nuisances'.
    spec.seed = ops::DeriveSeed(seed_base, ops::SeedStream::kCateLearner,
                                static_cast<std::uint64_t>(options.repetition) << 16 |
                                    static_cast<std::uint64_t>(t));
    spec.nthread = options.learner.nthread;
    spec.device = "cpu";
    xgb::Booster b = nuisance::Train(features, train, labels, spec, nullptr);
    std::vector<double> out;
    nuisance::Predict(b, features, held, std::nullopt, &out, nullptr);
    if (t < model.folds) {
      fold_mean[t] = sum / static_cast<double>(train.size());
      for (std::size_t k = 0; k < held.size(); ++k) model.out_of_fold[held[k]] = out[k];
    } else {
      model.in_sample = std::move(out);
      booster->handle = std::move(b);
    }
  };
  ops::ParallelFor(tasks, threads, [&](std::int64_t t, int) { run(static_cast<int>(t)); });

  double se_model = 0, se_const = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double phi = model.pseudo_outcome[i];
    se_model += (phi - model.out_of_fold[i]) * (phi - model.out_of_fold[i]);
    se_const += (phi - fold_mean[model.fold[i]]) * (phi - fold_mean[model.fold[i]]);
  }
  model.pseudo_outcome_mse = se_model / n;
  model.constant_mse = se_const / n;
  model.booster = std::move(booster);
  model.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return model;
}

std::vector<double> PredictCate(const CateModel& model, const float* x, std::size_t rows) {
  if (!model.booster) throw UsageError("the CATE model holds no trained booster");
  std::vector<double> out;
  if (rows == 0) return out;
  const nuisance::FeatureMatrix features(x, rows, model.feature_names.size());
  std::vector<std::uint32_t> all(rows);
  for (std::size_t i = 0; i < rows; ++i) all[i] = static_cast<std::uint32_t>(i);
  nuisance::Predict(model.booster->handle, features, all, std::nullopt, &out, nullptr);
  return out;
}

}  // namespace fastdml
