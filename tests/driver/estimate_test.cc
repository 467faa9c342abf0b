// Inference from given predictions, checked against formulas evaluated here
// independently (docs/design.md section 2) and against closed forms.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "driver/quality.h"
#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "fastdml/warnings.h"
#include "inference/normal.h"

namespace fastdml {
namespace {

struct Synthetic {
  Dataset data;
  Predictions pred;
};

Synthetic MakeSynthetic(std::size_t n, int reps, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> z(0, 1);
  Synthetic s;
  s.data.n = n;
  s.data.p = 1;
  s.data.x.assign(n, 0.0f);
  s.data.feature_names = {"x"};
  for (std::size_t i = 0; i < n; ++i) {
    s.data.d.push_back(u(rng) < 0.4 ? 1.0 : 0.0);
    s.data.y.push_back(1.0 + 2.0 * s.data.d.back() + z(rng));
  }
  s.data.d[0] = 1;
  s.data.d[1] = 0;
  s.pred.n = n;
  s.pred.reps = reps;
  for (int r = 0; r < reps; ++r) {
    for (std::size_t i = 0; i < n; ++i) {
      s.pred.fold.push_back(static_cast<int>((i + r) % 2));
      s.pred.m.push_back(0.003 + 0.994 * u(rng));  // some beyond the 0.01 clip
      s.pred.g0.push_back(1.0 + 0.3 * z(rng));
      s.pred.g1.push_back(3.0 + 0.3 * z(rng));
      s.pred.l.push_back(1.8 + 0.3 * z(rng));
    }
  }
  return s;
}

// Direct transcription of docs/design.md section 2 for one repetition.
void Reference(const Synthetic& s, int r, bool att, bool normalize, double clip, double* theta, double* se) {
  const std::size_t n = s.data.n;
  std::vector<double> m(n);
  double s1 = 0, s0 = 0, p = 0;
  for (std::size_t i = 0; i < n; ++i) {
    m[i] = std::min(std::max(s.pred.m[r * n + i], clip), 1 - clip);
    s1 += s.data.d[i] / m[i];
    s0 += (1 - s.data.d[i]) / (1 - m[i]);
    p += s.data.d[i];
  }
  p /= n;
  std::vector<double> a(n), b(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double d = s.data.d[i], y = s.data.y[i], g0 = s.pred.g0[r * n + i], g1 = s.pred.g1[r * n + i];
    double ipw1 = d / m[i], ipw0 = (1 - d) / (1 - m[i]);
    if (normalize) {
      ipw1 /= s1 / n;
      ipw0 /= s0 / n;
    }
    if (!att) {
      a[i] = -1;
      b[i] = g1 - g0 + ipw1 * (y - g1) - ipw0 * (y - g0);
    } else {
      // ATT with the (possibly normalised) m~ : D(Y-g0)/p - m~(1-D)(Y-g0)/(p(1-m~)).
      const double mt = normalize ? d * m[i] * (s1 / n) + (1 - d) * (1 - (1 - m[i]) * (s0 / n)) : m[i];
      a[i] = -d / p;
      b[i] = d * (y - g0) / p - mt * (1 - d) * (y - g0) / (p * (1 - mt));
    }
  }
  double sa = 0, sb = 0;
  for (std::size_t i = 0; i < n; ++i) sa += a[i], sb += b[i];
  *theta = -sb / sa;
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) ss += std::pow(*theta * a[i] + b[i], 2);
  const double j = sa / n;
  *se = std::sqrt(ss / n / (j * j) / n);
}

Options IrmOptions(bool normalize) {
  Options o;
  o.model = Model::kIrm;
  o.normalize_ipw = normalize;
  return o;
}

TEST(Estimate, IrmAteAndAttMatchTheReferenceFormulas) {
  const Synthetic s = MakeSynthetic(3000, 1, 1);
  for (bool normalize : {false, true}) {
    const Options o = IrmOptions(normalize);
    const Fit fit = FitFromPredictions(s.data, o, s.pred);
    const Report rep = Estimate(s.data, fit, o);
    ASSERT_EQ(rep.estimates.size(), 2u);
    for (int k = 0; k < 2; ++k) {
      double theta, se;
      Reference(s, 0, k == 1, normalize, 0.01, &theta, &se);
      EXPECT_NEAR(rep.estimates[k].estimate, theta, 1e-12 * std::fabs(theta)) << "normalize=" << normalize;
      EXPECT_NEAR(rep.estimates[k].se, se, 1e-12 * se);
    }
  }
}

TEST(Estimate, RepetitionsAggregateByMedianThetaAndMedianUpperBound) {
  const Synthetic s = MakeSynthetic(2000, 3, 2);
  const Options o = IrmOptions(false);
  const Report rep = Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
  const EstimateResult& ate = rep.estimates[0];
  std::vector<double> th(3), up(3);
  for (int r = 0; r < 3; ++r) {
    double se;
    Reference(s, r, false, false, 0.01, &th[r], &se);
    up[r] = th[r] + 1.96 * se;
    EXPECT_NEAR(ate.theta_reps[r], th[r], 1e-12);
  }
  std::sort(th.begin(), th.end());
  std::sort(up.begin(), up.end());
  EXPECT_NEAR(ate.estimate, th[1], 1e-12);
  EXPECT_NEAR(ate.se, (up[1] - th[1]) / 1.96, 1e-12);
}

// Fit::cache (computed when the fit is made) must change no number: the same
// reports with the cache, without it, and for other data passed to Estimate.
std::vector<std::string> WithoutNuisanceWarnings(std::vector<std::string> w) {
  w.erase(std::remove_if(w.begin(), w.end(),
                         [](const std::string& s) { return s.rfind(kWarnWorseThanConstant, 0) == 0; }),
          w.end());
  return w;
}

// Kish's effective sample size of repetition r's clipped ATE weights, as
// docs/reliability.md defines it (W-EXTREME-PROPENSITY): (sum w)^2 / sum w^2
// in each arm, summed; w = u/m (treated), u/(1 - m) (control). `worst`: the
// largest count of clipped rows seen so far.
double KishEss(const Dataset& data, const Predictions& pred, int r, double clip, const std::vector<double>* u,
               std::size_t* worst) {
  double sum[2] = {0, 0}, sum2[2] = {0, 0};
  std::size_t clipped = 0;
  for (std::size_t i = 0; i < data.n; ++i) {
    const double m = pred.m[r * data.n + i];
    clipped += m < clip || m > 1 - clip;
    const double mc = std::min(std::max(m, clip), 1 - clip);
    const int a = data.d[i] == 1.0;
    const double w = (u ? (*u)[i] : 1.0) / (a ? mc : 1 - mc);
    sum[a] += w;
    sum2[a] += w * w;
  }
  *worst = std::max(*worst, clipped);
  return sum[0] * sum[0] / sum2[0] + sum[1] * sum[1] / sum2[1];
}

// `same_fit`: both reports come from fits of the same data, so the nuisance
// warnings (a property of the fit, not of Estimate) must agree too.
void ExpectSameReport(const Report& a, const Report& b, bool same_fit = true) {
  ASSERT_EQ(a.estimates.size(), b.estimates.size());
  for (std::size_t k = 0; k < a.estimates.size(); ++k) {
    EXPECT_EQ(a.estimates[k].theta_reps, b.estimates[k].theta_reps);
    EXPECT_EQ(a.estimates[k].se_reps, b.estimates[k].se_reps);
    EXPECT_EQ(a.estimates[k].ci_lower, b.estimates[k].ci_lower);
  }
  EXPECT_EQ(a.overlap.min, b.overlap.min);
  EXPECT_EQ(a.overlap.max, b.overlap.max);
  EXPECT_EQ(a.overlap.quantiles, b.overlap.quantiles);
  EXPECT_EQ(a.overlap.clipped_low, b.overlap.clipped_low);
  EXPECT_EQ(a.overlap.clipped_high, b.overlap.clipped_high);
  EXPECT_EQ(a.overlap.share_clipped, b.overlap.share_clipped);
  EXPECT_EQ(a.overlap.clipped_worst_rep, b.overlap.clipped_worst_rep);
  EXPECT_EQ(a.overlap.ipw_ess, b.overlap.ipw_ess);
  if (same_fit) {
    EXPECT_EQ(a.warnings, b.warnings);
  } else {
    EXPECT_EQ(WithoutNuisanceWarnings(a.warnings), WithoutNuisanceWarnings(b.warnings));
  }
  EXPECT_EQ(a.naive.estimate, b.naive.estimate);
  EXPECT_EQ(a.naive.se, b.naive.se);
}

TEST(Estimate, TheFitCacheChangesNoNumber) {
  for (bool clustered : {false, true}) {
    Synthetic s = MakeSynthetic(3000, 3, 5);
    if (clustered) {  // clusters of 10 rows, each held out whole
      s.data.n_clusters = 300;
      for (std::size_t i = 0; i < s.data.n; ++i) s.data.cluster.push_back(static_cast<std::int32_t>(i / 10));
      for (int r = 0; r < 3; ++r) {
        for (std::size_t i = 0; i < s.data.n; ++i) s.pred.fold[r * s.data.n + i] = static_cast<int>((i / 10 + r) % 2);
      }
    }
    Options o = IrmOptions(false);
    const Fit fit = FitFromPredictions(s.data, o, s.pred);
    ASSERT_NE(fit.cache, nullptr);
    Fit bare = fit;
    bare.cache.reset();
    for (double clip : {0.0, 0.004, 0.01, 0.1, 0.2, 0.45}) {  // both sides of FitCache::kTail
      for (bool normalize : {false, true}) {
        o.clip = clip;
        o.normalize_ipw = normalize;
        const Report with_cache = Estimate(s.data, fit, o);
        ExpectSameReport(with_cache, Estimate(s.data, bare, o));
        // The overlap, computed here from the propensities directly.
        std::size_t low = 0, high = 0;
        for (double m : s.pred.m) low += m < clip, high += m > 1 - clip;
        EXPECT_EQ(with_cache.overlap.clipped_low, low) << "clip " << clip;
        EXPECT_EQ(with_cache.overlap.clipped_high, high) << "clip " << clip;
        std::vector<double> sorted = s.pred.m;
        std::sort(sorted.begin(), sorted.end());
        EXPECT_EQ(with_cache.overlap.min, sorted.front());
        EXPECT_EQ(with_cache.overlap.max, sorted.back());
        EXPECT_EQ(with_cache.overlap.quantiles[3], sorted[static_cast<std::size_t>(0.5 * (sorted.size() - 1) + 0.5)]);
        // The IPW weights' ESS from the cached tails (clip <= kTail) or a
        // pass over the rows equals the definition evaluated here.
        double ess = HUGE_VAL;
        std::size_t worst = 0;
        for (int r = 0; r < 3; ++r) {
          ess = std::min(ess, KishEss(s.data, s.pred, r, clip, nullptr, &worst));
        }
        EXPECT_NEAR(with_cache.overlap.ipw_ess, ess, 1e-9 * ess) << "clip " << clip;
        EXPECT_EQ(with_cache.overlap.clipped_worst_rep, worst) << "clip " << clip;
      }
    }
    // The clipped counts follow clip.
    o.clip = 0.004;
    const std::size_t low_small = Estimate(s.data, fit, o).overlap.clipped_low;
    o.clip = 0.2;
    EXPECT_GT(Estimate(s.data, fit, o).overlap.clipped_low, low_small);
    // Other data (a changed copy) is estimated from itself, not from the cache.
    Dataset other = s.data;
    for (double& y : other.y) y += 1.0;
    other.y[0] += 50.0;
    const Report from_other = Estimate(other, fit, o);
    ExpectSameReport(from_other, Estimate(other, FitFromPredictions(other, o, s.pred), o), /*same_fit=*/false);
    EXPECT_NE(from_other.naive.se, Estimate(s.data, fit, o).naive.se);
  }
}

// Weights and cluster ids enter the scores, so they are read at every
// Estimate, never from the fit's cache: changing them in place (same size,
// same buffer) gives what a fresh fit on the changed data gives.
TEST(Estimate, WeightsAndClustersChangedInPlaceAreReadAgain) {
  Synthetic s = MakeSynthetic(3000, 1, 9);
  s.data.weights.assign(s.data.n, 1.0);
  for (std::size_t i = 0; i < s.data.n; i += 3) s.data.weights[i] = 2.0;
  s.data.n_clusters = 300;
  s.data.cluster.resize(s.data.n);
  for (std::size_t i = 0; i < s.data.n; ++i) {
    s.data.cluster[i] = static_cast<std::int32_t>(i / 10);
    s.pred.fold[i] = static_cast<int>((i / 10) % 2);
  }
  const Options o = IrmOptions(false);
  const Fit fit = FitFromPredictions(s.data, o, s.pred);
  const Report before = Estimate(s.data, fit, o);
  const double* weights_buffer = s.data.weights.data();
  for (std::size_t i = 0; i < s.data.n; ++i) s.data.weights[i] = i % 4 == 0 ? 3.0 : 0.5;
  // Coarser clusters: merge clusters c and c + 2 (same fold), 150 in all.
  for (std::size_t i = 0; i < s.data.n; ++i) s.data.cluster[i] = static_cast<std::int32_t>((i / 40) * 2 + (i / 10) % 2);
  s.data.n_clusters = 150;
  ASSERT_EQ(s.data.weights.data(), weights_buffer);  // the cache's key cannot see the change
  const Report after = Estimate(s.data, fit, o);
  ExpectSameReport(after, Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o));
  EXPECT_NE(after.estimates[0].theta_reps, before.estimates[0].theta_reps);  // the new weights
  EXPECT_NE(after.estimates[0].se_reps, before.estimates[0].se_reps);
}

