// Joint critical value, Romano-Wolf, Bonferroni and Holm on small examples
// computed by hand (and, where bit-exactness with numpy matters, values
// printed by numpy 2.4 / statsmodels 0.15), plus properties on random inputs
// checked against a literal transcription of DoubleML's p_adjust loop.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "fastdml/error.h"
#include "fastdml/inference.h"

namespace fastdml {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// B = 5 replicates x k = 3 estimands, replicate-major. Row maxima of |t*|:
//   b0 1.2, b1 2.0, b2 0.6, b3 1.5, b4 3.0  -> sorted 0.6 1.2 1.5 2.0 3.0
const std::vector<double> kT5x3 = {
    0.5,  -1.2, 0.3,   //
    -2.0, 0.1,  1.0,   //
    0.2,  0.4,  -0.6,  //
    1.5,  -1.5, 0.0,   //
    0.9,  2.5,  -3.0,  //
};

// --- JointCriticalValue ------------------------------------------------------------

TEST(JointCriticalValue, HandExampleLinearInterpolation) {
  // h = (B-1) level = 4 level; x[floor h] + frac(h) (x[floor h + 1] - x[floor h]).
  EXPECT_NEAR(JointCriticalValue(kT5x3, 3, 0.95), 2.8, 1e-14);   // h 3.8: 2.0 + 0.8 * 1.0
  EXPECT_NEAR(JointCriticalValue(kT5x3, 3, 0.90), 2.6, 1e-14);   // h 3.6
  EXPECT_NEAR(JointCriticalValue(kT5x3, 3, 0.10), 0.84, 1e-14);  // h 0.4: 0.6 + 0.4 * 0.6
  EXPECT_NEAR(JointCriticalValue(kT5x3, 3, 0.99), 2.96, 1e-14);  // h 3.96
  EXPECT_EQ(JointCriticalValue(kT5x3, 3, 0.5), 1.5);             // h 2: exactly an order statistic
  EXPECT_EQ(JointCriticalValue(kT5x3, 3, 0.25), 1.2);            // h 1
}

TEST(JointCriticalValue, BitIdenticalToNumpyQuantile) {
  // numpy.quantile(..., method='linear') prints these (shortest repr).
  EXPECT_EQ(JointCriticalValue(kT5x3, 3, 0.95), 2.8);
  EXPECT_EQ(JointCriticalValue(kT5x3, 3, 0.9), 2.6);
  EXPECT_EQ(JointCriticalValue(kT5x3, 3, 0.1), 0.84);
  EXPECT_EQ(JointCriticalValue(kT5x3, 3, 0.99), 2.96);
  EXPECT_EQ(JointCriticalValue(kT5x3, 3, 0.3333), 1.29996);
  // rng = np.random.default_rng(5); t = rng.normal(size=(7, 3))
  const std::vector<double> t = {
      -0.8019314252534474, -1.324358995628145,   -0.24836162209524854, 0.4204452380655215,
      1.1360465324896427,  0.10970639932180819,  -0.5526473205362324,  -0.7847803553442784,
      0.7487457707345911,  1.6347830429585775,   0.27276877584472176,  -1.2333286640307717,
      -0.9582652054360887, 1.6000190889991115,   0.2028824405086084,   -1.7321348424395848,
      -0.08369619281702581, -1.1632259734447485, -0.6292880940615545,  -0.48800582327685743,
      -0.7133133716322436};
  EXPECT_EQ(JointCriticalValue(t, 3, 0.95), 1.7029293025952825);
  EXPECT_EQ(JointCriticalValue(t, 3, 0.8), 1.6278302521666843);
  EXPECT_EQ(JointCriticalValue(t, 3, 0.123), 0.7660560056117253);
}

TEST(JointCriticalValue, LevelEdges) {
  EXPECT_EQ(JointCriticalValue(kT5x3, 3, 0.0), 0.6);  // the minimum
  EXPECT_EQ(JointCriticalValue(kT5x3, 3, 1.0), 3.0);  // the maximum
  // One replicate: every level gives its sup |t|.
  const std::vector<double> one = {0.3, -2.5, 1.0};
  for (double level : {0.0, 0.05, 0.5, 0.95, 1.0}) EXPECT_EQ(JointCriticalValue(one, 3, level), 2.5);
}

TEST(JointCriticalValue, OneEstimandIsQuantileOfAbs) {
  const std::vector<double> t = {-1.0, 4.0, -3.0, 2.0};  // |t| sorted 1 2 3 4
  EXPECT_NEAR(JointCriticalValue(t, 1, 0.5), 2.5, 1e-15);  // h 1.5
  EXPECT_NEAR(JointCriticalValue(t, 1, 0.95), 3.85, 1e-14);  // h 2.85
}

TEST(JointCriticalValue, Ties) {
  // All sup |t| equal: any level gives that value.
  const std::vector<double> t = {1.0, -0.5, -1.0, 0.2, 0.7, 1.0, 1.0, 1.0};
  for (double level : {0.0, 0.3, 0.95, 1.0}) EXPECT_EQ(JointCriticalValue(t, 2, level), 1.0);
  // Ties among the order statistics around h: x = 0.5 1 1 1 2, h = 4 * 0.6 = 2.4 -> 1.
  const std::vector<double> u = {1.0, 0.5, -1.0, 2.0, 1.0};
  EXPECT_EQ(JointCriticalValue(u, 1, 0.6), 1.0);
}

TEST(JointCriticalValue, NotBelowPointwiseAndMonotoneInLevel) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z(0, 1);
  const int k = 4;
  const int b_count = 4000;
  std::vector<double> t(static_cast<std::size_t>(b_count) * k);
  for (double& v : t) v = z(rng);
  double prev = 0;
  for (double level : {0.5, 0.8, 0.9, 0.95, 0.99}) {
    const double c = JointCriticalValue(t, k, level);
    EXPECT_GE(c, prev);
    prev = c;
    // sup over 4 independent N(0,1) exceeds each marginal's |t| quantile.
    std::vector<double> col(b_count);
    for (int b = 0; b < b_count; ++b) col[b] = t[static_cast<std::size_t>(b) * k];
    EXPECT_GE(c, JointCriticalValue(col, 1, level));
  }
  // Independent N(0,1): P(max_j |Z_j| <= c) = (2 Phi(c) - 1)^4 = 0.95 at c ~ 2.4909.
  EXPECT_NEAR(JointCriticalValue(t, k, 0.95), 2.4909, 0.12);
}

