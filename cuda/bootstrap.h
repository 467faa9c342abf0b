// CUDA twin of the multiplier bootstrap's loop sampler (CPU twin: cpu/bootstrap.h;
// fastdml::BootstrapT in inference/bootstrap.cc validates and dispatches). Plain C++:
// the same declarations link against cuda/bootstrap.cu (FASTDML_CUDA=ON) or
// cuda/stubs/bootstrap.cc, which throws LibraryError "built without CUDA".
#pragma once
#include <cstdint>
#include <vector>

#include "fastdml/inference.h"

namespace fastdml::cuda {

// fastdml::BootstrapT on the GPU: same contract, checks and error messages.
// scores.psi (and cluster) are HOST memory: psi is read from
// scores.device_scores when Estimate left it on this GPU, otherwise uploaded
// once; unit scores are built on the device and only t (B x k, t[b * k + j])
// comes back. Rademacher/Mammen
// weights are the CPU's bits; t* agree with the CPU loop sampler within
// rounding of the sums (different order; bit-identical when every partial sum
// is exact). The exact sampler (kNormal under kAuto, or kExact) is host code
// (O(n k^2 + B k^2) with k small, far below the cost of an upload):
// fastdml::BootstrapT runs it on the CPU whatever the device, and this function
// refuses it with an internal Error.
// options.device "cuda:N" runs on device N; anything else on the current device.
std::vector<double> BootstrapT(const ScoreBlock& scores, const BootstrapOptions& options, int rep);

// Test hook: the weights the bootstrap kernel uses, w[(b - b0) * nu + (u - u0)]
// for replicates [b0, b0 + nb) and units [u0, u0 + nu), computed on the device
// by the kernel's own code (ops/bootstrap_tile.h).
std::vector<double> BootstrapWeights(std::uint64_t seed, int rep, BootstrapMethod law,
                                     std::int64_t b0, std::int64_t nb, std::uint64_t u0,
                                     std::uint64_t nu);

}  // namespace fastdml::cuda