TEST(Estimate, PredictionsWithoutRepetitionsOrWithShortFoldsAreDataErrors) {
  const Synthetic s = MakeSynthetic(500, 2, 10);
  const Options o = IrmOptions(false);
  Predictions short_folds = s.pred;
  short_folds.fold.resize(s.data.n);  // one repetition's folds for two
  EXPECT_THROW(FitFromPredictions(s.data, o, short_folds), DataError);
  Predictions none = s.pred;
  none.reps = 0;
  EXPECT_THROW(FitFromPredictions(s.data, o, none), DataError);
}

// The constant baseline of each nuisance is the training folds' mean, and a
// model worse than it by more than kWorseThanConstantT standard errors is
// named in a warning; a model close to the truth is not.
TEST(Estimate, NuisanceWorseThanAConstantIsNamed) {
  const std::size_t n = 4000;
  std::mt19937_64 rng(12);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> z(0, 1);
  Dataset data;
  data.n = n;
  data.p = 1;
  data.feature_names = {"x"};
  Predictions good, noisy;
  good.n = noisy.n = n;
  good.reps = noisy.reps = 1;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = z(rng), m = 1 / (1 + std::exp(-x));
    const double d = u(rng) < m ? 1.0 : 0.0;
    data.x.push_back(static_cast<float>(x));
    data.d.push_back(d);
    data.y.push_back(x + d + z(rng));
    good.fold.push_back(static_cast<int>(i % 3));
    good.m.push_back(m);  // the truth
    good.g0.push_back(x);
    good.g1.push_back(x + 1);
    noisy.m.push_back(u(rng));  // an overfitted model: confident and wrong
    noisy.g0.push_back(x);
    noisy.g1.push_back(x + 1 + 3 * z(rng));
  }
  noisy.fold = good.fold;
  const Options o = IrmOptions(false);
  const Fit good_fit = FitFromPredictions(data, o, good);
  for (const NuisanceQuality& q : good_fit.quality) EXPECT_LT(q.value, q.constant) << q.name;
  EXPECT_TRUE(WithoutNuisanceWarnings(Estimate(data, good_fit, o).warnings) ==
              Estimate(data, good_fit, o).warnings);

  // The baseline by hand: m's constant is each fold's complement mean of D.
  double loss = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double sum = 0, rows = 0;
    for (std::size_t j = 0; j < n; ++j) {
      if (good.fold[j] != good.fold[i]) sum += data.d[j], rows += 1;
    }
    const double c = sum / rows;
    loss -= data.d[i] * std::log(c) + (1 - data.d[i]) * std::log(1 - c);
  }
  EXPECT_NEAR(good_fit.quality[0].constant, loss / n, 1e-12);

  const Report bad = Estimate(data, FitFromPredictions(data, o, noisy), o);
  std::string named;
  for (const std::string& w : bad.warnings) {
    if (w.rfind(kWarnWorseThanConstant, 0) != 0) continue;
    for (const char* who : {"propensity model m is", "outcome model g0 is", "outcome model g1 is"}) {
      if (w.find(who) != std::string::npos) named += std::string(who) + "; ";
    }
    EXPECT_NE(w.find("standard errors"), std::string::npos) << w;
    EXPECT_NE(w.find("--"), std::string::npos) << "a remedy: " << w;
  }
  // The noise models m and g1 are named; g0 (the truth) is not.
  EXPECT_EQ(named, "propensity model m is; outcome model g1 is; ");
}