TEST(JointCriticalValue, NaNReplicateGivesNaN) {
  std::vector<double> t = kT5x3;
  t[7] = kNaN;
  EXPECT_TRUE(std::isnan(JointCriticalValue(t, 3, 0.95)));
}

TEST(JointCriticalValue, RejectsBadShapesAndLevels) {
  EXPECT_THROW(JointCriticalValue(kT5x3, 0, 0.95), Error);
  EXPECT_THROW(JointCriticalValue(kT5x3, -1, 0.95), Error);
  EXPECT_THROW(JointCriticalValue(kT5x3, 4, 0.95), Error);  // 15 values, k = 4
  EXPECT_THROW(JointCriticalValue({}, 3, 0.95), Error);
  EXPECT_THROW(JointCriticalValue(kT5x3, 3, -0.01), Error);
  EXPECT_THROW(JointCriticalValue(kT5x3, 3, 1.01), Error);
  EXPECT_THROW(JointCriticalValue(kT5x3, 3, kNaN), Error);
}

// --- RomanoWolf ---------------------------------------------------------------------

// Literal transcription of DoubleML 0.11.4 DoubleMLFramework.p_adjust('romano-wolf')
// for one repetition (np.delete of the removed columns, np.max, np.mean).
std::vector<double> DoubleMLRomanoWolf(const std::vector<double>& t, int k, const std::vector<double>& t_obs) {
  const std::size_t b_count = t.size() / k;
  std::vector<int> order(k);
  for (int j = 0; j < k; ++j) order[j] = j;
  std::stable_sort(order.begin(), order.end(),
                   [&](int x, int y) { return std::fabs(t_obs[x]) > std::fabs(t_obs[y]); });
  std::vector<double> p_init(k), sorted(k), out(k);
  for (int i = 0; i < k; ++i) {
    std::vector<bool> removed(k, false);
    for (int r = 0; r < i; ++r) removed[order[r]] = true;
    double hits = 0;
    for (std::size_t b = 0; b < b_count; ++b) {
      double m = -1;
      for (int j = 0; j < k; ++j)
        if (!removed[j]) m = std::max(m, std::fabs(t[b * k + j]));
      hits += m >= std::fabs(t_obs[order[i]]) ? 1 : 0;
    }
    p_init[i] = std::min(1.0, hits / static_cast<double>(b_count));
  }
  for (int i = 0; i < k; ++i) sorted[i] = i == 0 ? p_init[0] : std::max(p_init[i], sorted[i - 1]);
  for (int i = 0; i < k; ++i) out[order[i]] = sorted[i];
  return out;
}

