// Inference on the stored scores of a fit: multiplier bootstrap, simultaneous
// (joint) confidence bands, multiplicity-adjusted p-values, cluster-robust
// variance. Nothing here refits a nuisance model.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fastdml/device.h"

namespace fastdml {

namespace cuda {
class DeviceScores;  // cuda/scores.h
}  // namespace cuda

// Multiplier distributions (mean 0, variance 1). kWild is DoubleML's "wild"
// (Mammen-like, continuous): xi/sqrt(2) + (eta^2 - 1)/2 with xi, eta ~ N(0,1).
// kMammen is the two-point Mammen (1993) law. kBayes is Exp(1) - 1.
enum class BootstrapMethod { kNormal, kRademacher, kMammen, kWild, kBayes };
// kExact samples the Gaussian multiplier bootstrap's replicate vector directly
// from its exact N(0, Sigma) law (Sigma from the scores' k x k Gram matrix);
// kLoop draws a weight per (replicate, row); kAuto = exact for kNormal.
enum class BootstrapSampler { kAuto, kExact, kLoop };

// Upper bound of BootstrapOptions::replicates (--bootstrap).
inline constexpr std::int64_t kMaxBootstrapReplicates = 10000000;

struct BootstrapOptions {
  std::int64_t replicates = 1000;
  BootstrapMethod method = BootstrapMethod::kNormal;
  BootstrapSampler sampler = BootstrapSampler::kAuto;
  std::uint64_t seed = 0;
  int threads = 0;  // 0: all hardware threads; results never depend on it
  // Where the replicates are computed: cpu, cuda, cuda:N or auto (the fit's
  // device is the natural choice). Rademacher/Mammen multipliers are the same
  // bits on every device; t* agree within rounding of the sums.
  Device device = Device::Cpu();
};

// The scores of k estimands for one repetition, as the bootstrap needs them.
// psi[j * n + i] = theta_j psi_a,ij + psi_b,ij (row i, estimand j).
struct ScoreBlock {
  std::size_t n = 0;
  int k = 0;
  std::vector<double> psi;    // k * n, estimand-major
  std::vector<double> j;      // k: J = mean(psi_a)
  std::vector<double> se;     // k
  std::vector<double> theta;  // k
  // Optional one-way clusters: cluster[i] in 0..n_clusters-1 (empty: none).
  std::vector<std::int32_t> cluster;
  std::int32_t n_clusters = 0;
  // Set by Estimate on a GPU: the same psi on the device, which the CUDA
  // bootstrap reads instead of uploading psi again. Whoever changes psi must
  // reset it.
  std::shared_ptr<const cuda::DeviceScores> device_scores;
};

// Bootstrap t-statistics for one repetition, t[b * k + j]:
//   t*_bj = sum_i W_bi psi_ij / (n J_j se_j)                   (docs/design.md section 2)
// with clusters one multiplier per cluster: sum_c W_bc (sum_{i in c} psi_ij) / (n J_j se_j).
// W is a pure function of (seed, rep, b, row or cluster) through Philox4x32-10.
std::vector<double> BootstrapT(const ScoreBlock& scores, const BootstrapOptions& options, int rep);

// Joint (sup-t) critical value: the `level` quantile over b of max_j |t*_bj|,
// with numpy's default (linear) quantile interpolation as DoubleML uses.
double JointCriticalValue(const std::vector<double>& t_boot, int k, double level);

// Romano-Wolf step-down adjusted p-values from bootstrap t* (DoubleML's p_adjust).
std::vector<double> RomanoWolf(const std::vector<double>& t_boot, int k, const std::vector<double>& t_obs);
std::vector<double> Bonferroni(const std::vector<double>& p);
std::vector<double> Holm(const std::vector<double>& p);

const char* ToString(BootstrapMethod m);
BootstrapMethod ParseBootstrapMethod(const std::string& s);  // UsageError naming --bootstrap-method

}  // namespace fastdml
