#include "io/report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "fastdml/error.h"
#include "fastdml/warnings.h"
#include "io/csv.h"

namespace fastdml::io {
namespace {

// A fixed count writes exactly what it always did; "auto" adds its limits.
nlohmann::json LearnerJson(const LearnerParams& p) {
  nlohmann::json j = {{"rounds", p.rounds},           {"max_depth", p.max_depth},
                      {"eta", p.eta},                 {"subsample", p.subsample},
                      {"colsample_bytree", p.colsample_bytree}, {"min_child_weight", p.min_child_weight},
                      {"lambda", p.lambda},           {"max_bin", p.max_bin},
                      {"nthread", p.nthread},         {"seed", p.seed}};
  if (p.rounds == kAutoRounds) {
    j["rounds"] = "auto";
    j["max_rounds"] = p.max_rounds;
    j["early_stopping_rounds"] = p.early_stopping_rounds;
  }
  return j;
}

nlohmann::json CandidateJson(const NuisanceTuning::Candidate& c) {
  return {{"max_depth", c.max_depth}, {"eta", c.eta}, {"min_child_weight", c.min_child_weight},
          {"rounds", c.rounds}, {"validation_loss", c.loss}};
}

// {"q01": ..., "q99": ...}: quantiles at kOverlapProbs.
nlohmann::json QuantilesJson(const std::vector<double>& q) {
  nlohmann::json out = nlohmann::json::object();
  for (std::size_t k = 0; k < q.size(); ++k) {
    std::ostringstream key;
    key << "q" << std::setw(2) << std::setfill('0') << static_cast<int>(std::lround(kOverlapProbs[k] * 100));
    out[key.str()] = q[k];
  }
  return out;
}

// The balance table of PrintTable: at most kMaxLines features, the largest
// weighted |SMD| first (so those above kMaxAbsSmd come first).
void PrintBalance(std::ostream& os, const std::vector<FeatureBalance>& balance) {
  constexpr std::size_t kMaxLines = 10;
  auto weighted = [](const FeatureBalance& b) {
    const double v = std::max(std::fabs(b.smd_ate), std::fabs(b.smd_att));
    return std::isnan(v) ? HUGE_VAL : v;
  };
  std::vector<const FeatureBalance*> rows;
  std::size_t above = 0;
  for (const FeatureBalance& b : balance) {
    rows.push_back(&b);
    above += weighted(b) > kMaxAbsSmd;
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [&](const FeatureBalance* a, const FeatureBalance* b) { return weighted(*a) > weighted(*b); });
  char line[160];
  std::snprintf(line, sizeof line, "balance (standardized mean difference, treated - control; * above %g):\n",
                kMaxAbsSmd);
  os << line;
  std::snprintf(line, sizeof line, "  %-24s %9s %9s   %9s\n", "feature", "raw", "ATE-wtd", "ATT-wtd");
  os << line;
  auto cell = [](double v) {
    char c[24];
    std::snprintf(c, sizeof c, "%9.3f%s", v, std::fabs(v) <= kMaxAbsSmd ? "  " : " *");
    return std::string(c);
  };
  for (std::size_t k = 0; k < rows.size() && k < kMaxLines; ++k) {
    const FeatureBalance& b = *rows[k];
    std::string name = b.feature.size() > 24 ? b.feature.substr(0, 21) + "..." : b.feature;
    std::snprintf(line, sizeof line, "  %-24s %9.3f %s %s", name.c_str(), b.smd_raw, cell(b.smd_ate).c_str(),
                  cell(b.smd_att).c_str());
    std::string text = line;
    text.erase(text.find_last_not_of(' ') + 1);
    os << text << "\n";
  }
  std::snprintf(line, sizeof line, "  (%zu of %zu features shown, largest weighted |SMD| first; %zu above %g after "
                "weighting; all in diagnostics.balance)\n",
                std::min(rows.size(), kMaxLines), rows.size(), above, kMaxAbsSmd);
  os << line;
}

// Shortest text that reads back to the same double.
void AppendDouble(std::string* s, double v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  s->append(buf, res.ptr);
}

// Appends the JSON path of every NaN or infinite number under `j`.
void FindNonFinite(const nlohmann::json& j, const std::string& path, std::vector<std::string>* out) {
  if (j.is_number_float()) {
    if (!std::isfinite(j.get<double>())) out->push_back(path.empty() ? "(root)" : path);
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      FindNonFinite(it.value(), path.empty() ? it.key() : path + "." + it.key(), out);
    }
  } else if (j.is_array()) {
    for (std::size_t k = 0; k < j.size(); ++k) FindNonFinite(j[k], path + "[" + std::to_string(k) + "]", out);
  }
}

// JSON has no NaN or infinity (nlohmann writes null silently): every such
// value under `part` (at JSON path `path`) is named in a warning of `doc`, so
// that no null goes unexplained.
void WarnNonFinite(nlohmann::json* doc, const nlohmann::json& part, const std::string& path) {
  std::vector<std::string> non_finite;
  FindNonFinite(part, path, &non_finite);
  if (non_finite.empty()) return;
  std::string where;
  for (std::size_t k = 0; k < non_finite.size() && k < 10; ++k) where += (k ? ", " : "") + non_finite[k];
  if (non_finite.size() > 10) where += ", ... (" + std::to_string(non_finite.size()) + " in all)";
  (*doc)["diagnostics"]["warnings"].push_back(std::string(kWarnNonFinite) + ": not finite, written as null: " + where);
}

// Wall-clock fields ("seconds") of the heterogeneity sections, for --no-timings.
void EraseKeyEverywhere(nlohmann::json* j, const std::string& key) {
  if (j->is_object()) {
    j->erase(key);
    for (auto& v : *j) EraseKeyEverywhere(&v, key);
  } else if (j->is_array()) {
    for (auto& v : *j) EraseKeyEverywhere(&v, key);
  }
}

// One line per nuisance: the rounds its fold models kept (early stopping),
// and with --tune the winning hyperparameters and how many were tried, e.g.
//   m: rounds 6-23 (median 6) by early stopping, validation logloss 0.5612; tuned depth 3, eta 0.1, ...
void PrintTuning(std::ostream& os, const std::vector<NuisanceTuning>& tuning) {
  char line[320];
  os << "nuisance models (inner validation; diagnostics.nuisance_tuning in the JSON):\n";
  for (const NuisanceTuning& t : tuning) {
    if (t.models.empty()) continue;
    std::vector<int> rounds;
    std::vector<double> losses;
    for (const auto& m : t.models) {
      rounds.push_back(m.rounds);
      losses.push_back(m.loss);
    }
    std::sort(rounds.begin(), rounds.end());
    std::sort(losses.begin(), losses.end());
    std::snprintf(line, sizeof line, "  %-3s rounds %d-%d (median %d)%s", t.name.c_str(), rounds.front(),
                  rounds.back(), rounds[rounds.size() / 2], t.early_stopping ? " by early stopping" : " (fixed)");
    os << line;
    if (std::isfinite(losses[losses.size() / 2])) {
      std::snprintf(line, sizeof line, ", validation %s %.4g", t.metric.c_str(), losses[losses.size() / 2]);
      os << line;
    }
    if (!t.searches.empty()) {
      const auto& s = t.searches.front();
      const auto& c = s.candidates[s.chosen];
      if (t.searches.size() == 1) {
        std::snprintf(line, sizeof line, "; tuned: depth %d, eta %g, min-child-weight %g (best of %zu)", c.max_depth,
                      c.eta, c.min_child_weight, s.candidates.size());
      } else {
        std::snprintf(line, sizeof line, "; tuned in each of %zu folds (%zu candidates each)", t.searches.size(),
                      s.candidates.size());
      }
      os << line;
    }
    os << "\n";
  }
}

}  // namespace

