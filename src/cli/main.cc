// The fastdml command: estimate | simulate | version.
#include <CLI/CLI.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <set>

#include "cli/args.h"
#include "cli/cate_cli.h"
#include "cli/cate_model_cli.h"
#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "fastdml/levels.h"
#include "fastdml/trim.h"
#include "io/csv.h"
#include "io/dataset_builder.h"
#include "io/fit_file.h"
#include "io/report.h"
#include "nuisance/xgboost_api.h"
#include "sim/simulate.h"

namespace {

using fastdml::cli::EstimateArgs;
using fastdml::cli::SplitList;

// Heterogeneity flags (src/cli/cate_cli.cc, cate_model_cli.cc), beside the
// core estimate flags of cli/args.h.
struct HeterogeneityArgs {
  fastdml::cli::CateArgs cate;
  fastdml::cli::CateModelArgs cate_model;
};

// GATE/BLP read their group and basis columns as double (they need not be
// features, and a feature's float32 copy would move quantile edges): a second
// streaming pass over the file parses only the columns named in --cate-by or
// --blp (every identifier token of the basis spec; extra ones are harmless).
fastdml::io::CsvTable ReadCateColumns(const std::string& path, fastdml::io::DataFormat format,
                                      const fastdml::cli::CateArgs& cate) {
  std::set<std::string> wanted;
  for (const auto& spec : cate.by) wanted.insert(fastdml::ParseGroupSpec(spec).column);
  std::string token;
  for (char c : cate.blp + ",") {
    if (c == ',' || c == '(' || c == ')' || std::isspace(static_cast<unsigned char>(c))) {
      if (!token.empty()) wanted.insert(token);
      token.clear();
    } else {
      token += c;
    }
  }
  fastdml::io::CsvPlan plan;
  plan.choose = [&wanted](const std::vector<std::string>& names) {
    std::vector<fastdml::io::CsvStorage> storage;
    for (const auto& name : names) {
      storage.push_back(wanted.count(name) ? fastdml::io::CsvStorage::kDouble : fastdml::io::CsvStorage::kSkip);
    }
    return storage;
  };
  return fastdml::io::ReadTable(path, format, ',', plan);
}

fastdml::BootstrapOptions BootstrapOptionsOf(const EstimateArgs& a, const fastdml::Fit& fit) {
  fastdml::BootstrapOptions bo;
  bo.replicates = a.bootstrap;
  bo.method = fastdml::ParseBootstrapMethod(a.bootstrap_method);
  bo.sampler = a.bootstrap_sampler == "exact"  ? fastdml::BootstrapSampler::kExact
               : a.bootstrap_sampler == "loop" ? fastdml::BootstrapSampler::kLoop
                                               : fastdml::BootstrapSampler::kAuto;
  bo.seed = a.bootstrap_seed ? *a.bootstrap_seed : fit.options.seed;  // --load-fit: the fit's seed
  bo.threads = a.opt.threads;
  bo.device = fit.options.device;  // resolved by the fit: cpu, cuda or cuda:N
  return bo;
}

// Several outcomes x treatments (docs/cli.md, "Grids"): one read, one fold
// plan, shared propensities (FitGrid); every cell estimated as a one-pair run
// would be, joint inference over every cell x estimand, one document.
int RunGrid(EstimateArgs& a, HeterogeneityArgs& h, fastdml::Dataset& data, const fastdml::io::CsvTable& cate_table,
            std::chrono::steady_clock::time_point t0, double reading) {
  const fastdml::Options& opt = a.opt;
  const std::pair<bool, const char*> unsupported[] = {
      {!a.load_fit.empty(), "--load-fit"},
      {!a.load_predictions.empty(), "--load-predictions"},
      {!a.save_fit.empty(), "--save-fit"},
      {a.trim_options.rule != fastdml::TrimRule::kNone, "--trim"},
      {!a.sensitivity_benchmark.empty(), "--sensitivity-benchmark"}};
  for (const auto& [given, flag] : unsupported) {
    if (given) {
      throw fastdml::UsageError(std::string(flag) +
                                " takes one (outcome, treatment) pair: run it on one cell of the grid "
                                "(--outcome and --treatment with one column each)");
    }
  }
  fastdml::GridFit grid = fastdml::FitGrid(&data, opt);
  const std::size_t n_treatments = grid.treatments.size();
  const std::size_t cells = grid.cells.size();
  const auto t_scores = std::chrono::steady_clock::now();
  std::vector<fastdml::Report> reports(cells);
  for (std::size_t c = 0; c < cells; ++c) {
    data.SelectCell(c / n_treatments, c % n_treatments);
    reports[c] = fastdml::Estimate(data, grid.cells[c], grid.cells[c].options);
  }
  const double scores = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_scores).count();
  // Joint inference over the whole grid: the cells' scores are on the same
  // rows, so one multiplier per row serves every cell.
  std::vector<fastdml::Report*> cell_reports;
  for (auto& r : reports) cell_reports.push_back(&r);
  const fastdml::BootstrapOptions bo = BootstrapOptionsOf(a, grid.cells[0]);
  const fastdml::BootstrapSummary joint =
      fastdml::JointInference(cell_reports, a.bootstrap > 0 ? &bo : nullptr, a.joint, SplitList(a.p_adjust));