// W-EXTREME-PROPENSITY (docs/reliability.md): n rows, D alternating, and
// the propensity of each row from `m(i, d)`.
template <class M>
Synthetic Propensities(std::size_t n, int reps, M m) {
  Synthetic s;
  s.data.n = n;
  s.data.p = 1;
  s.data.feature_names = {"x"};
  std::mt19937_64 rng(21);
  std::normal_distribution<double> z(0, 1);
  for (std::size_t i = 0; i < n; ++i) {
    s.data.d.push_back(static_cast<double>(i % 2));
    s.data.y.push_back(s.data.d.back() + z(rng));
    s.data.x.push_back(static_cast<float>(z(rng)));
  }
  s.pred.n = n;
  s.pred.reps = reps;
  for (int r = 0; r < reps; ++r) {
    for (std::size_t i = 0; i < n; ++i) {
      s.pred.fold.push_back(static_cast<int>((i / 2) % 2));
      s.pred.m.push_back(m(r, i, s.data.d[i]));
      s.pred.g0.push_back(0.0);
      s.pred.g1.push_back(1.0);
    }
  }
  return s;
}

std::string ExtremeWarning(const Report& r) {
  for (const std::string& w : r.warnings) {
    if (w.rfind(std::string(kWarnExtremePropensity) + ":", 0) == 0) return w;
  }
  return "";
}

