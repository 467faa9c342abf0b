// Run-time choice of the execution device (Options::device).
#pragma once
#include "fastdml/device.h"

namespace fastdml {

// The device a fit runs on: cpu stays cpu; auto is CUDA only when a GPU, a
// CUDA build of fastdml and a CUDA-enabled libxgboost are all present, else
// the CPU. An explicit cuda request that cannot be met throws LibraryError
// saying which of the three is missing.
Device ResolveDevice(const Device& requested);

}  // namespace fastdml
