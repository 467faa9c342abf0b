// cuda/bootstrap.h for builds without CUDA (FASTDML_CUDA=OFF): same symbols,
// every call says why not.
#include "cuda/bootstrap.h"
#include "cuda/stubs/built_without_cuda.h"
#include "fastdml/error.h"

namespace fastdml::cuda {
std::vector<double> BootstrapT(const ScoreBlock&, const BootstrapOptions&, int) {
  ThrowBuiltWithoutCuda();
}

std::vector<double> BootstrapWeights(std::uint64_t, int, BootstrapMethod, std::int64_t,
                                     std::int64_t, std::uint64_t, std::uint64_t) {
  ThrowBuiltWithoutCuda();
}

}  // namespace fastdml::cuda
