// Fit once (cross-fitted nuisance predictions), then estimate any estimand from
// the stored predictions without refitting.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fastdml/dataset.h"
#include "fastdml/inference.h"
#include "fastdml/options.h"

namespace fastdml {

namespace cuda {
class ResidentPredictions;  // cuda/device_data.h
}  // namespace cuda
struct FitCache;            // src/inference/fit_cache.h

// Out-of-fold predictions, one block of n per repetition: value(r, i) = v[r*n+i].
// Vectors of models that do not apply are empty (IRM: m, g0, g1; PLR: m, l).
struct Predictions {
  std::size_t n = 0;
  int reps = 0;
  std::vector<int> fold;  // n * reps: the fold that held row i out in rep r
  std::vector<double> m, g0, g1, l;
};

// Quality of one nuisance model on its out-of-fold predictions, over all reps.
struct NuisanceQuality {
  std::string name;      // "m", "g0", "g1", "l"
  std::string metric;    // "rmse" or "logloss"
  double value = 0.0;
  double auc = -1.0;     // propensity only
  std::size_t rows = 0;  // rows the metric is computed on
  // The same metric for the constant model of each fold (the mean of the
  // target over the training folds' rows of the same arm), the baseline a
  // model must beat; NaN when a fold has no training rows to average.
  double constant = 0.0;
  // How many standard errors the model's loss lies above the constant's: the
  // t-statistic of the per-row loss differences (model minus constant) on the
  // same held-out rows, averaged over repetitions. Above
  // kWorseThanConstantT, Estimate warns (W-NUISANCE-WORSE-THAN-CONSTANT).
  double worse_t = 0.0;
};

struct Overlap {
  double min = 0, max = 0;
  std::vector<double> quantiles;  // at kOverlapProbs
  std::size_t clipped_low = 0, clipped_high = 0;  // rows x reps
  double share_clipped = 0;
  // IRM only (has_ipw): per repetition, the rows whose propensity is clipped
  // and Kish's effective sample size of the ATE's inverse-propensity weights
  // (FitCache::Ipw in src/inference/fit_cache.h), each at its worst repetition: the
  // most rows clipped, the smallest ESS (W-EXTREME-PROPENSITY).
  bool has_ipw = false;
  std::size_t clipped_worst_rep = 0;
  double share_clipped_worst_rep = 0;
  double ipw_ess = 0, ipw_ess_share = 0;  // ESS and ESS / n
  // ipw_ess's two terms: the treated and the control arm's ESS, in the same
  // (worst) repetition, so that they sum to ipw_ess.
  double ipw_ess_treated = 0, ipw_ess_control = 0;
  // Binary D: the out-of-fold propensities of each arm, all repetitions pooled
  // (n_arm x reps values, as the pooled quantiles above): quantiles at
  // kOverlapProbs, and counts in kOverlapBins bins of width 1 / kOverlapBins on
  // [0, 1] (bin k holds k / kOverlapBins <= m < (k + 1) / kOverlapBins, the
  // last bin also m = 1, as numpy.histogram). Empty for a continuous D.
  std::vector<double> quantiles_treated, quantiles_control;
  std::vector<std::size_t> histogram_treated, histogram_control;
};
inline constexpr double kOverlapProbs[] = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99};
inline constexpr int kOverlapBins = 20;

// IRM: one feature's standardized mean difference between the arms, raw and
// after inverse-propensity weighting (src/inference/balance.h has the
// definition; docs/reliability.md, "Overlap and balance").
struct FeatureBalance {
  std::string feature;
  double smd_raw = 0, smd_ate = 0, smd_att = 0;
};

