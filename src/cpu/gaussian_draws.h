// The exact Gaussian multiplier sampler, written once: the ATE/ATT bootstrap
// with normal weights (cpu/bootstrap.cc) and the joint bands of GATE, BLP and
// sorted GATES (cate/ols/bands.cc) both draw t*_b = F z_b with F F^T = Sigma
// and z_bj standard normal from the counter-based Philox stream
// (ops/philox_weights.h), keyed by (seed, rep, b, j, stream).
#pragma once
#include <cstdint>
#include <vector>

#include <Eigen/Dense>

namespace fastdml::cpu {

// A root F (F F^T = sigma) of a symmetric positive semi-definite matrix:
// pivoted LDL^T, F = P^T L D^{1/2} (D clipped at 0, so semi-definite is
// fine); should rounding make LDL^T give up, the eigen-decomposition
// V diag(sqrt(max(lambda, 0))).
// `error` is the message thrown when it cannot be factored, in the caller's
// words.
Eigen::MatrixXd CovarianceRoot(const Eigen::MatrixXd& sigma, const char* error);

// t[b * m + i] = sum_c f(i, c) z_bc for b < replicates (f is m x k), with
// z_bc = ops::ExactNormalDraw(seed, rep, b, c, stream). Each sum runs over c
// in increasing order up to the row's last non-zero, so the bits do not
// depend on `threads` (0 = all cores).
std::vector<double> GaussianDraws(const Eigen::MatrixXd& f, std::int64_t replicates, std::uint64_t seed,
                                  std::uint32_t rep, std::uint32_t stream, int threads);

}  // namespace fastdml::cpu
