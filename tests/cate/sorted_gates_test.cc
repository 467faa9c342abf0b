// Sorted GATES, BLP heterogeneity test and CLAN on the out-of-fold DR-learner
// proxy: known truth on the seller design, no false alarm under a constant
// effect, agreement with Gate() of cate.h, row-order invariance, clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "cate/cate_test_data.h"
#include "fastdml/cate.h"
#include "fastdml/cate_model.h"
#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "inference/normal.h"

namespace fastdml {
namespace {

struct Prepared {
  Dataset data;
  Fit fit;
  std::vector<std::vector<double>> proxy;  // the default, outcome-difference proxy
};

const Prepared& Seller() {
  static const Prepared* s = [] {
    auto* p = new Prepared;
    p->data = cate_test::SellerData(10000, 11);
    p->fit = FitNuisances(p->data, cate_test::FastOptions());
    p->proxy = OutcomeDifferenceProxy(p->fit);
    return p;
  }();
  return *s;
}

// Constant effect 1.0 with confounding through x0 and x1; the outcome's noise
// is N(0, 1). Own Box-Muller over mt19937_64 words, so identical everywhere.
Dataset ConstantEffectData(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  auto uniform = [&] { return (static_cast<double>(gen() >> 11) + 0.5) / 9007199254740992.0; };
  auto normal = [&] { return std::sqrt(-2 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()); };
  Dataset d;
  d.n = n;
  d.p = 4;
  d.feature_names = {"x0", "x1", "x2", "x3"};
  d.x.resize(n * d.p);
  d.y.resize(n);
  d.d.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    double x[4];
    for (int j = 0; j < 4; ++j) {
      x[j] = normal();
      d.x[i * 4 + j] = static_cast<float>(x[j]);
    }
    const double e = 0.1 + 0.8 / (1 + std::exp(-(0.8 * x[0] - 0.5 * x[1])));
    d.d[i] = uniform() < e ? 1.0 : 0.0;
    d.y[i] = 1.0 * d.d[i] + x[0] + 0.5 * x[1] * x[1] + normal();
  }
  return d;
}

TEST(SortedGates, RecoverTheSellerDesignsSortedEffectsAndDetectHeterogeneity) {
  const Prepared& s = Seller();
  SortedGatesOptions o;
  o.clan = {"inventory_level", "price"};
  o.bootstrap.replicates = 2000;
  o.bootstrap.seed = 1;
  const SortedGatesResult r = SortedGates(s.data, s.fit, s.proxy, o);
  ASSERT_EQ(r.gates.size(), 5u);
  // The true sorted GATE of group k: the mean true CATE of its rows.
  const std::vector<double> tau = cate_test::SellerTrueCate(s.data);
  std::vector<double> sum(5, 0), cnt(5, 0);
  for (std::size_t i = 0; i < s.data.n; ++i) {
    sum[r.group_reps[0][i]] += tau[i];
    cnt[r.group_reps[0][i]] += 1;
  }
  // The joint 95% bands (sup-t over the 5 groups) hold every true value; the
  // critical value lies between the pointwise 1.96 and Bonferroni's 2.58.
  ASSERT_EQ(r.joint_critical_values.size(), 1u);
  EXPECT_GT(r.joint_critical_values[0], 1.96);
  EXPECT_LT(r.joint_critical_values[0], NormalQuantile(1 - 0.05 / (2 * 5)));
  for (int k = 0; k < 5; ++k) {
    const double truth = sum[k] / cnt[k];
    std::printf("G%d: estimate %.3f (se %.3f), joint [%.3f, %.3f], truth %.3f, rows %zu\n", k + 1,
                r.gates[k].estimate, r.gates[k].se, r.gates[k].joint_ci_lower, r.gates[k].joint_ci_upper, truth,
                r.group_rows[k]);
    ASSERT_TRUE(r.gates[k].has_joint);
    EXPECT_LE(r.gates[k].joint_ci_lower, truth) << "group G" << k + 1;
    EXPECT_GE(r.gates[k].joint_ci_upper, truth) << "group G" << k + 1;
  }
  // Increasing from bottom to top: no adjacent step down by more than 2 SE of
  // the step, and the true sorted effects themselves increase.
  for (int k = 0; k + 1 < 5; ++k) {
    const double step_se = std::hypot(r.gates[k].se, r.gates[k + 1].se);
    EXPECT_GT(r.gates[k + 1].estimate - r.gates[k].estimate, -2 * step_se) << "G" << k + 1 << " -> G" << k + 2;
    EXPECT_LT(sum[k] / cnt[k], sum[k + 1] / cnt[k + 1]);
  }
  // Top minus bottom, and the BLP loading: heterogeneity clearly detected.
  EXPECT_GT(r.top_minus_bottom.estimate, 0);
  EXPECT_LT(r.top_minus_bottom.p_value, 1e-3);
  EXPECT_GT(r.blp_beta2.estimate, 0);
  EXPECT_LT(r.blp_beta2.p_value, 1e-3);
  std::printf("top-bottom %.3f (se %.3f); beta2 %.3f (se %.3f, p %.2g); beta1 %.3f\n", r.top_minus_bottom.estimate,
              r.top_minus_bottom.se, r.blp_beta2.estimate, r.blp_beta2.se, r.blp_beta2.p_value, r.blp_beta1.estimate);
  // CLAN: the effect falls with inventory (SellerTau), so the most affected
  // group holds less stock than the least affected one.
  ASSERT_EQ(r.clan.size(), 2u);
  EXPECT_LT(r.clan[0].difference.estimate, 0);
  EXPECT_LT(r.clan[0].difference.p_value, 1e-3);
}

TEST(SortedGates, ClanIsTheWelchDifferenceOfGroupMeans) {
  const Prepared& s = Seller();
  SortedGatesOptions o;
  o.clan = {"price"};
  const SortedGatesResult r = SortedGates(s.data, s.fit, s.proxy, o);
  const std::size_t col = cate_test::Column(s.data, "price");
  double sum[2] = {0, 0}, sum2[2] = {0, 0}, cnt[2] = {0, 0};
  for (std::size_t i = 0; i < s.data.n; ++i) {
    const int g = r.group_reps[0][i];
    if (g != 0 && g != 4) continue;
    const int b = g == 0 ? 0 : 1;
    const double v = s.data.X(i, col);
    sum[b] += v;
    sum2[b] += v * v;
    cnt[b] += 1;
  }
  const double m0 = sum[0] / cnt[0], m1 = sum[1] / cnt[1];
  // HC0 = Welch's SE with the 1/n_g (not 1/(n_g - 1)) group variances.
  const double v0 = (sum2[0] / cnt[0] - m0 * m0) / cnt[0], v1 = (sum2[1] / cnt[1] - m1 * m1) / cnt[1];
  EXPECT_NEAR(r.clan[0].bottom.estimate, m0, 1e-9 * std::abs(m0));
  EXPECT_NEAR(r.clan[0].top.estimate, m1, 1e-9 * std::abs(m1));
  EXPECT_NEAR(r.clan[0].difference.estimate, m1 - m0, 1e-9 * std::abs(m0));
  EXPECT_NEAR(r.clan[0].difference.se, std::sqrt(v0 + v1), 1e-6 * std::sqrt(v0 + v1));
}

// The estimates equal Part A's GATE on the same grouping; the joint bands use
// the same sup-t construction on their own Philox stream (kStreamSortedGatesBand,
// not GATE's), so they differ from GATE's by Monte-Carlo error only.
TEST(SortedGates, GatesEqualPartAGateAndJointBandsDrawTheirOwnStream) {
  const Prepared& s = Seller();
  SortedGatesOptions o;
  o.bootstrap.replicates = 500;
  o.bootstrap.seed = 9;
  const SortedGatesResult r = SortedGates(s.data, s.fit, s.proxy, o);
  Grouping g;
  g.name = "cate_proxy";
  g.labels = r.labels;
  g.group = r.group_reps[0];
  GateOptions go;
  go.bootstrap = o.bootstrap;
  const GateResult gate = Gate(s.data, s.fit, g, go);
  for (int k = 0; k < 5; ++k) {
    const GroupEffect& e = gate.groups[k];
    EXPECT_NEAR(r.gates[k].estimate, e.estimate, 1e-12 * std::abs(e.estimate));
    EXPECT_NEAR(r.gates[k].se, e.se, 1e-12 * e.se);
    EXPECT_NE(r.gates[k].joint_ci_lower, e.joint_ci_lower);
    EXPECT_NE(r.gates[k].joint_ci_upper, e.joint_ci_upper);
  }
  // Critical values of max_j |t*_j| over 5 independent groups, B = 500: the
  // Monte-Carlo SE of each is about 0.07, of their difference about 0.1.
  ASSERT_EQ(r.joint_critical_values.size(), gate.joint_critical_values.size());
  for (std::size_t rep = 0; rep < r.joint_critical_values.size(); ++rep) {
    EXPECT_NE(r.joint_critical_values[rep], gate.joint_critical_values[rep]);
    EXPECT_NEAR(r.joint_critical_values[rep], gate.joint_critical_values[rep], 0.3) << "rep " << rep;
  }
}

// Under a constant effect the 5% BLP test should reject in about 5% of data
// sets. Over 12 seeds, "at most 3 rejections" fails with probability 0.002 at
// a true size of 5% and >= 0.5 at a size of 30% or more: it catches a grossly
// anti-conservative test, not a moderate excess. Measured here: 1 of 12 for
// the outcome-difference proxy. bench/cate_proxy_study.py measures the size
// on 40 data sets instead (15% at n = 4000 for this proxy, 22% for the
// DR-learner proxy: finite-sample nuisance error, see bench/RESULTS.md).
int NullRejections() {
  int rejections = 0;
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    const Dataset data = ConstantEffectData(4000, seed);
    const Fit fit = FitNuisances(data, cate_test::FastOptions());
    const SortedGatesResult r = SortedGates(data, fit, OutcomeDifferenceProxy(fit), SortedGatesOptions{});
    std::printf("seed %d: beta2 %.3f (se %.3f, p %.3f), top-bottom %.3f (p %.3f), ATE %.3f (se %.3f)\n",
                static_cast<int>(seed), r.blp_beta2.estimate, r.blp_beta2.se, r.blp_beta2.p_value,
                r.top_minus_bottom.estimate, r.top_minus_bottom.p_value, r.blp_beta1.estimate, r.blp_beta1.se);
    if (r.blp_beta2.p_value < 0.05) ++rejections;
    EXPECT_NEAR(r.blp_beta1.estimate, 1.0, 4 * r.blp_beta1.se) << "seed " << seed;  // the ATE
  }
  return rejections;
}