bool UsesValidationSplit(const Options& o) {
  return o.tune.enabled || o.propensity.rounds == kAutoRounds || o.outcome.rounds == kAutoRounds;
}

nlohmann::json TuningJson(const std::vector<NuisanceTuning>& tuning) {
  nlohmann::json out = nlohmann::json::object();
  for (const NuisanceTuning& t : tuning) {
    nlohmann::json models = nlohmann::json::array();
    for (std::size_t k = 0; k < t.models.size(); ++k) {
      nlohmann::json m = CandidateJson(t.models[k]);
      m["rounds_run"] = k < t.rounds_run.size() ? t.rounds_run[k] : 0;
      models.push_back(m);
    }
    nlohmann::json e = {{"metric", t.metric}, {"early_stopping", t.early_stopping}, {"models", models}};
    if (!t.searches.empty()) {
      nlohmann::json searches = nlohmann::json::array();
      for (const auto& s : t.searches) {
        nlohmann::json candidates = nlohmann::json::array();
        for (const auto& c : s.candidates) candidates.push_back(CandidateJson(c));
        searches.push_back({{"rep", s.rep}, {"fold", s.fold}, {"chosen", s.chosen}, {"candidates", candidates}});
      }
      e["searches"] = searches;
    }
    out[t.name] = e;
  }
  return out;
}