// How one nuisance's models were sized: the rounds each (rep, fold) model
// kept and, with --tune, the search behind its hyperparameters
// (docs/tuning.md; JSON diagnostics.nuisance_tuning).
struct NuisanceTuning {
  // One hyperparameter candidate and its inner-validation result.
  struct Candidate {
    int max_depth = 0;
    double eta = 0, min_child_weight = 0;
    int rounds = 0;     // rounds at the best validation loss (fixed count without early stopping)
    double loss = 0;    // validation loss there
  };
  // One tuning search: where it ran and what it tried, in grid order.
  struct Search {
    int rep = 0, fold = 0;  // whose training rows it split
    std::vector<Candidate> candidates;
    std::size_t chosen = 0;  // index into candidates (smallest loss; ties: first)
  };
  std::string name;          // "m", "g0", "g1", "g" (pooled), "l"
  std::string metric;        // validation loss: "logloss" or "rmse"
  bool early_stopping = false;
  // Per (rep, fold) model, at rep * folds + fold: its hyperparameters, the
  // rounds it predicts with, the validation loss there (NaN without a
  // validation split), and the rounds boosted to find them (best + patience,
  // or max_rounds).
  std::vector<Candidate> models;
  std::vector<int> rounds_run;
  std::vector<Search> searches;  // empty without --tune; one, or one per fold with --tune-per-fold
};

// Wall seconds per phase. Nuisance tasks run concurrently on the CPU, so the
// nuisance phase's wall time is split into fold_matrices / training /
// prediction in proportion to the thread-seconds each took (on CUDA they run
// one at a time and the split is exact).
struct Timings {
  double reading = 0;        // CSV parse and validation (CLI)
  double setup = 0;          // fold plan, reference quantile sketch (XGBoost)
  double upload = 0;         // device fits: X, y, d (and folds) copied to the GPU once
  double gather = 0;         // copying each model's training rows (ours)
  double fold_matrices = 0;  // per-model training matrices (XGBoost quantisation)
  double training = 0;       // XGBoost boosting rounds
  double tuning = 0;         // --tune's search (its own models), before the cross-fitting models
  double prediction = 0;     // XGBoost prediction of held-out rows
  double scores = 0;         // scores, theta, SE, diagnostics
  double download = 0;       // device fits: out-of-fold predictions copied back once, at the
                             // end (the engine reads Fit::predictions on the host)
  double total = 0;
};

struct Fit {
  Options options;
  Predictions predictions;
  // A GPU fit also leaves `predictions` on its device: Estimate computes the
  // scores there without uploading them again. Null for CPU fits and for fits
  // built from stored predictions; whoever changes `predictions` after the
  // fit must reset it.
  std::shared_ptr<const cuda::ResidentPredictions> device_predictions;
  std::vector<NuisanceQuality> quality;
  std::vector<NuisanceTuning> tuning;  // one per nuisance (m first); empty for fits from predictions
  // What re-estimation needs and no re-estimation setting changes (overlap
  // quantiles and propensity tails, the separation check, the naive
  // difference, mean-one weights, the cluster-to-fold index), computed when
  // the fit is made. Estimate recomputes it when null or made from other
  // arrays; whoever changes `predictions` or the data in place after the fit
  // must reset it.
  std::shared_ptr<const FitCache> cache;
  Timings timings;
  std::string xgboost_version;
  int threads = 1;  // concurrent nuisance tasks (each XGBoost model single-threaded)
};

struct EstimateResult {
  std::string estimand;  // "ate", "att", "atc" (PLR: "ate", the partially linear theta)
  double estimate = 0, se = 0, t = 0, p_value = 0, ci_lower = 0, ci_upper = 0;
  std::vector<double> theta_reps, se_reps;  // per repetition
  // Simultaneous inference over all estimands of the report (after Bootstrap /
  // AdjustPValues): joint band and adjusted p-values, each the median over
  // repetitions of the per-repetition value, as DoubleML aggregates them.
  bool has_joint = false;
  double joint_ci_lower = 0, joint_ci_upper = 0;
  std::map<std::string, double> p_adjusted;  // "romano-wolf", "bonferroni", "holm"
};

struct BootstrapSummary {
  bool done = false;
  BootstrapOptions options;
  std::string sampler;                        // "exact" or "loop" (what ran)
  std::vector<double> joint_critical_values;  // one per repetition
  std::vector<std::vector<double>> t_boot;    // per repetition: t[b * k + j]
  double seconds = 0;
};