TEST(SortedGates, HeterogeneityTestHoldsItsLevelUnderAConstantEffect) {
  EXPECT_LE(NullRejections(), 3);
}

TEST(SortedGates, InvariantToRowOrder) {
  const Prepared& s = Seller();
  SortedGatesOptions o;
  o.clan = {"price"};
  const SortedGatesResult a = SortedGates(s.data, s.fit, s.proxy, o);
  // Reverse the rows of the data, the stored predictions and the proxy.
  const std::size_t n = s.data.n, p = s.data.p;
  Dataset d = s.data;
  Fit f = s.fit;
  std::vector<std::vector<double>> m = s.proxy;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t j = n - 1 - i;
    d.y[i] = s.data.y[j];
    d.d[i] = s.data.d[j];
    for (std::size_t c = 0; c < p; ++c) d.x[i * p + c] = s.data.x[j * p + c];
    f.predictions.m[i] = s.fit.predictions.m[j];
    f.predictions.g0[i] = s.fit.predictions.g0[j];
    f.predictions.g1[i] = s.fit.predictions.g1[j];
    f.predictions.fold[i] = s.fit.predictions.fold[j];
    m[0][i] = s.proxy[0][j];
  }
  const SortedGatesResult b = SortedGates(d, f, m, o);
  auto near = [](double x, double y) { EXPECT_NEAR(x, y, 1e-10 * (1 + std::abs(x))); };
  for (int k = 0; k < 5; ++k) {
    near(a.gates[k].estimate, b.gates[k].estimate);
    near(a.gates[k].se, b.gates[k].se);
    EXPECT_EQ(a.group_rows[k], b.group_rows[k]);
  }
  near(a.blp_beta2.estimate, b.blp_beta2.estimate);
  near(a.blp_beta2.se, b.blp_beta2.se);
  near(a.clan[0].difference.estimate, b.clan[0].difference.estimate);
  near(a.clan[0].difference.se, b.clan[0].difference.se);
}