std::vector<NuisanceTuning> ParseTuningJson(const nlohmann::json& j) {
  std::vector<NuisanceTuning> out;
  auto candidate = [](const nlohmann::json& c) {
    NuisanceTuning::Candidate x;
    x.max_depth = c.at("max_depth").get<int>();
    x.eta = c.at("eta").get<double>();
    x.min_child_weight = c.at("min_child_weight").get<double>();
    x.rounds = c.at("rounds").get<int>();
    x.loss = c.at("validation_loss").is_null() ? NAN : c.at("validation_loss").get<double>();
    return x;
  };
  for (auto it = j.begin(); it != j.end(); ++it) {
    NuisanceTuning t;
    t.name = it.key();
    t.metric = it->at("metric").get<std::string>();
    t.early_stopping = it->at("early_stopping").get<bool>();
    for (const auto& m : it->at("models")) {
      t.models.push_back(candidate(m));
      t.rounds_run.push_back(m.at("rounds_run").get<int>());
    }
    if (it->contains("searches")) {
      for (const auto& s : it->at("searches")) {
        NuisanceTuning::Search search;
        search.rep = s.at("rep").get<int>();
        search.fold = s.at("fold").get<int>();
        search.chosen = s.at("chosen").get<std::size_t>();
        for (const auto& c : s.at("candidates")) search.candidates.push_back(candidate(c));
        t.searches.push_back(std::move(search));
      }
    }
    out.push_back(std::move(t));
  }
  // m first, as the fit orders them (JSON objects are sorted by key).
  std::stable_partition(out.begin(), out.end(), [](const NuisanceTuning& t) { return t.name == "m"; });
  return out;
}

nlohmann::json FitOptionsJson(const Options& o) {
  std::vector<std::string> estimands;
  for (Estimand e : o.estimands) estimands.push_back(ToString(e));
  nlohmann::json j = {{"model", ToString(o.model)},
          {"estimands", estimands},
          {"outcome_design", ToString(o.outcome_design)},
          {"matrix_strategy", ToString(o.matrix_strategy)},
          {"folds", o.folds},
          {"reps", o.reps},
          {"seed", o.seed},
          {"clip", o.clip},
          {"normalize_ipw", o.normalize_ipw},
          {"level", o.level},
          {"device", ToString(o.device)},
          {"propensity_learner", LearnerJson(o.propensity)},
          {"outcome_learner", LearnerJson(o.outcome)}};
  // Written only when used, so that fixed rounds write what they always did.
  if (UsesValidationSplit(o)) {
    j["validation_fraction"] = o.validation_fraction;
    j["early_stopping_model"] = ToString(o.early_stopping_model);
  }
  if (o.tune.enabled) {
    std::vector<std::string> params;
    for (TuneParam t : o.tune.params) params.push_back(ToString(t));
    j["tune"] = {{"params", params}, {"per_fold", o.tune.per_fold}};
  }
  return j;
}

