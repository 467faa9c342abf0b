// Overlap and balance diagnostics (src/inference/balance.h): the
// standardized mean differences against a direct computation here, their
// behaviour on confounded simulations with a known propensity, W-IMBALANCE,
// and the per-arm propensity histograms and effective sample sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <random>
#include <string>

#include "fastdml/estimator.h"
#include "fastdml/warnings.h"

namespace fastdml {
namespace {

Options IrmOptions() {
  Options o;
  o.model = Model::kIrm;
  o.folds = 2;
  return o;
}

// Fills pred's folds, g0 and g1 (their values do not enter the balance).
void AddOutcomePredictions(Predictions* pred) {
  const std::size_t total = pred->n * pred->reps;
  pred->fold.resize(total);
  for (std::size_t k = 0; k < total; ++k) pred->fold[k] = static_cast<int>(k % pred->n % 2);
  pred->g0.assign(total, 0.0);
  pred->g1.assign(total, 1.0);
}

// The SMDs written out from the definition, one feature at a time: every
// (row, rep) pair a weighted observation, raw variances (reliability-weight
// unbiased) in the denominator.
struct Smds {
  double raw, ate, att;
};
Smds Reference(const Dataset& data, const Predictions& pred, std::size_t j, double clip) {
  double sum[2][3] = {}, sum_x[2][3] = {};  // [arm][raw, ate, att]
  for (std::size_t i = 0; i < data.n; ++i) {
    const double x = data.X(i, j);
    if (std::isnan(x)) continue;
    const int a = data.d[i] == 1.0;
    const double u = data.weights.empty() ? 1.0 : data.weights[i];
    for (int r = 0; r < pred.reps; ++r) {
      const double m = std::min(std::max(pred.m[r * data.n + i], clip), 1 - clip);
      const double w[3] = {1.0, a ? 1 / m : 1 / (1 - m), a ? 1.0 : m / (1 - m)};
      for (int t = 0; t < 3; ++t) {
        sum[a][t] += u * w[t];
        sum_x[a][t] += u * w[t] * x;
      }
    }
  }
  double var[2];
  for (int a = 0; a < 2; ++a) {
    const double mean = sum_x[a][0] / sum[a][0];
    double su = 0, su2 = 0, ss = 0;
    for (std::size_t i = 0; i < data.n; ++i) {
      const double x = data.X(i, j);
      if (std::isnan(x) || (data.d[i] == 1.0) != (a == 1)) continue;
      const double u = data.weights.empty() ? 1.0 : data.weights[i];
      su += u;
      su2 += u * u;
      ss += u * (x - mean) * (x - mean);
    }
    var[a] = ss / (su - su2 / su);
  }
  const double sd = std::sqrt((var[0] + var[1]) / 2);
  auto smd = [&](int t) { return (sum_x[1][t] / sum[1][t] - sum_x[0][t] / sum[0][t]) / sd; };
  return {smd(0), smd(1), smd(2)};
}

struct Sim {
  Dataset data;
  Predictions pred;
};

// 12 rows, 3 features (one NaN), propensities in the tails too (some beyond
// the clip), 2 repetitions.
Sim Small(bool weighted) {
  Sim s;
  s.data.n = 12;
  s.data.p = 3;
  s.data.feature_names = {"a", "b", "c"};
  const float x[12][3] = {{1, 0, 5},   {2, 1, 3},   {0.5f, 1, 2}, {3, 0, 4},  {1.5f, 1, NAN}, {2.5f, 0, 1},
                          {4, 1, 0},   {0, 0, 2},   {1, 1, 3},    {2, 0, 6},  {3.5f, 1, 1},   {0.25f, 0, 2}};
  const double d[12] = {1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0};
  const double m1[12] = {0.7, 0.2, 0.95, 0.5, 0.004, 0.3, 0.999, 0.05, 0.6, 0.4, 0.8, 0.12};
  const double m2[12] = {0.65, 0.25, 0.9, 0.55, 0.02, 0.35, 0.97, 0.08, 0.5, 0.45, 0.85, 0.2};
  for (std::size_t i = 0; i < 12; ++i) {
    for (int j = 0; j < 3; ++j) s.data.x.push_back(x[i][j]);
    s.data.d.push_back(d[i]);
    s.data.y.push_back(0.3 * i + d[i]);
    if (weighted) s.data.weights.push_back(0.5 + 0.25 * (i % 4));
  }
  s.pred.n = 12;
  s.pred.reps = 2;
  s.pred.m.assign(m1, m1 + 12);
  s.pred.m.insert(s.pred.m.end(), m2, m2 + 12);
  AddOutcomePredictions(&s.pred);
  return s;
}

TEST(Balance, SmdsEqualTheDefinitionOnASmallDataset) {
  for (bool weighted : {false, true}) {
    // 0.01 and 0.1 take the cached sums (plus the tail rows); 0.2 a full pass.
    for (double clip : {0.01, 0.1, 0.2}) {
      const Sim s = Small(weighted);
      Options o = IrmOptions();
      o.clip = clip;
      const Report rep = Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
      ASSERT_EQ(rep.balance.size(), 3u);
      for (std::size_t j = 0; j < 3; ++j) {
        SCOPED_TRACE("weighted " + std::to_string(weighted) + ", clip " + std::to_string(clip) + ", feature " +
                     std::to_string(j));
        const Smds want = Reference(s.data, s.pred, j, clip);
        EXPECT_EQ(rep.balance[j].feature, s.data.feature_names[j]);
        EXPECT_NEAR(rep.balance[j].smd_raw, want.raw, 1e-12);
        EXPECT_NEAR(rep.balance[j].smd_ate, want.ate, 1e-12);
        EXPECT_NEAR(rep.balance[j].smd_att, want.att, 1e-12);
      }
    }
  }
}

TEST(Balance, HandComputedRawSmd) {
  // Feature b of Small(): treated rows 0, 2, 3, 6, 8, 10 have b = 0, 1, 0, 1, 1, 1
  // (mean 2/3, variance (4 (1/3)^2 + 2 (2/3)^2) / 5 = 4/15), controls 1, 4, 5, 7,
  // 9, 11 have b = 1, 1, 0, 0, 0, 0 (mean 1/3, variance 4/15).
  const Sim s = Small(false);
  const Options o = IrmOptions();
  const Report rep = Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
  EXPECT_NEAR(rep.balance[1].smd_raw, (2.0 / 3 - 1.0 / 3) / std::sqrt(4.0 / 15), 1e-14);
}

// A confounded design: D ~ Bernoulli(logistic(0.8 x1 - 0.6 x2)), x3 noise.
Sim Confounded(std::size_t n, unsigned seed, bool propensity_ignores_x2) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  Sim s;
  s.data.n = n;
  s.data.p = 3;
  s.data.feature_names = {"x1", "x2", "x3"};
  s.pred.n = n;
  s.pred.reps = 1;
  for (std::size_t i = 0; i < n; ++i) {
    const float x1 = static_cast<float>(z(rng)), x2 = static_cast<float>(z(rng)), x3 = static_cast<float>(z(rng));
    const double m = 1 / (1 + std::exp(-(0.8 * x1 - 0.6 * x2)));
    const double d = u(rng) < m ? 1.0 : 0.0;
    s.data.x.insert(s.data.x.end(), {x1, x2, x3});
    s.data.d.push_back(d);
    s.data.y.push_back(x1 + x2 + d + z(rng));
    // The propensity model "ignores" x2: the true propensity given x1 alone
    // (x2 independent of x1, so E[m | x1] = logistic(0.8 x1 / sqrt(1 + 0.36 pi / 8))
    // by the probit approximation; its exact form does not matter here).
    s.pred.m.push_back(propensity_ignores_x2 ? 1 / (1 + std::exp(-0.8 * x1 / std::sqrt(1 + 0.36 * M_PI / 8))) : m);
  }
  AddOutcomePredictions(&s.pred);
  return s;
}

bool HasWarning(const Report& rep, const std::string& code) {
  return std::any_of(rep.warnings.begin(), rep.warnings.end(),
                     [&](const std::string& w) { return w.rfind(code + ":", 0) == 0; });
}

TEST(Balance, TruePropensityWeightingRemovesTheImbalance) {
  const Sim s = Confounded(20000, 11, false);
  const Options o = IrmOptions();
  const Report rep = Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
  ASSERT_EQ(rep.balance.size(), 3u);
  // x1 and x2 confound: raw SMDs far from 0, the true propensity's weights
  // bring them within sampling noise (about 0.02 here).
  EXPECT_GT(rep.balance[0].smd_raw, 0.5);
  EXPECT_LT(rep.balance[1].smd_raw, -0.4);
  for (int j = 0; j < 2; ++j) {
    EXPECT_LT(std::fabs(rep.balance[j].smd_ate), 0.05) << j;
    EXPECT_LT(std::fabs(rep.balance[j].smd_att), 0.05) << j;
    EXPECT_LT(std::fabs(rep.balance[j].smd_ate), std::fabs(rep.balance[j].smd_raw) / 8) << j;
  }
  EXPECT_LT(std::fabs(rep.balance[2].smd_raw), 0.05);  // x3: noise, balanced by randomisation
  EXPECT_FALSE(HasWarning(rep, kWarnImbalance));
}

TEST(Balance, ImbalanceWarningNamesTheFeatureThePropensityIgnores) {
  const Sim s = Confounded(20000, 11, true);
  Options o = IrmOptions();
  const Report rep = Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
  EXPECT_LT(std::fabs(rep.balance[0].smd_ate), 0.05);  // x1 still balanced
  EXPECT_LT(rep.balance[1].smd_ate, -0.3);             // x2 left as it was
  EXPECT_LT(rep.balance[1].smd_att, -0.3);
  ASSERT_TRUE(HasWarning(rep, kWarnImbalance));
  std::string text;
  for (const std::string& w : rep.warnings) {
    if (w.rfind(kWarnImbalance, 0) == 0) text = w;
  }
  EXPECT_NE(text.find("1 of 3 features"), std::string::npos) << text;
  EXPECT_NE(text.find("'x2'"), std::string::npos) << text;
  EXPECT_EQ(text.find("'x1'"), std::string::npos) << text;
  EXPECT_NE(text.find("--tune"), std::string::npos) << text;  // a remedy
  // ATT alone: judged by the ATT weights.
  o.estimands = {Estimand::kAtt};
  EXPECT_TRUE(HasWarning(Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o), kWarnImbalance));
}

