#include "cli/args.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "fastdml/error.h"
#include "fastdml/inference.h"

namespace fastdml::cli {

void LearnerFlags::Add(CLI::App* app, const std::string& prefix, const std::string& who) {
  app->add_option("--" + prefix + "rounds", rounds,
                  "boosting rounds" + who + ": auto (default; early stopping on an inner validation split) or a "
                  "fixed count");
  app->add_option("--" + prefix + "max-rounds", max_rounds, "most rounds with --rounds auto" + who + " (default 1000)");
  app->add_option("--" + prefix + "early-stopping-rounds", early_stopping_rounds,
                  "--rounds auto stops after this many rounds without a better validation loss" + who +
                      " (default 20)");
  app->add_option("--" + prefix + "max-depth", max_depth, "tree depth" + who + " (default 6)");
  app->add_option("--" + prefix + "eta", eta, "learning rate" + who + " (default 0.1)");
  app->add_option("--" + prefix + "subsample", subsample, "row subsample per tree" + who + " (default 1)");
  app->add_option("--" + prefix + "colsample", colsample, "column subsample per tree" + who + " (default 1)");
  app->add_option("--" + prefix + "min-child-weight", min_child_weight,
                  "minimum hessian per leaf" + who + " (default 1)");
  app->add_option("--" + prefix + "lambda", lambda, "L2 penalty on leaf weights" + who + " (default 1)");
  app->add_option("--" + prefix + "max-bin", max_bin, "histogram bins per feature" + who + " (default 256)");
  app->add_option("--" + prefix + "nthread", nthread,
                  "threads inside each XGBoost model" + who + " (default 1; results depend on it, not on --threads)");
  if (!prefix.empty()) {
    app->add_option("--" + prefix + "seed", seed, "XGBoost seed base" + who + " (default: from --seed)");
  }
}

// "auto" or a positive count; throws UsageError naming the flag.
int ParseRounds(const std::string& text, const std::string& flag) {
  if (text == "auto") return kAutoRounds;
  std::size_t used = 0;
  int value = 0;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || value < 1) {
    throw UsageError(flag + ": expected auto or a number of rounds of at least 1, got '" + text + "'");
  }
  return value;
}

