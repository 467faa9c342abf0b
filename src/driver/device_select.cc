#include "driver/device_select.h"

#include "cuda/device.h"  // fastdml::cuda::Available (stubs without CUDA)
#include "fastdml/error.h"
#include "nuisance/xgboost_api.h"

namespace fastdml {

Device ResolveDevice(const Device& requested) {
  if (requested.kind == Device::Kind::kCpu) return requested;
  std::string why;
  bool ok = cuda::Available(&why);
  if (ok && !xgb::LibraryHasCuda()) {
    ok = false;
    why = "the loaded libxgboost was built without CUDA (XGBuildInfo USE_CUDA=false); "
          "install the CUDA-enabled xgboost wheel or build it with scripts/gpu-bringup";
  }
  if (requested.kind == Device::Kind::kAuto) return ok ? Device::Cuda() : Device::Cpu();
  if (!ok) throw LibraryError("--device " + ToString(requested) + ": CUDA is not usable: " + why);
  return requested;
}

}  // namespace fastdml
