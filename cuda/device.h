// Which CUDA device fastdml can use, asked at run time. Plain C++: the same
// declarations link against cuda/device.cu (FASTDML_CUDA=ON) or cuda/stubs/.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "fastdml/device.h"

namespace fastdml::cuda {

struct DeviceInfo {
  int count = 0;  // CUDA devices visible to this process
  std::string name;
  int major = 0, minor = 0;                     // compute capability
  std::size_t total_memory = 0;                 // bytes
  int driver_version = 0, runtime_version = 0;  // 1000 * major + 10 * minor
};

// True when a CUDA device can run this build's kernels. Otherwise false, with
// the reason in *why_not (may be null): built without CUDA, no driver, driver
// older than the runtime, no device, or no kernel image for the device's
// architecture. Never throws.
bool Available(std::string* why_not);

// Makes the GPU of a CUDA device current for its lifetime and restores the
// previous one: "cuda" is device 0 (as XGBoost reads it), "cuda:N" device N.
// A CPU (or unresolved auto) device does nothing. UsageError for an N this
// machine lacks.
class DeviceScope {
 public:
  explicit DeviceScope(const Device& device);
  ~DeviceScope();
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = -1;
};

// The calling thread's current CUDA device (LibraryError without CUDA).
int CurrentDevice();

// Copies `bytes` from the device address `device_ptr` (another library's GPU
// array, e.g. a CuPy array's __cuda_array_interface__ pointer) to host memory
// `host`, checked: CudaError naming the call when CUDA refuses.
void CopyFromDevice(std::uintptr_t device_ptr, std::size_t bytes, void* host);

// Properties of device `device` (0-based). Throws UsageError for an index out of
// range and LibraryError when CUDA is unusable or the build has no CUDA.
DeviceInfo Query(int device);

}  // namespace fastdml::cuda