TEST(Balance, PlrHasNoBalance) {
  Sim s = Confounded(500, 3, false);
  s.pred.g0.clear();
  s.pred.g1.clear();
  s.pred.l.assign(s.data.n, 0.5);
  Options o;
  o.model = Model::kPlr;
  o.folds = 2;
  o.estimands = {Estimand::kAte};
  const Report rep = Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
  EXPECT_TRUE(rep.balance.empty());
  EXPECT_FALSE(rep.overlap.histogram_treated.empty());  // the propensity histograms are data only
}

TEST(Overlap, ArmHistogramsAndQuantilesCountEveryRowOfEachArm) {
  Sim s = Small(false);
  // Values on the edges: 0.05 opens bin 1, 1.0 closes the last bin, 0 opens the first.
  s.pred.m[0] = 0.05, s.pred.m[1] = 0.0, s.pred.m[2] = 1.0, s.pred.m[3] = 0.5;
  Options o = IrmOptions();
  o.clip = 0.01;
  const Report rep = Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
  const Overlap& ov = rep.overlap;
  ASSERT_EQ(ov.histogram_treated.size(), static_cast<std::size_t>(kOverlapBins));
  ASSERT_EQ(ov.histogram_control.size(), static_cast<std::size_t>(kOverlapBins));
  std::size_t treated = 0, control = 0;
  for (int k = 0; k < kOverlapBins; ++k) treated += ov.histogram_treated[k], control += ov.histogram_control[k];
  EXPECT_EQ(treated, 6u * 2);  // 6 treated rows x 2 repetitions, pooled
  EXPECT_EQ(control, 6u * 2);
  // Bin by bin, counted here from the edges k / 20.
  std::vector<std::size_t> want[2] = {std::vector<std::size_t>(kOverlapBins), std::vector<std::size_t>(kOverlapBins)};
  for (std::size_t k = 0; k < s.pred.m.size(); ++k) {
    const double m = s.pred.m[k];
    int b = kOverlapBins - 1;
    for (int e = 1; e < kOverlapBins; ++e) {
      if (m < static_cast<double>(e) / kOverlapBins) {
        b = e - 1;
        break;
      }
    }
    ++want[s.data.d[k % s.data.n] == 1.0][b];
  }
  EXPECT_EQ(ov.histogram_treated, want[1]);
  EXPECT_EQ(ov.histogram_control, want[0]);
  EXPECT_EQ(ov.histogram_treated[1], 1u);  // 0.05
  EXPECT_EQ(ov.histogram_treated[kOverlapBins - 1], 3u);  // 1.0, 0.999, 0.97
  // Quantiles per arm: nearest rank of the arm's sorted values.
  std::vector<double> arm[2];
  for (std::size_t k = 0; k < s.pred.m.size(); ++k) arm[s.data.d[k % s.data.n] == 1.0].push_back(s.pred.m[k]);
  for (int a = 0; a < 2; ++a) std::sort(arm[a].begin(), arm[a].end());
  ASSERT_EQ(ov.quantiles_treated.size(), std::size(kOverlapProbs));
  for (std::size_t q = 0; q < std::size(kOverlapProbs); ++q) {
    EXPECT_EQ(ov.quantiles_treated[q], arm[1][static_cast<std::size_t>(kOverlapProbs[q] * 11 + 0.5)]);
    EXPECT_EQ(ov.quantiles_control[q], arm[0][static_cast<std::size_t>(kOverlapProbs[q] * 11 + 0.5)]);
  }
}