nlohmann::json ReportJson(const Report& report, const Fit& fit, const Dataset& data, bool with_timings) {
  using nlohmann::json;
  const Options& o = fit.options;
  json j;
  j["fastdml_version"] = FASTDML_VERSION;
  j["xgboost_version"] = fit.xgboost_version;
  json est = json::array();
  for (const auto& e : report.estimates) {
    json row = {{"outcome", data.outcome_name}, {"treatment", data.treatment_name},
                {"estimand", e.estimand}, {"estimate", e.estimate}, {"se", e.se}, {"t", e.t},
                {"p_value", e.p_value}, {"ci_lower", e.ci_lower}, {"ci_upper", e.ci_upper},
                {"level", report.level}, {"theta_reps", e.theta_reps}, {"se_reps", e.se_reps}};
    if (e.has_joint) {
      row["joint_ci_lower"] = e.joint_ci_lower;
      row["joint_ci_upper"] = e.joint_ci_upper;
    }
    if (!e.p_adjusted.empty()) row["p_adjusted"] = e.p_adjusted;
    est.push_back(row);
  }
  j["estimates"] = est;
  if (report.bootstrap.done) {
    const BootstrapSummary& b = report.bootstrap;
    j["bootstrap"] = {{"replicates", b.options.replicates},
                      {"method", ToString(b.options.method)},
                      {"sampler", b.sampler},
                      {"seed", b.options.seed},
                      {"level", report.level},
                      {"joint_critical_values", b.joint_critical_values}};
  }
  const auto& nd = report.naive;
  j["naive_difference"] = {{"estimate", nd.estimate}, {"se", nd.se},           {"t", nd.t},
                           {"p_value", nd.p_value},   {"n_treated", nd.n_treated}, {"n_control", nd.n_control}};
  json quality = json::object();
  for (const auto& q : fit.quality) {
    json e = {{q.metric, q.value}, {"rows", q.rows}};
    if (q.auc >= 0) e["auc"] = q.auc;
    if (std::isfinite(q.constant)) e["constant_" + q.metric] = q.constant;  // the baseline to beat
    quality[q.name] = e;
  }
  json quantiles = QuantilesJson(report.overlap.quantiles);
  json overlap = nullptr;
  if (!report.overlap.quantiles.empty()) {
    const Overlap& ov = report.overlap;
    overlap = {{"propensity_min", ov.min},         {"propensity_max", ov.max},
               {"propensity_quantiles", quantiles}, {"clipped_low", ov.clipped_low},
               {"clipped_high", ov.clipped_high},   {"share_clipped", ov.share_clipped},
               {"clip", o.clip}};
    if (ov.has_ipw) {  // IRM: the worst repetition's (W-EXTREME-PROPENSITY)
      overlap["clipped_worst_rep"] = ov.clipped_worst_rep;
      overlap["share_clipped_worst_rep"] = ov.share_clipped_worst_rep;
      overlap["ipw_ess"] = ov.ipw_ess;
      overlap["ipw_ess_share"] = ov.ipw_ess_share;
      overlap["ipw_ess_treated"] = ov.ipw_ess_treated;
      overlap["ipw_ess_control"] = ov.ipw_ess_control;
    }
    if (!ov.histogram_treated.empty()) {  // the propensities of each arm, all repetitions pooled
      std::vector<double> edges;
      for (int k = 0; k <= kOverlapBins; ++k) edges.push_back(static_cast<double>(k) / kOverlapBins);
      overlap["by_arm"] = {
          {"quantiles", {{"treated", QuantilesJson(ov.quantiles_treated)}, {"control", QuantilesJson(ov.quantiles_control)}}},
          {"histogram", {{"edges", edges}, {"treated", ov.histogram_treated}, {"control", ov.histogram_control}}}};
    }
  }
  j["diagnostics"] = {
      {"n", data.n},
      {"p", data.p},
      {"n_treated", nd.n_treated},
      {"nuisance_quality", quality},
      {"overlap", overlap},
      {"warnings", report.warnings}};
  if (!report.balance.empty()) {  // IRM: standardized mean differences (src/inference/balance.h)
    json balance = json::array();
    for (const FeatureBalance& b : report.balance) {
      balance.push_back({{"feature", b.feature}, {"smd_raw", b.smd_raw}, {"smd_ate", b.smd_ate}, {"smd_att", b.smd_att}});
    }
    j["diagnostics"]["balance"] = balance;
  }
  const Timings& t = fit.timings;
  if (with_timings) j["timings"] = {{"reading", t.reading},       {"setup", t.setup},   {"upload", t.upload},
                  {"gather", t.gather},
                  {"fold_matrices", t.fold_matrices}, {"training", t.training},
                  {"prediction", t.prediction}, {"download", t.download}, {"scores", t.scores},
                  {"bootstrap", report.bootstrap.seconds},
                  {"total", t.total}};
  if (with_timings && o.tune.enabled) j["timings"]["tuning"] = t.tuning;
  if (!fit.tuning.empty() && UsesValidationSplit(o)) j["diagnostics"]["nuisance_tuning"] = TuningJson(fit.tuning);
  j["options"] = FitOptionsJson(o);
  j["options"]["level"] = report.level;
  j["options"]["outcome"] = data.outcome_name;
  j["options"]["treatment"] = data.treatment_name;
  j["options"]["features"] = data.feature_names;
  j["options"]["weighted"] = !data.weights.empty();
  WarnNonFinite(&j, j, "");
  return j;
}

void AddJsonSections(nlohmann::json* doc, const nlohmann::json& sections, bool with_timings) {
  for (auto it = sections.begin(); it != sections.end(); ++it) {
    nlohmann::json value = it.value();
    if (!with_timings) EraseKeyEverywhere(&value, "seconds");
    WarnNonFinite(doc, value, it.key());
    (*doc)[it.key()] = std::move(value);
  }
}

void TagCell(nlohmann::json* section, const std::string& outcome, const std::string& treatment) {
  auto tag = [&](nlohmann::json& entry) {
    if (!entry.is_object()) return;
    entry["outcome"] = outcome;
    entry["treatment"] = treatment;
  };
  if (section->is_array()) {
    for (auto& entry : *section) tag(entry);
  } else {
    tag(*section);
  }
}

