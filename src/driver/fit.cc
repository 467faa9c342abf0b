// Cross-fitting driver: builds the fold plan, runs every (repetition, fold,
// nuisance) training task and gathers the out-of-fold predictions. On the CPU
// the tasks share the host pool (ops::ParallelFor); on CUDA the data is uploaded once
// (cuda::DeviceData), the tasks run one after another on the GPU and the
// predictions come back to the host once, at the end.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

#include "cuda/device_data.h"
#include "driver/device_select.h"
#include "driver/fold_plan.h"
#include "driver/quality.h"
#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "inference/fit_cache.h"
#include "nuisance/learner.h"
#include "nuisance/xgboost_api.h"
#include "ops/parallel_for.h"
#include "ops/philox_weights.h"

namespace fastdml {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

enum class Target { kPropensity, kOutcome0, kOutcome1, kOutcomePooled, kOutcomeAll };

ops::RowArm ArmOf(Target t) {
  return t == Target::kOutcome0 ? ops::RowArm::kControl
         : t == Target::kOutcome1 ? ops::RowArm::kTreated
                                  : ops::RowArm::kAll;
}
std::optional<double> ArmTreatment(Target t) {
  if (t == Target::kOutcome0) return 0.0;
  if (t == Target::kOutcome1) return 1.0;
  return std::nullopt;
}

// One nuisance model of one fold of one repetition.
struct Task {
  int rep, fold;
  Target target;
  std::size_t slot;  // FitCells' nuisance (its outcome and treatment columns)
};

const char* NuisanceName(Target t) {
  switch (t) {
    case Target::kPropensity: return "m";
    case Target::kOutcome0: return "g0";
    case Target::kOutcome1: return "g1";
    case Target::kOutcomePooled: return "g";
    case Target::kOutcomeAll: return "l";
  }
  return "?";
}

std::vector<float> LabelsOf(const std::vector<std::uint32_t>& rows, const std::vector<float>& source) {
  std::vector<float> labels(rows.size());
  for (std::size_t k = 0; k < rows.size(); ++k) labels[k] = source[rows[k]];
  return labels;
}

NuisanceTuning::Candidate CandidateOf(const LearnerParams& p) {
  NuisanceTuning::Candidate c;
  c.max_depth = p.max_depth;
  c.eta = p.eta;
  c.min_child_weight = p.min_child_weight;
  return c;
}

// --tune's grid: the cartesian product of the searched parameters' values
// (options.h), depth slowest; parameters not searched keep `base`'s value.
std::vector<LearnerParams> TuningGrid(const LearnerParams& base, const std::vector<TuneParam>& params) {
  auto searched = [&](TuneParam t) { return std::find(params.begin(), params.end(), t) != params.end(); };
  const std::vector<int> depths =
      searched(TuneParam::kMaxDepth) ? std::vector<int>(std::begin(kTuneMaxDepth), std::end(kTuneMaxDepth))
                                     : std::vector<int>{base.max_depth};
  const std::vector<double> etas = searched(TuneParam::kEta)
                                       ? std::vector<double>(std::begin(kTuneEta), std::end(kTuneEta))
                                       : std::vector<double>{base.eta};
  const std::vector<double> weights =
      searched(TuneParam::kMinChildWeight)
          ? std::vector<double>(std::begin(kTuneMinChildWeight), std::end(kTuneMinChildWeight))
          : std::vector<double>{base.min_child_weight};
  std::vector<LearnerParams> grid;
  for (int depth : depths) {
    for (double eta : etas) {
      for (double weight : weights) {
        LearnerParams p = base;
        p.max_depth = depth;
        p.eta = eta;
        p.min_child_weight = weight;
        grid.push_back(p);
      }
    }
  }
  return grid;
}

// The inner split's two matrices, built once and shared by every candidate
// of a tuning search and by early stopping.
struct SplitMatrices {
  xgb::DMatrix train, valid;
};

// The candidate with the smallest validation loss (the first on ties, so
// the grid order decides and the choice is reproducible).
std::size_t Best(const std::vector<NuisanceTuning::Candidate>& candidates) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < candidates.size(); ++i) {
    if (candidates[i].loss < candidates[best].loss) best = i;
  }
  return best;
}

// Prints "fastdml: training nuisances 42% (630/1500 rounds)" on stderr while
// the workers run ("tuning nuisances" during --tune's search); only when asked
// and stderr is a terminal. With early stopping the total counts every
// model's max_rounds and a model that stops early adds the rounds it skipped.
class Progress {
 public:
  Progress(bool enabled, long total) : enabled_(enabled && isatty(2)), total_(total) {}
  void Add(long k) { done_.fetch_add(k, std::memory_order_relaxed); }
  void SetPhase(const char* phase) { phase_.store(phase, std::memory_order_relaxed); }
  void Print(bool final_line) {
    if (!enabled_) return;
    const long d = done_.load(std::memory_order_relaxed);
    std::fprintf(stderr, "\rfastdml: %s nuisances %3ld%% (%ld/%ld rounds)%s", phase_.load(std::memory_order_relaxed),
                 total_ ? 100 * d / total_ : 100, d, total_, final_line ? "\n" : "");
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  long total_;
  std::atomic<long> done_{0};
  std::atomic<const char*> phase_{"training"};
};

}  // namespace

std::uint64_t NuisanceModelsTrained() { return nuisance::TrainCount(); }