TEST(Overlap, EssPerArmIsKishsWithinEachArmOfTheWorstRepetition) {
  for (bool weighted : {false, true}) {
    const Sim s = Small(weighted);
    Options o = IrmOptions();
    o.clip = 0.03;
    const Report rep = Estimate(s.data, FitFromPredictions(s.data, o, s.pred), o);
    double ess[2][2] = {};  // [rep][arm]
    double mean_w = 0;
    for (double w : s.data.weights) mean_w += w / s.data.n;
    for (int r = 0; r < 2; ++r) {
      for (int a = 0; a < 2; ++a) {
        double sw = 0, sw2 = 0;
        for (std::size_t i = 0; i < s.data.n; ++i) {
          if ((s.data.d[i] == 1.0) != (a == 1)) continue;
          const double m = std::min(std::max(s.pred.m[r * s.data.n + i], 0.03), 0.97);
          const double w = (weighted ? s.data.weights[i] / mean_w : 1.0) * (a ? 1 / m : 1 / (1 - m));
          sw += w;
          sw2 += w * w;
        }
        ess[r][a] = sw * sw / sw2;
      }
    }
    const int worst = ess[0][0] + ess[0][1] <= ess[1][0] + ess[1][1] ? 0 : 1;
    EXPECT_NEAR(rep.overlap.ipw_ess_treated, ess[worst][1], 1e-12);
    EXPECT_NEAR(rep.overlap.ipw_ess_control, ess[worst][0], 1e-12);
    EXPECT_NEAR(rep.overlap.ipw_ess, rep.overlap.ipw_ess_treated + rep.overlap.ipw_ess_control, 1e-12);
  }
}

}  // namespace
}  // namespace fastdml