void AddCellSections(nlohmann::json* grid_sections, nlohmann::json cell_sections, const std::string& outcome,
                     const std::string& treatment) {
  for (auto it = cell_sections.begin(); it != cell_sections.end(); ++it) {
    nlohmann::json value = std::move(it.value());
    TagCell(&value, outcome, treatment);
    nlohmann::json& into = (*grid_sections)[it.key()];
    if (into.is_null()) into = nlohmann::json::array();
    if (value.is_array()) {
      for (auto& entry : value) into.push_back(std::move(entry));
    } else {
      into.push_back(std::move(value));
    }
  }
}

nlohmann::json GridReportJson(std::vector<nlohmann::json> cell_docs) {
  if (cell_docs.empty()) throw Error("internal: a grid report needs its cells");
  nlohmann::json doc = cell_docs[0];
  doc["estimates"] = nlohmann::json::array();
  doc["cells"] = nlohmann::json::array();
  doc.erase("naive_difference");
  doc["diagnostics"] = {{"warnings", nlohmann::json::array()}};
  nlohmann::json outcomes = nlohmann::json::array(), treatments = nlohmann::json::array();
  for (nlohmann::json& cell : cell_docs) {
    const std::string outcome = cell["options"]["outcome"], treatment = cell["options"]["treatment"];
    if (std::find(outcomes.begin(), outcomes.end(), outcome) == outcomes.end()) outcomes.push_back(outcome);
    if (std::find(treatments.begin(), treatments.end(), treatment) == treatments.end()) treatments.push_back(treatment);
    for (auto& e : cell["estimates"]) doc["estimates"].push_back(std::move(e));
    doc["cells"].push_back({{"outcome", outcome},
                            {"treatment", treatment},
                            {"diagnostics", std::move(cell["diagnostics"])},
                            {"naive_difference", std::move(cell["naive_difference"])}});
  }
  doc["options"].erase("outcome");
  doc["options"].erase("treatment");
  doc["options"]["outcomes"] = outcomes;
  doc["options"]["treatments"] = treatments;
  return doc;
}

