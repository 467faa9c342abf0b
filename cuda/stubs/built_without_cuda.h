// The one error every cuda/ stub throws in a build without CUDA.
#pragma once
#include "fastdml/error.h"

namespace fastdml::cuda {

[[noreturn]] inline void ThrowBuiltWithoutCuda() {
  throw LibraryError(
      "fastdml was built without CUDA: rebuild with -DFASTDML_CUDA=ON where nvcc is available, "
      "or use --device cpu");
}

}  // namespace fastdml::cuda
