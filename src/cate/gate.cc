// Group average treatment effects: OLS of the orthogonal signal on group
// dummies (Semenova and Chernozhukov 2021, section 2; DoubleML gate()), and
// the group-wise ATT (ATC) as the ATT (ATC) score solved within each group. The passes
// over the rows run on the fit's device (cate/ols/row_sums.h).
#include <chrono>
#include <cmath>
#include <string>

#include "cate/ols/ols.h"
#include "cuda/device.h"
#include "cate/ols/row_sums.h"
#include "cate/signal.h"
#include "inference/aggregate.h"
#include "fastdml/error.h"
#include "inference/normal.h"
#include "ops/philox_weights.h"

namespace fastdml {

GateResult Gate(const Dataset& data, const Fit& fit, const Grouping& g, const GateOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t n = data.n;
  const int groups = static_cast<int>(g.labels.size());
  const Estimand signal = opts.score.estimand;
  const bool ratio = signal != Estimand::kAte;  // ATT / ATC / ATO: the score solved per group
  const bool irm = fit.options.model == Model::kIrm;
  if (!(opts.level > 0 && opts.level < 1)) throw UsageError("--level must lie in (0, 1)");
  if (g.group.size() != n) throw Error("internal: grouping and data differ in rows");
  if (groups < 1) throw DataError("--cate-by " + g.name + ": no groups");
  // Each group needs at least two rows to carry an effect and its variance.
  if (2 * static_cast<std::size_t>(groups) > n) {
    throw DataError("--cate-by " + g.name + ": " + std::to_string(groups) + " groups from " + std::to_string(n) +
                    " rows are more than the data can carry (each group needs at least 2 rows); use coarser groups");
  }
  const bool binary = IsBinaryTreatment(data.d);
  GateResult res;
  res.by = g.name;
  res.signal = ToString(signal);
  res.cov = opts.cov;
  res.level = opts.level;
  res.groups.resize(groups);
  const Device device = fit.options.device;
  const cuda::DeviceScope on_device(fit.options.device);  // "cuda:N": that GPU
  const cate::GroupCounts counts = cate::CountByGroup(device, g.group, groups, binary ? &data.d : nullptr);
  for (int k = 0; k < groups; ++k) {
    res.groups[k].label = g.labels[k];
    res.groups[k].n = counts.rows[k];
    res.groups[k].n_treated = counts.treated[k];
  }
  for (int k = 0; k < groups; ++k) {
    const GroupEffect& e = res.groups[k];
    const std::string who = "--cate-by " + g.name + ": group '" + e.label + "'";
    if (e.n == 0) throw DataError(who + " has no rows; drop the label");
    if (e.n == 1) throw DataError(who + " has a single row; its effect cannot be estimated (merge it or use coarser groups)");
    // The ATC's weights live on the control rows (as the ATT's on the treated):
    // it needs control rows, and treated rows only through g1.
    if (binary && e.n_treated == 0 && !(irm && signal == Estimand::kAtc)) {
      throw DataError(who + " has no treated rows, so its effect is not identified; merge it with another group");
    }
    if (binary && irm && signal != Estimand::kAtt && e.n_treated == e.n) {
      throw DataError(who + " has no control rows, so its " + (signal == Estimand::kAtc ? "ATC" : signal == Estimand::kAto ? "overlap-weighted ATE" : "ATE") +
                      " is not identified; merge it with another group");
    }
  }

  const int reps = fit.predictions.reps;
  std::vector<std::vector<double>> t_boot(reps), cov_reps(reps);
  for (int r = 0; r < reps; ++r) {
    const cate::Signal s = cate::MakeSignal(data, fit, r, opts.score);
    OlsFit ols;
    if (ratio) {
      ols = cate::GroupRatio(s.a, s.y, g.group, groups, opts.cov, data.cluster, data.n_clusters, g.labels, device);
    } else {
      ols = cate::OlsOnGroups(device, s.y, s.scale, g.group, groups, opts.cov, data.cluster, data.n_clusters,
                              g.labels);
    }
    for (int k = 0; k < groups; ++k) {
      const double se = std::sqrt(ols.cov[static_cast<std::size_t>(k) * groups + k]);
      if (!std::isfinite(ols.coef[k]) || !(se > 0) || !std::isfinite(se)) {
        throw DataError("--cate-by " + g.name + ": group '" + g.labels[k] + "' has a non-finite estimate or a zero "
                        "standard error in repetition " + std::to_string(r) + " (a constant signal?)");
      }
      res.groups[k].theta_reps.push_back(ols.coef[k]);
      res.groups[k].se_reps.push_back(se);
    }
    cov_reps[r] = std::move(ols.cov);
  }
  for (GroupEffect& e : res.groups) inference::FinishInto(&e, opts.level);
  if (opts.bootstrap.replicates > 0) {
    std::vector<std::vector<double>> rw(groups, std::vector<double>(reps));
    for (int r = 0; r < reps; ++r) {
      const std::vector<double> t = cate::GaussianT(cov_reps[r], groups, {}, groups, opts.bootstrap, r,
                                                    ops::kStreamGateBand);
      res.joint_critical_values.push_back(JointCriticalValue(t, groups, opts.level));
      std::vector<double> t_obs(groups);
      for (int k = 0; k < groups; ++k) t_obs[k] = res.groups[k].theta_reps[r] / res.groups[k].se_reps[r];
      const std::vector<double> p = RomanoWolf(t, groups, t_obs);
      for (int k = 0; k < groups; ++k) rw[k][r] = p[k];
    }
    for (int k = 0; k < groups; ++k) {
      GroupEffect& e = res.groups[k];
      const inference::Bounds band = inference::MedianBounds(e.theta_reps, e.se_reps, res.joint_critical_values);
      e.has_joint = true;
      e.joint_ci_lower = band.lower;
      e.joint_ci_upper = band.upper;
      e.p_romano_wolf = inference::Median(rw[k]);
    }
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace fastdml