void PrintTable(std::ostream& os, const Report& report, const Fit& fit, const Dataset& data) {
  const Options& o = fit.options;
  char line[256];
  os << "fastdml " << FASTDML_VERSION << ": " << (o.model == Model::kIrm ? "IRM" : "PLR") << ", "
     << data.n << " rows ("
     << (report.naive.n_treated + report.naive.n_control > 0 ? std::to_string(report.naive.n_treated) + " treated"
                                                             : std::string("continuous treatment"))
     << "), " << data.p << " features, "
     << o.folds << " folds x " << o.reps << " rep(s), XGBoost " << fit.xgboost_version << " on "
     << ToString(o.device) << "\n\n";
  const int pct = static_cast<int>(std::lround(report.level * 100));
  std::snprintf(line, sizeof line, "%-10s %12s %11s %9s %10s %12s %12s\n", "estimand", "estimate", "std.err",
                "t", "p-value", (std::to_string(pct) + "% lower").c_str(), (std::to_string(pct) + "% upper").c_str());
  os << line;
  for (const auto& e : report.estimates) {
    std::snprintf(line, sizeof line, "%-10s %12.6g %11.5g %9.3f %10.3g %12.6g %12.6g\n",
                  e.estimand.c_str(), e.estimate, e.se, e.t, e.p_value, e.ci_lower, e.ci_upper);
    os << line;
  }
  const auto& nd = report.naive;
  std::snprintf(line, sizeof line, "%-10s %12.6g %11.5g %9.3f %10.3g   (%s, not causal)\n", "naive",
                nd.estimate, nd.se, nd.t, nd.p_value,
                nd.n_treated + nd.n_control > 0 ? "difference in means" : "OLS slope of Y on D");
  os << line;
  const BootstrapSummary& boot = report.bootstrap;
  if (boot.done) {
    os << "\nbootstrap: " << boot.options.replicates << " replicates, " << ToString(boot.options.method)
       << " multipliers (" << boot.sampler << " sampler), seed " << boot.options.seed << "; joint critical value "
       << (boot.joint_critical_values.size() == 1 ? "" : "(median over reps) ");
    std::vector<double> cv = boot.joint_critical_values;
    std::sort(cv.begin(), cv.end());
    os << cv[cv.size() / 2] << "\n";
  }
  bool any_joint = false, any_adjusted = false;
  for (const auto& e : report.estimates) any_joint |= e.has_joint, any_adjusted |= !e.p_adjusted.empty();
  if (any_joint || any_adjusted) {
    os << (any_joint ? "" : "\n");
    for (const auto& e : report.estimates) {
      os << "  " << e.estimand << ":";
      if (e.has_joint) {
        std::snprintf(line, sizeof line, " joint %d%% band [%.6g, %.6g]", pct, e.joint_ci_lower, e.joint_ci_upper);
        os << line;
      }
      for (const auto& [method, p] : e.p_adjusted) {
        std::snprintf(line, sizeof line, "  p(%s) %.3g", method.c_str(), p);
        os << line;
      }
      os << "\n";
    }
  }
  os << "\n";
  os << "nuisance quality (out of fold):";
  for (const auto& q : fit.quality) {
    std::snprintf(line, sizeof line, "  %s %s %.4g", q.name.c_str(), q.metric.c_str(), q.value);
    os << line;
    if (q.auc >= 0) {
      std::snprintf(line, sizeof line, " (AUC %.3f)", q.auc);
      os << line;
    }
  }
  os << "\n";
  if (UsesValidationSplit(o) && !fit.tuning.empty()) PrintTuning(os, fit.tuning);
  const auto& ov = report.overlap;
  if (!ov.quantiles.empty()) std::snprintf(line, sizeof line,
                "propensity: min %.4g, median %.4g, max %.4g; clipped to [%g, %g]: %zu low, %zu high (%.2f%%)\n",
                ov.min, ov.quantiles.size() > 3 ? ov.quantiles[3] : NAN, ov.max, o.clip, 1 - o.clip,
                ov.clipped_low, ov.clipped_high, 100 * ov.share_clipped);
  if (!ov.quantiles.empty()) os << line;
  if (ov.has_ipw) {
    std::snprintf(line, sizeof line,
                  "IPW weights: effective sample size %.0f of %zu (%.1f%%; treated %.0f of %zu, control %.0f of "
                  "%zu)%s\n",
                  ov.ipw_ess, data.n, 100 * ov.ipw_ess_share, ov.ipw_ess_treated, report.naive.n_treated,
                  ov.ipw_ess_control, report.naive.n_control,
                  o.reps > 1 ? ", the smallest of the repetitions" : "");
    os << line;
  }
  if (!report.balance.empty()) PrintBalance(os, report.balance);
  for (const auto& w : report.warnings) os << "warning: " << w << "\n";
  const Timings& t = fit.timings;
  std::snprintf(line, sizeof line,
                "time: %.2fs total (reading %.2fs, setup %.2fs, gather %.2fs, fold matrices %.2fs, "
                "training %.2fs, prediction %.2fs, scores %.3fs, bootstrap %.3fs)\n",
                t.total, t.reading, t.setup, t.gather, t.fold_matrices, t.training, t.prediction, t.scores,
                report.bootstrap.seconds);
  os << line;
  if (o.tune.enabled) {
    std::snprintf(line, sizeof line, "      of which tuning %.2fs (--tune%s)\n", t.tuning,
                  o.tune.per_fold ? "-per-fold: inside the training time" : ": before the training");
    os << line;
  }
}

nlohmann::json TrimmingJson(const TrimmedSample& t) {
  return {{"rule", t.rule},
          {"alpha", t.alpha},
          {"propensity", "the out-of-fold propensity, averaged over repetitions"},
          {"rows", t.rows},
          {"rows_kept", t.kept.size()},
          {"treated_kept", t.treated_kept},
          {"control_kept", t.control_kept},
          {"population", "the estimates are effects among the rows kept, not in the whole sample"}};
}

void PrintTrimming(std::ostream& os, const TrimmedSample& t) {
  char line[512];
  std::snprintf(line, sizeof line,
                "trimmed population (%s): rows with propensity in [%.4g, %.4g], %zu of %zu kept (%zu treated, %zu "
                "control); the estimates below are effects in this population\n",
                t.rule == "crump" ? "Crump et al. 2009 rule" : "--trim alpha", t.alpha, 1 - t.alpha, t.kept.size(),
                t.rows, t.treated_kept, t.control_kept);
  os << line;
}

namespace {

nlohmann::json BoundsJson(const SensitivityBounds& b) {
  return {{"estimand", b.estimand},         {"cf_y", b.scenario.cf_y},
                      {"cf_d", b.scenario.cf_d},        {"rho", b.scenario.rho},
                      {"level", b.level},               {"null_hypothesis", b.null_hypothesis},
                      {"theta", b.theta},               {"theta_lower", b.theta_lower},
                      {"theta_upper", b.theta_upper},   {"se_lower", b.se_lower},
                      {"se_upper", b.se_upper},         {"ci_lower", b.ci_lower},
                      {"ci_upper", b.ci_upper},         {"rv", b.rv},
                      {"rva", b.rva}};
}

}  // namespace