TEST(Estimate, ExtremePropensityWarnsWhenManyRowsAreClipped) {
  // 60 of 2000 rows (3%) below the 0.01 clip, all of them controls: their
  // clipped weights 1/(1 - 0.01) are unremarkable, so the count alone fires.
  const Synthetic s = Propensities(2000, 1, [](int, std::size_t i, double d) {
    return d == 0 && i < 120 ? 0.002 : 0.5;
  });
  const Options o = IrmOptions(false);
  const Report r = Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
  EXPECT_EQ(r.overlap.clipped_worst_rep, 60u);
  EXPECT_DOUBLE_EQ(r.overlap.share_clipped_worst_rep, 0.03);
  EXPECT_GT(r.overlap.ipw_ess_share, 0.9);
  const std::string w = ExtremeWarning(r);
  EXPECT_NE(w.find("60 of 2000 rows (3.0%) have their propensity clipped to [0.01, 0.99]"), std::string::npos) << w;
  for (const char* remedy : {"--tune", "--propensity-max-depth", "--clip"}) {
    EXPECT_NE(w.find(remedy), std::string::npos) << remedy << ": " << w;
  }
  // 1% exactly (20 rows) is not above the threshold; 21 rows are.
  for (const std::size_t rows : {std::size_t(20), std::size_t(21)}) {
    const Synthetic t = Propensities(2000, 1, [rows](int, std::size_t i, double d) {
      return d == 0 && i < 2 * rows ? 0.995 : 0.5;
    });
    const Report rt = Estimate(t.data, FitFromPredictions(t.data, o, t.pred), o);
    EXPECT_EQ(rt.overlap.clipped_worst_rep, rows);
    EXPECT_EQ(ExtremeWarning(rt).empty(), rows == 20) << rows << ": " << ExtremeWarning(rt);
  }
}