TEST(SortedGates, AggregatesRepetitionsByTheMedianRule) {
  const Dataset data = cate_test::SellerData(3000, 4);
  Options fo = cate_test::FastOptions();
  fo.reps = 3;
  const Fit fit = FitNuisances(data, fo);
  const std::vector<CateModel> models = FitCateModels(data, fit, CateModelOptions{});
  ASSERT_EQ(models.size(), 3u);
  EXPECT_NE(models[0].out_of_fold, models[1].out_of_fold);  // each on its own folds
  const SortedGatesResult r = SortedGates(data, fit, DrLearnerProxy(models), SortedGatesOptions{});
  ASSERT_EQ(r.blp_beta2.theta_reps.size(), 3u);
  std::vector<double> t = r.blp_beta2.theta_reps;
  std::sort(t.begin(), t.end());
  EXPECT_EQ(r.blp_beta2.estimate, t[1]);
  ASSERT_EQ(r.group_reps.size(), 3u);
}

TEST(SortedGates, BadInputsGiveClearErrors) {
  const Prepared& s = Seller();
  auto message = [&](const Dataset& data, const Fit& fit, const std::vector<std::vector<double>>& proxy,
                     SortedGatesOptions o) -> std::string {
    try {
      SortedGates(data, fit, proxy, o);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  SortedGatesOptions o;
  o.groups = 1;
  EXPECT_NE(message(s.data, s.fit, s.proxy, o).find("use K >= 2"), std::string::npos);
  o.groups = 600;  // 10000 rows / 600 groups < 20 rows per group
  EXPECT_NE(message(s.data, s.fit, s.proxy, o).find("fewer than 20 rows per proxy group"), std::string::npos);
  o = SortedGatesOptions{};
  o.clan = {"no_such_column"};
  EXPECT_NE(message(s.data, s.fit, s.proxy, o).find("--clan: 'no_such_column'"), std::string::npos);
  EXPECT_NE(message(s.data, s.fit, {}, SortedGatesOptions{}).find("0 CATE proxies for a fit with 1"),
            std::string::npos);
  // A proxy with few distinct values: its tied groups come out too small.
  std::vector<std::vector<double>> tied = s.proxy;
  for (std::size_t i = 0; i < s.data.n; ++i) tied[0][i] = i < 10 ? 1.0 : 0.0;
  const std::string msg = message(s.data, s.fit, tied, SortedGatesOptions{});
  EXPECT_NE(msg.find("--sorted-gates 5"), std::string::npos) << msg;
}

}  // namespace
}  // namespace fastdml