void LearnerFlags::ApplyTo(LearnerParams* p, const std::string& prefix) const {
  if (rounds) p->rounds = ParseRounds(*rounds, "--" + prefix + "rounds");
  if (max_rounds) p->max_rounds = *max_rounds;
  if (early_stopping_rounds) p->early_stopping_rounds = *early_stopping_rounds;
  if (max_depth) p->max_depth = *max_depth;
  if (max_bin) p->max_bin = *max_bin;
  if (eta) p->eta = *eta;
  if (subsample) p->subsample = *subsample;
  if (colsample) p->colsample_bytree = *colsample;
  if (min_child_weight) p->min_child_weight = *min_child_weight;
  if (lambda) p->lambda = *lambda;
  if (nthread) p->nthread = *nthread;
  if (seed) p->seed = *seed;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Commands AddCommands(CLI::App* app, EstimateArgs* estimate, SimulateArgs* simulate) {
  EstimateArgs& a = *estimate;
  CLI::App* est = app->add_subcommand("estimate", "estimate ATE/ATT (grids of outcomes x treatments, multi-valued treatments) from a CSV, Parquet or Arrow file");
  est->add_option("--data", a.data, "input data: CSV (header row), Parquet (.parquet file or folder of parts) or Arrow IPC/Feather (.arrow, .feather)")->required();
  est->add_option("--format", a.format, "input format: csv, parquet or arrow (default: by the --data extension; others are CSV)")
      ->check(CLI::IsMember({"csv", "parquet", "arrow"}));
  est->add_option("--outcome", a.outcome, "outcome column Y; several (y1,y2,...) estimate every outcome x treatment cell")->required();
  est->add_option("--treatment", a.treatment, "treatment column D: 0/1 (a continuous D needs --model plr); several: t1,t2,...")->required();
  est->add_option("--features", a.features, "comma-separated feature columns (default: every other numeric column)");
  est->add_option("--model", a.model, "irm (interactive regression) or plr (partially linear)")
      ->check(CLI::IsMember({"irm", "plr"}));
  est->add_option("--estimand", a.estimand, "comma list of ate, att, atc, ato (overlap-weighted) (default: ate,att for irm, ate for plr)");
  est->add_option("--outcome-design", a.outcome_design,
                  "IRM outcome model: pooled (default; one model with D as a feature) or separate (g0, g1 per arm, as DoubleML)")
      ->check(CLI::IsMember({"separate", "pooled"}));
  est->add_option("--matrix-strategy", a.matrix_strategy,
                  "fold training matrices: shared-cuts (default), per-fold, zero-weight (benchmarks)")
      ->check(CLI::IsMember({"shared-cuts", "per-fold", "zero-weight"}));
  est->add_option("--folds", a.opt.folds, "cross-fitting folds K (default 5)");
  est->add_option("--reps", a.opt.reps, "repetitions R of the fold split (default 1)");
  est->add_option("--seed", a.opt.seed, "random seed for folds and learners (default 0)");
  std::ostringstream clip_default;
  clip_default << kDefaultClip;
  est->add_option("--clip", a.opt.clip, "clip propensities to [C, 1-C] (default " + clip_default.str() + ")");
  est->add_flag("--normalize-ipw", a.opt.normalize_ipw, "Hajek-normalise the inverse propensity weights");
  est->add_option("--level", a.opt.level, "confidence level of the intervals (default 0.95)");
  est->add_option("--weights", a.weights, "sample weight column (IRM; rescaled to mean 1)");
  est->add_flag("--treatment-levels", a.treatment_levels,
                "multi-valued treatment (IRM): average potential outcome per level and ATE/ATT contrasts against "
                "--reference-level; automatic for a treatment with 3 to 20 integer levels");
  est->add_option("--reference-level", a.reference_level,
                  "the level the contrasts compare with (default: the smallest)");
  est->add_option("--fold-col", a.fold_col, "column of user fold ids (0..K-1 or 1..K); implies --reps 1");
  est->add_option("--cluster", a.cluster,
                  "cluster id column: one-way cluster-robust SE (as DoubleML), folds that keep clusters whole, "
                  "one bootstrap multiplier per cluster");
  est->add_option("--threads", a.opt.threads, "concurrent nuisance models (default 0 = all cores)");
  est->add_option("--device", a.device, "cpu, cuda, cuda:N or auto (default cpu)");
  est->add_option("--validation-fraction", a.opt.validation_fraction,
                  "share of each model's training rows that early stopping and --tune validate on (default 0.2)");
  est->add_option("--early-stopping-model", a.early_stopping_model,
                  "after early stopping: refit (default; all training rows, the chosen rounds) or keep (the "
                  "early-stopped model)")
      ->check(CLI::IsMember({"keep", "refit"}));
  a.tune_flag = est->add_option("--tune", a.tune,
                                "search depth {2,3,4,6,8}, eta {0.03,0.1,0.3}, min-child-weight {1,5,20,50} per "
                                "nuisance by the inner validation loss; or only the listed ones (e.g. --tune depth,eta)")
                    ->expected(0, 1);
  est->add_flag("--tune-per-fold", a.opt.tune.per_fold,
                "with --tune: search in every fold instead of once per nuisance (folds x the cost)");
  a.all.Add(est, "", " for every nuisance");
  a.propensity.Add(est, "propensity-", " for the propensity model m");
  a.outcome_model.Add(est, "outcome-", " for the outcome models (g0, g1, g, l)");
  est->add_option("--json", a.json, "write the results as JSON to this file");
  est->add_flag("--no-timings", a.no_timings,
                "leave wall-clock fields out of the JSON, so that a seed gives byte-identical files");
  est->add_option("--save-predictions", a.save_predictions,
                  "write out-of-fold predictions (row,rep,fold,m_hat,g0_hat,g1_hat,l_hat) to this CSV");
  est->add_option("--load-predictions", a.load_predictions,
                  "estimate from predictions saved by --save-predictions (no training)");
  est->add_option("--save-fit", a.save_fit,
                  "write the fit (predictions, folds, settings) to this binary file (docs/fit-file.md)");
  est->add_option("--load-fit", a.load_fit, "re-estimate from a fit saved by --save-fit (no training)");
  est->get_option("--model")->each([&a](const std::string&) { a.model_given = true; });
  est->add_option("--bootstrap", a.bootstrap, "multiplier bootstrap replicates B over the stored scores (default 0: none)");
  est->add_option("--bootstrap-method", a.bootstrap_method,
                  "multipliers: normal (default), rademacher, mammen, wild (DoubleML's), bayes (Exp(1)-1)")
      ->check(CLI::IsMember({"normal", "rademacher", "mammen", "wild", "bayes"}));
  est->add_option("--bootstrap-sampler", a.bootstrap_sampler,
                  "auto (exact Gaussian law for normal, else loop), exact, loop")
      ->check(CLI::IsMember({"auto", "exact", "loop"}));
  est->add_option("--bootstrap-seed", a.bootstrap_seed, "seed of the multipliers (default: --seed)");
  est->add_flag("--joint", a.joint, "joint (sup-t) confidence bands over all estimands (needs --bootstrap)");
  est->add_option("--p-adjust", a.p_adjust, "comma list of romano-wolf (needs --bootstrap), bonferroni, holm");
  // One scenario per use; commas separate its keys, not scenarios.
  est->add_option("--sensitivity", a.sensitivity,
                  "omitted-variable-bias bounds for a confounder of this strength, e.g. cf_y=0.03,cf_d=0.03,rho=1.0 "
                  "(repeatable; keys left out keep these defaults)")
      ->delimiter('\0');
  est->add_option("--sensitivity-benchmark", a.sensitivity_benchmark,
                  "refit without these features (comma list; repeatable) and report the cf_y, cf_d and rho they "
                  "would imply as a confounder, as DoubleML's sensitivity_benchmark()")
      ->delimiter('\0');
  est->add_option("--trim", a.trim,
                  "estimate on the rows with propensity in [alpha, 1 - alpha]: crump (Crump et al. 2009's rule) or "
                  "a fixed alpha in (0, 0.5); the estimands become effects in that population");
  est->add_option("--sensitivity-h0", a.sensitivity_h0,
                  "null hypothesis of the robustness values RV and RVa (default 0)");
  est->add_flag("--quiet", a.quiet, "no progress or notes on stderr");

  SimulateArgs& s = *simulate;
  CLI::App* simc = app->add_subcommand("simulate", "write a simulated data set with known truth");
  simc->add_option("--design", s.design,
                   "seller, irm (DoubleML make_irm_data), plr (make_plr_CCDDHNR2018) or grid (outcomes y1..y3 x "
                   "treatments t1, t2)")
      ->check(CLI::IsMember({"seller", "irm", "plr", "grid"}));
  simc->add_option("--n", s.sim.n, "rows (default 10000)");
  simc->add_option("--p", s.sim.p, "features (default 20)");
  simc->add_option("--seed", s.sim.seed, "random seed (default 0)");
  simc->add_option("--theta", s.sim.theta, "treatment effect for the irm and plr designs (default 0.5)");
  simc->add_option("--out", s.out, "output CSV; the truth goes to OUT.truth.json")->required();

  app->add_subcommand("version", "print the fastdml and XGBoost versions");
  return {est, simc};
}

void ResolveEstimateOptions(EstimateArgs& a) {
  Options& opt = a.opt;
  opt.model = a.model == "irm" ? Model::kIrm : Model::kPlr;
  opt.outcome_design = a.outcome_design == "pooled" ? OutcomeDesign::kPooled : OutcomeDesign::kSeparate;
  opt.matrix_strategy = a.matrix_strategy == "per-fold"      ? MatrixStrategy::kPerFold
                        : a.matrix_strategy == "zero-weight" ? MatrixStrategy::kZeroWeight
                                                             : MatrixStrategy::kSharedCuts;
  if (a.estimand.empty()) a.estimand = opt.model == Model::kIrm ? "ate,att" : "ate";
  opt.estimands.clear();
  for (const auto& e : SplitList(a.estimand)) {
    Estimand parsed;
    if (!ParseEstimand(e, &parsed)) throw UsageError("--estimand: unknown estimand '" + e + "' (expected ate, att, atc, ato)");
    opt.estimands.push_back(parsed);
  }
  {
    // Flags for every nuisance are named as given (--max-depth, not
    // --propensity-max-depth) when they are out of range.
    LearnerParams every;
    a.all.ApplyTo(&every, "");
    ValidateLearner(every, "", true);
  }
  a.all.ApplyTo(&opt.propensity, "");
  a.all.ApplyTo(&opt.outcome, "");
  a.propensity.ApplyTo(&opt.propensity, "propensity-");
  a.outcome_model.ApplyTo(&opt.outcome, "outcome-");
  opt.early_stopping_model = a.early_stopping_model == "keep" ? EarlyStopModel::kKeep : EarlyStopModel::kRefit;
  if (a.tune_flag != nullptr && a.tune_flag->count() > 0) {
    opt.tune.enabled = true;
    if (!a.tune.empty()) {
      opt.tune.params.clear();
      for (const auto& name : SplitList(a.tune)) {
        const TuneParam t = name == "depth" || name == "max-depth"  ? TuneParam::kMaxDepth
                            : name == "eta"                         ? TuneParam::kEta
                            : name == "min-child-weight"            ? TuneParam::kMinChildWeight
                                                                    : throw UsageError("--tune: unknown parameter '" + name +
                                                                                       "' (expected depth, eta, min-child-weight)");
        if (std::find(opt.tune.params.begin(), opt.tune.params.end(), t) == opt.tune.params.end()) {
          opt.tune.params.push_back(t);
        }
      }
    }
  } else if (opt.tune.per_fold) {
    throw UsageError("--tune-per-fold tunes in every fold: add --tune");
  }
  opt.progress = !a.quiet;
  opt.device = ParseDevice(a.device);
  opt.Validate();
  if (a.bootstrap < 0 || a.bootstrap > kMaxBootstrapReplicates) {
    throw UsageError("--bootstrap: the number of replicates must be in 1.." +
                     std::to_string(kMaxBootstrapReplicates) + " (0: no bootstrap)");
  }
  if (a.joint && a.bootstrap == 0) throw UsageError("--joint needs the bootstrap: add --bootstrap B (e.g. 1000)");
  if (!a.load_fit.empty() && !a.load_predictions.empty()) {
    throw UsageError("--load-fit and --load-predictions: give one of them (both hold a fit's predictions)");
  }
  ParseBootstrapMethod(a.bootstrap_method);
  a.trim_options = a.trim.empty() ? TrimOptions{} : ParseTrim(a.trim);
  if (a.trim_options.rule != TrimRule::kNone) {
    if (opt.model != Model::kIrm) throw UsageError("--trim: trimming by the propensity applies to --model irm");
    if (!a.sensitivity_benchmark.empty()) {
      throw UsageError("--trim with --sensitivity-benchmark: the benchmark's refit would need the trimmed rows' "
                       "folds; run the benchmark without --trim");
    }
  }
  a.sensitivity_scenarios.clear();
  for (const std::string& text : a.sensitivity) a.sensitivity_scenarios.push_back(ParseSensitivityScenario(text));
  if (!std::isfinite(a.sensitivity_h0)) throw UsageError("--sensitivity-h0: must be a finite number");
  // Checked here too, not only after the fit: a typo must not cost a training run.
  for (const auto& method : SplitList(a.p_adjust)) {
    if (method != "romano-wolf" && method != "bonferroni" && method != "holm") {
      throw UsageError("--p-adjust: unknown method '" + method + "' (expected romano-wolf, bonferroni, holm)");
    }
    if (method == "romano-wolf" && a.bootstrap == 0) {
      throw UsageError("--p-adjust romano-wolf needs the bootstrap: add --bootstrap B (e.g. 1000)");
    }
  }
}

}  // namespace fastdml::cli