TEST(Estimate, ExtremePropensityWarnsOnHeavyWeightsWithoutClipping) {
  // Nothing clipped, but in each arm 10 of 1000 rows have a propensity near
  // the clip bound, weight about 90 against 1.1: the ESS, by hand,
  // 2 (990/0.9 + 10/0.011)^2 / (990/0.81 + 10/0.011^2), is about 4% of n.
  const Synthetic s = Propensities(2000, 1, [](int, std::size_t i, double d) {
    const bool heavy = i < 20;
    return d == 1 ? (heavy ? 0.011 : 0.9) : (heavy ? 0.989 : 0.1);
  });
  const Options o = IrmOptions(false);
  const Report r = Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
  const double sw = 990 / 0.9 + 10 / 0.011, sw2 = 990 / 0.81 + 10 / (0.011 * 0.011);
  EXPECT_EQ(r.overlap.clipped_worst_rep, 0u);
  EXPECT_NEAR(r.overlap.ipw_ess, 2 * sw * sw / sw2, 1e-9 * r.overlap.ipw_ess);
  EXPECT_LT(r.overlap.ipw_ess_share, 0.05);
  const std::string w = ExtremeWarning(r);
  EXPECT_NE(w.find("0 of 2000 rows (0.0%)"), std::string::npos) << w;
  char ess[64];
  std::snprintf(ess, sizeof ess, "effective sample size is %.0f of 2000", r.overlap.ipw_ess);
  EXPECT_NE(w.find(ess), std::string::npos) << w;
  // With clipping at 0.05 those weights are bounded at 20: still heavy.
  Options clip = o;
  clip.clip = 0.05;
  const Report rc = Estimate(s.data, FitFromPredictions(s.data, clip, s.pred), clip);
  const double cw = 990 / 0.9 + 10 / 0.05, cw2 = 990 / 0.81 + 10 / (0.05 * 0.05);
  EXPECT_EQ(rc.overlap.clipped_worst_rep, 20u);
  EXPECT_NEAR(rc.overlap.ipw_ess, 2 * cw * cw / cw2, 1e-9 * rc.overlap.ipw_ess);
}

