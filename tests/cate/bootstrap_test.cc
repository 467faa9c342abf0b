// The Gaussian multiplier draws behind GATE/BLP joint bands
// (src/cate/bootstrap.cc): t* has unit variance and the correlation of the
// coefficient covariance, also when that covariance is only semi-definite.
// Tolerances: 5 Monte-Carlo standard errors at B = 20000 (variance: 5
// sqrt(2/B) = 0.05; correlation rho: 5 (1 - rho^2)/sqrt(B) = 0.023 at 0.6).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cate/ols.h"

namespace fastdml {
namespace {

constexpr std::int64_t kB = 20000;

void Moments(const std::vector<double>& t, int m, int a, int b, double* var_a, double* corr) {
  double saa = 0, sbb = 0, sab = 0;
  for (std::int64_t r = 0; r < kB; ++r) {
    const double x = t[r * m + a], y = t[r * m + b];
    saa += x * x;
    sbb += y * y;
    sab += x * y;
  }
  *var_a = saa / kB;
  *corr = sab / std::sqrt(saa * sbb);
}

TEST(GaussianT, CorrelatedCoefficientsKeepTheirCorrelation) {
  const std::vector<double> omega = {4.0, 0.6 * 2 * 3, 0.6 * 2 * 3, 9.0};
  const std::vector<double> t = cate::GaussianT(omega, 2, {}, 2, CateBootstrap{kB, 7}, 0);
  double var, corr;
  Moments(t, 2, 0, 1, &var, &corr);
  EXPECT_NEAR(var, 1.0, 0.05);
  EXPECT_NEAR(corr, 0.6, 0.023);
}

TEST(GaussianT, SemiDefiniteCovarianceUsesTheSymmetricRoot) {
  const std::vector<double> omega = {1.0, 1.0, 1.0, 1.0};  // rank 1: both coefficients move together
  const std::vector<double> t = cate::GaussianT(omega, 2, {}, 2, CateBootstrap{kB, 8}, 0);
  for (std::int64_t r = 0; r < kB; ++r) ASSERT_NEAR(t[r * 2], t[r * 2 + 1], 1e-9);
  double var, corr;
  Moments(t, 2, 0, 1, &var, &corr);
  EXPECT_NEAR(var, 1.0, 0.05);
}

TEST(GaussianT, LinearFunctionalsAreStandardised) {
  // Independent coefficients, grid rows (1, 0), (1, 1): corr = 1/sqrt(2).
  const std::vector<double> omega = {2.0, 0.0, 0.0, 2.0};
  const std::vector<double> t = cate::GaussianT(omega, 2, {1, 0, 1, 1}, 2, CateBootstrap{kB, 9}, 0);
  double var, corr;
  Moments(t, 2, 1, 0, &var, &corr);
  EXPECT_NEAR(var, 1.0, 0.05);
  EXPECT_NEAR(corr, std::sqrt(0.5), 5 * 0.5 / std::sqrt(kB));
  // same (seed, rep) -> same draws; another rep -> other draws
  EXPECT_EQ(t, cate::GaussianT(omega, 2, {1, 0, 1, 1}, 2, CateBootstrap{kB, 9}, 0));
  EXPECT_NE(t, cate::GaussianT(omega, 2, {1, 0, 1, 1}, 2, CateBootstrap{kB, 9}, 1));
}

}  // namespace
}  // namespace fastdml
