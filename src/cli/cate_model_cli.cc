#include "cli/cate_model_cli.h"

#include <cmath>
#include <cstdio>
#include <sstream>
#include <vector>

#include "cli/args.h"
#include "fastdml/error.h"
#include "io/columnar.h"
#include "io/csv.h"
#include "io/report.h"

namespace fastdml::cli {
namespace {

nlohmann::json ToJson(const Inferred& x) {
  nlohmann::json j = {{"estimate", x.estimate}, {"se", x.se},         {"t", x.t},
                      {"p_value", x.p_value},   {"ci_lower", x.ci_lower}, {"ci_upper", x.ci_upper},
                      {"theta_reps", x.theta_reps}, {"se_reps", x.se_reps}};
  if (x.has_joint) {
    j["joint_ci_lower"] = x.joint_ci_lower;
    j["joint_ci_upper"] = x.joint_ci_upper;
  }
  return j;
}

void Row(std::ostream& os, const std::string& label, const Inferred& x) {
  char line[256];
  std::snprintf(line, sizeof line, "%-28.28s %12.6g %11.5g %10.3g %12.6g %12.6g", label.c_str(), x.estimate, x.se,
                x.p_value, x.ci_lower, x.ci_upper);
  os << line;
  if (x.has_joint) {
    std::snprintf(line, sizeof line, " %12.6g %12.6g", x.joint_ci_lower, x.joint_ci_upper);
    os << line;
  }
  os << "\n";
}

void Header(std::ostream& os, const std::string& first) {
  char line[256];
  std::snprintf(line, sizeof line, "%-28s %12s %11s %10s %12s %12s\n", first.c_str(), "estimate", "std.err", "p-value",
                "lower", "upper");
  os << line;
}

}  // namespace

void AddCateModelOptions(CLI::App* est, CateModelArgs* a) {
  est->add_flag("--cate-model", a->cate_model,
                "fit the DR-learner CATE model (XGBoost on the AIPW pseudo-outcome, cross-fitted) and report its "
                "out-of-fold loss");
  est->add_option("--save-cate-model", a->save,
                  "save the CATE model's final booster (XGBoost UBJ) here and its features to PATH.meta.json "
                  "(implies --cate-model); use with `fastdml predict-cate`");
  est->add_option("--cate-features", a->features, "comma list of features of the CATE model (default: all)");
  est->add_option("--cate-rep", a->repetition, "repetition whose predictions and folds the saved CATE model uses (default 0)");
  est->add_option("--cate-rounds", a->rounds, "CATE model boosting rounds (default 100)");
  est->add_option("--cate-max-depth", a->max_depth, "CATE model tree depth (default 2)");
  est->add_option("--cate-eta", a->eta, "CATE model learning rate (default 0.03)");
  est->add_option("--cate-min-child-weight", a->min_child_weight, "CATE model minimum rows per leaf (default 100)");
  est->add_option("--cate-nthread", a->nthread, "threads inside each CATE model (default 1; results depend on it)");
  est->add_option("--cate-seed", a->seed, "CATE model XGBoost seed base (default: --seed)");
  est->add_option("--sorted-gates", a->sorted_gates,
                  "sorted GATES over K quantile groups of an out-of-fold CATE proxy, with the BLP heterogeneity test");
  est->add_option("--cate-proxy", a->proxy,
                  "proxy for --sorted-gates/--clan: outcome-difference (default; g1_hat - g0_hat) or dr-learner "
                  "(more power, coupled to the signal by one-level cross-fitting; see docs/heterogeneity.md on the test's size)")
      ->check(CLI::IsMember({"outcome-difference", "dr-learner"}));
  est->add_option("--clan", a->clan,
                  "comma list of features: their means in the most and least affected proxy groups (implies "
                  "--sorted-gates 5 when not given)");
}

namespace {

CateModelOptions ModelOptions(const CateModelArgs& a, const Options& fit_options) {
  CateModelOptions co;
  co.features = SplitList(a.features);
  co.repetition = a.repetition;
  co.threads = fit_options.threads;
  if (a.rounds) co.learner.rounds = *a.rounds;
  if (a.max_depth) co.learner.max_depth = *a.max_depth;
  if (a.eta) co.learner.eta = *a.eta;
  if (a.min_child_weight) co.learner.min_child_weight = *a.min_child_weight;
  if (a.nthread) co.learner.nthread = *a.nthread;
  if (a.seed) co.learner.seed = *a.seed;
  return co;
}

// --clan alone implies CDDF's five groups.
int SortedGroups(const CateModelArgs& a) { return a.sorted_gates != 0 ? a.sorted_gates : (a.clan.empty() ? 0 : 5); }

SortedGatesOptions GatesOptions(const CateModelArgs& a, const Options& fit_options, const std::string& cov,
                                std::int64_t bootstrap, std::uint64_t seed) {
  SortedGatesOptions so;
  so.groups = SortedGroups(a);
  so.cov = ParseCovType(cov);
  so.level = fit_options.level;
  so.score = fit_options.Score(Estimand::kAte);
  so.clan = SplitList(a.clan);
  so.bootstrap.replicates = bootstrap;
  so.bootstrap.seed = seed;
  return so;
}

}  // namespace

void CheckCateModelArgs(const CateModelArgs& a, const Dataset& data, const Options& fit_options,
                        const std::string& cov) {
  const bool dr_proxy = SortedGroups(a) != 0 && a.proxy == "dr-learner";
  if (a.cate_model || !a.save.empty() || dr_proxy) {
    CheckCateModelOptions(data, fit_options, fit_options.reps, ModelOptions(a, fit_options));
  }
  if (SortedGroups(a) != 0 || a.sorted_gates != 0) {
    CheckSortedGatesOptions(data, fit_options, GatesOptions(a, fit_options, cov, 0, 0));
  }
}

nlohmann::json RunCateModel(const CateModelArgs& a, const Dataset& data, const Fit& fit, const std::string& cov,
                            std::int64_t bootstrap, std::uint64_t seed, std::ostream& os) {
  nlohmann::json out;
  const CateModelOptions co = ModelOptions(a, fit.options);
  const int groups = SortedGroups(a);

  std::vector<CateModel> models;  // one per repetition when the DR-learner proxy needs them
  const bool dr_proxy = groups != 0 && a.proxy == "dr-learner";
  if (a.cate_model || !a.save.empty()) {
    if (a.repetition < 0 || a.repetition >= fit.predictions.reps) {
      throw UsageError("--cate-rep: repetition " + std::to_string(a.repetition) + " does not exist (the fit has " +
                       std::to_string(fit.predictions.reps) + ")");
    }
    if (dr_proxy) {
      models = FitCateModels(data, fit, co);
    } else {
      models.push_back(FitCateModel(data, fit, co));
    }
    const CateModel& m = dr_proxy ? models[a.repetition] : models[0];
    if (!a.save.empty()) SaveCateModel(m, a.save);
    const LearnerParams& p = m.learner;
    out["cate_model"] = {
        {"learner", "dr-learner (XGBoost on the AIPW pseudo-outcome)"},
        {"features", m.feature_names},
        {"repetition", m.repetition},
        {"folds", m.folds},
        {"rows", m.in_sample.size()},
        {"params",
         {{"rounds", p.rounds}, {"max_depth", p.max_depth}, {"eta", p.eta}, {"min_child_weight", p.min_child_weight},
          {"lambda", p.lambda}, {"nthread", p.nthread}, {"seed", p.seed}}},
        {"loss",
         {{"pseudo_outcome_mse", m.pseudo_outcome_mse},
          {"constant_mse", m.constant_mse},
          {"note", "out of fold, against the noisy pseudo-outcome (not the unknown CATE); "
                   "below constant_mse means the model beats no heterogeneity"}}},
        {"seconds", m.seconds}};
    if (!a.save.empty()) out["cate_model"]["saved_to"] = a.save;
    char line[256];
    std::snprintf(line, sizeof line,
                  "\nCATE model (DR-learner, %zu features, rep %d): out-of-fold pseudo-outcome MSE %.6g vs %.6g "
                  "for a constant\n",
                  m.feature_names.size(), m.repetition, m.pseudo_outcome_mse, m.constant_mse);
    os << line;
  }
  if (groups == 0) return out;

  const SortedGatesOptions so = GatesOptions(a, fit.options, cov, bootstrap, seed);
  std::vector<std::vector<double>> proxy;
  if (dr_proxy) {
    if (models.size() != static_cast<std::size_t>(fit.predictions.reps)) models = FitCateModels(data, fit, co);
    proxy = DrLearnerProxy(models);
  } else {
    proxy = OutcomeDifferenceProxy(fit);
  }
  SortedGatesResult r = SortedGates(data, fit, proxy, so);
  r.proxy = a.proxy;

  nlohmann::json gates = nlohmann::json::array();
  for (int k = 0; k < r.groups; ++k) {
    nlohmann::json j = ToJson(r.gates[k]);
    j["label"] = r.labels[k];
    j["n"] = r.group_rows[k];
    gates.push_back(j);
  }
  out["sorted_gates"] = {{"groups", r.groups}, {"proxy", r.proxy}, {"cov", ToString(r.cov)}, {"level", r.level},
                         {"gates", gates}, {"top_minus_bottom", ToJson(r.top_minus_bottom)}, {"seconds", r.seconds}};
  if (!r.joint_critical_values.empty()) out["sorted_gates"]["joint_critical_values"] = r.joint_critical_values;
  out["blp_test"] = {{"beta1_ate", ToJson(r.blp_beta1)},
                     {"beta2_heterogeneity", ToJson(r.blp_beta2)},
                     {"heterogeneity_detected", r.blp_beta2.p_value < 1 - r.level}};
  os << "\nSorted GATES by " << r.groups << " quantile groups of the " << r.proxy << " proxy (" << ToString(r.cov)
     << " covariance; G1 least affected" << (r.joint_critical_values.empty() ? "" : "; joint bands last") << ")\n";
  Header(os, "group");
  for (int k = 0; k < r.groups; ++k) Row(os, r.labels[k] + " (n=" + std::to_string(r.group_rows[k]) + ")", r.gates[k]);
  Row(os, r.labels.back() + " - G1", r.top_minus_bottom);
  os << "BLP heterogeneity test: signal on [1, S - mean S]\n";
  Header(os, "coefficient");
  Row(os, "beta1 (ATE)", r.blp_beta1);
  Row(os, "beta2 (heterogeneity)", r.blp_beta2);
  if (!r.clan.empty()) {
    nlohmann::json clan = nlohmann::json::array();
    os << "CLAN: feature means in " << r.labels.back() << " (most affected) and G1 (least affected)\n";
    Header(os, "feature");
    for (const ClanRow& c : r.clan) {
      clan.push_back({{"variable", c.variable},
                      {"top", ToJson(c.top)},
                      {"bottom", ToJson(c.bottom)},
                      {"difference", ToJson(c.difference)},
                      {"se_type", std::string(ToString(r.cov)) + " OLS on the two group dummies (hc0 = Welch)"}});
      Row(os, c.variable + " " + r.labels.back(), c.top);
      Row(os, c.variable + " G1", c.bottom);
      Row(os, c.variable + " diff", c.difference);
    }
    out["clan"] = clan;
  }
  return out;
}

CLI::App* AddPredictCate(CLI::App* app, PredictCateArgs* a) {
  CLI::App* p = app->add_subcommand("predict-cate", "predict the CATE of new rows with a model saved by --save-cate-model");
  p->add_option("--model", a->model, "model file written by --save-cate-model (PATH.meta.json beside it)")->required();
  p->add_option("--data", a->data, "CSV with the model's feature columns (by name; other columns are ignored)")
      ->required();
  p->add_option("--out", a->out, "output CSV: a header 'cate', then one prediction per data row")->required();
  return p;
}

int RunPredictCate(const PredictCateArgs& a, std::ostream& os) {
  const CateModel model = LoadCateModel(a.model);
  io::CsvPlan plan;  // every column as double, from CSV, Parquet or Arrow (by the extension)
  plan.choose = [](const std::vector<std::string>& names) {
    return std::vector<io::CsvStorage>(names.size(), io::CsvStorage::kDouble);
  };
  const io::CsvTable table = io::ReadTable(a.data, io::DataFormat::kAuto, ',', plan);
  const std::size_t n = table.rows, q = model.feature_names.size();
  std::vector<float> x(n * q);
  for (std::size_t k = 0; k < q; ++k) {
    const std::string& name = model.feature_names[k];
    const io::CsvColumn* c = table.Find(name);
    if (!c) {
      std::string need;
      for (const auto& f : model.feature_names) need += (need.empty() ? "" : ", ") + f;
      throw DataError(a.data + ": column '" + name + "' is missing; the CATE model needs the columns " + need);
    }
    if (!c->numeric) {
      throw DataError(a.data + ": column '" + name + "', row " + std::to_string(c->first_bad_row) + ": '" +
                      c->first_bad_text + "' is not a number");
    }
    for (std::size_t i = 0; i < n; ++i) {
      const double v = c->values[i];
      if (std::isinf(v) || (std::isfinite(v) && std::fabs(v) > 3.4e38)) {
        throw DataError(a.data + ": column '" + name + "', row " + std::to_string(i + 1) +
                        ": the value is infinite or beyond float32 range (missing values may be left empty)");
      }
      x[i * q + k] = static_cast<float>(v);
    }
  }
  const std::vector<double> tau = PredictCate(model, x.data(), n);
  std::string s = "cate\n";
  char buf[40];
  for (double v : tau) {
    std::snprintf(buf, sizeof buf, "%.17g\n", v);
    s += buf;
  }
  io::WriteFileAtomic(a.out, s);
  os << "wrote " << a.out << " (" << n << " predictions)\n";
  return kExitOk;
}

}  // namespace fastdml::cli