TEST(Estimate, ExtremePropensityIsQuietWhereTheTreatmentIsRandomised) {
  // m near the truth 0.5: no clipping, ESS near n.
  std::mt19937_64 rng(22);
  std::uniform_real_distribution<double> u(0, 1);
  const Synthetic s = Propensities(2000, 2, [&](int, std::size_t, double) { return 0.45 + 0.1 * u(rng); });
  const Options o = IrmOptions(false);
  const Report r = Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
  EXPECT_TRUE(r.overlap.has_ipw);
  EXPECT_GT(r.overlap.ipw_ess_share, 0.98);
  EXPECT_EQ(ExtremeWarning(r), "");
  // A constant propensity, however unbalanced the arms, gives ESS = n.
  const Synthetic c = Propensities(2000, 1, [](int, std::size_t, double) { return 0.03; });
  const Report rc = Estimate(c.data, FitFromPredictions(c.data, o, c.pred), o);
  EXPECT_NEAR(rc.overlap.ipw_ess, 2000, 1e-9);
  EXPECT_EQ(ExtremeWarning(rc), "");
  // PLR has no propensity weights.
  Options plr;
  plr.model = Model::kPlr;
  plr.estimands = {Estimand::kAte};
  Synthetic p = c;
  p.pred.g0.clear();
  p.pred.g1.clear();
  p.pred.l.assign(p.data.n, 0.5);
  const Report rp = Estimate(p.data, FitFromPredictions(p.data, plr, p.pred), plr);
  EXPECT_FALSE(rp.overlap.has_ipw);
  EXPECT_EQ(ExtremeWarning(rp), "");
}

