// Joint bands for GATE, BLP and sorted GATES: DoubleMLBLP.confint(joint=True)
// draws the coefficient vector from N(0, Omega) and takes the sup over the
// functionals of |t|; here the draws are the engine's one exact Gaussian
// sampler (cpu/gaussian_draws.h, shared with the ATE/ATT bootstrap), with z
// from the caller's own Philox stream, so the draws depend only on
// (seed, rep, b, j, stream).
#include <Eigen/Dense>

#include "cate/ols/ols.h"
#include "cpu/gaussian_draws.h"
#include "fastdml/error.h"

namespace fastdml::cate {

std::vector<double> GaussianT(const std::vector<double>& omega, int k, const std::vector<double>& l, int m,
                              const CateBootstrap& boot, int rep, std::uint32_t stream) {
  using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const RowMat> om(omega.data(), k, k);
  bool diagonal = l.empty();
  for (int r = 0; r < k && diagonal; ++r) {
    for (int c = 0; c < k && diagonal; ++c) diagonal = r == c || om(r, c) == 0.0;
  }
  // Independent coefficients (groups without shared clusters): t*_bj = z_bj.
  if (diagonal) {
    return cpu::GaussianDraws(Eigen::MatrixXd::Identity(k, k), boot.replicates, boot.seed,
                              static_cast<std::uint32_t>(rep), stream, /*threads=*/0);
  }
  // A root R (R R' = Omega); semi-definite Omega (clusters fewer than
  // coefficients) is fine.
  const Eigen::MatrixXd root = cpu::CovarianceRoot(om, "joint bands: cannot factor the coefficients' covariance");
  Eigen::MatrixXd lm = l.empty() ? root : Eigen::MatrixXd(Eigen::Map<const RowMat>(l.data(), m, k) * root);
  // Standardise each functional: t*_bj = (L R z_b)_j / se_j.
  for (int j = 0; j < m; ++j) {
    const double se = lm.row(j).norm();
    if (!(se > 0)) throw DataError("joint band: grid row " + std::to_string(j + 1) + " has standard error 0");
    lm.row(j) /= se;
  }
  return cpu::GaussianDraws(lm, boot.replicates, boot.seed, static_cast<std::uint32_t>(rep), stream,
                            /*threads=*/0);
}

}  // namespace fastdml::cate
