// cuda/ API for builds without CUDA (FASTDML_CUDA=OFF): same symbols, so the
// driver, CLI, bindings and tests compile unchanged; every call says why not.
#include "cuda/device.h"
#include "cuda/scores.h"
#include "cuda/stubs/built_without_cuda.h"
#include "fastdml/error.h"

namespace fastdml::cuda {
bool Available(std::string* why_not) {
  if (why_not != nullptr) *why_not = "fastdml was built without CUDA (FASTDML_CUDA=OFF)";
  return false;
}

DeviceInfo Query(int) { ThrowBuiltWithoutCuda(); }

DeviceScope::DeviceScope(const std::string& device) {
  if (device.rfind("cuda", 0) == 0) ThrowBuiltWithoutCuda();
}
DeviceScope::~DeviceScope() = default;

int CurrentDevice() { ThrowBuiltWithoutCuda(); }

void IrmScores(const IrmScoreArgs&, double*, double*) { ThrowBuiltWithoutCuda(); }

void PlrScores(const PlrScoreArgs&, double*, double*) { ThrowBuiltWithoutCuda(); }

}  // namespace fastdml::cuda