nlohmann::json SensitivityJson(const SensitivityReport& s, const std::vector<SensitivityBenchmark>& benchmarks) {
  nlohmann::json bounds = nlohmann::json::array(), elements = nlohmann::json::array(),
                 grids = nlohmann::json::array();
  for (const SensitivityBounds& b : s.bounds) bounds.push_back(BoundsJson(b));
  for (const SensitivityElements& e : s.elements) {
    elements.push_back({{"estimand", e.estimand},
                        {"sigma2", e.sigma2},
                        {"nu2", e.nu2},
                        {"max_bias", e.max_bias},
                        {"riesz_fallback", e.riesz_fallback}});
  }
  for (const SensitivityGrid& g : s.grids) {
    grids.push_back({{"estimand", g.estimand}, {"bound", g.bound}, {"rho", g.rho},
                     {"cf_y", g.cf_y},         {"cf_d", g.cf_d},   {"theta", g.theta}});
  }
  nlohmann::json doc = {{"sensitivity", bounds}, {"sensitivity_elements", elements}, {"sensitivity_grid", grids}};
  if (!benchmarks.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const SensitivityBenchmark& b : benchmarks) {
      list.push_back({{"features", b.features},
                      {"estimand", b.estimand},
                      {"cf_y", b.cf_y},
                      {"cf_d", b.cf_d},
                      {"rho", b.rho},
                      {"delta_theta", b.delta_theta},
                      {"bounds", b.has_bounds ? BoundsJson(b.bounds) : nlohmann::json(nullptr)}});
    }
    doc["sensitivity_benchmark"] = list;
  }
  return doc;
}

void PrintSensitivity(std::ostream& os, const SensitivityReport& s,
                      const std::vector<SensitivityBenchmark>& benchmarks) {
  char line[512];
  if (!benchmarks.empty()) {
    os << "\nsensitivity benchmarks (a confounder as strong as these features; each refitted without them):\n";
    std::snprintf(line, sizeof line, "%-28s %-9s %7s %7s %6s %12s %12s %12s\n", "left out", "estimand", "cf_y", "cf_d",
                  "rho", "delta theta", "theta lower", "theta upper");
    os << line;
    for (const SensitivityBenchmark& b : benchmarks) {
      std::string names;
      for (const std::string& f : b.features) names += (names.empty() ? "" : ",") + f;
      if (names.size() > 28) names = names.substr(0, 25) + "...";
      std::snprintf(line, sizeof line, "%-28s %-9s %7.4f %7.4f %6.2f %12.6g %12.6g %12.6g\n", names.c_str(),
                    b.estimand.c_str(), b.cf_y, b.cf_d, b.rho, b.delta_theta,
                    b.has_bounds ? b.bounds.theta_lower : NAN, b.has_bounds ? b.bounds.theta_upper : NAN);
      os << line;
    }
  }
  if (s.bounds.empty()) return;
  std::snprintf(line, sizeof line,
                "\nsensitivity to an unobserved confounder (omitted-variable bias; confidence bounds one-sided at "
                "%.0f%%, robustness values for h0 = %g):\n",
                100 * s.bounds.front().level, s.bounds.front().null_hypothesis);
  os << line;
  std::snprintf(line, sizeof line, "%-9s %6s %6s %5s %12s %12s %12s %12s %12s %7s %7s\n", "estimand", "cf_y", "cf_d",
                "rho", "ci lower", "theta lower", "theta", "theta upper", "ci upper", "RV %", "RVa %");
  os << line;
  for (const SensitivityBounds& b : s.bounds) {
    std::snprintf(line, sizeof line, "%-9s %6.3f %6.3f %5.2f %12.6g %12.6g %12.6g %12.6g %12.6g %7.2f %7.2f\n",
                  b.estimand.c_str(), b.scenario.cf_y, b.scenario.cf_d, b.scenario.rho, b.ci_lower, b.theta_lower,
                  b.theta, b.theta_upper, b.ci_upper, 100 * b.rv, 100 * b.rva);
    os << line;
  }
  os << "RV: the share of residual variation (of the outcome and of the Riesz representer alike) a confounder must "
        "explain to move the estimate to h0; RVa: to move the confidence bound there.\n";
}

// A CSV field: quoted (quotes doubled) when it holds a separator, quote or line break.
std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

