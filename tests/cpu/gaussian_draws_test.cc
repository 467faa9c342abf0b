// The one exact Gaussian sampler (src/cpu/gaussian_draws.h) behind the ATE/ATT
// bootstrap and the GATE/BLP/sorted GATES joint bands.
#include "cpu/gaussian_draws.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "ops/philox_weights.h"

namespace fastdml {
namespace {

TEST(CovarianceRoot, RootTimesItsTransposeIsSigmaAlsoWhenSemiDefinite) {
  Eigen::MatrixXd a(4, 3);
  a << 1, 2, 0, -1, 0.5, 3, 2, 2, 2, 0, 1, -1;
  const Eigen::MatrixXd full = a.transpose() * a;  // 3 x 3, definite
  const Eigen::MatrixXd rank1 = Eigen::MatrixXd::Constant(3, 3, 2.0);  // semi-definite, rank 1
  for (const Eigen::MatrixXd* sigma : {&full, &rank1}) {
    const Eigen::MatrixXd f = cpu::CovarianceRoot(*sigma, "test: cannot factor");
    EXPECT_LT((f * f.transpose() - *sigma).cwiseAbs().maxCoeff(), 1e-12 * sigma->cwiseAbs().maxCoeff());
  }
}

TEST(GaussianDraws, AreFzWithTheContractsNormalsForAnyThreadCount) {
  // A 5 x 3 map (as a BLP grid of 5 functionals of 3 coefficients), B large
  // enough for several chunks of replicates.
  Eigen::MatrixXd f(5, 3);
  f << 1, 0, 0, 0.5, 2, 0, -1, 1, 3, 0, 0, 1, 2, 0, 0;
  const std::int64_t B = 9000;
  const std::vector<double> t1 = cpu::GaussianDraws(f, B, 99, 4, ops::kStreamBlpBand, 1);
  const std::vector<double> t3 = cpu::GaussianDraws(f, B, 99, 4, ops::kStreamBlpBand, 3);
  EXPECT_EQ(t1, t3);
  for (std::int64_t b : {std::int64_t{0}, std::int64_t{4321}, B - 1}) {
    double z[3];
    for (std::uint32_t c = 0; c < 3; ++c) {
      z[c] = ops::ExactNormalDraw(99, 4, static_cast<std::uint32_t>(b), c, ops::kStreamBlpBand);
    }
    for (int i = 0; i < 5; ++i) {
      double want = 0;
      for (int c = 0; c < 3; ++c) want += f(i, c) * z[c];
      EXPECT_NEAR(t1[b * 5 + i], want, 1e-14) << "b " << b << " row " << i;
    }
  }
  // Another stream, other draws.
  EXPECT_NE(t1, cpu::GaussianDraws(f, B, 99, 4, ops::kStreamGateBand, 1));
}

}  // namespace
}  // namespace fastdml
