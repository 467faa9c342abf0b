// Run-time choice of the execution device (Options::device).
#pragma once
#include <string>

namespace fastdml {

// Maps cpu | cuda | cuda:N | auto to the device a fit runs on. "auto" picks
// CUDA only when a GPU, a CUDA build of fastdml and a CUDA-enabled libxgboost
// are all present. An explicit cuda request that cannot be met throws
// LibraryError saying which of the three is missing.
std::string ResolveDevice(const std::string& requested);

// The CUDA device index of a resolved device: "cuda" -> 0, "cuda:N" -> N.
// Throws UsageError naming --device for anything else.
int DeviceOrdinal(const std::string& device);

}  // namespace fastdml
