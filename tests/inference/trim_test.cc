// Trimming (fastdml/trim.h): Crump et al.'s alpha as the fixed point it is
// defined by, the kept rows, the restricted data and fit, and the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "fastdml/error.h"
#include "fastdml/estimator.h"
#include "fastdml/trim.h"

namespace fastdml {
namespace {

// Propensities from a logistic of a normal index with scale `s`: larger s,
// more mass near 0 and 1.
std::vector<double> Propensities(std::size_t n, double s, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> m(n);
  for (double& v : m) v = 1.0 / (1.0 + std::exp(-s * normal(rng)));
  return m;
}

TEST(Trim, CrumpAlphaIsZeroWhenEveryPropensityIsModerate) {
  std::vector<double> m;
  for (int i = 0; i <= 100; ++i) m.push_back(0.3 + 0.4 * i / 100.0);  // max gamma 4.76 <= 2 mean gamma
  EXPECT_EQ(CrumpAlpha(m), 0.0);
}

TEST(Trim, CrumpAlphaSolvesItsFixedPoint) {
  // lambda = 1 / (alpha (1 - alpha)) must equal 2 E[gamma | gamma <= lambda]
  // (Crump et al. 2009, eq. (12)), over the sample's gammas.
  for (double s : {2.0, 3.0, 4.0}) {
    const std::vector<double> m = Propensities(5000, s, 7);
    const double alpha = CrumpAlpha(m);
    ASSERT_GT(alpha, 0.0) << "s = " << s;
    ASSERT_LT(alpha, 0.5);
    const double lambda = 1.0 / (alpha * (1.0 - alpha));
    double sum = 0, count = 0;
    for (double e : m) {
      const double g = 1.0 / (e * (1.0 - e));
      if (g <= lambda) sum += g, count += 1;
    }
    EXPECT_NEAR(lambda, 2.0 * sum / count, 1e-9 * lambda) << "s = " << s;
    // Near Crump et al.'s rule of thumb (alpha about 0.1 for many designs).
    EXPECT_GT(alpha, 0.03);
    EXPECT_LT(alpha, 0.2);
  }
}

TEST(Trim, CrumpAlphaTrimsPropensitiesAtZeroAndOne) {
  std::vector<double> m = Propensities(1000, 3.0, 3);
  m[0] = 0.0;
  m[1] = 1.0;
  const double alpha = CrumpAlpha(m);
  EXPECT_GT(alpha, 0.0);
  EXPECT_TRUE(std::isfinite(alpha));
  // The same as without those two rows' infinite gammas pulling it: they are
  // trimmed either way, and the rest fixes lambda.
  std::vector<double> m_finite(m.begin() + 2, m.end());
  const double lambda = 1.0 / (alpha * (1.0 - alpha));
  double sum = 0, count = 0;
  for (double e : m_finite) {
    const double g = 1.0 / (e * (1.0 - e));
    if (g <= lambda) sum += g, count += 1;
  }
  EXPECT_NEAR(lambda, 2.0 * sum / count, 1e-9 * lambda);
}

TEST(Trim, ParseNamesTheOption) {
  EXPECT_EQ(ParseTrim("crump").rule, TrimRule::kCrump);
  EXPECT_EQ(ParseTrim("0.1").rule, TrimRule::kFixed);
  EXPECT_DOUBLE_EQ(ParseTrim("0.1").alpha, 0.1);
  for (const char* bad : {"0", "0.5", "-0.1", "abc", "", "0.1x"}) {
    try {
      ParseTrim(bad);
      ADD_FAILURE() << "no error for --trim " << bad;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--trim"), std::string::npos) << e.what();
    }
  }
}

// A small IRM problem with given propensities, two repetitions and clusters.
struct Problem {
  Dataset data;
  Fit fit;
};

Problem MakeProblem(std::size_t n) {
  Problem p;
  Dataset& d = p.data;
  d.n = n;
  d.p = 2;
  d.feature_names = {"a", "b"};
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  Predictions pred;
  pred.n = n;
  pred.reps = 2;
  const std::vector<double> m = Propensities(n, 3.0, 5);
  for (std::size_t i = 0; i < n; ++i) {
    d.x.push_back(static_cast<float>(i));
    d.x.push_back(static_cast<float>(2 * i));
    d.d.push_back(unif(rng) < m[i] ? 1.0 : 0.0);
    d.y.push_back(d.d.back() + unif(rng));
    d.cluster.push_back(static_cast<std::int32_t>(i / 4));  // clusters of 4 rows
  }
  d.n_clusters = static_cast<std::int32_t>((n + 3) / 4);
  for (int r = 0; r < 2; ++r) {
    for (std::size_t i = 0; i < n; ++i) {
      pred.m.push_back(std::min(0.999, std::max(0.001, m[i] + (r == 0 ? 0.01 : -0.01))));
      pred.g0.push_back(0.5);
      pred.g1.push_back(1.5);
      pred.fold.push_back(static_cast<int>((i / 4 + r) % 3));  // clusters whole in each fold
    }
  }
  Options o;
  o.folds = 3;
  o.reps = 2;
  p.fit = FitFromPredictions(d, o, pred);
  return p;
}

TEST(Trim, KeepsTheRowsWithinAlphaOfTheMeanPropensityAndRestrictsEverything) {
  const Problem p = MakeProblem(800);
  const TrimmedSample t = Trim(p.data, p.fit, ParseTrim("0.1"));
  EXPECT_EQ(t.alpha, 0.1);
  EXPECT_EQ(t.rows, 800u);
  std::size_t expected = 0;
  for (std::size_t i = 0; i < 800; ++i) {
    const double mean = 0.5 * (p.fit.predictions.m[i] + p.fit.predictions.m[800 + i]);
    const bool keep = mean >= 0.1 && mean <= 0.9;
    expected += keep;
    EXPECT_EQ(std::binary_search(t.kept.begin(), t.kept.end(), static_cast<std::uint32_t>(i)), keep) << i;
  }
  ASSERT_EQ(t.kept.size(), expected);
  ASSERT_LT(expected, 800u);  // the problem has extreme propensities
  ASSERT_EQ(t.data.n, expected);
  EXPECT_EQ(t.treated_kept + t.control_kept, expected);
  for (std::size_t j = 0; j < expected; ++j) {
    const std::size_t i = t.kept[j];
    EXPECT_EQ(t.data.y[j], p.data.y[i]);
    EXPECT_EQ(t.data.d[j], p.data.d[i]);
    EXPECT_EQ(t.data.X(j, 1), p.data.X(i, 1));
    for (int r = 0; r < 2; ++r) {
      EXPECT_EQ(t.fit.predictions.m[r * expected + j], p.fit.predictions.m[r * 800 + i]);
      EXPECT_EQ(t.fit.predictions.fold[r * expected + j], p.fit.predictions.fold[r * 800 + i]);
    }
    // clusters renumbered, but rows of one cluster stay together
    if (j > 0 && p.data.cluster[i] == p.data.cluster[t.kept[j - 1]]) {
      EXPECT_EQ(t.data.cluster[j], t.data.cluster[j - 1]);
    }
  }
  EXPECT_GT(t.data.n_clusters, 0);
  EXPECT_LE(t.data.n_clusters, p.data.n_clusters);
  // The trimmed fit estimates: Estimate runs on it as on any fit.
  Options o = p.fit.options;
  const Report r = Estimate(t.data, t.fit, o);
  EXPECT_TRUE(std::isfinite(r.estimates[0].estimate));
}

TEST(Trim, LeavingAnArmEmptyIsAUsageErrorNamingTrim) {
  Problem p = MakeProblem(200);
  // Every treated row gets an extreme propensity: alpha 0.2 keeps only controls.
  for (int r = 0; r < 2; ++r) {
    for (std::size_t i = 0; i < 200; ++i) {
      p.fit.predictions.m[r * 200 + i] = p.data.d[i] != 0.0 ? 0.95 : 0.5;
    }
  }
  try {
    Trim(p.data, p.fit, ParseTrim("0.2"));
    FAIL() << "no error";
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("--trim"), std::string::npos) << what;
    EXPECT_NE(what.find("0 treated"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace fastdml