TEST(RomanoWolf, HandExample) {
  // |t_obs| order: e0 (2.2), e1 (1.0), e2 (0.5).
  // step 0: crit = sup over {0,1,2} = 1.2 2.0 0.6 1.5 3.0; >= 2.2: 1 of 5 -> 0.2
  // step 1: crit = sup over {1,2}   = 1.2 1.0 0.6 1.5 3.0; >= 1.0: 4 of 5 -> 0.8
  //         (1.0 >= 1.0 counts: DoubleML compares with >=)
  // step 2: crit = |t*_2|           = 0.3 1.0 0.6 0.0 3.0; >= 0.5: 3 of 5 -> 0.6 -> max 0.8
  const std::vector<double> p = RomanoWolf(kT5x3, 3, {2.2, -1.0, 0.5});
  ASSERT_EQ(p.size(), 3u);
  EXPECT_DOUBLE_EQ(p[0], 0.2);
  EXPECT_DOUBLE_EQ(p[1], 0.8);
  EXPECT_DOUBLE_EQ(p[2], 0.8);
  // Same estimands listed in another order: the same values follow them.
  const std::vector<double> t_perm = {
      0.3,  0.5, -1.2,  //
      1.0, -2.0, 0.1,   //
      -0.6, 0.2, 0.4,   //
      0.0,  1.5, -1.5,  //
      -3.0, 0.9, 2.5,   //
  };
  const std::vector<double> q = RomanoWolf(t_perm, 3, {0.5, 2.2, -1.0});
  EXPECT_DOUBLE_EQ(q[0], 0.8);
  EXPECT_DOUBLE_EQ(q[1], 0.2);
  EXPECT_DOUBLE_EQ(q[2], 0.8);
}

TEST(RomanoWolf, SecondHandExampleWithoutRunningMax) {
  // |t_obs| order e1 (2.6), e0 (1.1), e2 (0.1).
  // step 0: sup = 1.2 2.0 0.6 1.5 3.0, >= 2.6: 1 -> 0.2
  // step 1: sup over {0,2} = 0.5 2.0 0.6 1.5 3.0, >= 1.1: 3 -> 0.6
  // step 2: |t*_2| = 0.3 1.0 0.6 0.0 3.0, >= 0.1: 4 -> 0.8
  const std::vector<double> p = RomanoWolf(kT5x3, 3, {1.1, 2.6, -0.1});
  EXPECT_DOUBLE_EQ(p[0], 0.6);
  EXPECT_DOUBLE_EQ(p[1], 0.2);
  EXPECT_DOUBLE_EQ(p[2], 0.8);
}

TEST(RomanoWolf, TiedObservedStatistics) {
  // |t_obs| = 1.5 twice. Whichever goes first: step 0 sup >= 1.5: 2.0 1.5 3.0 -> 0.6;
  // step 1 gives 0.4 or 0.6, raised to 0.6 by the running max; step 2 |t*_2| >= 0.5: 0.6.
  const std::vector<double> p = RomanoWolf(kT5x3, 3, {1.5, -1.5, 0.5});
  EXPECT_DOUBLE_EQ(p[0], 0.6);
  EXPECT_DOUBLE_EQ(p[1], 0.6);
  EXPECT_DOUBLE_EQ(p[2], 0.6);
}

