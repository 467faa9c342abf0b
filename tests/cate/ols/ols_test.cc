// OlsRobust and OlsOnGroups (src/cate/ols/ols.cc) against textbook formulas
// computed here independently: coefficients from a Householder QR solve, HC0
// = (X'X)^-1 X' diag(e^2) X (X'X)^-1, HC1 = n/(n-k) HC0, HC3 with h_ii from
// the explicit hat matrix X (X'X)^-1 X', cluster with statsmodels' factor
// G/(G-1) (n-1)/(n-k). Relative tolerance 1e-10 (well-conditioned designs).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include <Eigen/Dense>

#include "fastdml/cate.h"
#include "fastdml/error.h"

namespace fastdml {
namespace {

using Mat = Eigen::MatrixXd;
constexpr double kRel = 1e-10;

struct Problem {
  std::size_t n;
  int k;
  std::vector<double> x, y;
  std::vector<std::int32_t> cluster;
  std::int32_t n_clusters;
};

Problem MakeProblem(std::size_t n, int k, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z;
  Problem p{n, k, std::vector<double>(n * k), std::vector<double>(n), std::vector<std::int32_t>(n), 17};
  for (std::size_t i = 0; i < n; ++i) {
    p.x[i * k] = 1.0;
    for (int j = 1; j < k; ++j) p.x[i * k + j] = z(rng) * (1 + j);
    double mean = 0.5;
    for (int j = 1; j < k; ++j) mean += 0.3 * j * p.x[i * k + j];
    p.y[i] = mean + (1 + std::fabs(p.x[i * k + 1])) * z(rng);  // heteroskedastic
    p.cluster[i] = static_cast<std::int32_t>(i % 17);
  }
  return p;
}

Mat Design(const Problem& p) {
  Mat X(p.n, p.k);
  for (std::size_t i = 0; i < p.n; ++i) {
    for (int j = 0; j < p.k; ++j) X(i, j) = p.x[i * p.k + j];
  }
  return X;
}

void ExpectRelNear(const std::vector<double>& got, const Mat& want, const char* what) {
  ASSERT_EQ(got.size(), static_cast<std::size_t>(want.size()));
  const double scale = want.cwiseAbs().maxCoeff();
  for (Eigen::Index r = 0; r < want.rows(); ++r) {
    for (Eigen::Index c = 0; c < want.cols(); ++c) {
      EXPECT_NEAR(got[r * want.cols() + c], want(r, c), kRel * scale) << what << " (" << r << ", " << c << ")";
    }
  }
}

Mat Reference(const Problem& p, CovType cov, Eigen::VectorXd* beta) {
  const Mat X = Design(p);
  const Eigen::Map<const Eigen::VectorXd> Y(p.y.data(), p.n);
  *beta = X.householderQr().solve(Y);
  const Eigen::VectorXd e = Y - X * *beta;
  const Mat bread = (X.transpose() * X).inverse();
  const double n = static_cast<double>(p.n), k = p.k;
  Mat meat = Mat::Zero(p.k, p.k);
  if (cov == CovType::kCluster) {
    Mat u = Mat::Zero(p.n_clusters, p.k);
    for (std::size_t i = 0; i < p.n; ++i) u.row(p.cluster[i]) += X.row(i) * e(i);
    meat = u.transpose() * u;
    const double g = p.n_clusters;
    return g / (g - 1) * (n - 1) / (n - k) * bread * meat * bread;
  }
  const Mat hat = X * bread * X.transpose();
  for (std::size_t i = 0; i < p.n; ++i) {
    double w = e(i) * e(i);
    if (cov == CovType::kHC3) w /= std::pow(1 - hat(i, i), 2);
    meat += w * X.row(i).transpose() * X.row(i);
  }
  const Mat v = bread * meat * bread;
  return cov == CovType::kHC1 ? Mat(n / (n - k) * v) : v;
}

class OlsCovTest : public ::testing::TestWithParam<CovType> {};

TEST_P(OlsCovTest, CoefficientsAndCovarianceEqualTextbookFormulas) {
  const Problem p = MakeProblem(300, 4, 11);
  Eigen::VectorXd beta;
  const Mat want = Reference(p, GetParam(), &beta);
  const OlsFit fit = OlsRobust(p.y, p.x, p.n, p.k, GetParam(), p.cluster, p.n_clusters);
  ExpectRelNear(fit.coef, beta, "coef");
  ExpectRelNear(fit.cov, want, "cov");
}

INSTANTIATE_TEST_SUITE_P(AllTypes, OlsCovTest,
                         ::testing::Values(CovType::kHC0, CovType::kHC1, CovType::kHC3, CovType::kCluster),
                         [](const auto& info) { return std::string(ToString(info.param)); });

TEST(Ols, InfluenceFunctionsReproduceTheCovariance) {
  const Problem p = MakeProblem(200, 3, 12);
  for (CovType cov : {CovType::kHC0, CovType::kHC1, CovType::kHC3}) {
    const OlsFit fit = OlsRobust(p.y, p.x, p.n, p.k, cov, {}, 0, {}, true);
    ASSERT_EQ(fit.influence.size(), p.n * p.k);
    Mat v = Mat::Zero(p.k, p.k);
    for (std::size_t i = 0; i < p.n; ++i) {
      for (int a = 0; a < p.k; ++a) {
        for (int b = 0; b < p.k; ++b) v(a, b) += fit.influence[a * p.n + i] * fit.influence[b * p.n + i];
      }
    }
    v /= static_cast<double>(p.n) * p.n;
    ExpectRelNear(fit.cov, v, ToString(cov));
  }
}

TEST(Ols, GroupDesignEqualsGeneralOlsOnDummiesTimesScale) {
  const std::size_t n = 400;
  const int g = 5;
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z;
  std::vector<double> y(n), scale(n), x(n * g, 0.0);
  std::vector<std::int32_t> group(n), cluster(n);
  for (std::size_t i = 0; i < n; ++i) {
    group[i] = static_cast<std::int32_t>((i * 7) % g);
    scale[i] = 0.5 + z(rng) * z(rng);  // like D - m(X)
    y[i] = group[i] + z(rng);
    x[i * g + group[i]] = scale[i];
    cluster[i] = static_cast<std::int32_t>(i % 23);
  }
  for (CovType cov : {CovType::kHC0, CovType::kHC1, CovType::kHC3, CovType::kCluster}) {
    const OlsFit general = OlsRobust(y, x, n, g, cov, cluster, 23);
    const OlsFit fast = OlsOnGroups(y, scale, group, g, cov, cluster, 23);
    for (int a = 0; a < g; ++a) {
      EXPECT_NEAR(fast.coef[a], general.coef[a], 1e-12 * std::fabs(general.coef[a])) << ToString(cov);
      for (int b = 0; b < g; ++b) {
        EXPECT_NEAR(fast.cov[a * g + b], general.cov[a * g + b], 1e-10 * general.cov[a * g + a]) << ToString(cov);
      }
    }
  }
}

TEST(Ols, SingularDesignNamesTheCollinearTerm) {
  Problem p = MakeProblem(100, 4, 5);
  for (std::size_t i = 0; i < p.n; ++i) p.x[i * 4 + 3] = 2 * p.x[i * 4 + 1] - p.x[i * 4 + 0];
  try {
    OlsRobust(p.y, p.x, p.n, 4, CovType::kHC0, {}, 0, {"intercept", "a", "b", "c"});
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("singular basis: term 'c' is a linear combination"), std::string::npos)
        << e.what();
  }
}

TEST(Ols, ErrorsForTooFewRowsLeverageOneAndMissingClusters) {
  const Problem p = MakeProblem(4, 4, 6);
  EXPECT_THROW(OlsRobust(p.y, p.x, 4, 4, CovType::kHC0), DataError);
  // Group of one row under HC3: leverage 1.
  std::vector<double> y = {1, 2, 3, 4, 5};
  std::vector<std::int32_t> group = {0, 0, 0, 0, 1};
  try {
    OlsOnGroups(y, {}, group, 2, CovType::kHC3, {}, 0, {"big", "tiny"});
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("group 'tiny' rests on one row"), std::string::npos) << e.what();
  }
  try {
    OlsOnGroups(y, {}, group, 2, CovType::kCluster);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--cluster"), std::string::npos);
  }
  EXPECT_THROW(ParseCovType("hc2"), UsageError);
  EXPECT_EQ(ParseCovType("HC3"), CovType::kHC3);
}

}  // namespace
}  // namespace fastdml