void WritePredictionsCsv(const std::string& path, const std::vector<CellPredictions>& cells) {
  std::string s = "outcome,treatment,row,rep,fold,m_hat,g0_hat,g1_hat,l_hat\n";
  for (const CellPredictions& c : cells) {
    const Predictions& pred = *c.predictions;
    const std::string names = CsvField(c.outcome) + ',' + CsvField(c.treatment) + ',';
    s.reserve(s.size() + pred.n * pred.reps * (64 + names.size()));
    auto cell = [&](const std::vector<double>& v, std::size_t k) {
      s += ',';
      if (!v.empty()) AppendDouble(&s, v[k]);
    };
    for (int r = 0; r < pred.reps; ++r) {
      for (std::size_t i = 0; i < pred.n; ++i) {
        const std::size_t k = static_cast<std::size_t>(r) * pred.n + i;
        s += names + std::to_string(i) + ',' + std::to_string(r) + ',' + std::to_string(pred.fold[k]);
        cell(pred.m, k);
        cell(pred.g0, k);
        cell(pred.g1, k);
        cell(pred.l, k);
        s += '\n';
      }
    }
  }
  WriteFileAtomic(path, s);
}

Predictions ReadPredictionsCsv(const std::string& path, std::size_t n) {
  const CsvTable table = ReadCsv(path);
  auto col = [&](const char* name) -> const CsvColumn& {
    const CsvColumn* c = table.Find(name);
    if (!c) throw DataError(path + ": predictions file lacks the column '" + name + "'");
    if (!c->numeric) {
      throw DataError(path + ": column '" + name + "', row " + std::to_string(c->first_bad_row) +
                      ": '" + c->first_bad_text + "' is not a number");
    }
    return *c;
  };
  const CsvColumn &row = col("row"), &rep = col("rep"), &fold = col("fold");
  int reps = 0;
  for (std::size_t k = 0; k < table.rows; ++k) {
    const double r = rep.values[k];
    if (!(r >= 0 && r < 1e6 && r == std::floor(r))) {
      throw DataError(path + ": line " + std::to_string(k + 2) + ": rep must be an integer >= 0");
    }
    reps = std::max(reps, static_cast<int>(r) + 1);
  }
  if (table.rows != n * static_cast<std::size_t>(reps)) {
    throw DataError(path + ": " + std::to_string(table.rows) + " prediction lines, expected " +
                    std::to_string(n) + " rows x " + std::to_string(reps) + " reps = " +
                    std::to_string(n * reps) + " (does the file belong to this data?)");
  }
  Predictions p;
  p.n = n;
  p.reps = reps;
  const std::size_t total = n * reps;
  p.fold.assign(total, -1);
  std::vector<char> seen(total, 0);
  const char* names[] = {"m_hat", "g0_hat", "g1_hat", "l_hat"};
  std::vector<double>* dst[] = {&p.m, &p.g0, &p.g1, &p.l};
  const CsvColumn* src_cols[4] = {nullptr, nullptr, nullptr, nullptr};
  for (int c = 0; c < 4; ++c) {
    const CsvColumn* src = table.Find(names[c]);
    if (!src) continue;
    src_cols[c] = src;
    bool any = false;
    for (double v : src->values) any |= !std::isnan(v);
    if (!src->numeric) {
      throw DataError(path + ": column '" + names[c] + "', line " + std::to_string(src->first_bad_row + 1) +
                      ": '" + src->first_bad_text + "' is not a number");
    }
    if (any) dst[c]->assign(total, NAN);
  }
  for (std::size_t k = 0; k < table.rows; ++k) {
    const double i = row.values[k], f = fold.values[k];
    const std::string where = path + ": line " + std::to_string(k + 2);
    if (!(i >= 0 && i < static_cast<double>(n) && i == std::floor(i))) {
      throw DataError(where + ": row must be an integer in 0.." + std::to_string(n - 1));
    }
    if (!(f >= 0 && f < 1e6 && f == std::floor(f))) throw DataError(where + ": fold must be an integer >= 0");
    const std::size_t idx = static_cast<std::size_t>(rep.values[k]) * n + static_cast<std::size_t>(i);
    if (seen[idx]) throw DataError(where + ": (row, rep) pair appears twice");
    seen[idx] = 1;
    p.fold[idx] = static_cast<int>(f);
    for (int c = 0; c < 4; ++c) {
      if (!dst[c]->empty()) (*dst[c])[idx] = src_cols[c]->values[k];
    }
  }
  return p;
}

}  // namespace fastdml::io
