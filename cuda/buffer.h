// Owning device memory (include from .cu files only): a unique_ptr whose
// deleter calls cudaFree and never throws.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <memory>

#include "cuda/check.h"

namespace fastdml::cuda {

struct CudaFree {
  void operator()(void* p) const noexcept { FASTDML_CUDA_CHECK_NOTHROW(cudaFree(p)); }
};

template <class T>
using DeviceBuffer = std::unique_ptr<T[], CudaFree>;

// Uninitialised device array of `count` elements of T (null for count == 0).
template <class T>
DeviceBuffer<T> AllocateDevice(std::size_t count, const char* file = __builtin_FILE(),
                               int line = __builtin_LINE()) {
  if (count == 0) return DeviceBuffer<T>();
  return DeviceBuffer<T>(static_cast<T*>(detail::Malloc(count * sizeof(T), file, line)));
}

// Device copy of host array `host[0..count)`; null host gives a null buffer.
template <class T>
DeviceBuffer<T> CopyToDevice(const T* host, std::size_t count, const char* file = __builtin_FILE(),
                             int line = __builtin_LINE()) {
  if (host == nullptr || count == 0) return DeviceBuffer<T>();
  DeviceBuffer<T> dev = AllocateDevice<T>(count, file, line);
  FASTDML_CUDA_CHECK(cudaMemcpy(dev.get(), host, count * sizeof(T), cudaMemcpyHostToDevice));
  return dev;
}

template <class T>
void CopyToHost(const DeviceBuffer<T>& dev, std::size_t count, T* host) {
  if (count == 0) return;
  FASTDML_CUDA_CHECK(cudaMemcpy(host, dev.get(), count * sizeof(T), cudaMemcpyDeviceToHost));
}

}  // namespace fastdml::cuda