  const std::uint64_t boot_seed = a.bootstrap_seed ? *a.bootstrap_seed : opt.seed;
  std::vector<nlohmann::json> docs;
  nlohmann::json sections = nlohmann::json::object();
  for (std::size_t c = 0; c < cells; ++c) {
    data.SelectCell(c / n_treatments, c % n_treatments);
    fastdml::Fit& fit = grid.cells[c];
    fastdml::Report& report = reports[c];
    report.bootstrap = joint;
    fit.timings = grid.timings;
    fit.timings.reading = reading;
    fit.timings.scores = scores;
    std::cout << "== outcome " << data.outcome_name << ", treatment " << data.treatment_name << " ==\n";
    nlohmann::json cell_sections = nlohmann::json::object();
    if (!a.sensitivity_scenarios.empty()) {
      const fastdml::SensitivityReport sensitivity =
          fastdml::Sensitivity(data, fit, fit.options, report, a.sensitivity_scenarios, a.sensitivity_h0);
      report.warnings.insert(report.warnings.end(), sensitivity.warnings.begin(), sensitivity.warnings.end());
      fastdml::io::PrintSensitivity(std::cout, sensitivity);
      cell_sections.update(fastdml::io::SensitivityJson(sensitivity));
    }
    fastdml::io::PrintTable(std::cout, report, fit, data);
    if (h.cate.Any()) {
      cell_sections.update(fastdml::cli::RunCate(h.cate, cate_table, a.data, data, fit, a.bootstrap, boot_seed, std::cout));
    }
    if (h.cate_model.Any()) {
      cell_sections.update(
          fastdml::cli::RunCateModel(h.cate_model, data, fit, h.cate.cov, a.bootstrap, boot_seed, std::cout));
    }
    std::cout << "\n";
    fastdml::io::AddCellSections(&sections, std::move(cell_sections), data.outcome_name, data.treatment_name);
    docs.push_back(fastdml::io::ReportJson(report, fit, data, !a.no_timings));
  }
  data.SelectCell(0, 0);
  nlohmann::json json = fastdml::io::GridReportJson(std::move(docs));
  if (!a.no_timings) {
    json["timings"]["total"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  fastdml::io::AddJsonSections(&json, sections, !a.no_timings);
  if (!a.json.empty()) fastdml::io::WriteFileAtomic(a.json, json.dump(2) + "\n");
  if (!a.save_predictions.empty()) {
    std::vector<fastdml::io::CellPredictions> preds;
    for (std::size_t c = 0; c < cells; ++c) {
      preds.push_back({grid.outcomes[c / n_treatments], grid.treatments[c % n_treatments], &grid.cells[c].predictions});
    }
    fastdml::io::WritePredictionsCsv(a.save_predictions, preds);
  }
  return fastdml::kExitOk;
}

// A multi-valued treatment (fastdml/levels.h): one indicator per level fitted
// as a grid (shared folds, one-vs-rest propensities), then the APOs and the
// contrasts against the reference level in one report.
int RunLevels(EstimateArgs& a, const HeterogeneityArgs& h, fastdml::Dataset& data,
              std::chrono::steady_clock::time_point t0, double reading) {
  const fastdml::Options& opt = a.opt;
  if (opt.model != fastdml::Model::kIrm) {
    throw fastdml::UsageError("--treatment-levels needs --model irm; a continuous treatment takes --model plr alone");
  }
  const std::pair<bool, const char*> unsupported[] = {
      {!a.load_fit.empty(), "--load-fit"},
      {!a.load_predictions.empty(), "--load-predictions"},
      {!a.save_fit.empty(), "--save-fit"},
      {a.trim_options.rule != fastdml::TrimRule::kNone, "--trim"},
      {!a.sensitivity_scenarios.empty() || !a.sensitivity_benchmark.empty(), "--sensitivity"},
      {h.cate.Any() || h.cate_model.Any(), "--cate-by, --blp and the CATE model"}};
  for (const auto& [given, flag] : unsupported) {
    if (given) {
      throw fastdml::UsageError(std::string(flag) + " takes a binary treatment; '" + data.treatment_name +
                                "' is estimated as a multi-valued treatment (compare two levels by filtering the "
                                "rows to them)");
    }
  }
  const fastdml::TreatmentLevels levels = fastdml::ExpandLevels(&data, a.reference_level);
  fastdml::TreatmentLevels shown = levels;
  shown.automatic = !a.treatment_levels;
  fastdml::GridFit grid = fastdml::FitGrid(&data, opt);
  const auto t_scores = std::chrono::steady_clock::now();
  fastdml::Report report = fastdml::EstimateLevels(data, grid, levels, opt);
  // Each level's own diagnostics (its propensity and outcome model).
  std::vector<nlohmann::json> level_docs;
  for (std::size_t v = 0; v < grid.cells.size(); ++v) {
    data.SelectCell(0, v);
    const fastdml::Report cell = fastdml::Estimate(data, grid.cells[v], opt);
    nlohmann::json diagnostics = fastdml::io::ReportJson(cell, grid.cells[v], data, false)["diagnostics"];
    level_docs.push_back({{"level", levels.values[v]}, {"treatment", data.treatment_name},
                          {"rows", levels.rows[v]}, {"diagnostics", std::move(diagnostics)}});
    report.warnings.insert(report.warnings.end(), cell.warnings.begin(), cell.warnings.end());
  }
  data.SelectCell(0, 0);
  const double scores = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_scores).count();
  if (a.bootstrap > 0) fastdml::Bootstrap(&report, BootstrapOptionsOf(a, grid.cells[0]), a.joint);
  if (!a.p_adjust.empty()) fastdml::AdjustPValues(&report, SplitList(a.p_adjust));

  std::string level_list;
  for (std::size_t v = 0; v < levels.values.size(); ++v) {
    level_list += (v ? ", " : "") + fastdml::LevelName(levels.values[v]) + " (" + std::to_string(levels.rows[v]) +
                  " rows)";
  }
  const std::string note = "treatment '" + levels.treatment + "' has " + std::to_string(levels.values.size()) +
                           " levels: " + level_list + "; reference " +
                           fastdml::LevelName(levels.values[levels.reference]) +
                           (shown.automatic ? "; taken as multi-valued automatically (integer levels; "
                                              "--treatment-levels says so explicitly)"
                                            : "");
  // The report reads as the original treatment's, not its first indicator's.
  fastdml::Fit& fit = grid.cells[0];
  fit.timings = grid.timings;
  fit.timings.reading = reading;
  fit.timings.scores = scores;
  fit.timings.total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string indicator = data.treatment_name;
  data.treatment_name = levels.treatment;
  std::cout << "fastdml " << FASTDML_VERSION << ": IRM, multi-valued treatment, " << data.n << " rows, " << data.p
            << " features, " << opt.folds << " folds x " << opt.reps << " rep(s)\n" << note << "\n\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-14s %12s %11s %9s %10s %12s %12s\n", "estimand", "estimate", "std.err", "t",
                "p-value", "lower", "upper");
  std::cout << line;
  for (const fastdml::EstimateResult& e : report.estimates) {
    std::snprintf(line, sizeof line, "%-14s %12.6g %11.5g %9.3f %10.3g %12.6g %12.6g\n", e.estimand.c_str(), e.estimate,
                  e.se, e.t, e.p_value, e.ci_lower, e.ci_upper);
    std::cout << line;
    if (e.has_joint) std::cout << "  joint band [" << e.joint_ci_lower << ", " << e.joint_ci_upper << "]\n";
    for (const auto& [method, p] : e.p_adjusted) std::cout << "  p(" << method << ") " << p << "\n";
  }
  for (const std::string& w : report.warnings) std::cout << "warning: " << w << "\n";
  nlohmann::json json = fastdml::io::ReportJson(report, fit, data, !a.no_timings);
  json.erase("naive_difference");
  json["diagnostics"] = {{"warnings", report.warnings}};
  json["treatment_levels"] = {{"treatment", levels.treatment},
                              {"levels", levels.values},
                              {"rows", levels.rows},
                              {"reference", levels.values[levels.reference]},
                              {"automatic", shown.automatic},
                              {"note", note},
                              {"by_level", level_docs}};
  if (!a.json.empty()) fastdml::io::WriteFileAtomic(a.json, json.dump(2) + "\n");
  data.treatment_name = indicator;
  if (!a.save_predictions.empty()) {
    std::vector<fastdml::io::CellPredictions> preds;
    for (std::size_t v = 0; v < grid.cells.size(); ++v) {
      preds.push_back({grid.outcomes[0], grid.treatments[v], &grid.cells[v].predictions});
    }
    fastdml::io::WritePredictionsCsv(a.save_predictions, preds);
  }
  return fastdml::kExitOk;
}