namespace {

// One nuisance of a run: its target, and the outcome and treatment columns it
// learns from (index into FitCells' lists; outcome -1 for the propensity,
// which every outcome of its treatment shares).
struct Slot {
  Target target;
  int outcome, treatment;
};

// The cross-fitting of every (outcome, treatment) cell of `ys` x `ds` on one
// fold plan: the propensity of treatment k is trained once per (rep, fold) and
// shared by every outcome; outcome models are per cell. Returns the cells'
// fits in outcome-major order (cell (j, k) at j * ds.size() + k) without
// quality and cache (they read the cell's columns: the callers add them).
// Every model's seed is a function of (seed, rep, fold, nuisance) only, so a
// cell's models are those of a one-pair run on the same fold plan.
std::vector<Fit> FitCells(const Dataset& data, const std::vector<const std::vector<double>*>& ys,
                          const std::vector<const std::vector<double>*>& ds,
                          const std::vector<std::string>& treatment_names, const Options& options,
                          const std::atomic<bool>* cancel) {
  const auto t_start = Clock::now();
  const std::size_t n = data.n;
  const std::size_t n_outcomes = ys.size(), n_treatments = ds.size();
  std::vector<char> binary_d(n_treatments);
  std::vector<std::size_t> treated(n_treatments);
  for (std::size_t k = 0; k < n_treatments; ++k) {
    binary_d[k] = IsBinaryTreatment(*ds[k]);
    treated[k] = static_cast<std::size_t>(std::count(ds[k]->begin(), ds[k]->end(), 1.0));
  }
  Fit proto;
  proto.options = options;
  proto.xgboost_version = xgb::CheckLibraryVersion();
  proto.options.device = ResolveDevice(options.device);
  proto.threads = ops::ResolveThreads(options.threads);
  const int threads = proto.threads;

  // --- fold plan: one for every cell --------------------------------------------
  FoldPlan plan;
  auto validate_others = [&] {
    for (std::size_t k = 1; k < n_treatments; ++k) {
      try {
        ValidateFoldPlan(plan, *ds[k]);
      } catch (const DataError& e) {
        throw DataError("treatment '" + treatment_names[k] + "': " + e.what());
      }
    }
  };
  if (!data.fold.empty()) {
    if (options.reps != 1) throw UsageError("--reps: a fold column fixes the folds, so --reps must be 1");
    plan = FoldPlanFromColumn(data.fold, *ds[0]);
    validate_others();
    proto.options.folds = plan.folds;
  } else if (!data.cluster.empty()) {
    plan = MakeClusterFoldPlan(data.cluster, data.n_clusters, *ds[0], options.folds, options.reps, options.seed);
    validate_others();
  } else {
    if (n_treatments > 1) {  // name the treatment that cannot fill the folds
      for (std::size_t k = 0; k < n_treatments; ++k) {
        const std::size_t folds = static_cast<std::size_t>(options.folds);
        if (binary_d[k] && (treated[k] < folds || n - treated[k] < folds)) {
          throw DataError("treatment '" + treatment_names[k] + "': cannot stratify " + std::to_string(folds) +
                          " folds: " + std::to_string(treated[k]) + " treated and " +
                          std::to_string(n - treated[k]) + " control rows; every fold needs both (use fewer --folds)");
        }
      }
    }
    plan = MakeJointFoldPlan(ds, options.folds, options.reps, options.seed);
  }
  const bool irm = options.model == Model::kIrm;
  const bool pooled = irm && options.outcome_design == OutcomeDesign::kPooled;

  const bool on_device = proto.options.device.is_cuda();
  if (on_device && options.matrix_strategy == MatrixStrategy::kZeroWeight) {
    throw UsageError("--matrix-strategy zero-weight is CPU-only: use --matrix-strategy shared-cuts "
                     "(the default) or per-fold with --device " + ToString(proto.options.device) + ", or --device cpu");
  }

  // --- host feature matrices, prepared once per run (CPU path) --------------------
  // X is sketched once for every model; the pooled outcome model's [X | D]
  // once per treatment (its D column differs).
  nuisance::FeatureMatrix features(data.x.data(), n, data.p);
  std::vector<std::vector<float>> x_with_d(n_treatments);  // pooled outcome model: X plus a D column
  std::vector<std::optional<nuisance::FeatureMatrix>> features_d(n_treatments);
  if (pooled && !on_device) {
    for (std::size_t k = 0; k < n_treatments; ++k) {
      x_with_d[k] = nuisance::WithDColumn(data.x, n, data.p, *ds[k]);
      features_d[k].emplace(x_with_d[k].data(), n, data.p + 1);
    }
  }
  if (options.matrix_strategy != MatrixStrategy::kPerFold && !on_device) {
    // Label-free sketch over all rows. XGBoost's CPU sketch gives identical
    // cuts at any nthread (checked for 1, 2, 3, 7, 16 threads; and
    // Fit.PredictionsAreIdenticalAtOneAndTwoThreads), so it may use all workers.
    features.PrepareReferences({options.propensity.max_bin, options.outcome.max_bin}, threads);
    for (auto& fd : features_d) {
      if (fd) fd->PrepareReferences({options.outcome.max_bin}, threads);
    }
  }
  auto to_float = [n](const std::vector<double>& v) {
    std::vector<float> f(n);
    for (std::size_t i = 0; i < n; ++i) f[i] = static_cast<float>(v[i]);
    return f;
  };
  std::vector<std::vector<float>> y_f, d_f;
  for (const auto* y : ys) y_f.push_back(to_float(*y));
  for (const auto* d : ds) d_f.push_back(to_float(*d));
  const double setup_seconds = Since(t_start);

  // --- nuisances and tasks ----------------------------------------------------------
  std::vector<Slot> slots;
  for (std::size_t k = 0; k < n_treatments; ++k) slots.push_back({Target::kPropensity, -1, static_cast<int>(k)});
  for (std::size_t j = 0; j < n_outcomes; ++j) {
    for (std::size_t k = 0; k < n_treatments; ++k) {
      const int jj = static_cast<int>(j), kk = static_cast<int>(k);
      if (!irm) {
        slots.push_back({Target::kOutcomeAll, jj, kk});
      } else if (pooled) {
        slots.push_back({Target::kOutcomePooled, jj, kk});
      } else {
        slots.push_back({Target::kOutcome0, jj, kk});
        slots.push_back({Target::kOutcome1, jj, kk});
      }
    }
  }
  std::vector<Task> tasks;
  for (int r = 0; r < plan.reps; ++r) {
    for (int k = 0; k < plan.folds; ++k) {
      for (std::size_t s = 0; s < slots.size(); ++s) tasks.push_back({r, k, slots[s].target, s});
    }
  }
  auto params_of = [&](Target t) -> const LearnerParams& {
    return t == Target::kPropensity ? options.propensity : options.outcome;
  };
  // Longest tasks first (rows x rounds), so that the pool's tail is short
  // (LPT scheduling); stable, so the order does not depend on anything random.
  // On a device the tasks run in slot order instead (one upload per cell).
  auto cost = [&](const Task& t) {
    const std::size_t tr = treated[static_cast<std::size_t>(slots[t.slot].treatment)];
    const double rows = t.target == Target::kOutcome0   ? static_cast<double>(n - tr)
                        : t.target == Target::kOutcome1 ? static_cast<double>(tr)
                                                        : static_cast<double>(n);
    return rows * params_of(t.target).rounds;
  };
  if (!on_device) {
    std::stable_sort(tasks.begin(), tasks.end(), [&](const Task& a, const Task& b) { return cost(a) > cost(b); });
  }

  const std::size_t total = n * static_cast<std::size_t>(plan.reps);
  // Out-of-fold predictions: the propensity per treatment, the outcome
  // models per cell.
  std::vector<std::vector<double>> m_of(n_treatments, std::vector<double>(total, NAN));
  std::vector<Predictions> cell_pred(n_outcomes * n_treatments);
  for (Predictions& pred : cell_pred) {
    pred.n = n;
    pred.reps = plan.reps;
    if (irm) {
      pred.g0.assign(total, NAN);
      pred.g1.assign(total, NAN);
    } else {
      pred.l.assign(total, NAN);
    }
  }
  auto cell_of = [&](const Slot& s) {
    return static_cast<std::size_t>(s.outcome) * n_treatments + static_cast<std::size_t>(s.treatment);
  };

  // --- how each model is sized (docs/tuning.md) -------------------------------------
  // Fixed rounds: trained on all its training rows. --rounds auto (the
  // default): an inner split of those rows (SplitValidationRows; the held-out
  // fold is never in it) early-stops the model, which then predicts with its
  // best round (--early-stopping-model keep) or is refitted on all its
  // training rows with that many rounds (refit). --tune searches a grid of
  // hyperparameters on the same kind of split, once per nuisance on the first
  // fold of the first repetition, or in every fold (--tune-per-fold).
  auto is_auto = [&](Target t) { return params_of(t).rounds == kAutoRounds; };
  const bool tune = options.tune.enabled;
  const bool tune_per_fold = tune && options.tune.per_fold;
  const bool keep = options.early_stopping_model == EarlyStopModel::kKeep;
  auto needs_split = [&](Target t) { return tune || is_auto(t); };
  // Rounds a model may boost: the bar counts these and skips what is not run.
  auto limit = [&](Target t) { return is_auto(t) ? params_of(t).max_rounds : params_of(t).rounds; };

  const std::size_t models_per_nuisance = static_cast<std::size_t>(plan.reps) * static_cast<std::size_t>(plan.folds);
  std::vector<NuisanceTuning> tuning(slots.size());
  std::vector<std::vector<LearnerParams>> grids(slots.size());
  for (std::size_t s = 0; s < slots.size(); ++s) {
    const Target t = slots[s].target;
    NuisanceTuning& rec = tuning[s];
    rec.name = NuisanceName(t);
    rec.metric = t == Target::kPropensity && binary_d[static_cast<std::size_t>(slots[s].treatment)] ? "logloss"
                                                                                                   : "rmse";
    rec.early_stopping = is_auto(t);
    rec.models.assign(models_per_nuisance, NuisanceTuning::Candidate{});
    rec.rounds_run.assign(models_per_nuisance, 0);
    grids[s] = tune ? TuningGrid(params_of(t), options.tune.params) : std::vector<LearnerParams>{};
  }

  long total_rounds = 0;
  for (const Task& t : tasks) {
    const long per_model = limit(t.target) * ((is_auto(t.target) && !keep) || (tune && !is_auto(t.target)) ? 2 : 1);
    total_rounds += per_model;
    if (tune_per_fold) total_rounds += static_cast<long>(grids[t.slot].size()) * limit(t.target);
  }
  if (tune && !tune_per_fold) {
    for (std::size_t s = 0; s < slots.size(); ++s) {
      total_rounds += static_cast<long>(grids[s].size()) * limit(slots[s].target);
    }
  }
  Progress progress(options.progress, total_rounds);

  std::vector<nuisance::TaskClock> clocks(threads);
  Timings timings;
  timings.setup = setup_seconds;

  auto make_spec = [&](const Task& t, const LearnerParams& params) {
    nuisance::TrainSpec spec;
    const bool is_m = t.target == Target::kPropensity;
    spec.objective = is_m && binary_d[static_cast<std::size_t>(slots[t.slot].treatment)]
                         ? nuisance::Objective::kLogistic
                         : nuisance::Objective::kSquaredError;
    spec.params = params;
    spec.strategy = options.matrix_strategy;
    // Per-task seed: a pure function of (seed, rep, fold, nuisance), the same
    // in every cell of a grid.
    const std::uint64_t base_seed =
        spec.params.seed >= 0 ? static_cast<std::uint64_t>(spec.params.seed) : options.seed;
    spec.seed = ops::DeriveSeed(base_seed, ops::SeedStream::kNuisance,
                                (static_cast<std::uint64_t>(t.rep) << 32) |
                                    (static_cast<std::uint64_t>(t.fold) << 8) |
                                    static_cast<std::uint64_t>(t.target));
    spec.nthread = spec.params.nthread;
    spec.device = ToString(proto.options.device);  // XGBoost's "cuda" or "cuda:N"
    spec.on_rounds = [&progress](int k) { progress.Add(k); };
    spec.cancel = cancel;
    return spec;
  };
  auto d_of = [&](const Task& t) -> const std::vector<double>& {
    return *ds[static_cast<std::size_t>(slots[t.slot].treatment)];
  };

  // The inner split of a model's training rows, seeded per (rep, fold, nuisance).
  auto split_rows = [&](const Task& t, const std::vector<std::uint32_t>& train, std::vector<std::uint32_t>* inner,
                        std::vector<std::uint32_t>* valid) {
    const std::uint64_t seed = ops::DeriveSeed(options.seed, ops::SeedStream::kValidationSplit,
                                               (static_cast<std::uint64_t>(t.rep) << 32) |
                                                   (static_cast<std::uint64_t>(t.fold) << 8) |
                                                   static_cast<std::uint64_t>(t.target));
    SplitValidationRows(train, d_of(t), data.cluster, options.validation_fraction, seed, inner, valid);
  };

  // --- device path: data on the GPU from upload to download -----------------------
  // The tasks run one at a time: a single XGBoost GPU model already occupies
  // the device for the data sizes worth a GPU, concurrent models would each
  // hold their own quantised matrix and histograms (peak memory x workers),
  // and a fixed order keeps GPU runs reproducible. XGBoost's host-side work
  // uses the run's threads (nthread = threads). A grid's cells run in turn,
  // each with its own upload of (X, y_j, d_k): uploading X once for every
  // cell waits for a GPU to test it on (docs/gpu.md).
  std::optional<cuda::DeviceData> device_data;
  std::optional<nuisance::DeviceFeatureMatrix> device_features, device_features_d;
  std::size_t device_cell = SIZE_MAX;
  std::shared_ptr<const cuda::ResidentPredictions> device_predictions;  // one-pair runs only
  double device_io = 0;  // seconds of uploads, sketches and downloads inside the nuisance phase
  auto close_device = [&] {
    if (!device_data) return;
    // The one copy back per cell, for what reads predictions on the host
    // (quality, overlap diagnostics, GATE signals, --save-predictions).
    const auto t_download = Clock::now();
    Predictions back;
    device_data->Download(&back);
    const std::size_t j = device_cell / n_treatments, k = device_cell % n_treatments;
    Predictions& pred = cell_pred[device_cell];
    if (j == 0 && !back.m.empty()) m_of[k] = std::move(back.m);
    if (irm) {
      pred.g0 = std::move(back.g0);
      pred.g1 = std::move(back.g1);
    } else {
      pred.l = std::move(back.l);
    }
    // A one-pair fit keeps its predictions on the device: Estimate computes
    // the scores from them without another upload.
    if (n_outcomes * n_treatments == 1) device_predictions = device_data->KeepPredictions();
    timings.download += Since(t_download);
    device_io += Since(t_download);
    device_features.reset();
    device_features_d.reset();
    device_data.reset();
  };
  auto open_device = [&](std::size_t cell) {
    if (device_cell == cell && device_data) return;
    close_device();
    device_cell = cell;
    const std::size_t j = cell / n_treatments, k = cell % n_treatments;
    const auto t_upload = Clock::now();
    cuda::FitDataView view;
    view.x = data.x.data();
    view.n = n;
    view.p = data.p;
    view.y = y_f[j].data();
    view.d = d_f[k].data();
    view.fold = plan.fold.data();
    view.reps = plan.reps;
    view.with_d_column = pooled;
    view.irm = irm;
    device_data.emplace(proto.options.device.gpu(), view);
    timings.upload += Since(t_upload);
    device_io += Since(t_upload);
    const auto t_refs = Clock::now();
    device_features.emplace(device_data->FeaturesInterface(false), n, data.p);
    if (pooled) device_features_d.emplace(device_data->FeaturesInterface(true), n, data.p + 1);
    if (options.matrix_strategy != MatrixStrategy::kPerFold) {
      device_features->PrepareReferences({options.propensity.max_bin, options.outcome.max_bin}, threads);
      if (device_features_d) device_features_d->PrepareReferences({options.outcome.max_bin}, threads);
    }
    timings.setup += Since(t_refs);
    device_io += Since(t_refs);
  };
  // The device cell a task runs in: the propensity of treatment k with the
  // first outcome's cell (0, k).
  auto device_cell_of = [&](const Task& t) {
    const Slot& s = slots[t.slot];
    return s.outcome < 0 ? static_cast<std::size_t>(s.treatment) : cell_of(s);
  };

  // One backend's way to build a model's matrix of `rows`: the training
  // matrix its strategy asks for, or (validation) a plain one to evaluate on;
  // host blocks and FeatureMatrix on the CPU, device blocks gathered by
  // DeviceData on CUDA.
  auto matrix_of = [&](const Task& t, const std::vector<std::uint32_t>& rows, const nuisance::TrainSpec& spec,
                       nuisance::TaskClock* clock, bool validation) {
    const bool is_m = t.target == Target::kPropensity;
    const bool with_d = t.target == Target::kOutcomePooled;
    const Slot& s = slots[t.slot];
    if (!on_device) {
      const nuisance::FeatureMatrix& fm = with_d ? *features_d[static_cast<std::size_t>(s.treatment)] : features;
      const std::vector<float> labels = LabelsOf(
          rows, is_m ? d_f[static_cast<std::size_t>(s.treatment)] : y_f[static_cast<std::size_t>(s.outcome)]);
      return validation ? nuisance::ValidationMatrix(fm, rows, labels, spec, clock)
                        : nuisance::TrainingMatrix(fm, rows, labels, spec, clock);
    }
    const auto t0 = Clock::now();
    device_data->UseTrainingRows(rows);
    const std::string block = device_data->GatherTraining(with_d);
    const std::string labels = device_data->GatherTrainingLabels(is_m);
    if (clock) clock->gather += Since(t0);
    return validation ? nuisance::DeviceValidationMatrix(block, labels, spec, clock)
                      : nuisance::DeviceTrainingMatrix(with_d ? *device_features_d : *device_features, block,
                                                       labels, spec, clock);
  };
  auto training_matrix = [&](const Task& t, const std::vector<std::uint32_t>& rows, const nuisance::TrainSpec& spec,
                             nuisance::TaskClock* clock) { return matrix_of(t, rows, spec, clock, false); };
  auto boost = [&](const xgb::DMatrix& dtrain, const xgb::DMatrix* dvalid, const nuisance::TrainSpec& spec,
                   nuisance::TaskClock* clock) {
    return on_device ? nuisance::BoostOnDevice(dtrain, dvalid, spec, clock) : nuisance::Boost(dtrain, dvalid, spec, clock);
  };
  auto split_matrices = [&](const Task& t, const std::vector<std::uint32_t>& train, const nuisance::TrainSpec& spec,
                            nuisance::TaskClock* clock) {
    std::vector<std::uint32_t> inner, valid;
    split_rows(t, train, &inner, &valid);
    SplitMatrices m;
    m.train = training_matrix(t, inner, spec, clock);
    m.valid = matrix_of(t, valid, spec, clock, true);
    return m;
  };
  // Boosts every candidate of `grid` on the split; the winner's booster is
  // kept in *best_booster when asked (reused by --early-stopping-model keep).
  auto search = [&](const Task& t, const std::vector<LearnerParams>& grid, const SplitMatrices& m,
                    nuisance::Boosted* best_booster) {
    NuisanceTuning::Search s;
    s.rep = t.rep;
    s.fold = t.fold;
    for (const LearnerParams& p : grid) {
      nuisance::Boosted b = boost(m.train, &m.valid, make_spec(t, p), nullptr);
      NuisanceTuning::Candidate c = CandidateOf(p);
      c.rounds = b.rounds;
      c.loss = b.validation_loss;
      s.candidates.push_back(c);
      if (best_booster != nullptr && Best(s.candidates) == s.candidates.size() - 1) *best_booster = std::move(b);
    }
    s.chosen = Best(s.candidates);
    return s;
  };

  // --tune, once per nuisance: each search on the first fold's training rows
  // (rep 0) of its nuisance; candidates run on the workers, each a pure
  // function of its inputs, so the choice does not depend on the thread count.
  // On a device the searches run cell by cell (one upload each).
  std::vector<LearnerParams> tuned(slots.size());
  for (std::size_t s = 0; s < slots.size(); ++s) tuned[s] = params_of(slots[s].target);
  auto tune_once = [&] {
    const auto t_tune = Clock::now();
    const double io_before = device_io;
    std::vector<std::size_t> order(slots.size());
    for (std::size_t s = 0; s < slots.size(); ++s) order[s] = s;
    if (on_device) {
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return device_cell_of(Task{0, 0, slots[a].target, a}) < device_cell_of(Task{0, 0, slots[b].target, b});
      });
    }
    // On the CPU every slot's split is built first and all candidates run on
    // the pool; on a device, one cell's slots at a time.
    std::size_t begin = 0;
    while (begin < order.size()) {
      std::size_t end = on_device ? begin + 1 : order.size();
      if (on_device) {
        const std::size_t cell = device_cell_of(Task{0, 0, slots[order[begin]].target, order[begin]});
        while (end < order.size() && device_cell_of(Task{0, 0, slots[order[end]].target, order[end]}) == cell) ++end;
        open_device(cell);
      }
      std::vector<SplitMatrices> splits(end - begin);
      std::vector<Task> first(end - begin);
      std::vector<std::pair<std::size_t, std::size_t>> jobs;  // (position in [begin, end), candidate)
      for (std::size_t q = begin; q < end; ++q) {
        const std::size_t s = order[q];
        first[q - begin] = Task{0, 0, slots[s].target, s};
        std::vector<std::uint32_t> train, held_out;
        SplitFoldRows(plan, d_of(first[q - begin]), 0, 0, ArmTreatment(slots[s].target), &train, &held_out);
        splits[q - begin] =
            split_matrices(first[q - begin], train, make_spec(first[q - begin], params_of(slots[s].target)), nullptr);
        for (std::size_t c = 0; c < grids[s].size(); ++c) jobs.emplace_back(q - begin, c);
      }
      std::vector<nuisance::Boosted> results(jobs.size());
      ops::ParallelFor(static_cast<std::int64_t>(jobs.size()), on_device ? 1 : threads, [&](std::int64_t i, int) {
        const auto [q, c] = jobs[static_cast<std::size_t>(i)];
        nuisance::Boosted b =
            boost(splits[q].train, &splits[q].valid, make_spec(first[q], grids[order[begin + q]][c]), nullptr);
        results[static_cast<std::size_t>(i)].rounds = b.rounds;
        results[static_cast<std::size_t>(i)].validation_loss = b.validation_loss;
      });
      for (std::size_t i = 0; i < jobs.size(); ++i) {
        const auto [q, c] = jobs[i];
        const std::size_t s = order[begin + q];
        NuisanceTuning& rec = tuning[s];
        if (rec.searches.empty()) rec.searches.push_back(NuisanceTuning::Search{});
        NuisanceTuning::Candidate cand = CandidateOf(grids[s][c]);
        cand.rounds = results[i].rounds;
        cand.loss = results[i].validation_loss;
        rec.searches[0].candidates.push_back(cand);
      }
      begin = end;
    }
    for (std::size_t s = 0; s < slots.size(); ++s) {
      NuisanceTuning::Search& found = tuning[s].searches[0];
      found.chosen = Best(found.candidates);
      tuned[s] = grids[s][found.chosen];
    }
    timings.tuning = Since(t_tune) - (device_io - io_before);
  };

  std::mutex searches_mutex;  // --tune-per-fold: tasks append their searches
  // Trains the model of task `t` that predicts its held-out fold on `train`
  // (its training rows); returns it with the rounds to predict with (0: all).
  auto train_model = [&](const Task& t, const std::vector<std::uint32_t>& train, nuisance::TaskClock* clock,
                         int* trees) {
    const std::size_t slot = t.slot;
    NuisanceTuning& rec = tuning[slot];
    const std::size_t at = static_cast<std::size_t>(t.rep) * static_cast<std::size_t>(plan.folds) +
                           static_cast<std::size_t>(t.fold);
    LearnerParams params = tuned[slot];
    *trees = 0;
    if (!needs_split(t.target)) {
      rec.models[at] = CandidateOf(params);
      rec.models[at].rounds = params.rounds;
      rec.models[at].loss = NAN;
      rec.rounds_run[at] = params.rounds;
      const nuisance::TrainSpec spec = make_spec(t, params);
      return boost(training_matrix(t, train, spec, clock), nullptr, spec, clock).booster;
    }
    const SplitMatrices m = split_matrices(t, train, make_spec(t, params), clock);
    std::optional<nuisance::Boosted> winner;
    if (tune_per_fold) {
      const auto t_tune = Clock::now();
      nuisance::Boosted best;
      NuisanceTuning::Search s = search(t, grids[slot], m, is_auto(t.target) && keep ? &best : nullptr);
      params = grids[slot][s.chosen];
      if (is_auto(t.target) && keep) winner = std::move(best);
      {
        std::lock_guard<std::mutex> lock(searches_mutex);
        rec.searches.push_back(std::move(s));
      }
      clock->tuning += Since(t_tune);
    }
    const nuisance::TrainSpec spec = make_spec(t, params);
    nuisance::Boosted sized = winner ? std::move(*winner) : boost(m.train, &m.valid, spec, clock);
    rec.models[at] = CandidateOf(params);
    rec.models[at].rounds = sized.rounds;
    rec.models[at].loss = sized.validation_loss;
    rec.rounds_run[at] = sized.rounds_run;
    if (is_auto(t.target) && keep) {
      *trees = sized.rounds;
      return std::move(sized.booster);
    }
    // Refit on all the training rows with the chosen count (early stopping),
    // or the fixed count (a tuned fixed-rounds model).
    nuisance::TrainSpec full = spec;
    full.params.rounds = sized.rounds;
    xgb::Booster booster = boost(training_matrix(t, train, full, clock), nullptr, full, clock).booster;
    if (limit(t.target) > sized.rounds) progress.Add(limit(t.target) - sized.rounds);
    return booster;
  };

  auto run_task = [&](const Task& t, nuisance::TaskClock* clock) {
    const Slot& s = slots[t.slot];
    // Training rows: out of fold t.fold, and of the right arm for g0 / g1.
    std::vector<std::uint32_t> train, held_out;
    SplitFoldRows(plan, d_of(t), t.rep, t.fold, ArmTreatment(t.target), &train, &held_out);
    int trees = 0;
    xgb::Booster booster = train_model(t, train, clock, &trees);
    const nuisance::FeatureMatrix& fm =
        t.target == Target::kOutcomePooled ? *features_d[static_cast<std::size_t>(s.treatment)] : features;
    const std::size_t base = static_cast<std::size_t>(t.rep) * n;
    // Predict the held-out rows into this repetition's block of `dst`; the
    // pooled model predicts twice, with its D column set to 0 and to 1.
    auto predict_into = [&](std::optional<float> d_value, std::vector<double>* dst) {
      std::vector<double> out;
      nuisance::Predict(booster, fm, held_out, d_value, &out, clock, trees);
      for (std::size_t k = 0; k < held_out.size(); ++k) (*dst)[base + held_out[k]] = out[k];
    };
    if (t.target == Target::kPropensity) {
      predict_into(std::nullopt, &m_of[static_cast<std::size_t>(s.treatment)]);
      return;
    }
    Predictions& pred = cell_pred[cell_of(s)];
    switch (t.target) {
      case Target::kOutcome0: predict_into(std::nullopt, &pred.g0); break;
      case Target::kOutcome1: predict_into(std::nullopt, &pred.g1); break;
      case Target::kOutcomeAll: predict_into(std::nullopt, &pred.l); break;
      case Target::kOutcomePooled:
        predict_into(0.0f, &pred.g0);
        predict_into(1.0f, &pred.g1);
        break;
      case Target::kPropensity: break;
    }
  };

  auto run_device_task = [&](const Task& t, nuisance::TaskClock* clock) {
    open_device(device_cell_of(t));
    cuda::DeviceData& dev = *device_data;
    const bool with_d = t.target == Target::kOutcomePooled;
    // The row lists the host split reads; the device builds the held-out list.
    std::vector<std::uint32_t> train, held_out_host;
    SplitFoldRows(plan, d_of(t), t.rep, t.fold, ArmTreatment(t.target), &train, &held_out_host);
    held_out_host.clear();
    const auto t0 = Clock::now();
    dev.SelectRows(t.rep, t.fold, ArmOf(t.target));
    clock->gather += Since(t0);
    int trees = 0;
    const xgb::Booster booster = train_model(t, train, clock, &trees);
    auto predict_into = [&](std::optional<float> d_value, cuda::PredictionArray into) {
      const auto t_predict = Clock::now();
      const std::string held_out = dev.GatherHeldOut(with_d, d_value);
      const float* out = nuisance::PredictOnDevice(booster, held_out, dev.held_out_count(), nullptr, trees);
      dev.ScatterHeldOut(out, t.rep, into);
      clock->prediction += Since(t_predict);
    };
    switch (t.target) {
      case Target::kPropensity: predict_into(std::nullopt, cuda::PredictionArray::kM); break;
      case Target::kOutcome0: predict_into(std::nullopt, cuda::PredictionArray::kG0); break;
      case Target::kOutcome1: predict_into(std::nullopt, cuda::PredictionArray::kG1); break;
      case Target::kOutcomeAll: predict_into(std::nullopt, cuda::PredictionArray::kL); break;
      case Target::kOutcomePooled:
        predict_into(0.0f, cuda::PredictionArray::kG0);
        predict_into(1.0f, cuda::PredictionArray::kG1);
        break;
    }
  };
  if (on_device) {
    // One cell at a time, the propensity of treatment k in cell (0, k).
    std::stable_sort(tasks.begin(), tasks.end(),
                     [&](const Task& a, const Task& b) { return device_cell_of(a) < device_cell_of(b); });
  }

  const auto t_nuisance = Clock::now();
  auto run_one = [&](std::int64_t i, int w) {
    if (cancel != nullptr && cancel->load()) throw Cancelled("the fit was cancelled");
    if (on_device) {
      run_device_task(tasks[static_cast<std::size_t>(i)], &clocks[static_cast<std::size_t>(w)]);
    } else {
      run_task(tasks[static_cast<std::size_t>(i)], &clocks[static_cast<std::size_t>(w)]);
    }
  };
  const int workers = on_device ? 1 : threads;
  std::atomic<bool> done{false};
  std::thread ticker([&] {
    while (!done.load()) {
      progress.Print(false);
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });
  try {
    if (tune && !tune_per_fold) {
      progress.SetPhase("tuning");
      tune_once();
      progress.SetPhase("training");
    }
    // Worker 0 is the calling thread: on CUDA the one that set the device.
    ops::ParallelFor(static_cast<std::int64_t>(tasks.size()), workers, run_one);
    close_device();
  } catch (...) {
    done = true;
    ticker.join();
    throw;
  }
  done = true;
  ticker.join();
  progress.Print(true);
  // Per-fold searches were appended as tasks finished: order them by (rep, fold).
  for (NuisanceTuning& rec : tuning) {
    std::sort(rec.searches.begin(), rec.searches.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.rep, a.fold) < std::make_pair(b.rep, b.fold);
    });
  }
  // The once-per-nuisance search ran first, timed on its own (timings.tuning),
  // and the device cells' uploads and downloads are timed on their own too.
  const double nuisance_wall = Since(t_nuisance) - timings.tuning - device_io;

  nuisance::TaskClock sum;
  for (const auto& c : clocks) {
    sum.gather += c.gather;
    sum.matrix += c.matrix;
    sum.training += c.training;
    sum.prediction += c.prediction;
    sum.tuning += c.tuning;
  }
  const double busy = sum.gather + sum.matrix + sum.training + sum.prediction + sum.tuning;
  const double scale = busy > 0 ? nuisance_wall / busy : 0;
  timings.gather = sum.gather * scale;
  timings.fold_matrices = sum.matrix * scale;
  timings.training = sum.training * scale;
  timings.prediction = sum.prediction * scale;
  timings.tuning += sum.tuning * scale;

  // --- the cells' fits: shared folds and propensity, their own outcome models ---
  std::vector<Fit> fits(cell_pred.size());
  for (std::size_t c = 0; c < cell_pred.size(); ++c) {
    const std::size_t j = c / n_treatments, k = c % n_treatments;
    Fit& fit = fits[c];
    fit.options = proto.options;
    fit.xgboost_version = proto.xgboost_version;
    fit.threads = threads;
    fit.timings = timings;
    fit.predictions = std::move(cell_pred[c]);
    fit.predictions.fold = plan.fold;
    // The last outcome of treatment k takes its propensity array; the others copy it.
    fit.predictions.m = j + 1 == n_outcomes ? std::move(m_of[k]) : m_of[k];
    fit.tuning.push_back(tuning[k]);
    for (std::size_t s = n_treatments; s < slots.size(); ++s) {
      if (cell_of(slots[s]) == c) fit.tuning.push_back(tuning[s]);
    }
  }
  if (device_predictions) fits[0].device_predictions = device_predictions;
  return fits;
}

}  // namespace