TEST(RomanoWolf, OneEstimandIsBootstrapPValue) {
  const std::vector<double> t = {-1.0, 4.0, -3.0, 2.0};
  EXPECT_DOUBLE_EQ(RomanoWolf(t, 1, {2.0})[0], 0.75);   // 4, 3, 2 >= 2
  EXPECT_DOUBLE_EQ(RomanoWolf(t, 1, {-2.5})[0], 0.5);   // 4, 3
  EXPECT_DOUBLE_EQ(RomanoWolf(t, 1, {0.0})[0], 1.0);
  EXPECT_DOUBLE_EQ(RomanoWolf(t, 1, {9.0})[0], 0.0);
  EXPECT_DOUBLE_EQ(RomanoWolf(t, 1, {std::numeric_limits<double>::infinity()})[0], 0.0);
}

TEST(RomanoWolf, MatchesDoubleMLLoopOnRandomInputs) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> z(0, 1);
  std::uniform_int_distribution<int> kd(1, 6);
  for (int trial = 0; trial < 200; ++trial) {
    const int k = kd(rng);
    const int b_count = 1 + trial % 97;
    std::vector<double> t(static_cast<std::size_t>(b_count) * k);
    for (double& v : t) v = z(rng);
    // Some correlation between estimands, and ties from rounding.
    for (int b = 0; b < b_count; ++b)
      for (int j = 1; j < k; ++j) t[b * k + j] = 0.5 * t[b * k + j] + 0.7 * t[b * k];
    if (trial % 3 == 0)
      for (double& v : t) v = std::round(v * 4) / 4;
    std::vector<double> t_obs(k);
    for (double& v : t_obs) v = 2.0 * z(rng);
    if (trial % 3 == 0)
      for (double& v : t_obs) v = std::round(v * 4) / 4;
    const std::vector<double> got = RomanoWolf(t, k, t_obs);
    const std::vector<double> want = DoubleMLRomanoWolf(t, k, t_obs);
    for (int j = 0; j < k; ++j) EXPECT_EQ(got[j], want[j]) << "trial " << trial << " j " << j;
  }
}

TEST(RomanoWolf, MonotoneAndAbovePointwise) {
  std::mt19937_64 rng(12);
  std::normal_distribution<double> z(0, 1);
  const int k = 5;
  const int b_count = 2000;
  std::vector<double> t(static_cast<std::size_t>(b_count) * k);
  for (double& v : t) v = z(rng);
  const std::vector<double> t_obs = {0.3, -2.9, 1.7, 2.2, -0.9};
  const std::vector<double> p = RomanoWolf(t, k, t_obs);
  for (int i = 0; i < k; ++i) {
    EXPECT_GE(p[i], 0.0);
    EXPECT_LE(p[i], 1.0);
    // Larger |t_obs| never gets a larger adjusted p-value.
    for (int j = 0; j < k; ++j)
      if (std::fabs(t_obs[i]) > std::fabs(t_obs[j])) {
        EXPECT_LE(p[i], p[j]);
      }
    // Not below the estimand's own bootstrap p-value.
    std::vector<double> col(b_count);
    for (int b = 0; b < b_count; ++b) col[b] = t[static_cast<std::size_t>(b) * k + i];
    EXPECT_GE(p[i], RomanoWolf(col, 1, {t_obs[i]})[0]);
  }
}

TEST(RomanoWolf, NaNObservedGetsNaNOthersUnchanged) {
  // DoubleML's argsort puts NaN first in the step-down; the other estimands
  // are then adjusted over the remaining set {0, 2}: e0 (2.2) then e2 (0.5).
  // step 1: sup over {0,2} = 0.5 2.0 0.6 1.5 3.0, >= 2.2: 1 -> 0.2
  // step 2: |t*_2| = 0.3 1.0 0.6 0.0 3.0, >= 0.5: 3 -> 0.6
  const std::vector<double> p = RomanoWolf(kT5x3, 3, {2.2, kNaN, 0.5});
  EXPECT_DOUBLE_EQ(p[0], 0.2);
  EXPECT_TRUE(std::isnan(p[1]));
  EXPECT_DOUBLE_EQ(p[2], 0.6);
}