int RunEstimate(EstimateArgs& a, HeterogeneityArgs h) {
  const auto t0 = std::chrono::steady_clock::now();
  std::optional<fastdml::io::FitFile> saved_fit;  // --load-fit: read first, it settles --model
  if (!a.load_fit.empty()) saved_fit = fastdml::io::ReadFitFileForModel(a.load_fit, &a.model, a.model_given);
  fastdml::cli::ResolveEstimateOptions(a);
  const fastdml::Options& opt = a.opt;

  fastdml::io::ColumnSpec spec;
  fastdml::io::GridColumns(&spec, SplitList(a.outcome), SplitList(a.treatment));
  spec.features = SplitList(a.features);
  spec.weights = a.weights;
  spec.fold = a.fold_col;
  spec.cluster = a.cluster;
  spec.binary_treatment = opt.model == fastdml::Model::kIrm;
  spec.treatment_levels = a.treatment_levels && spec.binary_treatment;
  spec.auto_levels = spec.binary_treatment;
  std::vector<std::string> skipped;
  const fastdml::io::DataFormat format =
      a.format.empty() ? fastdml::io::DataFormat::kAuto : fastdml::io::ParseDataFormat(a.format);
  fastdml::Dataset data = fastdml::io::ReadDataset(a.data, spec, ',', &skipped, format);
  h.cate.cov = fastdml::cli::CateCov(h.cate.cov, !data.cluster.empty());
  const double reading =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!skipped.empty() && !a.quiet) {
    std::cerr << "fastdml: non-numeric columns left out of the features:";
    for (const auto& s : skipped) std::cerr << " " << s;
    std::cerr << "\n";
  }

  fastdml::io::CsvTable cate_table;
  if (h.cate.Any()) {  // checked before any training, so a typo fails in milliseconds
    cate_table = ReadCateColumns(a.data, format, h.cate);
    fastdml::cli::CheckCateArgs(h.cate, cate_table, a.data, opt.model == fastdml::Model::kPlr);
  }
  if (h.cate_model.Any()) fastdml::cli::CheckCateModelArgs(h.cate_model, data, opt, h.cate.cov);
  if (data.IsGrid()) {
    if (a.treatment_levels) throw fastdml::UsageError("--treatment-levels takes one outcome and one treatment column");
    return RunGrid(a, h, data, cate_table, t0, reading);
  }
  if (a.treatment_levels || (spec.binary_treatment && !fastdml::IsBinaryTreatment(data.d))) {
    return RunLevels(a, h, data, t0, reading);
  }
  if (a.reference_level) {
    throw fastdml::UsageError("--reference-level applies to a multi-valued treatment; '" + data.treatment_name +
                              "' is binary (add --treatment-levels to estimate its two levels' APOs)");
  }
  if (a.trim_options.rule != fastdml::TrimRule::kNone && (h.cate.Any() || h.cate_model.Any())) {
    throw fastdml::UsageError("--trim with --cate-by, --blp or the CATE model: heterogeneity on a trimmed sample is "
                              "not supported; estimate GATEs on the full sample, or filter the rows in the data");
  }
  for (const std::string& set : a.sensitivity_benchmark) fastdml::CheckSensitivityBenchmark(data, SplitList(set));
  fastdml::Fit fit;
  if (saved_fit) {
    fit = fastdml::io::FitFromFitFile(std::move(*saved_fit), a.load_fit, data, opt);
  } else if (!a.load_predictions.empty()) {
    fit = fastdml::FitFromPredictions(data, opt,
                                      fastdml::io::ReadPredictionsCsv(a.load_predictions, data.n));
    fit.xgboost_version = "(predictions loaded from " + a.load_predictions + ")";
  } else {
    fit = fastdml::FitNuisances(data, opt);
  }
  // --trim: everything from the scores on runs on the kept rows (the fit and
  // the saved files keep every row).
  std::optional<fastdml::TrimmedSample> trimmed;
  if (a.trim_options.rule != fastdml::TrimRule::kNone) trimmed = fastdml::Trim(data, fit, a.trim_options);
  const fastdml::Dataset& sample = trimmed ? trimmed->data : data;
  fastdml::Fit& sample_fit = trimmed ? trimmed->fit : fit;
  const auto t_scores = std::chrono::steady_clock::now();
  fastdml::Report report = fastdml::Estimate(sample, sample_fit, fit.options);
  fit.timings.scores = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_scores).count();
  if (a.bootstrap > 0) fastdml::Bootstrap(&report, BootstrapOptionsOf(a, fit), a.joint);
  if (!a.p_adjust.empty()) fastdml::AdjustPValues(&report, SplitList(a.p_adjust));
  std::optional<fastdml::SensitivityReport> sensitivity;
  std::vector<fastdml::SensitivityBenchmark> benchmarks;
  if (!a.sensitivity_scenarios.empty() || !a.sensitivity_benchmark.empty()) {
    // Omitted-variable bias from the stored predictions; a benchmark refits without its features.
    sensitivity =
        fastdml::Sensitivity(sample, sample_fit, fit.options, report, a.sensitivity_scenarios, a.sensitivity_h0);
    report.warnings.insert(report.warnings.end(), sensitivity->warnings.begin(), sensitivity->warnings.end());
    for (const std::string& set : a.sensitivity_benchmark) {
      const auto found = fastdml::BenchmarkSensitivity(data, fit, fit.options, report, *sensitivity, SplitList(set),
                                                       a.sensitivity_h0);
      benchmarks.insert(benchmarks.end(), found.begin(), found.end());
    }
  }
  fit.timings.reading = reading;
  fit.timings.total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (trimmed) trimmed->fit.timings = fit.timings;

  if (trimmed) fastdml::io::PrintTrimming(std::cout, *trimmed);
  fastdml::io::PrintTable(std::cout, report, sample_fit, sample);
  nlohmann::json json = fastdml::io::ReportJson(report, sample_fit, sample, !a.no_timings);
  nlohmann::json sections = nlohmann::json::object();
  if (trimmed) sections["trimming"] = fastdml::io::TrimmingJson(*trimmed);
  if (sensitivity) {
    fastdml::io::PrintSensitivity(std::cout, *sensitivity, benchmarks);
    sections.update(fastdml::io::SensitivityJson(*sensitivity, benchmarks));
  }
  const std::uint64_t boot_seed = a.bootstrap_seed ? *a.bootstrap_seed : fit.options.seed;
  if (h.cate.Any()) {  // GATE / BLP from the stored predictions (no refit)
    sections.update(fastdml::cli::RunCate(h.cate, cate_table, a.data, data, fit, a.bootstrap, boot_seed, std::cout));
  }
  if (h.cate_model.Any()) {  // CATE model, sorted GATES, CLAN (no nuisance refit)
    sections.update(
        fastdml::cli::RunCateModel(h.cate_model, data, fit, h.cate.cov, a.bootstrap, boot_seed, std::cout));
  }
  for (auto& section : sections) fastdml::io::TagCell(&section, data.outcome_name, data.treatment_name);
  fastdml::io::AddJsonSections(&json, sections, !a.no_timings);
  if (!a.json.empty()) fastdml::io::WriteFileAtomic(a.json, json.dump(2) + "\n");
  if (!a.save_predictions.empty()) fastdml::io::WritePredictionsCsv(
      a.save_predictions, {{data.outcome_name, data.treatment_name, &fit.predictions}});
  if (!a.save_fit.empty()) fastdml::io::WriteFitFile(a.save_fit, fit, data, {a.data, a.weights, a.fold_col});
  return fastdml::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fastdml: double machine learning (DoubleML-compatible) with XGBoost nuisances"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("fastdml ") + FASTDML_VERSION);

  EstimateArgs a;
  fastdml::cli::SimulateArgs s;
  const fastdml::cli::Commands commands = fastdml::cli::AddCommands(&app, &a, &s);
  HeterogeneityArgs h;
  fastdml::cli::AddCateOptions(commands.estimate, &h.cate);
  fastdml::cli::AddCateModelOptions(commands.estimate, &h.cate_model);
  fastdml::cli::PredictCateArgs pc;
  CLI::App* predict_cate = fastdml::cli::AddPredictCate(&app, &pc);
  // Hidden (no group): reads and validates a CSV into a Dataset and nothing
  // else, for bench/csv_reader_vs_pandas.py; --two-pass is the older
  // ReadCsv + BuildDataset path, kept as the memory baseline.
  bool two_pass = false;
  CLI::App* read_only = app.add_subcommand("read-csv", "benchmark: read a CSV into a Dataset")->group("");
  read_only->add_option("--data", a.data)->required();
  read_only->add_option("--outcome", a.outcome)->required();
  read_only->add_option("--treatment", a.treatment)->required();
  read_only->add_flag("--two-pass", two_pass);
  read_only->add_option("--format", a.format);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return fastdml::kExitUsage;
  }

  try {
    if (*commands.estimate) return RunEstimate(a, h);
    if (*predict_cate) return fastdml::cli::RunPredictCate(pc, std::cout);
    if (*read_only) {
      fastdml::io::ColumnSpec spec;
      spec.outcome = a.outcome;
      spec.treatment = a.treatment;
      const auto t0 = std::chrono::steady_clock::now();
      const fastdml::Dataset data = two_pass ? fastdml::io::BuildDataset(fastdml::io::ReadCsv(a.data), spec)
                                             : fastdml::io::ReadDataset(a.data, spec, ',', nullptr,
                                                                        a.format.empty() ? fastdml::io::DataFormat::kAuto
                                                                                         : fastdml::io::ParseDataFormat(a.format));
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::cout << "{\"rows\": " << data.n << ", \"p\": " << data.p << ", \"seconds\": " << seconds << "}\n";
      return fastdml::kExitOk;
    }
    if (*commands.simulate) {
      s.sim.design = fastdml::sim::ParseDesign(s.design);
      const fastdml::sim::SimData data = fastdml::sim::Simulate(s.sim);
      fastdml::sim::WriteCsv(data, s.out);
      std::string truth_path = s.out;
      if (truth_path.size() > 4 && truth_path.substr(truth_path.size() - 4) == ".csv") {
        truth_path.resize(truth_path.size() - 4);
      }
      truth_path += ".truth.json";
      fastdml::io::WriteFileAtomic(truth_path, data.truth.dump(2) + "\n");
      std::cout << "wrote " << s.out << " (" << s.sim.n << " rows) and " << truth_path << "\n";
      return fastdml::kExitOk;
    }
    std::cout << "fastdml " << FASTDML_VERSION << ", XGBoost " << fastdml::xgb::CheckLibraryVersion()
              << (fastdml::xgb::LibraryHasCuda() ? " (CUDA)" : " (CPU only)") << "\n";
    return fastdml::kExitOk;
  } catch (const fastdml::Error& e) {
    std::cerr << "fastdml: error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "fastdml: internal error: " << e.what() << "\n";
    return fastdml::kExitInternal;
  }
}
