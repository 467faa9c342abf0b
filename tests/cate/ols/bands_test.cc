// The Gaussian multiplier draws behind the GATE/BLP/sorted GATES joint bands
// (src/cate/ols/bands.cc): t* has unit variance and the correlation of the
// coefficient covariance, also when that covariance is only semi-definite;
// each consumer draws from its own Philox stream.
// Tolerances: 5 Monte-Carlo standard errors at B = 20000 (variance: 5
// sqrt(2/B) = 0.05; correlation rho: 5 (1 - rho^2)/sqrt(B) = 0.023 at 0.6).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cate/ols/ols.h"
#include "ops/philox_weights.h"

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
  const std::vector<double> t = cate::GaussianT(omega, 2, {}, 2, CateBootstrap{kB, 7}, 0, ops::kStreamGateBand);
  double var, corr;
  Moments(t, 2, 0, 1, &var, &corr);
  EXPECT_NEAR(var, 1.0, 0.05);
  EXPECT_NEAR(corr, 0.6, 0.023);
}

TEST(GaussianT, SemiDefiniteCovarianceMovesTheCoefficientsTogether) {
  const std::vector<double> omega = {1.0, 1.0, 1.0, 1.0};  // rank 1: both coefficients move together
  const std::vector<double> t = cate::GaussianT(omega, 2, {}, 2, CateBootstrap{kB, 8}, 0, ops::kStreamGateBand);
  for (std::int64_t r = 0; r < kB; ++r) ASSERT_NEAR(t[r * 2], t[r * 2 + 1], 1e-9);
  double var, corr;
  Moments(t, 2, 0, 1, &var, &corr);
  EXPECT_NEAR(var, 1.0, 0.05);
}

TEST(GaussianT, LinearFunctionalsAreStandardised) {
  // Independent coefficients, grid rows (1, 0), (1, 1): corr = 1/sqrt(2).
  const std::vector<double> omega = {2.0, 0.0, 0.0, 2.0};
  const std::vector<double> t = cate::GaussianT(omega, 2, {1, 0, 1, 1}, 2, CateBootstrap{kB, 9}, 0, ops::kStreamBlpBand);
  double var, corr;
  Moments(t, 2, 1, 0, &var, &corr);
  EXPECT_NEAR(var, 1.0, 0.05);
  EXPECT_NEAR(corr, std::sqrt(0.5), 5 * 0.5 / std::sqrt(kB));
  // same (seed, rep) -> same draws; another rep -> other draws
  EXPECT_EQ(t, cate::GaussianT(omega, 2, {1, 0, 1, 1}, 2, CateBootstrap{kB, 9}, 0, ops::kStreamBlpBand));
  EXPECT_NE(t, cate::GaussianT(omega, 2, {1, 0, 1, 1}, 2, CateBootstrap{kB, 9}, 1, ops::kStreamBlpBand));
}

// GATE, BLP and sorted GATES used to share one stream (tag 6, the ATE/ATT
// exact bootstrap's), so one seed gave them identical z. Each has its own now.
TEST(GaussianT, EachConsumerDrawsFromItsOwnStream) {
  const std::vector<double> omega = {1.0, 0.0, 0.0, 1.0};  // independent: t*_bj = z_bj
  const CateBootstrap boot{4, 11};
  const std::vector<double> gate = cate::GaussianT(omega, 2, {}, 2, boot, 0, ops::kStreamGateBand);
  const std::vector<double> blp = cate::GaussianT(omega, 2, {}, 2, boot, 0, ops::kStreamBlpBand);
  const std::vector<double> sorted = cate::GaussianT(omega, 2, {}, 2, boot, 0, ops::kStreamSortedGatesBand);
  const std::vector<double> ate = cate::GaussianT(omega, 2, {}, 2, boot, 0, ops::kStreamExactNormal);
  EXPECT_NE(gate[0], blp[0]);
  EXPECT_NE(gate[0], sorted[0]);
  EXPECT_NE(blp[0], sorted[0]);
  for (const auto* t : {&gate, &blp, &sorted}) EXPECT_NE((*t)[0], ate[0]);
  // Independent coefficients take z itself: the contract's draws, exactly.
  for (int b = 0; b < 4; ++b)
    for (int j = 0; j < 2; ++j) {
      EXPECT_EQ(gate[b * 2 + j], ops::ExactNormalDraw(11, 0, b, j, ops::kStreamGateBand));
      EXPECT_EQ(blp[b * 2 + j], ops::ExactNormalDraw(11, 0, b, j, ops::kStreamBlpBand));
      EXPECT_EQ(sorted[b * 2 + j], ops::ExactNormalDraw(11, 0, b, j, ops::kStreamSortedGatesBand));
    }
}

// The values since each consumer has its own stream (pinned; they moved on
// purpose with that change, see README "Numbers that changed on purpose").
TEST(GaussianT, PinnedDrawsOfEachConsumer) {
  const std::vector<double> omega = {4.0, 1.2, 1.2, 1.0};
  const CateBootstrap boot{2, 2024};
  const std::vector<double> gate = cate::GaussianT(omega, 2, {}, 2, boot, 1, ops::kStreamGateBand);
  const std::vector<double> blp = cate::GaussianT(omega, 2, {1, 0, 1, 1}, 2, boot, 1, ops::kStreamBlpBand);
  const std::vector<double> sorted = cate::GaussianT(omega, 2, {}, 2, boot, 1, ops::kStreamSortedGatesBand);
  const double want_gate[] = {-1.5320391057474674, -1.5359774544029765, 1.2450895540251119, 0.76284504339998305};
  const double want_blp[] = {-0.6877577483399071, -0.67316767157026758, 2.5211498807969019, 1.4216362253313677};
  const double want_sorted[] = {-0.38678998848819918, 1.0449704695380782, -1.2703744117733686,
                                 -0.079469633701726106};
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(gate[i], want_gate[i], 1e-15 * (1 + std::fabs(want_gate[i]))) << i;
    EXPECT_NEAR(blp[i], want_blp[i], 1e-15 * (1 + std::fabs(want_blp[i]))) << i;
    EXPECT_NEAR(sorted[i], want_sorted[i], 1e-15 * (1 + std::fabs(want_sorted[i]))) << i;
  }
}

}  // namespace
}  // namespace fastdml