TEST(RomanoWolf, RejectsBadShapes) {
  EXPECT_THROW(RomanoWolf(kT5x3, 3, {1.0, 2.0}), Error);
  EXPECT_THROW(RomanoWolf(kT5x3, 3, {1.0, 2.0, 3.0, 4.0}), Error);
  EXPECT_THROW(RomanoWolf(kT5x3, 4, {1.0, 2.0, 3.0, 4.0}), Error);
  EXPECT_THROW(RomanoWolf(kT5x3, 0, {}), Error);
  EXPECT_THROW(RomanoWolf({}, 2, {1.0, 2.0}), Error);
}

// --- Bonferroni and Holm ---------------------------------------------------------------

TEST(Bonferroni, HandExample) {
  const std::vector<double> p = Bonferroni({0.01, 0.04, 0.03, 0.2});
  ASSERT_EQ(p.size(), 4u);
  EXPECT_DOUBLE_EQ(p[0], 0.04);
  EXPECT_DOUBLE_EQ(p[1], 0.16);
  EXPECT_DOUBLE_EQ(p[2], 0.12);
  EXPECT_DOUBLE_EQ(p[3], 0.8);
  const std::vector<double> c = Bonferroni({0.3, 0.6});
  EXPECT_DOUBLE_EQ(c[0], 0.6);
  EXPECT_EQ(c[1], 1.0);  // 1.2 clipped
  EXPECT_TRUE(Bonferroni({}).empty());
  EXPECT_EQ(Bonferroni({0.37})[0], 0.37);
}

TEST(Holm, HandExample) {
  // sorted: 0.01 (e0), 0.03 (e2), 0.04 (e1), 0.2 (e3); times 4 3 2 1:
  //         0.04       0.09       0.08       0.2 ; running max 0.04 0.09 0.09 0.2
  const std::vector<double> p = Holm({0.01, 0.04, 0.03, 0.2});
  ASSERT_EQ(p.size(), 4u);
  EXPECT_DOUBLE_EQ(p[0], 0.04);
  EXPECT_DOUBLE_EQ(p[1], 0.09);
  EXPECT_DOUBLE_EQ(p[2], 0.09);
  EXPECT_DOUBLE_EQ(p[3], 0.2);
  // Sorted 0.4 (x2 = 0.8), 0.5 (x1 = 0.5 -> running max 0.8).
  const std::vector<double> q = Holm({0.5, 0.4});
  EXPECT_DOUBLE_EQ(q[0], 0.8);
  EXPECT_DOUBLE_EQ(q[1], 0.8);
  // Clipping at 1: 0.7 x 2 = 1.4 -> 1, then max(0.9, 1.4) -> 1.
  const std::vector<double> r = Holm({0.9, 0.7});
  EXPECT_EQ(r[0], 1.0);
  EXPECT_EQ(r[1], 1.0);
  EXPECT_TRUE(Holm({}).empty());
  EXPECT_EQ(Holm({0.37})[0], 0.37);
}

TEST(Holm, Ties) {
  // 0.02 three times, times 4 3 2: 0.08 0.06 0.04 -> running max 0.08 for all; 0.5 x 1 -> 0.5.
  const std::vector<double> p = Holm({0.02, 0.5, 0.02, 0.02});
  EXPECT_DOUBLE_EQ(p[0], 0.08);
  EXPECT_DOUBLE_EQ(p[1], 0.5);
  EXPECT_DOUBLE_EQ(p[2], 0.08);
  EXPECT_DOUBLE_EQ(p[3], 0.08);
}

TEST(Holm, MonotoneBetweenRawAndBonferroni) {
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 200; ++trial) {
    const int m = 1 + trial % 9;
    std::vector<double> p(m);
    for (double& v : p) v = std::pow(u(rng), 3.0);  // many small p-values
    if (trial % 4 == 0) p[0] = p[m - 1];            // a tie
    const std::vector<double> h = Holm(p);
    const std::vector<double> b = Bonferroni(p);
    for (int i = 0; i < m; ++i) {
      EXPECT_LE(h[i], b[i]);
      EXPECT_GE(h[i], p[i]);
      EXPECT_LE(h[i], 1.0);
      for (int j = 0; j < m; ++j) {
        if (p[i] < p[j]) {
          EXPECT_LE(h[i], h[j]);
        }
        if (p[i] == p[j]) {
          EXPECT_EQ(h[i], h[j]);
        }
      }
    }
  }
}

}  // namespace
}  // namespace fastdml
