// Run-time CUDA discovery. Available() turns every way CUDA can be missing
// into a reason string instead of an error, so `--device auto` can fall back.
#include "cuda/device.h"

#include <cuda_runtime_api.h>

#include <exception>
#include <string>

#include "cuda/check.h"
#include "fastdml/error.h"

namespace fastdml::cuda {
namespace {

// Never launched: cudaFuncGetAttributes on it fails when this binary holds no
// kernel image (SASS or PTX) that the device can run.
__global__ void ProbeKernel() {}

std::string VersionString(int v) {  // 12040 -> "12.4"
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

#define FASTDML_STRINGIZE_(...) #__VA_ARGS__
#define FASTDML_STRINGIZE(...) FASTDML_STRINGIZE_(__VA_ARGS__)
#if defined(__CUDA_ARCH_LIST__)
constexpr const char* kBuiltArchs = FASTDML_STRINGIZE(__CUDA_ARCH_LIST__);
#else
constexpr const char* kBuiltArchs = "unknown";
#endif

bool Fail(std::string* why_not, std::string reason) {
  if (why_not != nullptr) *why_not = std::move(reason);
  return false;
}

}  // namespace

bool Available(std::string* why_not) {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    int driver = 0, runtime = 0;
    (void)cudaDriverGetVersion(&driver);
    (void)cudaRuntimeGetVersion(&runtime);
    if (err == cudaErrorNoDevice) return Fail(why_not, "no CUDA device found");
    if (err == cudaErrorInsufficientDriver) {
      if (driver == 0)
        return Fail(why_not, "no NVIDIA driver found (libcuda.so could not be loaded)");
      return Fail(why_not, "the NVIDIA driver supports CUDA " + VersionString(driver) +
                               " but fastdml was built with CUDA " + VersionString(runtime) +
                               ": update the driver or use --device cpu");
    }
    return Fail(why_not, std::string("CUDA is not usable: ") + cudaGetErrorName(err) + ": " +
                             cudaGetErrorString(err));
  }
  if (count == 0) return Fail(why_not, "no CUDA device found");
  cudaFuncAttributes attr{};
  err = cudaFuncGetAttributes(&attr, ProbeKernel);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    int dev = 0, major = 0, minor = 0;
    (void)cudaGetDevice(&dev);
    (void)cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev);
    (void)cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev);
    return Fail(why_not, "CUDA device " + std::to_string(dev) + " (compute capability " +
                             std::to_string(major) + "." + std::to_string(minor) +
                             ") cannot run this build's kernels (built for " + kBuiltArchs + "; " +
                             cudaGetErrorName(err) +
                             "): rebuild with "
                             "-DCMAKE_CUDA_ARCHITECTURES=" +
                             std::to_string(major) + std::to_string(minor) +
                             " or use --device cpu");
  }
  return true;
}

DeviceScope::DeviceScope(const Device& device) {
  if (!device.is_cuda()) return;
  const int want = device.gpu();
  int count = 0;
  FASTDML_CUDA_CHECK(cudaGetDeviceCount(&count));
  if (want >= count) {
    throw UsageError("--device " + ToString(device) + ": this machine has " + std::to_string(count) +
                     " CUDA device(s), numbered from 0");
  }
  FASTDML_CUDA_CHECK(cudaGetDevice(&previous_));
  FASTDML_CUDA_CHECK(cudaSetDevice(want));
}

DeviceScope::~DeviceScope() {
  if (previous_ >= 0) FASTDML_CUDA_CHECK_NOTHROW(cudaSetDevice(previous_));
}

int CurrentDevice() {
  int device = -1;
  FASTDML_CUDA_CHECK(cudaGetDevice(&device));
  return device;
}

void CopyFromDevice(std::uintptr_t device_ptr, std::size_t bytes, void* host) {
  if (bytes == 0) return;
  FASTDML_CUDA_CHECK(cudaMemcpy(host, reinterpret_cast<const void*>(device_ptr), bytes, cudaMemcpyDeviceToHost));
}

DeviceInfo Query(int device) {
  DeviceInfo info;
  FASTDML_CUDA_CHECK(cudaGetDeviceCount(&info.count));
  if (device < 0 || device >= info.count)
    throw UsageError("CUDA device " + std::to_string(device) +
                     " does not exist: this machine has " + std::to_string(info.count) +
                     " CUDA device(s), numbered from 0");
  cudaDeviceProp prop{};
  FASTDML_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  info.name = prop.name;
  info.major = prop.major;
  info.minor = prop.minor;
  info.total_memory = prop.totalGlobalMem;
  FASTDML_CUDA_CHECK(cudaDriverGetVersion(&info.driver_version));
  FASTDML_CUDA_CHECK(cudaRuntimeGetVersion(&info.runtime_version));
  return info;
}

}  // namespace fastdml::cuda