struct NaiveDifference {
  double estimate = 0, se = 0, t = 0, p_value = 0;
  std::size_t n_treated = 0, n_control = 0;
};

struct Report {
  std::vector<EstimateResult> estimates;
  NaiveDifference naive;
  Overlap overlap;
  std::vector<FeatureBalance> balance;  // IRM: one per feature, in feature order (empty for PLR)
  double level = 0.95;
  std::vector<std::string> warnings;  // documented conditions worth a look
  double seconds = 0;                 // time Estimate() took
  // The scores behind the estimates, one block per repetition (all estimands),
  // kept so that the bootstrap and joint inference need no recomputation.
  std::vector<ScoreBlock> scores;
  BootstrapSummary bootstrap;
};

// Trains the nuisance models with cross-fitting. Throws UsageError/DataError.
// When `cancel` is given and another thread sets it, the fit stops within one
// boosting round of each running model and throws Cancelled.
Fit FitNuisances(const Dataset& data, const Options& options,
                 const std::atomic<bool>* cancel = nullptr);

// Every (outcome, treatment) cell of a grid (Dataset::outcomes x treatments),
// cross-fitted in one run: the data are read and sketched once, one fold plan
// serves every cell (stratified on the treatments' joint pattern, or whole
// clusters), and the propensity of each treatment is trained once per
// (rep, fold) and shared by every outcome (docs/design.md section 11).
struct GridFit {
  std::vector<std::string> outcomes, treatments;  // names, in the order given
  std::vector<Fit> cells;                         // cell (j, k) at j * treatments.size() + k
  Timings timings;                                // the whole run
  std::size_t CellIndex(std::size_t j, std::size_t k) const { return j * treatments.size() + k; }
};

// Fits every cell of `data` (a one-pair Dataset is a grid of one cell: it
// becomes one, Dataset::MakeGrid). Each cell's fit equals FitNuisances on that
// cell's columns with the same fold plan (the same models, seeds and
// predictions). Selects cells in turn to compute their diagnostics and leaves
// cell (0, 0) selected. Throws as FitNuisances; a treatment whose folds lack
// an arm is named.
GridFit FitGrid(Dataset* data, const Options& options, const std::atomic<bool>* cancel = nullptr);

// XGBoost models trained by this process so far (all fits); lets callers prove
// that re-estimation from a stored fit trains nothing.
std::uint64_t NuisanceModelsTrained();

// Wraps externally supplied predictions (and their folds) as a fit.
Fit FitFromPredictions(const Dataset& data, const Options& options, Predictions predictions);

// Scores and inference from the stored predictions of `fit`; `options` supplies
// the estimands, clipping, normalize_ipw and level (others are ignored).
Report Estimate(const Dataset& data, const Fit& fit, const Options& options);

// Multiplier bootstrap over the report's stored scores (no refitting); with
// `joint` it adds sup-t bands at the report's level to every estimate.
void Bootstrap(Report* report, const BootstrapOptions& options, bool joint);

// Multiplicity-adjusted p-values over the report's estimands for each method
// in `methods` ("romano-wolf" needs Bootstrap first; "bonferroni", "holm").
void AdjustPValues(Report* report, const std::vector<std::string>& methods);

// One report over several reports' estimands (a grid's cells, in order): the
// estimates and, per repetition, the score blocks side by side. The reports
// must share rows, clusters, repetitions and level.
Report MergeReports(const std::vector<const Report*>& cells);

// Joint inference over a grid's cells (docs/design.md section 11): the
// bootstrap (when `bootstrap` is given) and the p-value adjustments run over
// every cell x estimand at once, on the merged scores, so each replicate
// draws one multiplier per row (or cluster) for every cell and the cells'
// correlation is kept. Each cell's estimates gain the joint band (`joint`)
// and adjusted p-values; returns the grid's bootstrap summary. With one cell
// this is Bootstrap + AdjustPValues on that report.
BootstrapSummary JointInference(const std::vector<Report*>& cells, const BootstrapOptions* bootstrap, bool joint,
                                const std::vector<std::string>& p_adjust);

}  // namespace fastdml
