// CUDA twin of cpu/scores.cc. Per-row maths comes from ops/scores.h; the
// sums (Hajek means, p = mean(uw D), mean(w)) are CUB device reductions.
#include "cuda/scores.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstddef>
#include <cub/device/device_reduce.cuh>
#include <initializer_list>
#include <string>

#include "cuda/buffer.h"
#include "cuda/check.h"
#include "fastdml/error.h"
#include "ops/scores.h"

namespace fastdml::cuda {
namespace {

constexpr int kThreads = 256;
constexpr std::size_t kMaxBlocks = 65535;  // grid-stride loops cover the rest

int Blocks(std::size_t n) {
  return static_cast<int>(std::min(kMaxBlocks, (n + kThreads - 1) / kThreads));
}

#define FASTDML_GRID_STRIDE(i, n)                                                                \
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)

// Sample weight of row i; null means unweighted.
__device__ __forceinline__ double Weight(const double* uw, std::size_t i) {
  return uw != nullptr ? uw[i] : 1.0;
}

// m <- clip(m); with Hajek normalisation also ipw1 = D/m, ipw0 = (1-D)/(1-m).
__global__ void ClipKernel(std::size_t n, double clip, const double* d, double* m, double* ipw1,
                           double* ipw0) {
  FASTDML_GRID_STRIDE(i, n) {
    const double mc = ops::ClipPropensity(m[i], clip);
    m[i] = mc;
    if (ipw1 != nullptr) {
      ipw1[i] = d[i] / mc;
      ipw0[i] = (1.0 - d[i]) / (1.0 - mc);
    }
  }
}

// sums[0] = sum D/m, sums[1] = sum (1-D)/(1-m), as in cpu::IrmScores.
__global__ void NormalizeKernel(std::size_t n, const double* d, const double* sums, double* m) {
  const double mean1 = sums[0] / n, mean0 = sums[1] / n;
  FASTDML_GRID_STRIDE(i, n) { m[i] = ops::NormalizedPropensity(m[i], d[i], mean1, mean0); }
}

__global__ void WeightedTreatmentKernel(std::size_t n, const double* d, const double* uw,
                                        double* out) {
  FASTDML_GRID_STRIDE(i, n) { out[i] = Weight(uw, i) * d[i]; }
}

// psi_a = -w (rescaled by ScaleKernel), psi_b; w[i] kept for mean(w).
// sum_ud = sum uw D (ATT only; p = sum_ud / n).
__global__ void IrmScoreKernel(std::size_t n, bool att, const double* y, const double* d,
                               const double* m, const double* g0, const double* g1,
                               const double* uw, const double* sum_ud, double* psi_a, double* psi_b,
                               double* w_out) {
  const double p = att ? *sum_ud / n : 1.0;
  FASTDML_GRID_STRIDE(i, n) {
    double w, wbar;
    ops::IrmWeights(att, d[i], m[i], Weight(uw, i), p, &w, &wbar);
    const ops::ScorePair s = ops::IrmScore(y[i], d[i], m[i], g0[i], g1[i], w, wbar);
    psi_a[i] = s.a;
    psi_b[i] = s.b;
    w_out[i] = w;
  }
}

// DoubleML: psi_a = -w / mean(w).
__global__ void ScaleKernel(std::size_t n, const double* sum_w, double* psi_a) {
  const double mean_w = *sum_w / n;
  FASTDML_GRID_STRIDE(i, n) { psi_a[i] /= mean_w; }
}

__global__ void PlrScoreKernel(std::size_t n, const double* y, const double* d, const double* m,
                               const double* l, double* psi_a, double* psi_b) {
  FASTDML_GRID_STRIDE(i, n) {
    const ops::ScorePair s = ops::PlrScore(y[i], d[i], m[i], l[i]);
    psi_a[i] = s.a;
    psi_b[i] = s.b;
  }
}

#undef FASTDML_GRID_STRIDE

// Sums of n-element device arrays into single device doubles, sharing one
// CUB scratch buffer sized for n.
class DeviceSum {
 public:
  explicit DeviceSum(std::size_t n) : n_(static_cast<long long>(n)) {
    FASTDML_CUDA_CHECK(cub::DeviceReduce::Sum(nullptr, scratch_bytes_,
                                              static_cast<const double*>(nullptr),
                                              static_cast<double*>(nullptr), n_));
    scratch_ = AllocateDevice<unsigned char>(std::max<std::size_t>(scratch_bytes_, 1));
  }
  void operator()(const double* in, double* out) {
    std::size_t bytes = scratch_bytes_;
    FASTDML_CUDA_CHECK(cub::DeviceReduce::Sum(scratch_.get(), bytes, in, out, n_));
  }

