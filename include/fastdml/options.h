// Everything a fit can be configured with. Defaults follow DoubleML where it
// has one (5 folds, 1 repetition, clipping kDefaultClip, 95% level).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "fastdml/device.h"

namespace fastdml {

enum class Model { kIrm, kPlr };
// ATE, ATT (the effect on the treated) and ATC (the effect on the controls,
// E[Y1 - Y0 | D = 0]: the ATT score with the arms' roles swapped, ops/scores.h).
enum class Estimand { kAte, kAtt, kAtc, kAto };
// IRM outcome regression: one model per arm (g0 on D=0 rows, g1 on D=1 rows,
// DoubleML's design) or one pooled model with D as an extra input column.
enum class OutcomeDesign { kSeparate, kPooled };
// How fold training matrices are built (see src/nuisance/README.md for the
// measurements behind the default).
enum class MatrixStrategy { kSharedCuts, kPerFold, kZeroWeight };

// LearnerParams::rounds for "auto": each nuisance model stops early on an
// inner validation split of its own training rows (docs/tuning.md).
inline constexpr int kAutoRounds = 0;

// Gradient-boosted trees (XGBoost, tree_method=hist) for one nuisance.
struct LearnerParams {
  // Boosting rounds: a fixed count, or kAutoRounds (the nuisances' default):
  // boost until the validation loss has not improved for
  // early_stopping_rounds rounds, at most max_rounds. The DR-learner's CATE
  // model (cate_model.h) takes a fixed count only.
  int rounds = kAutoRounds;
  int max_rounds = 1000;
  int early_stopping_rounds = 20;
  int max_depth = 6;
  double eta = 0.1;
  double subsample = 1.0;
  double colsample_bytree = 1.0;
  double min_child_weight = 1.0;
  double lambda = 1.0;
  int max_bin = 256;
  // Threads inside each XGBoost model. Results depend on it (histogram sums),
  // never on Options::threads, so keep it fixed to reproduce a result.
  int nthread = 1;
  // Base of this nuisance's XGBoost seeds; -1: derived from Options::seed.
  // Each (rep, fold) model mixes it with its indices, so models still differ.
  std::int64_t seed = -1;
};

// After early stopping, predict with the early-stopped model (trained on the
// inner training part, its trees up to the best round) or refit on all the
// training rows with the chosen count. Measured in bench/RESULTS.md.
enum class EarlyStopModel { kKeep, kRefit };

// The hyperparameters `--tune` can search (docs/tuning.md).
enum class TuneParam { kMaxDepth, kEta, kMinChildWeight };

// Hyperparameter search per nuisance by the inner validation loss: a grid over
// the listed parameters' candidate values (kTuneMaxDepth, ...), each candidate
// early-stopped (or boosted for the fixed count) on the same split.
struct TuneOptions {
  bool enabled = false;
  std::vector<TuneParam> params = {TuneParam::kMaxDepth, TuneParam::kEta, TuneParam::kMinChildWeight};
  // false: tune once per nuisance on the first fold's training rows (rep 0),
  // and use the winner in every fold; true: tune inside every fold.
  bool per_fold = false;
};
inline constexpr int kTuneMaxDepth[] = {2, 3, 4, 6, 8};
inline constexpr double kTuneEta[] = {0.03, 0.1, 0.3};
inline constexpr double kTuneMinChildWeight[] = {1, 5, 20, 50};

// DoubleML's clipping_threshold: propensities clipped to [clip, 1 - clip].
// The one declaration of the default (CLI, Python and every option struct).
inline constexpr double kDefaultClip = 0.01;

// One orthogonal score: which model's score, for which estimand, and how the
// IRM propensity enters it (clipping, Hajek normalisation). Every consumer of
// a score takes this: the CPU and CUDA scores, Estimate, the CATE signal of
// GATE / BLP / sorted GATES and the DR-learner's pseudo-outcome. PLR ignores
// estimand (ATE only), clip and normalize_ipw (DoubleML's PLR does not clip).
struct ScoreSpec {
  Model model = Model::kIrm;
  Estimand estimand = Estimand::kAte;
  double clip = kDefaultClip;  // propensities clipped to [clip, 1 - clip]
  bool normalize_ipw = false;  // Hajek normalisation of the IPW weights
};

// Upper bound of Options::threads and BootstrapOptions::threads.
inline constexpr int kMaxThreads = 4096;

struct Options {
  Model model = Model::kIrm;
  std::vector<Estimand> estimands = {Estimand::kAte, Estimand::kAtt};
  OutcomeDesign outcome_design = OutcomeDesign::kPooled;  // measured: bench/RESULTS.md
  MatrixStrategy matrix_strategy = MatrixStrategy::kSharedCuts;
  int folds = 5;
  int reps = 1;
  std::uint64_t seed = 0;
  // The score settings a user gives once for all `estimands`; Score(e) is
  // the ScoreSpec of one of them.
  double clip = kDefaultClip;  // propensities clipped to [clip, 1 - clip]
  bool normalize_ipw = false;  // Hajek normalisation of the IPW weights
  double level = 0.95;         // confidence level of the intervals
  int threads = 0;             // 0: all hardware threads
  Device device;               // cpu (default) | cuda | cuda:N | auto
  bool progress = false;       // progress lines on stderr
  LearnerParams propensity;    // m(X) = P(D=1|X), binary:logistic
  LearnerParams outcome;       // g0, g1, pooled g, PLR l: reg:squarederror
  // Inner split of every model's training rows for early stopping and tuning:
  // this share of them (stratified by a binary D, whole clusters with a
  // cluster column) is the validation part. The held-out fold is never in it.
  double validation_fraction = 0.2;
  EarlyStopModel early_stopping_model = EarlyStopModel::kRefit;
  TuneOptions tune;

  // Throws UsageError naming the option at fault.
  void Validate() const;

  // The score of estimand `e` under these options.
  ScoreSpec Score(Estimand e) const { return ScoreSpec{model, e, clip, normalize_ipw}; }
};

// Throws UsageError naming the flag "--<prefix><field>" (e.g. "--cate-eta")
// for a learner setting XGBoost cannot take.
// allow_auto: rounds may be kAutoRounds (the nuisances; not the CATE model).
void ValidateLearner(const LearnerParams& p, const std::string& prefix, bool allow_auto = false);

const char* ToString(Model m);
const char* ToString(Estimand e);
// The estimand named `name` ("ate", "att" or DoubleML's "atte", "atc") into
// *e; false for any other name (callers throw the error naming their option).
bool ParseEstimand(const std::string& name, Estimand* e);
const char* ToString(OutcomeDesign o);
const char* ToString(MatrixStrategy s);
const char* ToString(EarlyStopModel m);
const char* ToString(TuneParam t);

}  // namespace fastdml
