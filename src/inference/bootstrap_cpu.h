// Internal seam of the multiplier bootstrap: the checks that the CPU and CUDA
// twins share, so that both reject bad inputs with the same words (defined in
// src/inference/bootstrap.cc). fastdml::BootstrapT (include/fastdml/inference.h)
// dispatches on BootstrapOptions::device to cpu::BootstrapT (cpu/bootstrap.h,
// included here for the callers of either) or cuda::BootstrapT.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "cpu/bootstrap.h"
#include "fastdml/inference.h"

namespace fastdml {

// Every check of BootstrapT that needs no pass over psi's values (options,
// shapes, J, se, cluster ids, 32-bit Philox block counters); throws UsageError
// or Error.
void ValidateBootstrap(const ScoreBlock& scores, const BootstrapOptions& options, int rep);

// True when the exact N(0, Sigma) sampler runs (kExact, or kAuto with normal weights).
bool UsesExactBootstrap(const BootstrapOptions& options);

// n J_j se_j, the divisor of estimand j's unit scores, as both twins compute it.
double UnitScoreDivisor(const ScoreBlock& scores, int j);

// The error for a non-finite psi of estimand j (names its first bad row).
[[noreturn]] void ThrowNonFinitePsi(const ScoreBlock& scores, std::size_t j);

// "cpu" or "cuda" (or "cuda:N") for BootstrapOptions::device: "auto" is CUDA
// when cuda::Available, else the CPU with no error; an explicit cuda request
// without a usable GPU throws LibraryError saying what is missing.
std::string ResolveBootstrapDevice(const std::string& requested);

}  // namespace fastdml