 private:
  long long n_;
  std::size_t scratch_bytes_ = 0;
  DeviceBuffer<unsigned char> scratch_;
};

void CheckLaunch() { FASTDML_CUDA_CHECK(cudaGetLastError()); }

void RequireInputs(const char* fn, std::initializer_list<const void*> ptrs) {
  for (const void* p : ptrs)
    if (p == nullptr)
      throw Error(std::string("fastdml::cuda::") + fn + ": null input or output array");
}

}  // namespace

void IrmScores(const IrmScoreArgs& a, double* psi_a, double* psi_b) {
  const std::size_t n = a.n;
  if (n == 0) return;
  RequireInputs("IrmScores", {a.y, a.d, a.m, a.g0, a.g1, psi_a, psi_b});
  auto y = CopyToDevice(a.y, n), d = CopyToDevice(a.d, n), m = CopyToDevice(a.m, n);
  auto g0 = CopyToDevice(a.g0, n), g1 = CopyToDevice(a.g1, n);
  auto uw = CopyToDevice(a.uw, n);  // null when unweighted
  auto dev_a = AllocateDevice<double>(n), dev_b = AllocateDevice<double>(n);
  auto tmp0 = AllocateDevice<double>(n), tmp1 = AllocateDevice<double>(n);
  auto sums = AllocateDevice<double>(4);  // sum D/m, sum (1-D)/(1-m), sum uw D, sum w
  DeviceSum sum(n);
  const int blocks = Blocks(n);

  // Clipped propensity, then (optionally) Hajek-normalised, as in cpu::IrmScores.
  ClipKernel<<<blocks, kThreads>>>(n, a.clip, d.get(), m.get(),
                                   a.normalize_ipw ? tmp1.get() : nullptr,
                                   a.normalize_ipw ? tmp0.get() : nullptr);
  CheckLaunch();
  if (a.normalize_ipw) {
    sum(tmp1.get(), sums.get() + 0);
    sum(tmp0.get(), sums.get() + 1);
    NormalizeKernel<<<blocks, kThreads>>>(n, d.get(), sums.get(), m.get());
    CheckLaunch();
  }
  if (a.att) {
    WeightedTreatmentKernel<<<blocks, kThreads>>>(n, d.get(), uw.get(), tmp0.get());
    CheckLaunch();
    sum(tmp0.get(), sums.get() + 2);
  }
  IrmScoreKernel<<<blocks, kThreads>>>(n, a.att, y.get(), d.get(), m.get(), g0.get(), g1.get(),
                                       uw.get(), sums.get() + 2, dev_a.get(), dev_b.get(),
                                       tmp1.get());
  CheckLaunch();
  sum(tmp1.get(), sums.get() + 3);
  ScaleKernel<<<blocks, kThreads>>>(n, sums.get() + 3, dev_a.get());
  CheckLaunch();
  CopyToHost(dev_a, n, psi_a);
  CopyToHost(dev_b, n, psi_b);
}

void PlrScores(const PlrScoreArgs& a, double* psi_a, double* psi_b) {
  const std::size_t n = a.n;
  if (n == 0) return;
  RequireInputs("PlrScores", {a.y, a.d, a.m, a.l, psi_a, psi_b});
  auto y = CopyToDevice(a.y, n), d = CopyToDevice(a.d, n), m = CopyToDevice(a.m, n);
  auto l = CopyToDevice(a.l, n);
  auto dev_a = AllocateDevice<double>(n), dev_b = AllocateDevice<double>(n);
  PlrScoreKernel<<<Blocks(n), kThreads>>>(n, y.get(), d.get(), m.get(), l.get(), dev_a.get(),
                                          dev_b.get());
  CheckLaunch();
  CopyToHost(dev_a, n, psi_a);
  CopyToHost(dev_b, n, psi_b);
}

}  // namespace fastdml::cuda
