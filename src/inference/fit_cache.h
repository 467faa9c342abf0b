// What re-estimation reads from a fit that no re-estimation setting (estimand,
// clip, normalize_ipw, level) changes, computed once when the fit is made
// (FitNuisances, FitFromPredictions) and kept with it (Fit::cache): the
// sorted propensities behind the overlap diagnostics, the separation and
// feature-equals-treatment checks and the naive difference. Estimate then
// costs the score passes alone; the clipped counts are binary searches, the
// IPW weights' effective sample size a pass over the propensity tails.
// Memory: O(reps) besides the propensity tails.
//
// What enters the scores themselves is never cached: sample weights and
// cluster ids are read from the Dataset at every Estimate (one pass each,
// and only when given), so re-weighting or re-clustering a Dataset in place
// cannot meet a stale value. The cache holds only what the fit's own data
// (X, y, d and the predictions) decide.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fastdml/dataset.h"
#include "fastdml/estimator.h"
#include "inference/balance.h"

namespace fastdml {

struct FitCache {
  // The arrays the cache was computed from (addresses and sizes, and the
  // feature count): a Fit or Dataset copied, or other data passed to
  // Estimate, does not match and gets a fresh cache. Changing X, y, d or the
  // predictions in place is the caller's to avoid (they make the fit; as for
  // Fit::device_predictions: reset Fit::cache).
  static constexpr int kKeys = 8;
  const void* key[kKeys] = {};
  std::size_t key_size[kKeys] = {};

  bool binary_d = false;
  std::string same_as_d;  // features equal to D or 1 - D, quoted ("" when none)
  // Binary D: the overlap of all reps' propensities (min, max, quantiles at
  // kOverlapProbs), and per repetition r and arm a (index 2 r + a, a = D) the
  // tails below kTail and above 1 - kTail, each sorted, for the clipped
  // counts at clip <= kTail by binary search, with the sums of the arm's IPW
  // weight and its square over the rows between the tails, which no clip <=
  // kTail moves: the IPW weights' effective sample size is then a pass over
  // the tails alone (a larger clip, or sample weights, take one pass over
  // pred.m). The tails, not all n x reps values, so the cache stays small
  // where the propensities overlap.
  static constexpr double kTail = 0.1;
  struct ArmTails {
    std::vector<double> low, high;  // sorted: m < kTail, m > 1 - kTail
    double mid_w = 0, mid_w2 = 0;   // the others: sum of the weight and of its square
  };
  // min, max, quantiles, and per arm the quantiles and histogram (the
  // clipped counts and ESS are per clip)
  Overlap overlap;
  std::vector<ArmTails> tails;  // index 2 r + a
  std::size_t degenerate = 0;  // propensities outside (0, 1): the unclipped IPW guard
  int separated_rep = -1;      // the first repetition whose propensities separate D perfectly
  NaiveDifference naive;       // NaiveDifferenceOf(data)
  // IRM predictions (g0, g1 given), binary D: covariate balance (balance.h)
  // without sample weights. The raw moments, and the ATE and ATT weighted
  // sums over the rows whose propensity lies in [kTail, 1 - kTail] in every
  // repetition (no clip <= kTail moves their weights); balance_tail_rows
  // lists the others, which Balance adds at the clip asked for. A
  // re-estimate then passes over X's tail rows only.
  BalanceMoments balance_raw;
  BalanceSums balance_mid_ate, balance_mid_att;
  std::vector<std::size_t> balance_tail_rows;

  bool Matches(const Dataset& data, const Predictions& pred) const;
  // Per repetition, for the IRM scores' propensities clipped to [clip,
  // 1 - clip]: the rows with m < clip and m > 1 - clip, and Kish's effective
  // sample size of the ATE's inverse-propensity weights, (sum w)^2 / sum w^2
  // within each arm (treated w = u / m, control w = u / (1 - m), m clipped),
  // summed over the two arms: n for any constant propensity, however
  // unbalanced the arms, and lower as the weights within an arm spread (Kish
  // 1965, Survey Sampling; docs/reliability.md,
  // W-EXTREME-PROPENSITY). `uw`: the mean-one sample weights u (empty: 1).
  struct IpwRep {
    std::size_t clipped_low = 0, clipped_high = 0;
    double ess = 0;          // ess_arm[0] + ess_arm[1]
    double ess_arm[2] = {};  // per arm: control, treated
  };
  std::vector<IpwRep> Ipw(const Dataset& data, const Predictions& pred, const std::vector<double>& uw,
                          double clip) const;
  // IRM: every feature's SMD, raw and IPW-weighted with the propensities
  // clipped to [clip, 1 - clip] (balance.h), from the cached sums when `uw`
  // is empty and clip <= kTail, else from one pass over all rows.
  std::vector<FeatureBalance> Balance(const Dataset& data, const Predictions& pred, const std::vector<double>& uw,
                                      double clip) const;
};

// The naive comparison of Y between the arms (estimate.cc): data only.
NaiveDifference NaiveDifferenceOf(const Dataset& data);

std::shared_ptr<const FitCache> MakeFitCache(const Dataset& data, const Predictions& pred);

// fit.cache when it was made from these arrays, else a new cache in *local.
const FitCache& CacheFor(const Dataset& data, const Fit& fit, std::shared_ptr<const FitCache>* local);

}  // namespace fastdml
