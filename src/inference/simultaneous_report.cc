// Bootstrap and multiplicity adjustment applied to a Report: per repetition,
// then aggregated by the median across repetitions, as DoubleML does
// (DoubleMLFramework.confint(joint=True), p_adjust).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "fastdml/inference.h"
#include "inference/aggregate.h"
#include "inference/normal.h"

namespace fastdml {

void Bootstrap(Report* report, const BootstrapOptions& options, bool joint) {
  const auto t0 = std::chrono::steady_clock::now();
  if (report->scores.empty()) throw Error("internal: the report holds no scores to bootstrap");
  BootstrapSummary& boot = report->bootstrap;
  boot = BootstrapSummary();
  boot.options = options;
  const bool exact = options.sampler == BootstrapSampler::kExact ||
                     (options.sampler == BootstrapSampler::kAuto && options.method == BootstrapMethod::kNormal);
  boot.sampler = exact ? "exact" : "loop";
  const int reps = static_cast<int>(report->scores.size());
  for (int r = 0; r < reps; ++r) {
    const ScoreBlock& block = report->scores[r];
    boot.t_boot.push_back(BootstrapT(block, options, r));
    boot.joint_critical_values.push_back(JointCriticalValue(boot.t_boot.back(), block.k, report->level));
  }
  if (joint) {
    for (std::size_t e = 0; e < report->estimates.size(); ++e) {
      EstimateResult& res = report->estimates[e];
      const inference::Bounds band = inference::MedianBounds(res.theta_reps, res.se_reps, boot.joint_critical_values);
      res.has_joint = true;
      res.joint_ci_lower = band.lower;
      res.joint_ci_upper = band.upper;
    }
  }
  boot.done = true;
  boot.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void AdjustPValues(Report* report, const std::vector<std::string>& methods) {
  const int k = static_cast<int>(report->estimates.size());
  const int reps = k ? static_cast<int>(report->estimates[0].theta_reps.size()) : 0;
  for (const std::string& method : methods) {
    if (method == "romano-wolf" && !report->bootstrap.done) {
      throw UsageError("--p-adjust romano-wolf needs the bootstrap: add --bootstrap B (e.g. 1000)");
    }
    if (method != "romano-wolf" && method != "bonferroni" && method != "holm") {
      throw UsageError("--p-adjust: unknown method '" + method + "' (expected romano-wolf, bonferroni, holm)");
    }
    std::vector<std::vector<double>> adjusted(k, std::vector<double>(reps));
    for (int r = 0; r < reps; ++r) {
      std::vector<double> t(k), p(k);
      for (int e = 0; e < k; ++e) {
        const EstimateResult& res = report->estimates[e];
        t[e] = res.theta_reps[r] / res.se_reps[r];
        p[e] = 2 * NormalCdf(-std::fabs(t[e]));
      }
      const std::vector<double> adj = method == "romano-wolf" ? RomanoWolf(report->bootstrap.t_boot[r], k, t)
                                      : method == "bonferroni" ? Bonferroni(p)
                                                               : Holm(p);
      for (int e = 0; e < k; ++e) adjusted[e][r] = adj[e];
    }
    for (int e = 0; e < k; ++e) report->estimates[e].p_adjusted[method] = inference::Median(adjusted[e]);
  }
}

Report MergeReports(const std::vector<const Report*>& cells) {
  if (cells.empty()) throw Error("internal: no reports to merge");
  Report merged;
  merged.level = cells[0]->level;
  const std::size_t reps = cells[0]->scores.size();
  merged.scores.resize(reps);
  for (const Report* cell : cells) {
    if (cell->scores.size() != reps || cell->level != merged.level) {
      throw Error("internal: reports to merge differ in repetitions or level");
    }
    merged.estimates.insert(merged.estimates.end(), cell->estimates.begin(), cell->estimates.end());
    for (std::size_t r = 0; r < reps; ++r) {
      const ScoreBlock& from = cell->scores[r];
      ScoreBlock& into = merged.scores[r];
      if (into.k == 0) {
        into.n = from.n;
        into.cluster = from.cluster;
        into.n_clusters = from.n_clusters;
      } else if (into.n != from.n || into.cluster != from.cluster) {
        throw Error("internal: reports to merge are not on the same rows");
      }
      into.k += from.k;
      into.psi.insert(into.psi.end(), from.psi.begin(), from.psi.end());
      into.j.insert(into.j.end(), from.j.begin(), from.j.end());
      into.se.insert(into.se.end(), from.se.begin(), from.se.end());
      into.theta.insert(into.theta.end(), from.theta.begin(), from.theta.end());
    }
  }
  return merged;
}

BootstrapSummary JointInference(const std::vector<Report*>& cells, const BootstrapOptions* bootstrap, bool joint,
                                const std::vector<std::string>& p_adjust) {
  Report merged = MergeReports(std::vector<const Report*>(cells.begin(), cells.end()));
  if (bootstrap != nullptr) Bootstrap(&merged, *bootstrap, joint);
  if (!p_adjust.empty()) AdjustPValues(&merged, p_adjust);
  std::size_t at = 0;
  for (Report* cell : cells) {
    for (EstimateResult& res : cell->estimates) {
      const EstimateResult& from = merged.estimates[at++];
      res.has_joint = from.has_joint;
      res.joint_ci_lower = from.joint_ci_lower;
      res.joint_ci_upper = from.joint_ci_upper;
      res.p_adjusted = from.p_adjusted;
    }
  }
  return merged.bootstrap;
}

}  // namespace fastdml
