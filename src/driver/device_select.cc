#include "driver/device_select.h"

#include "cuda/device.h"  // fastdml::cuda::Available (stubs without CUDA)
#include "fastdml/error.h"
#include "nuisance/xgboost_api.h"

namespace fastdml {

std::string ResolveDevice(const std::string& requested) {
  if (requested == "cpu") return "cpu";
  std::string why;
  bool ok = cuda::Available(&why);
  if (ok && !xgb::LibraryHasCuda()) {
    ok = false;
    why = "the loaded libxgboost was built without CUDA (XGBuildInfo USE_CUDA=false); "
          "install the CUDA-enabled xgboost wheel or build it with scripts/gpu-bringup";
  }
  if (requested == "auto") return ok ? "cuda" : "cpu";
  if (!ok) throw LibraryError("--device " + requested + ": CUDA is not usable: " + why);
  return requested;
}

int DeviceOrdinal(const std::string& device) {
  if (device == "cuda") return 0;
  const std::string prefix = "cuda:";
  if (device.rfind(prefix, 0) == 0 && device.size() > prefix.size() && device.size() <= prefix.size() + 4 &&
      device.find_first_not_of("0123456789", prefix.size()) == std::string::npos) {
    return std::stoi(device.substr(prefix.size()));
  }
  throw UsageError("--device " + device + ": expected cuda or cuda:N (N a device index)");
}

}  // namespace fastdml
