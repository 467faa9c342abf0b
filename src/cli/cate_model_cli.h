// The CATE-model flags of `fastdml estimate` (--cate-model, --sorted-gates,
// --clan, --cate-proxy, --cate-features, --save-cate-model, --cate-*) and the
// `fastdml predict-cate` subcommand.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "fastdml/cate_model.h"

namespace fastdml::cli {

struct CateModelArgs {
  bool cate_model = false;
  int sorted_gates = 0;  // K groups; 0: none
  std::string clan, features, save, proxy = "outcome-difference";
  int repetition = 0;
  std::optional<int> rounds, max_depth, nthread;
  std::optional<double> eta, min_child_weight;
  std::optional<std::int64_t> seed;
  bool Any() const { return cate_model || sorted_gates != 0 || !clan.empty() || !save.empty(); }
};

void AddCateModelOptions(CLI::App* est, CateModelArgs* args);

// Fits what was asked from the fit's stored predictions (no nuisance refit),
// prints it to `os` and returns {"cate_model", "sorted_gates", "blp_test",
// "clan"} (keys present when asked). `cov` is the --cate-cov value;
// `bootstrap` > 0 adds joint bands over the sorted GATES (Gaussian multipliers, `seed`).
// Checks the flags against the data and fit options before any training, so
// that a bad --sorted-gates, --clan or --cate-* value fails in milliseconds.
void CheckCateModelArgs(const CateModelArgs& a, const Dataset& data, const Options& fit_options,
                        const std::string& cov);

nlohmann::json RunCateModel(const CateModelArgs& args, const Dataset& data, const Fit& fit, const std::string& cov,
                            std::int64_t bootstrap, std::uint64_t seed, std::ostream& os);

struct PredictCateArgs {
  std::string model, data, out;
};
CLI::App* AddPredictCate(CLI::App* app, PredictCateArgs* args);
// Reads the model's feature columns by name from args.data and writes one
// prediction per row ("cate" column) to args.out, atomically.
int RunPredictCate(const PredictCateArgs& args, std::ostream& os);

}  // namespace fastdml::cli
