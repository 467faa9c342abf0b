// See cpu/gaussian_draws.h. No FMA contraction here (as in cpu/bootstrap.cc):
// the draws are the same bits on every host.
#include "cpu/no_fp_contract.h"  // first: the rest of the file rounds alike everywhere

#include "cpu/gaussian_draws.h"

#include <algorithm>
#include <cstddef>

#include "fastdml/error.h"
#include "ops/parallel_for.h"
#include "ops/philox_weights.h"

namespace fastdml::cpu {

Eigen::MatrixXd CovarianceRoot(const Eigen::MatrixXd& sigma, const char* error) {
  // Sigma = P^T L D L^T P (pivoted, D >= 0 up to rounding) => F = P^T L D^{1/2}.
  Eigen::MatrixXd f;
  Eigen::LDLT<Eigen::MatrixXd> ldlt(sigma);
  if (ldlt.info() == Eigen::Success) {
    const Eigen::VectorXd root_d = ldlt.vectorD().cwiseMax(0.0).cwiseSqrt();
    Eigen::MatrixXd lower = ldlt.matrixL();
    f = lower * root_d.asDiagonal();
    f = ldlt.transpositionsP().transpose() * f;
  } else {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(sigma);
    if (eig.info() != Eigen::Success) throw Error(error);
    f = eig.eigenvectors() * eig.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal();
  }
  return f;
}

std::vector<double> GaussianDraws(const Eigen::MatrixXd& f, std::int64_t replicates, std::uint64_t seed,
                                  std::uint32_t rep, std::uint32_t stream, int threads) {
  const int m = static_cast<int>(f.rows());
  const int k = static_cast<int>(f.cols());
  // Row i is non-zero up to column len[i] - 1 (from LDL^T, a permuted row of
  // a lower-triangular matrix): the sum stops there.
  std::vector<int> len(static_cast<std::size_t>(m), 0);
  for (int i = 0; i < m; ++i)
    for (int c = 0; c < k; ++c)
      if (f(i, c) != 0.0) len[static_cast<std::size_t>(i)] = c + 1;
  using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const RowMat fr = f;  // row-major for the per-replicate dot products

  const std::int64_t B = replicates;
  std::vector<double> t(static_cast<std::size_t>(B) * m);
  const std::int64_t chunk =
      std::max<std::int64_t>(1, 65536 / (static_cast<std::int64_t>(std::max(m, k)) * k + 8));
  const std::int64_t chunks = (B + chunk - 1) / chunk;
  ops::ParallelFor(chunks, ops::ResolveThreads(threads), [&](std::int64_t ci, int) {
    std::vector<double> z(static_cast<std::size_t>(k) + 1);
    const std::int64_t b_end = std::min(B, (ci + 1) * chunk);
    for (std::int64_t b = ci * chunk; b < b_end; ++b) {
      // z_bj, z_b(j+1) from one Philox call (ops::ExactNormalDraw's rule).
      for (int j = 0; j < k; j += 2) {
        const ops::Philox4 p = ops::BootstrapPhilox(seed, static_cast<std::uint32_t>(j / 2),
                                                    static_cast<std::uint32_t>(b), rep, stream);
        ops::BoxMuller(p.v[0], p.v[1], p.v[2], p.v[3], &z[j], &z[j + 1]);
      }
      double* tb = t.data() + b * m;
      for (int i = 0; i < m; ++i) {
        const double* fi = fr.data() + static_cast<std::size_t>(i) * k;
        double acc = 0.0;
        for (int c = 0; c < len[static_cast<std::size_t>(i)]; ++c) acc += fi[c] * z[c];
        tb[i] = acc;
      }
    }
  });
  return t;
}

}  // namespace fastdml::cpu
