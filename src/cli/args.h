// The command-line options of `fastdml`, declared once so that the CLI and
// the option fuzzer (tests/fuzz/options_fuzz.cc) parse and check them alike.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fastdml/options.h"
#include "fastdml/sensitivity.h"
#include "fastdml/trim.h"
#include "sim/simulate.h"

namespace fastdml::cli {

// Learner options given on the command line; unset fields keep the defaults.
struct LearnerFlags {
  std::optional<std::string> rounds;  // "auto" or a count
  std::optional<int> max_rounds, early_stopping_rounds, max_depth, max_bin, nthread;
  std::optional<std::int64_t> seed;
  std::optional<double> eta, subsample, colsample, min_child_weight, lambda;

  void Add(CLI::App* app, const std::string& prefix, const std::string& who);
  void ApplyTo(LearnerParams* p, const std::string& prefix) const;
};

struct EstimateArgs {
  std::string data, outcome, treatment, features, weights, fold_col, cluster;
  std::string format;  // --format csv|parquet|arrow; empty = by the --data extension
  std::string model = "irm", estimand, outcome_design = "pooled", matrix_strategy = "shared-cuts";
  std::string json, save_predictions, load_predictions;
  std::string save_fit, load_fit;  // binary fit file (src/io/fit_file.h)
  bool model_given = false;        // --model was on the command line (--load-fit checks it against the fit)
  bool quiet = false;
  bool no_timings = false;  // omit wall-clock fields: byte-identical JSON per seed
  std::int64_t bootstrap = 0;
  std::string bootstrap_method = "normal", bootstrap_sampler = "auto", p_adjust;
  std::optional<std::uint64_t> bootstrap_seed;
  bool joint = false;
  bool treatment_levels = false;             // --treatment-levels (fastdml/levels.h)
  std::optional<double> reference_level;     // --reference-level
  std::string device = "cpu";  // parsed into opt.device by ResolveEstimateOptions
  std::string early_stopping_model = "refit";
  std::string tune;                     // --tune's list (empty: all three)
  std::vector<std::string> sensitivity;  // --sensitivity, one scenario per use
  double sensitivity_h0 = 0.0;
  std::vector<std::string> sensitivity_benchmark;
  std::string trim;                      // --trim crump|ALPHA
  TrimOptions trim_options;              // parsed by ResolveEstimateOptions  // --sensitivity-benchmark, one feature list per use
  std::vector<SensitivityScenario> sensitivity_scenarios;  // parsed by ResolveEstimateOptions
  CLI::Option* tune_flag = nullptr;     // --tune given (with or without a list)
  Options opt;
  LearnerFlags all, propensity, outcome_model;
};

struct SimulateArgs {
  sim::SimOptions sim;
  std::string design = "seller", out;
};

struct Commands {
  CLI::App* estimate = nullptr;
  CLI::App* simulate = nullptr;
};

// Declares the estimate, simulate and version subcommands on `app`; parsed
// values land in *estimate and *simulate.
Commands AddCommands(CLI::App* app, EstimateArgs* estimate, SimulateArgs* simulate);

// Turns the parsed estimate flags into a.opt and checks every option before
// any data is read. Throws UsageError naming the option at fault.
void ResolveEstimateOptions(EstimateArgs& a);

// Comma-separated list without empty items.
std::vector<std::string> SplitList(const std::string& s);

}  // namespace fastdml::cli
