// Multi-valued treatments (fastdml/levels.h): the indicator expansion and the
// APO / contrast scores. Formulas: DoubleML 0.11.4 irm/apo.py (_score_elements)
// and irm/apos.py (causal_contrast: the difference of two APO frameworks).
#include "fastdml/levels.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "cpu/scores.h"
#include "fastdml/error.h"
#include "inference/aggregate.h"
#include "inference/cluster.h"
#include "ops/scores.h"

namespace fastdml {

std::string LevelName(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", value);
  return text;
}

bool LooksMultiValued(const std::vector<double>& d) {
  std::set<double> seen;
  for (double v : d) {
    if (!std::isfinite(v) || v != std::floor(v)) return false;
    seen.insert(v);
    if (seen.size() > kMaxAutoLevels) return false;
  }
  return seen.size() >= kMinAutoLevels;
}

TreatmentLevels ExpandLevels(Dataset* data, std::optional<double> reference) {
  if (data->IsGrid()) throw UsageError("multi-valued treatments take one outcome and one treatment column");
  constexpr std::size_t kMaxLevels = 100;
  TreatmentLevels levels;
  levels.treatment = data->treatment_name;
  std::map<double, std::size_t> count;
  for (std::size_t i = 0; i < data->n; ++i) {
    const double v = data->d[i];
    if (std::isnan(v)) {
      throw DataError("missing treatment '" + data->treatment_name + "' at row " + std::to_string(i + 1) +
                      " (1-based): drop or impute the row before estimating");
    }
    if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 1e9) {
      throw DataError("treatment '" + data->treatment_name + "' has " + std::to_string(v) + " at row " +
                      std::to_string(i + 1) + " (1-based); treatment levels must be integers");
    }
    ++count[v];
  }
  if (count.size() < 2) throw UsageError("--treatment-levels: treatment '" + data->treatment_name + "' has one level");
  if (count.size() > kMaxLevels) {
    throw UsageError("--treatment-levels: treatment '" + data->treatment_name + "' has " +
                     std::to_string(count.size()) + " levels, more than " + std::to_string(kMaxLevels) +
                     "; a continuous treatment needs --model plr");
  }
  for (const auto& [value, rows] : count) {
    levels.values.push_back(value);
    levels.rows.push_back(rows);
  }
  if (reference) {
    const auto at = std::find(levels.values.begin(), levels.values.end(), *reference);
    if (at == levels.values.end()) {
      std::string list;
      for (double v : levels.values) list += (list.empty() ? "" : ", ") + LevelName(v);
      throw UsageError("--reference-level " + LevelName(*reference) + " is not a level of '" +
                       data->treatment_name + "' (its levels: " + list + ")");
    }
    levels.reference = static_cast<std::size_t>(at - levels.values.begin());
  }
  data->outcomes = {data->y};
  data->outcome_names = {data->outcome_name};
  data->treatments.clear();
  data->treatment_names.clear();
  for (double value : levels.values) {
    std::vector<double> indicator(data->n);
    for (std::size_t i = 0; i < data->n; ++i) indicator[i] = data->d[i] == value ? 1.0 : 0.0;
    data->treatments.push_back(std::move(indicator));
    data->treatment_names.push_back(levels.treatment + "=" + LevelName(value));
  }
  data->SelectCell(0, 0);
  return levels;
}