Fit FitNuisances(const Dataset& data, const Options& options, const std::atomic<bool>* cancel) {
  const auto t_start = Clock::now();
  options.Validate();
  // IRM needs a binary D; PLR also takes a continuous one (m is then E[D|X]).
  ValidateDataset(data, static_cast<std::size_t>(options.folds), options.model == Model::kIrm);
  std::vector<Fit> fits = FitCells(data, {&data.y}, {&data.d}, {data.treatment_name}, options, cancel);
  Fit& fit = fits[0];
  fit.quality = NuisanceQualities(data, fit.predictions);
  fit.cache = MakeFitCache(data, fit.predictions);
  fit.timings.total = Since(t_start);
  return std::move(fit);
}

GridFit FitGrid(Dataset* data, const Options& options, const std::atomic<bool>* cancel) {
  const auto t_start = Clock::now();
  options.Validate();
  data->MakeGrid();
  ValidateDataset(*data, static_cast<std::size_t>(options.folds), options.model == Model::kIrm);
  std::vector<const std::vector<double>*> ys, ds;
  for (const auto& y : data->outcomes) ys.push_back(&y);
  for (const auto& d : data->treatments) ds.push_back(&d);
  GridFit grid;
  grid.outcomes = data->outcome_names;
  grid.treatments = data->treatment_names;
  grid.cells = FitCells(*data, ys, ds, data->treatment_names, options, cancel);
  // Quality and the estimation cache read the cell's own columns.
  for (std::size_t c = 0; c < grid.cells.size(); ++c) {
    data->SelectCell(c / ds.size(), c % ds.size());
    Fit& fit = grid.cells[c];
    fit.quality = NuisanceQualities(*data, fit.predictions);
    fit.cache = MakeFitCache(*data, fit.predictions);
  }
  data->SelectCell(0, 0);
  grid.timings = grid.cells.empty() ? Timings{} : grid.cells[0].timings;
  grid.timings.total = Since(t_start);
  for (Fit& fit : grid.cells) fit.timings.total = grid.timings.total;
  return grid;
}