TEST(Estimate, ExtremePropensityReportsTheWorstRepetitionAndWeighsSampleWeights) {
  // Repetition 1 clips 100 rows and has heavy weights; repetition 0 neither.
  const auto m = [](int r, std::size_t i, double d) {
    if (r == 1 && i < 200) return d == 1 ? 0.005 : 0.5;
    return d == 1 ? 0.3 : 0.6;
  };
  Synthetic s = Propensities(2000, 2, m);
  Options o = IrmOptions(false);
  const Report r = Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
  std::size_t worst = 0;
  const double ess1 = KishEss(s.data, s.pred, 1, 0.01, nullptr, &worst);
  EXPECT_EQ(r.overlap.clipped_worst_rep, 100u);
  EXPECT_EQ(r.overlap.clipped_low, 100u);
  EXPECT_NEAR(r.overlap.ipw_ess, ess1, 1e-9 * ess1);
  EXPECT_LT(ess1, KishEss(s.data, s.pred, 0, 0.01, nullptr, &worst));
  EXPECT_NE(ExtremeWarning(r).find(", each in its worst repetition;"), std::string::npos) << ExtremeWarning(r);
  // Sample weights multiply the IPW weights (a pass over the rows, not the
  // cached tails): the ESS follows them, at clips on both sides of kTail.
  std::mt19937_64 rng(23);
  std::uniform_real_distribution<double> u(0.2, 3);
  for (std::size_t i = 0; i < s.data.n; ++i) s.data.weights.push_back(u(rng));
  double mean = 0;
  for (double w : s.data.weights) mean += w / s.data.n;
  std::vector<double> unit;
  for (double w : s.data.weights) unit.push_back(w / mean);
  for (double clip : {0.01, 0.2}) {
    o.clip = clip;
    const Report rw = Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
    const double want = std::min(KishEss(s.data, s.pred, 0, clip, &unit, &worst),
                                 KishEss(s.data, s.pred, 1, clip, &unit, &worst));
    EXPECT_NEAR(rw.overlap.ipw_ess, want, 1e-9 * want) << "clip " << clip;
    const double unweighted = std::min(KishEss(s.data, s.pred, 0, clip, nullptr, &worst),
                                       KishEss(s.data, s.pred, 1, clip, nullptr, &worst));
    EXPECT_GT(std::fabs(rw.overlap.ipw_ess / unweighted - 1), 0.01) << "clip " << clip;
  }
}

TEST(Estimate, PlrIsResidualOnResidual) {
  Synthetic s = MakeSynthetic(2000, 1, 3);
  Options o;
  o.model = Model::kPlr;
  o.estimands = {Estimand::kAte};
  const Report rep = Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
  double vv = 0, vu = 0;
  for (std::size_t i = 0; i < s.data.n; ++i) {
    const double v = s.data.d[i] - s.pred.m[i];
    vv += v * v;
    vu += v * (s.data.y[i] - s.pred.l[i]);
  }
  EXPECT_NEAR(rep.estimates[0].estimate, vu / vv, 1e-12);
}

TEST(Estimate, ReportsHowManyPropensitiesWereClipped) {
  const Synthetic s = MakeSynthetic(2000, 1, 4);
  const Options o = IrmOptions(false);
  const Report rep = Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
  std::size_t low = 0, high = 0;
  for (double m : s.pred.m) low += m < 0.01, high += m > 0.99;
  EXPECT_GT(low + high, 0u);
  EXPECT_EQ(rep.overlap.clipped_low, low);
  EXPECT_EQ(rep.overlap.clipped_high, high);
}

TEST(Estimate, PropensityOfZeroWithoutClippingIsAnError) {
  Synthetic s = MakeSynthetic(500, 1, 5);
  s.pred.m[10] = 0.0;
  Options o = IrmOptions(false);
  o.clip = 0;
  try {
    Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("row 11"), std::string::npos) << e.what();
  }
}

TEST(Estimate, AttIsRejectedForPlr) {
  Options o;
  o.model = Model::kPlr;
  o.estimands = {Estimand::kAtt};
  EXPECT_THROW(o.Validate(), UsageError);
}

TEST(Estimate, AtcIsRejectedForPlrNamingTheOption) {
  Options o;
  o.model = Model::kPlr;
  o.estimands = {Estimand::kAte, Estimand::kAtc};
  try {
    o.Validate();
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--estimand atc"), std::string::npos) << e.what();
  }
}