Report EstimateLevels(const Dataset& data, const GridFit& fit, const TreatmentLevels& levels,
                      const Options& options) {
  options.Validate();
  if (options.model != Model::kIrm) throw UsageError("multi-valued treatments need --model irm");
  const std::size_t n = data.n, n_levels = levels.values.size(), ref = levels.reference;
  if (fit.cells.size() != n_levels || data.treatments.size() != n_levels) {
    throw Error("internal: the fit does not hold one cell per treatment level");
  }
  const Predictions& first = fit.cells[0].predictions;
  const int reps = first.reps;
  const std::vector<double> uw = MeanOneWeights(data.weights);
  auto w = [&](std::size_t i) { return uw.empty() ? 1.0 : uw[i]; };
  const bool clustered = !data.cluster.empty();

  // The estimands, in report order: every APO, then per other level its ATE
  // and ATT against the reference.
  struct Spec {
    std::string name;
    int kind;  // 0 APO, 1 ATE contrast, 2 ATT contrast
    std::size_t level;
  };
  std::vector<Spec> specs;
  for (std::size_t v = 0; v < n_levels; ++v) specs.push_back({"apo:" + LevelName(levels.values[v]), 0, v});
  for (std::size_t v = 0; v < n_levels; ++v) {
    if (v == ref) continue;
    const std::string vs = LevelName(levels.values[v]) + " vs " + LevelName(levels.values[ref]);
    specs.push_back({"ate:" + vs, 1, v});
    specs.push_back({"att:" + vs, 2, v});
  }
  const int k = static_cast<int>(specs.size());

  Report report;
  report.level = options.level;
  report.scores.resize(static_cast<std::size_t>(reps));
  std::vector<EstimateResult> results(static_cast<std::size_t>(k));
  for (int e = 0; e < k; ++e) results[static_cast<std::size_t>(e)].estimand = specs[static_cast<std::size_t>(e)].name;

  std::vector<double> psi_a(n), psi_b(n);
  std::vector<std::vector<double>> m(n_levels, std::vector<double>(n)), m_ipw(n_levels, std::vector<double>(n)),
      apo_b(n_levels, std::vector<double>(n));
  for (int r = 0; r < reps; ++r) {
    const std::size_t off = static_cast<std::size_t>(r) * n;
    ScoreBlock& block = report.scores[static_cast<std::size_t>(r)];
    block.n = n;
    block.k = k;
    block.psi.resize(static_cast<std::size_t>(k) * n);
    block.j.resize(static_cast<std::size_t>(k));
    block.se.resize(static_cast<std::size_t>(k));
    block.theta.resize(static_cast<std::size_t>(k));
    block.cluster = data.cluster;
    block.n_clusters = data.n_clusters;
    // Per level: the clipped propensity, the one in the IPW term (Hajek
    // normalised on request: D_v / m~ = (D_v / m) / mean(D_v / m)) and the
    // APO's psi_b.
    for (std::size_t v = 0; v < n_levels; ++v) {
      const Predictions& pred = fit.cells[v].predictions;
      const std::vector<double>& dv = data.treatments[v];
      double mean_ipw = 0;
      for (std::size_t i = 0; i < n; ++i) {
        m[v][i] = ops::ClipPropensity(pred.m[off + i], options.clip);
        mean_ipw += dv[i] / m[v][i];
      }
      mean_ipw /= static_cast<double>(n);
      for (std::size_t i = 0; i < n; ++i) {
        m_ipw[v][i] = options.normalize_ipw ? m[v][i] * mean_ipw : m[v][i];
        const double g = pred.g1[off + i];
        apo_b[v][i] = w(i) * g + w(i) * dv[i] * (data.y[i] - g) / m_ipw[v][i];
      }
    }
    for (int e = 0; e < k; ++e) {
      const Spec& s = specs[static_cast<std::size_t>(e)];
      const std::size_t v = s.level;
      if (s.kind == 2) {
        const std::vector<double>& dv = data.treatments[v];
        const std::vector<double>& dref = data.treatments[ref];
        const std::vector<double>& g_ref = fit.cells[ref].predictions.g1;
        double p = 0;
        for (std::size_t i = 0; i < n; ++i) p += w(i) * dv[i];
        p /= static_cast<double>(n);
        for (std::size_t i = 0; i < n; ++i) {
          const double u = data.y[i] - g_ref[off + i];
          psi_a[i] = -w(i) * dv[i] / p;
          psi_b[i] = w(i) * dv[i] * u / p - w(i) * m[v][i] * dref[i] * u / (p * m_ipw[ref][i]);
        }
      } else {
        for (std::size_t i = 0; i < n; ++i) {
          psi_a[i] = -w(i);
          psi_b[i] = s.kind == 0 ? apo_b[v][i] : apo_b[v][i] - apo_b[ref][i];
        }
      }
      double* psi = block.psi.data() + static_cast<std::size_t>(e) * n;
      ops::ScoreSolution sol = cpu::SolveScore(psi_a.data(), psi_b.data(), n, psi);
      if (clustered) {
        const ClusterSolution cs = SolveScoreClustered(psi_a.data(), psi_b.data(), n, data.cluster.data(),
                                                       data.n_clusters, first.fold.data() + off, fit.cells[0].options.folds);
        sol.theta = cs.theta;
        sol.se = cs.se;
        for (std::size_t i = 0; i < n; ++i) psi[i] = sol.theta * psi_a[i] + psi_b[i];
      }
      if (!std::isfinite(sol.theta) || !std::isfinite(sol.se)) {
        throw DataError("the " + s.name + " score is not finite in repetition " + std::to_string(r) +
                        ": check for extreme propensities or outcomes");
      }
      results[static_cast<std::size_t>(e)].theta_reps.push_back(sol.theta);
      results[static_cast<std::size_t>(e)].se_reps.push_back(sol.se);
      block.j[static_cast<std::size_t>(e)] = sol.j;
      block.se[static_cast<std::size_t>(e)] = sol.se;
      block.theta[static_cast<std::size_t>(e)] = sol.theta;
    }
  }
  for (EstimateResult& res : results) {
    inference::FinishInto(&res, options.level);
    report.estimates.push_back(res);
  }
  return report;
}

}  // namespace fastdml