Fit FitFromPredictions(const Dataset& data, const Options& options, Predictions predictions) {
  options.Validate();
  ValidateDataset(data, 2, options.model == Model::kIrm);
  const std::size_t n = data.n;
  if (predictions.n != n) {
    throw DataError("the predictions cover " + std::to_string(predictions.n) + " rows but the data has " +
                    std::to_string(n));
  }
  if (predictions.reps < 1) {
    throw DataError("the predictions hold " + std::to_string(predictions.reps) +
                    " repetitions; at least one is needed");
  }
  const std::size_t total = n * static_cast<std::size_t>(predictions.reps);
  if (predictions.fold.size() != total) {
    throw DataError("the predictions hold " + std::to_string(predictions.fold.size()) + " fold ids for " +
                    std::to_string(n) + " rows x " + std::to_string(predictions.reps) +
                    " repetitions; one per row and repetition is needed");
  }
  auto need = [&](const std::vector<double>& v, const char* name) {
    if (v.size() != total) {
      throw DataError(std::string("the predictions lack ") + name + " (needed by --model " +
                      ToString(options.model) + ")");
    }
    for (std::size_t k = 0; k < total; ++k) {
      if (!std::isfinite(v[k])) {
        throw DataError(std::string("prediction ") + name + " is not finite for row " +
                        std::to_string(k % n) + ", rep " + std::to_string(k / n));
      }
    }
  };
  need(predictions.m, "m_hat");
  if (options.model == Model::kIrm) {
    need(predictions.g0, "g0_hat");
    need(predictions.g1, "g1_hat");
  } else {
    need(predictions.l, "l_hat");
  }
  FoldPlan plan;
  plan.n = n;
  plan.reps = predictions.reps;
  plan.fold = predictions.fold;
  plan.folds = 0;
  for (int f : plan.fold) plan.folds = std::max(plan.folds, f + 1);
  ValidateFoldPlan(plan, data.d);
  if (!data.cluster.empty()) ValidateClusterFoldPlan(plan, data.cluster, data.n_clusters);

  Fit fit;
  fit.options = options;
  fit.options.folds = plan.folds;
  fit.options.reps = predictions.reps;
  fit.predictions = std::move(predictions);
  fit.quality = NuisanceQualities(data, fit.predictions);
  fit.cache = MakeFitCache(data, fit.predictions);
  return fit;
}

}  // namespace fastdml
