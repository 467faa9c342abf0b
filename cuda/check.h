// Checked CUDA runtime calls (include from .cu files only). A failing call
// throws fastdml::CudaError (DeviceOutOfMemory when memory ran out), both
// LibraryErrors, naming the call, its file:line and CUDA's own description
// (cuda/error_text.h); destructors use the no-throw variant.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>

#include "cuda/error_text.h"
#include "fastdml/error.h"

namespace fastdml::cuda::detail {

// CudaError, or DeviceOutOfMemory for cudaErrorMemoryAllocation.
[[noreturn]] inline void ThrowCudaError(cudaError_t err, const char* call, const char* file,
                                        int line) {
  (void)cudaGetLastError();  // clear a non-sticky error so later checks do not report it again
  ThrowFailedCall(Api::kCudaRuntime, err == cudaErrorMemoryAllocation, call, file, line, cudaGetErrorName(err),
                  cudaGetErrorString(err));
}

// cudaMalloc of `bytes`; out of memory (DeviceOutOfMemory) says how much was
// asked and how much is free.
inline void* Malloc(std::size_t bytes, const char* file, int line) {
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, bytes);
  if (err == cudaSuccess) return p;
  (void)cudaGetLastError();
  if (err != cudaErrorMemoryAllocation) ThrowCudaError(err, "cudaMalloc", file, line);
  std::size_t free_bytes = 0, total_bytes = 0;
  (void)cudaMemGetInfo(&free_bytes, &total_bytes);
  ThrowMallocOutOfMemory(bytes, file, line, free_bytes, total_bytes);
}

}  // namespace fastdml::cuda::detail

// Throws fastdml::CudaError (or DeviceOutOfMemory) when `call` does not return cudaSuccess.
#define FASTDML_CUDA_CHECK(call)                                                             \
  do {                                                                                       \
    const cudaError_t fastdml_cuda_err_ = (call);                                            \
    if (fastdml_cuda_err_ != cudaSuccess)                                                    \
      ::fastdml::cuda::detail::ThrowCudaError(fastdml_cuda_err_, #call, __FILE__, __LINE__); \
  } while (0)

// For destructors and cleanup paths: the error is dropped (and cleared), never thrown.
#define FASTDML_CUDA_CHECK_NOTHROW(call)                 \
  do {                                                   \
    if ((call) != cudaSuccess) (void)cudaGetLastError(); \
  } while (0)
