// Internals shared by GATE and BLP: the group-ratio estimator behind
// OlsOnGroups (and the group-wise ATT), and the median aggregation over
// repetitions.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cate/ols/row_sums.h"
#include "fastdml/cate.h"

namespace fastdml::cate {

// theta_g = sum_{i in g} b_i / sum_{i in g} a_i with a sandwich covariance
// built from u_i = b_i - theta_g a_i (an OLS on a one-non-zero-per-row design
// has a_i = x_i^2, b_i = x_i y_i; the ATT score has a = -psi_a, b = psi_b).
// HC3 leverage h_i = a_i / A_g. The passes over the rows run on `device`.
OlsFit GroupRatio(const std::vector<double>& a, const std::vector<double>& b, const std::vector<std::int32_t>& group,
                  int n_groups, CovType cov, const std::vector<std::int32_t>& cluster, std::int32_t n_clusters,
                  const std::vector<std::string>& labels, Device device = Device::Cpu());
// Its finishing from the passes of `rows` (either device): ratios, the
// sandwich and the errors naming a group. Checks on n and clusters come first.
OlsFit GroupRatio(GroupRows& rows, std::size_t n, int n_groups, CovType cov, std::int32_t n_clusters,
                  const std::vector<std::string>& labels);

// fastdml::OlsRobust and OlsOnGroups (cate.h) with the passes over the rows on
// `device`; the finishing (inverse, sandwich, errors) is the same code.
// Influence functions are CPU-only.
OlsFit OlsRobust(Device device, const std::vector<double>& y, const std::vector<double>& x, std::size_t n, int k,
                 CovType cov, const std::vector<std::int32_t>& cluster, std::int32_t n_clusters,
                 const std::vector<std::string>& names, bool want_influence = false);
OlsFit OlsOnGroups(Device device, const std::vector<double>& y, const std::vector<double>& scale,
                   const std::vector<std::int32_t>& group, int n_groups, CovType cov,
                   const std::vector<std::int32_t>& cluster, std::int32_t n_clusters,
                   const std::vector<std::string>& labels);

// GroupByQuantiles (cate.h) with the sort and the bin assignment on `device`.
Grouping GroupByQuantiles(Device device, const std::string& name, const std::vector<double>& values, int bins);

// The Gaussian multiplier bootstrap of DoubleMLBLP.confint(joint=True) for the
// linear functionals L beta (rows of `l`, m x k) of one repetition's
// coefficient covariance `omega` (k x k): t*_bj = (L Omega^{1/2} z_b)_j / se_j,
// z_bj = ops::ExactNormalDraw(seed, rep, b, j, stream), drawn by the engine's
// one exact sampler (cpu/gaussian_draws.h). `stream` is the caller's own tag
// (ops::kStreamGateBand, kStreamBlpBand, kStreamSortedGatesBand). Returns
// t[b * m + j]. `l` empty means the identity (the coefficients themselves).
std::vector<double> GaussianT(const std::vector<double>& omega, int k, const std::vector<double>& l, int m,
                              const CateBootstrap& boot, int rep, std::uint32_t stream);

}  // namespace fastdml::cate
