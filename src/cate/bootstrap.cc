// Joint bands for GATE and BLP: DoubleMLBLP.confint(joint=True) draws the
// coefficient vector from N(0, Omega) and takes the sup over the functionals
// of |t|; here z comes from the engine's counter-based Philox stream, so the
// draws depend only on (seed, rep, b, j).
#include <cmath>

#include <Eigen/Dense>

#include "cate/ols.h"
#include "fastdml/error.h"
#include "ops/philox_weights.h"

namespace fastdml::cate {

std::vector<double> GaussianT(const std::vector<double>& omega, int k, const std::vector<double>& l, int m,
                              const CateBootstrap& boot, int rep) {
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> om(omega.data(), k, k);
  bool diagonal = l.empty();
  for (int r = 0; r < k && diagonal; ++r) {
    for (int c = 0; c < k && diagonal; ++c) diagonal = r == c || om(r, c) == 0.0;
  }
  const std::int64_t b_count = boot.replicates;
  std::vector<double> t(static_cast<std::size_t>(b_count) * m);
  if (diagonal) {
    // Independent coefficients (groups without shared clusters): t*_bj = z_bj.
    for (std::int64_t b = 0; b < b_count; ++b) {
      for (int j = 0; j < m; ++j) t[b * m + j] = ops::ExactNormalDraw(boot.seed, rep, static_cast<uint32_t>(b), j);
    }
    return t;
  }
  // A square root R (R R' = Omega): Cholesky, or the symmetric root when Omega
  // is only semi-definite (clusters fewer than coefficients).
  Eigen::MatrixXd root;
  Eigen::LLT<Eigen::MatrixXd> llt(om);
  if (llt.info() == Eigen::Success) {
    root = llt.matrixL();
  } else {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(om);
    root = eig.eigenvectors() * eig.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal();
  }
  Eigen::MatrixXd lm = l.empty() ? Eigen::MatrixXd(root)
                                 : Eigen::MatrixXd(Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic,
                                                                                  Eigen::RowMajor>>(l.data(), m, k) *
                                                   root);
  for (int j = 0; j < m; ++j) {
    const double se = lm.row(j).norm();
    if (!(se > 0)) throw DataError("joint band: grid row " + std::to_string(j + 1) + " has standard error 0");
    lm.row(j) /= se;
  }
  Eigen::VectorXd z(k);
  for (std::int64_t b = 0; b < b_count; ++b) {
    for (int c = 0; c < k; ++c) z(c) = ops::ExactNormalDraw(boot.seed, rep, static_cast<uint32_t>(b), c);
    const Eigen::VectorXd tb = lm * z;
    for (int j = 0; j < m; ++j) t[b * m + j] = tb(j);
  }
  return t;
}

}  // namespace fastdml::cate
