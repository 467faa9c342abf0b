#include "cli/cate_cli.h"

#include <cstdio>
#include <sstream>

#include "cli/args.h"
#include "fastdml/error.h"

namespace fastdml::cli {
namespace {

// A numeric column of a CSV table by name, with errors naming file, column, row.
ColumnSource Columns(const io::CsvTable& table, const std::string& path, const std::string& flag) {
  return [&table, path, flag](const std::string& name) {
    const io::CsvColumn* c = table.Find(name);
    if (!c) {
      std::string all;
      for (const auto& col : table.columns) all += (all.empty() ? "" : ", ") + col.name;
      throw DataError(path + ": " + flag + ": no column '" + name + "' (columns: " + all + ")");
    }
    if (!c->numeric) {
      throw DataError(path + ": " + flag + ": column '" + name + "' is not numeric (row " +
                      std::to_string(c->first_bad_row) + ": '" + c->first_bad_text +
                      "'); recode its categories as numbers");
    }
    return c->values;
  };
}

nlohmann::json GateJson(const GateResult& g) {
  nlohmann::json groups = nlohmann::json::array();
  for (const GroupEffect& e : g.groups) {
    nlohmann::json j = {{"label", e.label}, {"n", e.n},         {"n_treated", e.n_treated},
                        {"estimate", e.estimate}, {"se", e.se}, {"t", e.t},
                        {"p_value", e.p_value}, {"ci_lower", e.ci_lower}, {"ci_upper", e.ci_upper},
                        {"theta_reps", e.theta_reps}, {"se_reps", e.se_reps}};
    if (e.has_joint) {
      j["joint_ci_lower"] = e.joint_ci_lower;
      j["joint_ci_upper"] = e.joint_ci_upper;
      j["p_romano_wolf"] = e.p_romano_wolf;
    }
    groups.push_back(j);
  }
  nlohmann::json out = {{"by", g.by}, {"signal", g.signal}, {"cov", ToString(g.cov)},
                        {"level", g.level}, {"groups", groups}, {"seconds", g.seconds}};
  if (!g.joint_critical_values.empty()) out["joint_critical_values"] = g.joint_critical_values;
  return out;
}

void PrintGate(std::ostream& os, const GateResult& g) {
  char line[320];
  os << "\nGATE by " << g.by << " (" << g.signal << " signal, " << ToString(g.cov) << " covariance"
     << (g.joint_critical_values.empty() ? "" : "; joint bands and Romano-Wolf from the Gaussian multiplier bootstrap")
     << ")\n";
  std::snprintf(line, sizeof line, "%-28s %9s %12s %11s %10s %12s %12s%s\n", "group", "n", "estimate", "std.err",
                "p-value", "lower", "upper", g.joint_critical_values.empty() ? "" : "  joint lower  joint upper  p(RW)");
  os << line;
  for (const GroupEffect& e : g.groups) {
    std::snprintf(line, sizeof line, "%-28.28s %9zu %12.6g %11.5g %10.3g %12.6g %12.6g", e.label.c_str(), e.n,
                  e.estimate, e.se, e.p_value, e.ci_lower, e.ci_upper);
    os << line;
    if (e.has_joint) {
      std::snprintf(line, sizeof line, " %12.6g %12.6g %6.3g", e.joint_ci_lower, e.joint_ci_upper, e.p_romano_wolf);
      os << line;
    }
    os << "\n";
  }
}

// A --cate-signal name: ate, att, atc or ato (the spellings --estimand takes, less
// DoubleML's "atte", which --cate-signal never took).
Estimand ParseSignal(const std::string& s) {
  Estimand e;
  if (s == "atte" || !ParseEstimand(s, &e)) {
    throw UsageError("--cate-signal: unknown signal '" + s + "' (expected ate, att, atc, ato)");
  }
  return e;
}

}  // namespace

void AddCateOptions(CLI::App* est, CateArgs* args) {
  est->add_option("--cate-by", args->by,
                  "GATE by a column: COL (categories) or COL:quartiles|quintiles|deciles|q=K (quantile bins); repeatable")
      ->take_all();
  est->add_option("--cate-cov", args->cov,
                  "GATE/BLP/sorted GATES/CLAN covariance: hc0, hc1, hc3, cluster (needs --cluster); "
                  "default: cluster with --cluster, else hc0");
  est->add_option("--cate-signal", args->signal, "GATE signal: comma list of ate (default), att, atc (IRM only)");
  est->add_option("--blp", args->blp, "BLP of the CATE on a basis: comma list of COL, cat(COL), spline(COL,K)");
  est->add_option("--blp-grid", args->blp_grid, "CSV of basis column values at which to predict the BLP");
}

std::string CateCov(const std::string& given, bool clustered) {
  if (!given.empty()) return given;
  return clustered ? "cluster" : "hc0";
}

void CheckCateArgs(const CateArgs& args, const io::CsvTable& table, const std::string& data_path, bool plr) {
  if (!args.blp_grid.empty() && args.blp.empty()) throw UsageError("--blp-grid needs --blp");
  ParseCovType(args.cov);
  for (const std::string& s : SplitList(args.signal)) {
    const Estimand e = ParseSignal(s);
    if (e != Estimand::kAte && plr && !args.by.empty()) {
      throw UsageError("--cate-signal " + s + ": the group-wise " + (e == Estimand::kAtt ? "ATT" : e == Estimand::kAtc ? "ATC" : "overlap-weighted ATE") +
                       " needs --model irm (PLR has one effect per row)");
    }
  }
  const ColumnSource columns = Columns(table, data_path, "--cate-by");
  for (const std::string& spec : args.by) columns(ParseGroupSpec(spec).column);
  if (!args.blp.empty()) MakeBasis(args.blp, Columns(table, data_path, "--blp"), table.rows);
}

nlohmann::json RunCate(const CateArgs& args, const io::CsvTable& table, const std::string& data_path,
                       const Dataset& data, const Fit& fit, std::int64_t bootstrap, std::uint64_t seed,
                       std::ostream& os) {
  nlohmann::json out = nlohmann::json::object();
  if (!args.blp_grid.empty() && args.blp.empty()) throw UsageError("--blp-grid needs --blp");
  const CovType cov = ParseCovType(args.cov);
  CateBootstrap boot;
  boot.replicates = bootstrap;
  boot.seed = seed;
  const Options& o = fit.options;
  if (!args.by.empty()) {
    std::vector<Estimand> signals;
    for (const std::string& s : SplitList(args.signal)) signals.push_back(ParseSignal(s));
    const ColumnSource columns = Columns(table, data_path, "--cate-by");
    out["gate"] = nlohmann::json::array();
    for (const std::string& spec : args.by) {
      const GroupSpec gs = ParseGroupSpec(spec);
      const std::vector<double> values = columns(gs.column);
      const Grouping grouping =
          gs.bins ? GroupByQuantiles(gs.column, values, gs.bins) : GroupByCategory(gs.column, values);
      for (Estimand signal : signals) {
        GateOptions go;
        go.score = o.Score(signal);
        go.cov = cov;
        go.level = o.level;
        go.bootstrap = boot;
        const GateResult g = Gate(data, fit, grouping, go);
        PrintGate(os, g);
        nlohmann::json gj = GateJson(g);
        if (boot.replicates > 0) gj["bootstrap"] = {{"replicates", boot.replicates}, {"seed", boot.seed},
                                                   {"method", "normal (Gaussian law of the coefficients)"}};
        out["gate"].push_back(gj);
      }
    }
  }
  if (!args.blp.empty()) {
    const Basis basis = MakeBasis(args.blp, Columns(table, data_path, "--blp"), data.n);
    BlpOptions bo;
    bo.score = o.Score(Estimand::kAte);
    bo.cov = cov;
    bo.level = o.level;
    bo.bootstrap = boot;
    const BlpResult blp = Blp(data, fit, basis, bo);
    char line[320];
    os << "\nBLP of the CATE on " << args.blp << " (" << ToString(cov) << " covariance)\n";
    std::snprintf(line, sizeof line, "%-28s %12s %11s %9s %10s %12s %12s\n", "term", "coef", "std.err", "t",
                  "p-value", "lower", "upper");
    os << line;
    nlohmann::json terms = nlohmann::json::array();
    for (std::size_t j = 0; j < blp.names.size(); ++j) {
      std::snprintf(line, sizeof line, "%-28.28s %12.6g %11.5g %9.3f %10.3g %12.6g %12.6g\n", blp.names[j].c_str(),
                    blp.coef[j], blp.se[j], blp.t[j], blp.p_value[j], blp.ci_lower[j], blp.ci_upper[j]);
      os << line;
      terms.push_back({{"name", blp.names[j]}, {"coef", blp.coef[j]}, {"se", blp.se[j]}, {"t", blp.t[j]},
                       {"p_value", blp.p_value[j]}, {"ci_lower", blp.ci_lower[j]}, {"ci_upper", blp.ci_upper[j]}});
    }
    nlohmann::json j = {{"basis", args.blp}, {"cov", ToString(cov)}, {"level", blp.level}, {"terms", terms},
                        {"coef_reps", blp.coef_reps}, {"cov_reps", blp.cov_reps}, {"seconds", blp.seconds}};
    if (boot.replicates > 0) j["bootstrap"] = {{"replicates", boot.replicates}, {"seed", boot.seed}};
    if (!args.blp_grid.empty()) {
      const io::CsvTable grid_table = io::ReadCsv(args.blp_grid);
      const Basis grid = MakeBasisLike(basis, Columns(grid_table, args.blp_grid, "--blp-grid"), grid_table.rows);
      const BlpPrediction p = PredictBlp(blp, grid);
      nlohmann::json rows = nlohmann::json::array();
      os << "BLP predictions over " << args.blp_grid << " (" << grid_table.rows << " rows)"
         << (p.has_joint ? ", joint bands from the Gaussian multiplier bootstrap" : "") << "\n";
      for (std::size_t g = 0; g < p.estimate.size(); ++g) {
        nlohmann::json r = {{"estimate", p.estimate[g]}, {"se", p.se[g]}, {"ci_lower", p.ci_lower[g]},
                            {"ci_upper", p.ci_upper[g]}};
        std::snprintf(line, sizeof line, "  row %-6zu %12.6g %11.5g  [%.6g, %.6g]", g + 1, p.estimate[g], p.se[g],
                      p.ci_lower[g], p.ci_upper[g]);
        os << line;
        if (p.has_joint) {
          r["joint_ci_lower"] = p.joint_ci_lower[g];
          r["joint_ci_upper"] = p.joint_ci_upper[g];
          std::snprintf(line, sizeof line, "  joint [%.6g, %.6g]", p.joint_ci_lower[g], p.joint_ci_upper[g]);
          os << line;
        }
        os << "\n";
        rows.push_back(r);
      }
      j["grid"] = rows;
      if (p.has_joint) j["joint_critical_values"] = p.joint_critical_values;
    }
    out["blp"] = j;
  }
  return out;
}

}  // namespace fastdml::cli
