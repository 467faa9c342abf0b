// Sorted GATES, the BLP heterogeneity test and CLAN (Chernozhukov, Demirer,
// Duflo and Fernandez-Val 2018/2023, sections 2.2-2.4) with the AIPW signal of
// the fit in place of their Horvitz-Thompson one (observational data), on the
// out-of-fold proxy S of each repetition; OLS and covariance from
// the GATE/BLP engine of cate.h (OlsOnGroups, OlsRobust), aggregation over repetitions by
// DoubleML's rule, as CDDF take medians over splits.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "cate/ols/ols.h"
#include "cuda/device.h"
#include "cate/ols/row_sums.h"
#include "cate/signal.h"
#include "fastdml/cate_model.h"
#include "fastdml/error.h"
#include "fastdml/inference.h"
#include "inference/aggregate.h"
#include "inference/normal.h"
#include "ops/philox_weights.h"

namespace fastdml {
namespace {

void Add(Inferred* x, double estimate, double variance) {
  x->theta_reps.push_back(estimate);
  x->se_reps.push_back(std::sqrt(std::max(variance, 0.0)));
}

}  // namespace

std::vector<CateModel> FitCateModels(const Dataset& data, const Fit& fit, const CateModelOptions& options) {
  std::vector<CateModel> models;
  for (int r = 0; r < fit.predictions.reps; ++r) {
    CateModelOptions o = options;
    o.repetition = r;
    models.push_back(FitCateModel(data, fit, o));
  }
  return models;
}

std::vector<std::vector<double>> OutcomeDifferenceProxy(const Fit& fit) {
  const Predictions& p = fit.predictions;
  if (p.g0.size() != p.n * p.reps || p.g1.size() != p.n * p.reps) {
    throw UsageError("the outcome-difference CATE proxy needs g0 and g1 predictions (--model irm)");
  }
  std::vector<std::vector<double>> out(p.reps, std::vector<double>(p.n));
  for (int r = 0; r < p.reps; ++r) {
    for (std::size_t i = 0; i < p.n; ++i) out[r][i] = p.g1[r * p.n + i] - p.g0[r * p.n + i];
  }
  return out;
}

std::vector<std::vector<double>> DrLearnerProxy(const std::vector<CateModel>& models) {
  std::vector<std::vector<double>> out;
  for (const CateModel& m : models) out.push_back(m.out_of_fold);
  return out;
}

std::vector<std::size_t> CheckSortedGatesOptions(const Dataset& data, const Options& fit_options,
                                                 const SortedGatesOptions& options) {
  const int k_groups = options.groups;
  if (k_groups < 2) {
    throw UsageError("--sorted-gates: K = " + std::to_string(k_groups) +
                     " groups cannot show heterogeneity; use K >= 2 (CDDF use 5)");
  }
  if (!(options.level > 0 && options.level < 1)) throw UsageError("--level must lie in (0, 1)");
  if (fit_options.model != Model::kIrm) throw UsageError("--sorted-gates needs --model irm (the AIPW signal)");
  if (data.n < kMinRowsPerProxyGroup * static_cast<std::size_t>(k_groups)) {
    throw DataError("--sorted-gates " + std::to_string(k_groups) + ": " + std::to_string(data.n) +
                    " rows give fewer than " + std::to_string(kMinRowsPerProxyGroup) +
                    " rows per proxy group; use fewer groups");
  }
  std::vector<std::size_t> clan_cols;
  for (const std::string& name : options.clan) {
    auto it = std::find(data.feature_names.begin(), data.feature_names.end(), name);
    if (it == data.feature_names.end()) {
      throw UsageError("--clan: '" + name + "' is not a feature of the fit (CLAN describes the feature columns)");
    }
    clan_cols.push_back(static_cast<std::size_t>(it - data.feature_names.begin()));
  }
  return clan_cols;
}

SortedGatesResult SortedGates(const Dataset& data, const Fit& fit, const std::vector<std::vector<double>>& proxy,
                              const SortedGatesOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const int k_groups = options.groups;
  const std::size_t n = data.n;
  const std::vector<std::size_t> clan_cols = CheckSortedGatesOptions(data, fit.options, options);
  if (static_cast<int>(proxy.size()) != fit.predictions.reps) {
    throw UsageError("sorted GATES: " + std::to_string(proxy.size()) + " CATE proxies for a fit with " +
                     std::to_string(fit.predictions.reps) + " repetitions (one per repetition)");
  }

  SortedGatesResult res;
  res.groups = k_groups;
  res.cov = options.cov;
  res.level = options.level;
  for (int k = 0; k < k_groups; ++k) res.labels.push_back("G" + std::to_string(k + 1));
  res.gates.resize(k_groups);
  res.clan.resize(clan_cols.size());
  for (std::size_t c = 0; c < clan_cols.size(); ++c) res.clan[c].variable = options.clan[c];
  const bool binary = IsBinaryTreatment(data.d);
  const Device device = fit.options.device;  // sort, bins, group sums and Gram on the fit's device
  const cuda::DeviceScope on_device(fit.options.device);  // "cuda:N": that GPU

  for (int r = 0; r < fit.predictions.reps; ++r) {
    const std::vector<double>& s = proxy[r];
    if (s.size() != n) throw UsageError("sorted GATES: CATE proxy " + std::to_string(r) + " has the wrong length");
    // Quantile groups of S; tied values share a group (row-order invariant).
    Grouping g;
    try {
      g = cate::GroupByQuantiles(device, "cate_proxy", s, k_groups);
    } catch (const DataError& e) {
      throw DataError("--sorted-gates " + std::to_string(k_groups) + ": the CATE proxy of repetition " +
                      std::to_string(r) + " has too many tied values for " + std::to_string(k_groups) +
                      " quantile groups (" + e.what() + "); use fewer groups");
    }
    const cate::GroupCounts counts = cate::CountByGroup(device, g.group, k_groups, binary ? &data.d : nullptr);
    const std::vector<std::size_t>& rows = counts.rows;
    const std::vector<std::size_t>& treated = counts.treated;
    for (int k = 0; k < k_groups; ++k) {
      const std::string who = "--sorted-gates " + std::to_string(k_groups) + ": proxy group G" +
                              std::to_string(k + 1) + " (repetition " + std::to_string(r) + ")";
      if (rows[k] < kMinRowsPerProxyGroup) {
        throw DataError(who + " has " + std::to_string(rows[k]) + " rows, fewer than " +
                        std::to_string(kMinRowsPerProxyGroup) + "; use fewer groups");
      }
      if (treated[k] == 0 || treated[k] == rows[k]) {
        throw DataError(who + " has no " + (treated[k] == 0 ? "treated" : "control") +
                        " rows, so its effect is not identified; use fewer groups");
      }
    }
    if (r == 0) res.group_rows = rows;

    // GATES: OLS of the AIPW signal on the K group dummies (CDDF eq. 2.5).
    const cate::Signal sig = cate::MakeSignal(data, fit, r, cate::AteScore(options.score));
    const OlsFit gates = cate::OlsOnGroups(device, sig.y, {}, g.group, k_groups, options.cov, data.cluster,
                                           data.n_clusters, res.labels);
    for (int k = 0; k < k_groups; ++k) {
      Add(&res.gates[k], gates.coef[k], gates.cov[static_cast<std::size_t>(k) * k_groups + k]);
    }
    if (options.bootstrap.replicates > 0) {
      const std::vector<double> t = cate::GaussianT(gates.cov, k_groups, {}, k_groups, options.bootstrap, r,
                                                    ops::kStreamSortedGatesBand);
      res.joint_critical_values.push_back(JointCriticalValue(t, k_groups, options.level));
    }
    const std::size_t top = k_groups - 1;
    Add(&res.top_minus_bottom, gates.coef[top] - gates.coef[0],
        gates.cov[top * k_groups + top] + gates.cov[0] - 2 * gates.cov[top * k_groups]);

    // BLP: OLS of the signal on [1, S - mean(S)] (CDDF eq. 2.3 with the AIPW signal).
    double mean_s = 0;
    for (double v : s) mean_s += v / static_cast<double>(n);
    std::vector<double> x(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
      x[2 * i] = 1;
      x[2 * i + 1] = s[i] - mean_s;
    }
    const OlsFit blp = cate::OlsRobust(device, sig.y, x, n, 2, options.cov, data.cluster, data.n_clusters,
                                       {"intercept", "cate_proxy"});
    Add(&res.blp_beta1, blp.coef[0], blp.cov[0]);
    Add(&res.blp_beta2, blp.coef[1], blp.cov[3]);

    // CLAN: means of each covariate in G_K and G_1 and their difference, from
    // an OLS on the two group dummies (HC0 = Welch's SE with 1/n_g variances).
    std::vector<std::int32_t> two;
    std::vector<std::size_t> kept;
    for (std::size_t i = 0; i < n; ++i) {
      if (g.group[i] == 0 || g.group[i] == static_cast<std::int32_t>(top)) {
        two.push_back(g.group[i] == 0 ? 0 : 1);
        kept.push_back(i);
      }
    }
    // Clusters present in G1 and GK, renumbered densely, so the small-sample
    // factor G/(G-1) counts the clusters of this regression (as statsmodels).
    std::vector<std::int32_t> two_cluster, dense(data.n_clusters, -1);
    std::int32_t two_clusters = 0;
    for (std::size_t i : kept) {
      if (data.cluster.empty()) break;
      std::int32_t& id = dense[data.cluster[i]];
      if (id < 0) id = two_clusters++;
      two_cluster.push_back(id);
    }
    for (std::size_t c = 0; c < clan_cols.size(); ++c) {
      std::vector<double> v(kept.size());
      for (std::size_t k = 0; k < kept.size(); ++k) {
        v[k] = data.X(kept[k], clan_cols[c]);
        if (std::isnan(v[k])) {
          throw DataError("--clan: column '" + options.clan[c] + "', row " + std::to_string(kept[k] + 1) +
                          " is missing; CLAN needs complete values in the top and bottom groups");
        }
      }
      const OlsFit o = cate::OlsOnGroups(device, v, {}, two, 2, options.cov, two_cluster, two_clusters,
                                         {"G1", res.labels[top]});
      ClanRow& row = res.clan[c];
      Add(&row.bottom, o.coef[0], o.cov[0]);
      Add(&row.top, o.coef[1], o.cov[3]);
      Add(&row.difference, o.coef[1] - o.coef[0], o.cov[3] + o.cov[0] - 2 * o.cov[1]);
    }
    res.group_reps.push_back(std::move(g.group));
  }
  for (int k = 0; k < k_groups; ++k) {
    Inferred& e = res.gates[k];
    inference::FinishInto(&e, options.level);
    if (options.bootstrap.replicates > 0) {
      const inference::Bounds band = inference::MedianBounds(e.theta_reps, e.se_reps, res.joint_critical_values);
      e.has_joint = true;
      e.joint_ci_lower = band.lower;
      e.joint_ci_upper = band.upper;
    }
  }
  inference::FinishInto(&res.top_minus_bottom, options.level);
  inference::FinishInto(&res.blp_beta1, options.level);
  inference::FinishInto(&res.blp_beta2, options.level);
  for (ClanRow& row : res.clan) {
    inference::FinishInto(&row.top, options.level);
    inference::FinishInto(&row.bottom, options.level);
    inference::FinishInto(&row.difference, options.level);
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace fastdml
