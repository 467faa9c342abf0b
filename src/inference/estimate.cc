// Inference from stored out-of-fold predictions: scores, theta, SE, CI per
// repetition, aggregated across repetitions as DoubleML does, plus the naive
// comparison and overlap diagnostics. No nuisance model is refitted here.
#include <algorithm>
#include <chrono>
#include <memory>
#include <cstdio>
#include <cmath>
#include <optional>
#include <string>

#include "cpu/scores.h"
#include "cuda/device.h"
#include "cuda/scores.h"  // ScoreSession (stubs without CUDA)
#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "fastdml/warnings.h"
#include "inference/aggregate.h"
#include "inference/cluster.h"
#include "inference/fit_cache.h"
#include "inference/format.h"
#include "inference/naive.h"
#include "inference/normal.h"
#include "ops/scores.h"

namespace fastdml {
namespace {

using inference::FormatNumber;

// IRM: every feature's SMD (balance.h) and W-IMBALANCE for the features
// that the weights of the report's estimands leave above kMaxAbsSmd: the ATE
// weights when "ate" is asked for, the ATT weights when "att" is (the ATE
// weights when neither is).
void Balance(const Dataset& data, const Predictions& pred, const std::vector<double>& uw, const FitCache& cache,
             const Options& options, Report* report) {
  report->balance = cache.Balance(data, pred, uw, options.clip);
  bool ate = false, att = false;
  for (Estimand e : options.estimands) ate |= e == Estimand::kAte, att |= e == Estimand::kAtt;
  if (!ate && !att) ate = true;
  std::vector<const FeatureBalance*> above;
  for (const FeatureBalance& b : report->balance) {
    // !(x <= t): NaN and infinite SMDs count as imbalanced.
    if ((ate && !(std::fabs(b.smd_ate) <= kMaxAbsSmd)) || (att && !(std::fabs(b.smd_att) <= kMaxAbsSmd))) {
      above.push_back(&b);
    }
  }
  if (above.empty()) return;
  auto worst = [&](const FeatureBalance* b) {
    const double v = std::max(ate ? std::fabs(b->smd_ate) : 0.0, att ? std::fabs(b->smd_att) : 0.0);
    return std::isnan(v) ? HUGE_VAL : v;
  };
  std::stable_sort(above.begin(), above.end(),
                   [&](const FeatureBalance* a, const FeatureBalance* b) { return worst(a) > worst(b); });
  std::string list;
  char value[96];
  for (std::size_t q = 0; q < above.size() && q < 10; ++q) {
    const FeatureBalance& b = *above[q];
    if (ate && att) {
      std::snprintf(value, sizeof value, " (raw %.3g, ATE-weighted %.3g, ATT-weighted %.3g)", b.smd_raw, b.smd_ate,
                    b.smd_att);
    } else {
      std::snprintf(value, sizeof value, " (raw %.3g, %s-weighted %.3g)", b.smd_raw, ate ? "ATE" : "ATT",
                    ate ? b.smd_ate : b.smd_att);
    }
    list += (q ? ", '" : "'") + b.feature + "'" + value;
  }
  if (above.size() > 10) list += ", ... (" + std::to_string(above.size()) + " in all)";
  report->warnings.push_back(
      std::string(kWarnImbalance) + ": " + std::to_string(above.size()) + " of " + std::to_string(data.p) +
      " features keep a standardized mean difference above " + FormatNumber(kMaxAbsSmd) +
      " after inverse-propensity weighting: " + list +
      ". The propensity model does not balance them, so the estimate leans on the outcome model for them; give "
      "the propensity model the capacity to fit them (--tune, or more --propensity-rounds or a larger "
      "--propensity-max-depth), check the overlap (W-EXTREME-PROPENSITY; weights clipped at --clip cannot "
      "balance), and report diagnostics.balance with the estimate");
}

}  // namespace

// The naive comparison, computed once per fit (fit_cache.h).
NaiveDifference NaiveDifferenceOf(const Dataset& data) {
  return NaiveComparison(data.y, data.d, IsBinaryTreatment(data.d));
}

Report Estimate(const Dataset& data, const Fit& fit, const Options& options) {
  const auto t0 = std::chrono::steady_clock::now();
  options.Validate();
  const Predictions& pred = fit.predictions;
  const std::size_t n = pred.n;
  const bool irm = fit.options.model == Model::kIrm;
  if (options.model != fit.options.model) {
    throw UsageError(std::string("--model ") + ToString(options.model) + ": the fit was made for " +
                     ToString(fit.options.model) + "; refit to change the model");
  }
  if (n != data.n) throw Error("internal: predictions and data differ in rows");
  const bool use_cuda = fit.options.device.is_cuda();
  const cuda::DeviceScope on_device(fit.options.device);  // "cuda:N": that GPU

  // Sample weights rescaled to mean 1 (DoubleML expects normalised weights).
  if (!data.weights.empty() && !irm) {
    throw UsageError("--weights: sample weights apply to the IRM model only (as in DoubleML)");
  }
  // What no setting here changes was computed with the fit (fit_cache.h).
  std::shared_ptr<const FitCache> local_cache;
  const FitCache& cache = CacheFor(data, fit, &local_cache);
  const std::vector<double> uw = MeanOneWeights(data.weights);  // read now: may change between estimates

  Report report;
  report.level = options.level;

  // A feature equal to D (or 1 - D) predicts the treatment by construction.
  const std::string& same_as_d = cache.same_as_d;
  if (!same_as_d.empty()) {
    report.warnings.push_back(std::string(kWarnFeatureIsTreatment) + ": feature(s) " + same_as_d +
                              " identical to the treatment '" + data.treatment_name +
                              "' in every row: perfect prediction of D, no overlap; drop it from the features");
  }

  // A nuisance no better than predicting its training folds' mean.
  for (const NuisanceQuality& q : fit.quality) {
    if (!(q.value > q.constant && q.worse_t > kWorseThanConstantT)) continue;  // NaN: no baseline, no warning
    const bool propensity = q.name == "m";
    char losses[128];
    std::snprintf(losses, sizeof losses, "%.4g, above the %.4g (by %.1f standard errors)", q.value, q.constant,
                  q.worse_t);
    report.warnings.push_back(
        std::string(kWarnWorseThanConstant) + ": the out-of-fold " + q.metric + " of the " +
        (propensity ? "propensity model m" : "outcome model " + q.name) + " is " + losses +
        " of a constant model (each fold predicted by its training folds' mean): it overfits, or its features "
        "carry no signal for it, and its noise widens the interval; tune it (--tune), or use fewer rounds or "
        "shallower, more regularised trees (" + (propensity ? "--propensity-rounds, --propensity-max-depth, "
                                              "--propensity-min-child-weight"
                                            : "--outcome-rounds, --outcome-max-depth, --outcome-min-child-weight") +
        ")");
  }

  // Overlap diagnostics and the 0/1-propensity guard (binary treatment only).
  const bool binary_d = cache.binary_d;
  if (binary_d) {
    const std::vector<double>& m = pred.m;
    // IRM: per repetition, the clipped rows and the IPW weights' effective
    // sample size (fit_cache.h); the counts of all repetitions for W-OVERLAP.
    const std::vector<FitCache::IpwRep> ipw =
        irm ? cache.Ipw(data, pred, uw, options.clip) : std::vector<FitCache::IpwRep>();
    std::size_t low = 0, high = 0;
    for (const FitCache::IpwRep& rep : ipw) low += rep.clipped_low, high += rep.clipped_high;
    if (irm && options.clip == 0 && cache.degenerate > 0) {
      std::vector<std::size_t> degenerate;  // indices r * n + i with m at 0 or 1
      for (std::size_t k = 0; k < m.size(); ++k) {
        if (!(m[k] > 0 && m[k] < 1)) degenerate.push_back(k);
      }
      // Unclipped IPW divides by m and 1 - m: name the rows instead of
      // returning an infinite estimate.
      std::string rows;
      for (std::size_t q = 0; q < std::min<std::size_t>(degenerate.size(), 5); ++q) {
        const std::size_t kq = degenerate[q];
        rows += (q ? ", row " : "row ") + std::to_string(kq % n + 1) + " (repetition " + std::to_string(kq / n) +
                ", propensity " + std::to_string(m[kq]) + ")";
      }
      throw DataError(std::to_string(degenerate.size()) +
                      " out-of-fold propensities are 0 or 1, which makes the IPW score infinite; data " + rows +
                      (degenerate.size() > 5 ? ", ..." : "") +
                      ". The features predict the treatment; keep clipping on (--clip > 0) or drop those features");
    }
    // Perfect separation: every treated row's propensity above every control
    // row's, so no treated row has a comparable control.
    if (cache.separated_rep >= 0) {
      report.warnings.push_back(std::string(kWarnSeparation) +
                                ": the out-of-fold propensities separate treated from control rows perfectly"
                                " (repetition " + std::to_string(cache.separated_rep) +
                                "): the features predict the treatment, there is no overlap and the "
                                "estimate rests on the clipping bounds");
    }
    report.overlap.min = cache.overlap.min;
    report.overlap.max = cache.overlap.max;
    report.overlap.quantiles = cache.overlap.quantiles;
    report.overlap.quantiles_treated = cache.overlap.quantiles_treated;
    report.overlap.quantiles_control = cache.overlap.quantiles_control;
    report.overlap.histogram_treated = cache.overlap.histogram_treated;
    report.overlap.histogram_control = cache.overlap.histogram_control;
    if (irm) {
      report.overlap.clipped_low = low;
      report.overlap.clipped_high = high;
      report.overlap.share_clipped = static_cast<double>(low + high) / m.size();
      if (report.overlap.share_clipped > kMaxClippedShare) {
        char share[32];
        std::snprintf(share, sizeof share, "%.1f%%", 100 * report.overlap.share_clipped);
        report.warnings.push_back(std::string(kWarnOverlap) + ": " + share + " of propensities (" +
                                  std::to_string(low) + " low, " + std::to_string(high) +
                                  " high) were clipped to [" + FormatNumber(options.clip) + ", " +
                                  FormatNumber(1 - options.clip) + "], more than " +
                                  FormatNumber(100 * kMaxClippedShare) +
                                  "%; estimates lean on few comparable rows");
      }
      // The worst repetition: the most rows clipped, the smallest ESS.
      Overlap& ov = report.overlap;
      ov.has_ipw = true;
      const FitCache::IpwRep* worst = ipw.empty() ? nullptr : &ipw[0];
      for (const FitCache::IpwRep& rep : ipw) {
        ov.clipped_worst_rep = std::max(ov.clipped_worst_rep, rep.clipped_low + rep.clipped_high);
        if (rep.ess < worst->ess) worst = &rep;  // the first of equal ones
      }
      if (worst) {
        ov.ipw_ess = worst->ess;
        ov.ipw_ess_control = worst->ess_arm[0];
        ov.ipw_ess_treated = worst->ess_arm[1];
      }
      ov.share_clipped_worst_rep = static_cast<double>(ov.clipped_worst_rep) / n;
      ov.ipw_ess_share = ov.ipw_ess / n;
      if (ov.share_clipped_worst_rep > kExtremeClippedShare || ov.ipw_ess_share < kMinIpwEssShare) {
        char text[512];
        std::snprintf(text, sizeof text,
                      ": %zu of %zu rows (%.1f%%) have their propensity clipped to [%s, %s], and the inverse-"
                      "propensity weights' effective sample size is %.0f of %zu (%.1f%%)%s; warned above %s%% "
                      "clipped or below %s%% effective",
                      ov.clipped_worst_rep, n, 100 * ov.share_clipped_worst_rep, FormatNumber(options.clip).c_str(),
                      FormatNumber(1 - options.clip).c_str(), ov.ipw_ess, n, 100 * ov.ipw_ess_share,
                      pred.reps > 1 ? ", each in its worst repetition" : "",
                      FormatNumber(100 * kExtremeClippedShare).c_str(), FormatNumber(100 * kMinIpwEssShare).c_str());
        report.warnings.push_back(
            std::string(kWarnExtremePropensity) + text +
            ". A few rows with extreme propensities carry the estimate, which widens the interval and makes it "
            "unstable. Regularise the propensity model (--tune, or a smaller --propensity-max-depth and a larger "
            "--propensity-min-child-weight), or bound the weights with a larger --clip (trimming, at the price of "
            "some bias)");
      }
      Balance(data, pred, uw, cache, options, &report);
    }
  }

  const int k = static_cast<int>(options.estimands.size());
  const bool clustered = !data.cluster.empty();
  report.scores.resize(pred.reps);
  for (ScoreBlock& block : report.scores) {
    block.n = n;
    block.k = k;
    block.psi.resize(static_cast<std::size_t>(k) * n);
    block.j.resize(k);
    block.se.resize(k);
    block.theta.resize(k);
    block.cluster = data.cluster;
    block.n_clusters = data.n_clusters;
  }
  std::vector<EstimateResult> results(k);
  for (int e_index = 0; e_index < k; ++e_index) results[e_index].estimand = ToString(options.estimands[e_index]);

  // On a GPU the session uploads y, d and the weights once and reads the
  // predictions where the fit left them; scores and their sums stay there.
  std::optional<cuda::ScoreSession> session;
  if (use_cuda) {
    session.emplace(n, k, data.y.data(), data.d.data(), uw.empty() ? nullptr : uw.data(), pred,
                    fit.device_predictions);
  }
  // Host psi_a/psi_b: the CPU scores, and the cluster solve on either device
  // (a GPU session without clusters keeps them on the device).
  const std::size_t host_parts = session && !clustered ? 0 : n;
  // Every row is written before it is read: no zero fill (a pass over 2 x 8n bytes).
  const std::unique_ptr<double[]> psi_a(new double[host_parts]), psi_b(new double[host_parts]);
  for (int r = 0; r < pred.reps; ++r) {
    const std::size_t off = static_cast<std::size_t>(r) * n;
    ScoreBlock& block = report.scores[r];
    for (int e_index = 0; e_index < k; ++e_index) {
      const ScoreSpec spec = options.Score(options.estimands[e_index]);
      double* psi = block.psi.data() + static_cast<std::size_t>(e_index) * n;
      ops::ScoreSolution sol{};
      if (session) {
        sol = session->Solve(r, e_index, spec, psi, clustered ? psi_a.get() : nullptr,
                             clustered ? psi_b.get() : nullptr);
      } else {
        if (irm) {
          cpu::IrmScores(IrmArgsOf(data, pred, r, uw, spec), psi_a.get(), psi_b.get());
        } else {
          cpu::PlrScores(PlrArgsOf(data, pred, r), psi_a.get(), psi_b.get());
        }
        sol = cpu::SolveScore(psi_a.get(), psi_b.get(), n, psi);
      }
      if (!(std::fabs(sol.j) > 0)) {
        throw DataError(std::string("the score's Jacobian mean(psi_a) is 0: the treatment has no variation left "
                                    "after partialling out the features (is a feature equal to the treatment?)") +
                        (same_as_d.empty() ? "" : "; feature(s) " + same_as_d + " equal the treatment"));
      }
      // j stays the row mean of psi_a with clusters too: the bootstrap's
      // scaling (n J se) then gives t* unit variance.
      if (clustered) {
        // One-way cluster-robust theta and SE exactly as DoubleML computes them.
        const ClusterSolution cs = SolveScoreClustered(psi_a.get(), psi_b.get(), n, data.cluster.data(),
                                                       data.n_clusters, pred.fold.data() + off, fit.options.folds);
        sol.theta = cs.theta;
        sol.se = cs.se;
        for (std::size_t i = 0; i < n; ++i) psi[i] = sol.theta * psi_a[i] + psi_b[i];
      }
      if (!std::isfinite(sol.theta) || !std::isfinite(sol.se)) {
        throw DataError(std::string("the ") + results[e_index].estimand + " score is not finite in repetition " +
                        std::to_string(r) + ": check for extreme propensities or outcomes");
      }
      results[e_index].theta_reps.push_back(sol.theta);
      results[e_index].se_reps.push_back(sol.se);
      block.j[e_index] = sol.j;
      block.se[e_index] = sol.se;
      block.theta[e_index] = sol.theta;
    }
    // The device psi equals block.psi unless the cluster solve moved theta
    // (then psi was recombined on the host and the bootstrap uploads it).
    if (session && !clustered) block.device_scores = session->Scores(r);
  }

  // Aggregated over repetitions as DoubleML's model objects report it
  // (double_ml.py pval and summary; DoubleMLFramework.confint).
  for (EstimateResult& res : results) {
    inference::FinishInto(&res, options.level);
    report.estimates.push_back(res);
  }
  report.naive = cache.naive;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace fastdml