// The ATC is the ATT of the problem with the arms' roles swapped (D -> 1 - D,
// m -> 1 - m, g0 <-> g1), negated (ops/scores.h): per repetition, with and
// without Hajek normalisation and sample weights.
TEST(Estimate, AtcIsMinusTheAttOfTheSwappedProblem) {
  const Synthetic s = MakeSynthetic(2500, 2, 7);
  Synthetic swapped = s;
  for (double& d : swapped.data.d) d = 1.0 - d;
  for (double& m : swapped.pred.m) m = 1.0 - m;
  std::swap(swapped.pred.g0, swapped.pred.g1);
  for (bool weighted : {false, true}) {
    for (bool normalize : {false, true}) {
      SCOPED_TRACE(std::string(weighted ? "weighted" : "unweighted") + (normalize ? ", normalize_ipw" : ""));
      Dataset data = s.data, data_swapped = swapped.data;
      if (weighted) {
        data.weights.resize(data.n);
        for (std::size_t i = 0; i < data.n; ++i) data.weights[i] = 0.5 + (i % 5) * 0.4;
        data_swapped.weights = data.weights;
      }
      Options o = IrmOptions(normalize);
      o.estimands = {Estimand::kAtc, Estimand::kAtt, Estimand::kAte};
      Options o_swapped = IrmOptions(normalize);
      o_swapped.estimands = {Estimand::kAtt};
      const Report atc = Estimate(data, FitFromPredictions(data, o, s.pred), o);
      const Report att = Estimate(data_swapped, FitFromPredictions(data_swapped, o_swapped, swapped.pred), o_swapped);
      ASSERT_EQ(atc.estimates.size(), 3u);
      EXPECT_EQ(atc.estimates[0].estimand, "atc");
      for (int r = 0; r < 2; ++r) {
        const double want = -att.estimates[0].theta_reps[r];
        EXPECT_NEAR(atc.estimates[0].theta_reps[r], want, 1e-12 * std::fabs(want)) << "rep " << r;
        EXPECT_NEAR(atc.estimates[0].se_reps[r], att.estimates[0].se_reps[r], 1e-12 * att.estimates[0].se_reps[r]);
      }
      // A different population: the ATC differs from the ATT and the ATE here
      // (g1 - g0 is near 2 everywhere, so only by the IPW terms, yet clearly).
      EXPECT_NE(atc.estimates[0].estimate, atc.estimates[1].estimate);
      EXPECT_NE(atc.estimates[0].estimate, atc.estimates[2].estimate);
    }
  }
}

TEST(Estimate, NaiveDifferenceIsTheDifferenceInMeans) {
  const Synthetic s = MakeSynthetic(1000, 1, 6);
  const Options o = IrmOptions(false);
  const Report rep = Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
  double s1 = 0, s0 = 0, n1 = 0, n0 = 0;
  for (std::size_t i = 0; i < s.data.n; ++i) {
    if (s.data.d[i] == 1) s1 += s.data.y[i], ++n1;
    else s0 += s.data.y[i], ++n0;
  }
  EXPECT_NEAR(rep.naive.estimate, s1 / n1 - s0 / n0, 1e-12);
}

TEST(Normal, QuantileInvertsCdf) {
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-13);
  for (double p : {1e-10, 0.001, 0.02, 0.3, 0.5, 0.8, 0.99, 1 - 1e-9}) {
    EXPECT_NEAR(NormalCdf(NormalQuantile(p)), p, 1e-13 * std::max(p, 1e-3)) << p;
  }
}

TEST(Quality, AucCountsTiesAsHalf) {
  const double s[] = {0.1, 0.4, 0.4, 0.8};
  const double d[] = {0, 0, 1, 1};
  // Pairs (treated, control): (0.4,0.1)=1 (0.4,0.4)=0.5 (0.8,0.1)=1 (0.8,0.4)=1 -> 3.5/4.
  EXPECT_DOUBLE_EQ(Auc(s, d, 4), 0.875);
}

}  // namespace
}  // namespace fastdml
