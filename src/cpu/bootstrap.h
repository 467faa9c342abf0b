// The CPU twin of cuda/bootstrap.cu: the multiplier bootstrap's t* on host
// threads (the SIMD Philox loop, and the exact sampler for normal weights).
// fastdml::BootstrapT (src/inference/bootstrap.cc) validates and dispatches
// here or to the CUDA twin.
#pragma once
#include <cstddef>
#include <vector>

#include "fastdml/inference.h"

namespace fastdml::cpu {

// t*[b * k + j] of one repetition (threads = options.threads; ignores
// options.device). Validates its inputs as fastdml::BootstrapT does.
std::vector<double> BootstrapT(const ScoreBlock& scores, const BootstrapOptions& options, int rep);

}  // namespace fastdml::cpu
