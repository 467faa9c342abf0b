// cuda/bootstrap.h for builds without CUDA (FASTDML_CUDA=OFF): same symbols,
// every call says why not.
#include "cuda/bootstrap.h"
#include "fastdml/error.h"

namespace fastdml::cuda {
namespace {

[[noreturn]] void ThrowBuiltWithoutCuda() {
  throw LibraryError(
      "fastdml was built without CUDA: rebuild with -DFASTDML_CUDA=ON where nvcc is available, "
      "or use --device cpu");
}

}  // namespace

std::vector<double> BootstrapT(const ScoreBlock&, const BootstrapOptions&, int) {
  ThrowBuiltWithoutCuda();
}

std::vector<double> BootstrapWeights(std::uint64_t, int, BootstrapMethod, std::int64_t,
                                     std::int64_t, std::uint64_t, std::uint64_t) {
  ThrowBuiltWithoutCuda();
}

}  // namespace fastdml::cuda
