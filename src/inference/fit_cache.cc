#include "inference/fit_cache.h"

#include <algorithm>
#include <cmath>

#include "fastdml/error.h"

namespace fastdml {
namespace {

// Names (quoted, comma-separated) of the features equal to d or 1 - d in
// every row; empty when none. Stops at a feature's first differing row.
std::string FeaturesEqualToTreatment(const Dataset& data) {
  std::string names;
  const bool binary = IsBinaryTreatment(data.d);
  for (std::size_t j = 0; j < data.p; ++j) {
    bool same = true, flipped = binary;
    for (std::size_t i = 0; i < data.n && (same || flipped); ++i) {
      const float x = data.x[i * data.p + j];
      same = same && x == static_cast<float>(data.d[i]);
      flipped = flipped && x == static_cast<float>(1.0 - data.d[i]);
    }
    if (same || flipped) {
      const std::string name = j < data.feature_names.size() ? data.feature_names[j] : "x" + std::to_string(j + 1);
      names += (names.empty() ? "'" : ", '") + name + "'" + (same ? "" : " (as 1 - D)");
    }
  }
  return names;
}

template <typename T>
void SetKey(FitCache* c, int slot, const std::vector<T>& v) {
  c->key[slot] = v.data();
  c->key_size[slot] = v.size();
}

void Keys(const Dataset& data, const Predictions& pred, FitCache* c) {
  SetKey(c, 0, data.x);
  SetKey(c, 1, data.y);
  SetKey(c, 2, data.d);
  SetKey(c, 3, pred.m);
  SetKey(c, 4, pred.g0);
  SetKey(c, 5, pred.g1);
  SetKey(c, 6, pred.fold);
  SetKey(c, 7, data.feature_names);  // same_as_d names them
  c->key_size[7] = data.p;
}

}  // namespace

bool FitCache::Matches(const Dataset& data, const Predictions& pred) const {
  FitCache now;
  Keys(data, pred, &now);
  // pred.l is not keyed: nothing here reads it.
  return std::equal(std::begin(key), std::end(key), std::begin(now.key)) &&
         std::equal(std::begin(key_size), std::end(key_size), std::begin(now.key_size));
}

namespace {

// One arm's sums for Kish's effective sample size, (sum w)^2 / sum w^2. Long
// double: with --clip 0 a propensity of 1e-200 squares past double's range.
struct Kish {
  long double w = 0, w2 = 0;
  void Add(long double v) { w += v, w2 += v * v; }
  double Ess() const { return w2 > 0 ? static_cast<double>(w * w / w2) : 0.0; }
};

// The ATE's IPW weight of a row of arm d (1 treated, 0 control), clipped
// as the IRM score clips it (DoubleML's clipping_threshold).
long double ArmWeight(double m, double d, double clip) {
  const long double mc = std::min(std::max(m, clip), 1 - clip);
  return d == 1.0 ? 1 / mc : 1 / (1 - mc);
}

// One repetition's pass over all rows: the counts and the two arms' sums.
FitCache::IpwRep IpwPass(const double* m, const double* d, const double* u, std::size_t n, double clip) {
  FitCache::IpwRep rep;
  Kish arm[2];
  for (std::size_t i = 0; i < n; ++i) {
    rep.clipped_low += m[i] < clip;
    rep.clipped_high += m[i] > 1 - clip;
    arm[d[i] == 1.0].Add((u ? u[i] : 1.0) * ArmWeight(m[i], d[i], clip));
  }
  rep.ess_arm[0] = arm[0].Ess();
  rep.ess_arm[1] = arm[1].Ess();
  rep.ess = rep.ess_arm[0] + rep.ess_arm[1];
  return rep;
}

}  // namespace

std::vector<FitCache::IpwRep> FitCache::Ipw(const Dataset& data, const Predictions& pred,
                                            const std::vector<double>& uw, double clip) const {
  const std::size_t n = pred.n;
  std::vector<IpwRep> reps(pred.reps);
  if (clip > kTail || !uw.empty() || tails.size() != 2 * reps.size()) {
    for (int r = 0; r < pred.reps; ++r) {
      reps[r] = IpwPass(pred.m.data() + static_cast<std::size_t>(r) * n, data.d.data(),
                        uw.empty() ? nullptr : uw.data(), n, clip);
    }
    return reps;
  }
  // clip <= kTail: every m < clip lies in a low tail, every m > 1 - clip in a
  // high one, and the rows between the tails keep their weights.
  for (int r = 0; r < pred.reps; ++r) {
    for (int a = 0; a < 2; ++a) {
      const ArmTails& t = tails[2 * r + a];
      reps[r].clipped_low +=
          static_cast<std::size_t>(std::lower_bound(t.low.begin(), t.low.end(), clip) - t.low.begin());
      reps[r].clipped_high +=
          static_cast<std::size_t>(t.high.end() - std::upper_bound(t.high.begin(), t.high.end(), 1 - clip));
      Kish arm;
      arm.w = t.mid_w;
      arm.w2 = t.mid_w2;
      for (double m : t.low) arm.Add(ArmWeight(m, a, clip));
      for (double m : t.high) arm.Add(ArmWeight(m, a, clip));
      reps[r].ess_arm[a] = arm.Ess();
      reps[r].ess += reps[r].ess_arm[a];
    }
  }
  return reps;
}

std::vector<FeatureBalance> FitCache::Balance(const Dataset& data, const Predictions& pred,
                                              const std::vector<double>& uw, double clip) const {
  BalanceSums ate, att;
  if (uw.empty() && clip <= kTail && balance_raw.mean.size() == 2 * data.p) {
    ate = balance_mid_ate;
    att = balance_mid_att;
    AddIpwRows(data, pred, uw, clip, balance_tail_rows.data(), balance_tail_rows.size(), &ate, &att);
    return BalanceOf(data, balance_raw, ate, att);
  }
  ate.Resize(data.p);
  att.Resize(data.p);
  AddIpwRows(data, pred, uw, clip, nullptr, 0, &ate, &att);
  return BalanceOf(data, RawBalanceMoments(data, uw), ate, att);
}

namespace {

// Per arm: quantiles at kOverlapProbs of the sorted values and their
// kOverlapBins-bin histogram on [0, 1] (Overlap::histogram_treated).
void ArmDistribution(const std::vector<double>& sorted, std::vector<double>* quantiles,
                     std::vector<std::size_t>* histogram) {
  if (!sorted.empty()) {
    for (double q : kOverlapProbs) {
      quantiles->push_back(sorted[static_cast<std::size_t>(q * (sorted.size() - 1) + 0.5)]);
    }
  }
  histogram->assign(kOverlapBins, 0);
  for (double m : sorted) {
    if (!(m >= 0 && m <= 1)) continue;  // not a probability: in no bin
    // Bin k: edge(k) <= m < edge(k + 1) with edge(k) = k / kOverlapBins, the
    // edges the JSON writes; the product only guesses k, the edges decide.
    auto edge = [](int k) { return static_cast<double>(k) / kOverlapBins; };
    int k = std::min(static_cast<int>(m * kOverlapBins), kOverlapBins - 1);
    while (k > 0 && m < edge(k)) --k;
    while (k < kOverlapBins - 1 && m >= edge(k + 1)) ++k;
    ++(*histogram)[k];
  }
}

}  // namespace

std::shared_ptr<const FitCache> MakeFitCache(const Dataset& data, const Predictions& pred) {
  auto c = std::make_shared<FitCache>();
  Keys(data, pred, c.get());
  const std::size_t n = pred.n;
  c->binary_d = IsBinaryTreatment(data.d);
  c->same_as_d = FeaturesEqualToTreatment(data);
  c->naive = NaiveDifferenceOf(data);
  if (c->binary_d && n == data.n) {
    c->tails.resize(2 * static_cast<std::size_t>(pred.reps));
    for (int r = 0; r < pred.reps; ++r) {
      for (std::size_t i = 0; i < n; ++i) {
        const double m = pred.m[static_cast<std::size_t>(r) * n + i];
        FitCache::ArmTails& t = c->tails[2 * r + (data.d[i] == 1.0)];
        if (!(m > 0 && m < 1)) ++c->degenerate;
        if (m < FitCache::kTail) {
          t.low.push_back(m);
        } else if (m > 1 - FitCache::kTail) {
          t.high.push_back(m);
        } else {
          const double w = data.d[i] == 1.0 ? 1 / m : 1 / (1 - m);  // no clip <= kTail moves it
          t.mid_w += w;
          t.mid_w2 += w * w;
        }
      }
    }
    for (FitCache::ArmTails& t : c->tails) {
      std::sort(t.low.begin(), t.low.end());
      std::sort(t.high.begin(), t.high.end());
    }
    if (!pred.m.empty()) {  // the overlap as Estimate computed it: quantiles of all values, sorted
      // Each arm's values sorted (their distributions), then merged: all values sorted.
      std::vector<double> arm[2];
      for (int r = 0; r < pred.reps; ++r) {
        for (std::size_t i = 0; i < n; ++i) arm[data.d[i] == 1.0].push_back(pred.m[static_cast<std::size_t>(r) * n + i]);
      }
      std::sort(arm[0].begin(), arm[0].end());
      std::sort(arm[1].begin(), arm[1].end());
      ArmDistribution(arm[1], &c->overlap.quantiles_treated, &c->overlap.histogram_treated);
      ArmDistribution(arm[0], &c->overlap.quantiles_control, &c->overlap.histogram_control);
      std::vector<double> sorted(arm[0].size() + arm[1].size());
      std::merge(arm[0].begin(), arm[0].end(), arm[1].begin(), arm[1].end(), sorted.begin());
      c->overlap.min = sorted.front();
      c->overlap.max = sorted.back();
      for (double q : kOverlapProbs) {
        c->overlap.quantiles.push_back(sorted[static_cast<std::size_t>(q * (sorted.size() - 1) + 0.5)]);
      }
    }
    for (int r = 0; r < pred.reps && c->separated_rep < 0; ++r) {
      // Perfect separation: every treated row's propensity above every
      // control row's, so no treated row has a comparable control.
      double max_control = -1, min_treated = 2;
      for (std::size_t i = 0; i < n; ++i) {
        const double mi = pred.m[static_cast<std::size_t>(r) * n + i];
        if (data.d[i] == 1.0) {
          min_treated = std::min(min_treated, mi);
        } else {
          max_control = std::max(max_control, mi);
        }
      }
      if (max_control < min_treated) c->separated_rep = r;
    }
    if (!pred.g0.empty() && !pred.g1.empty() && pred.m.size() == n * static_cast<std::size_t>(pred.reps)) {
      // IRM balance: the rows whose weights no clip <= kTail moves, summed once.
      std::vector<std::size_t> mid;
      for (std::size_t i = 0; i < n; ++i) {
        bool inside = true;
        for (int r = 0; r < pred.reps && inside; ++r) {
          const double m = pred.m[static_cast<std::size_t>(r) * n + i];
          inside = m >= FitCache::kTail && m <= 1 - FitCache::kTail;
        }
        (inside ? mid : c->balance_tail_rows).push_back(i);
      }
      c->balance_raw = RawBalanceMoments(data, {});
      c->balance_mid_ate.Resize(data.p);
      c->balance_mid_att.Resize(data.p);
      AddIpwRows(data, pred, {}, FitCache::kTail, mid.data(), mid.size(), &c->balance_mid_ate,
                 &c->balance_mid_att);
    }
  }
  return c;
}

const FitCache& CacheFor(const Dataset& data, const Fit& fit, std::shared_ptr<const FitCache>* local) {
  if (fit.cache && fit.cache->Matches(data, fit.predictions)) return *fit.cache;
  *local = MakeFitCache(data, fit.predictions);
  return **local;
}

}  // namespace fastdml
